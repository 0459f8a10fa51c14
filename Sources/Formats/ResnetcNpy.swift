/// NumPy's `.npy` format for f32 tensors, the one definition that `resnetc run` (through
/// Runtime's `Npy`) and every compiled Swift program use: this file is compiled into resnetc
/// and copied verbatim into each program. The C programs' reader (`read_npy` in
/// `Runtime/Program/resnetc_main.c`) follows it step by step, and a test holds all three to the
/// same message for every bad file.
///
/// A file is the magic `\x93NUMPY`, a version, a header length (2 bytes in version 1, 4 in
/// versions 2 and 3), an ASCII Python dict literal
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (1, 10), }`, then the data. Only
/// little-endian float32 in C order is accepted; anything else is an error that says what the
/// file holds. The data must be exactly the shape's size.
public enum ResnetcNpy {
  /// The first six bytes of every `.npy` file.
  public static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
  /// Largest header accepted.
  public static let maxHeaderLength = 1 << 16
  /// Most dimensions accepted.
  public static let maxRank = 8
  /// Most elements accepted.
  public static let maxElementCount = 1 << 40

  /// The most bytes a file holding `elements` floats can have: larger files are refused
  /// before they are read.
  public static func byteLimit(elements: Int) -> Int { elements * 4 + maxHeaderLength + 16 }

  /// What a valid file holds: the shape, and where its `shape.product` floats start.
  public struct Layout: Equatable, Sendable {
    public var shape: [Int]
    public var dataStart: Int
  }

  /// The bytes a reader takes from a file larger than `byteLimit`: enough to hold any header
  /// accepted, so that the file's shape can still be named.
  public static var prefixLength: Int { maxHeaderLength + 16 }

  /// Checks the bytes of a `.npy` file of `fileSize` bytes (default: `bytes` is the whole
  /// file; else its first bytes, holding at least the header) and says where its data lies.
  public static func layout(_ bytes: [UInt8], fileSize: Int? = nil) throws(ResnetcNpyError) -> Layout {
    let size = fileSize ?? bytes.count
    guard bytes.count >= 10 else { throw .truncated(needed: 10, got: bytes.count) }
    guard bytes.prefix(6).elementsEqual(magic) else { throw .notNpy }
    let major = bytes[6]
    let lengthSize: Int
    switch major {
    case 1: lengthSize = 2
    case 2, 3: lengthSize = 4
    default: throw .unsupportedVersion(Int(major), Int(bytes[7]))
    }
    guard bytes.count >= 8 + lengthSize else { throw .truncated(needed: 8 + lengthSize, got: bytes.count) }
    var headerLength = 0
    for i in (0..<lengthSize).reversed() { headerLength = headerLength << 8 | Int(bytes[8 + i]) }
    let headerStart = 8 + lengthSize
    guard headerLength <= maxHeaderLength else {
      throw .invalidHeader("header length \(headerLength) is over the limit \(maxHeaderLength)")
    }
    guard headerStart + headerLength <= bytes.count else {
      throw .truncated(needed: headerStart + headerLength, got: bytes.count)
    }
    let header = Array(bytes[headerStart..<headerStart + headerLength])
    guard header.allSatisfy({ $0 < 0x80 }) else { throw .invalidHeader("the header is not ASCII text") }
    let fields = try ResnetcNpyHeader.parse(header)
    guard fields.descr == "<f4" else {
      throw fields.descr == ">f4" ? .bigEndian : .unsupportedDType(fields.descr)
    }
    guard !fields.fortranOrder else { throw .fortranOrder }
    let count = try elementCount(fields.shape)
    let dataStart = headerStart + headerLength
    let available = size - dataStart
    guard available / 4 >= count else { throw .truncated(needed: dataStart + count * 4, got: size) }
    guard available == count * 4 else { throw .trailingBytes(available - count * 4) }
    return Layout(shape: fields.shape, dataStart: dataStart)
  }

  /// NumPy's name of a dtype code (`<f8` float64, `|u1` uint8), or nil for one it does not
  /// spell so.
  public static func dtypeName(_ descr: String) -> String? {
    let code = descr.drop { "<>|=".contains($0) }
    let names: [Substring: String] = [
      "f2": "float16", "f4": "float32", "f8": "float64", "f16": "float128", "i1": "int8", "i2": "int16",
      "i4": "int32", "i8": "int64", "u1": "uint8", "u2": "uint16", "u4": "uint32", "u8": "uint64", "b1": "bool",
      "c8": "complex64", "c16": "complex128",
    ]
    return names[code]
  }

  /// The header of a version 1.0 file holding f32 of `shape`: the data follows it.
  public static func header(shape: [Int]) -> [UInt8] {
    let dims = shape.map(String.init)
    let shapeText = dims.count == 1 ? "(\(dims[0]),)" : "(" + dims.joined(separator: ", ") + ")"
    var dict = Array("{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }".utf8)
    while (10 + dict.count + 1) % 64 != 0 { dict.append(0x20) }
    dict.append(0x0A)
    return magic + [1, 0, UInt8(dict.count & 0xff), UInt8(dict.count >> 8)] + dict
  }

  /// `[1,3,32,32]`: how shapes are written in messages.
  public static func shapeText(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ",") + "]"
  }

  /// The product of `shape`, refused past the rank and element limits.
  static func elementCount(_ shape: [Int]) throws(ResnetcNpyError) -> Int {
    guard shape.count <= maxRank else {
      throw .invalidShape(shape, "the array: rank \(shape.count) is more than the supported \(maxRank)")
    }
    var product = 1
    for dim in shape {
      guard dim > 0 else {
        throw .invalidShape(shape, "the array: shape \(shapeText(shape)) has a dimension that is not positive")
      }
      let (next, overflow) = product.multipliedReportingOverflow(by: dim)
      guard !overflow, next <= maxElementCount else {
        throw .invalidShape(shape, "the array: shape \(shapeText(shape)) has more than \(maxElementCount) elements")
      }
      product = next
    }
    return product
  }
}

/// A `.npy` file that cannot be read.
public enum ResnetcNpyError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The file does not start with the `.npy` magic.
  case notNpy
  /// A format version other than 1, 2 or 3.
  case unsupportedVersion(Int, Int)
  /// The file ends early.
  case truncated(needed: Int, got: Int)
  /// Bytes after the data.
  case trailingBytes(Int)
  /// The header dict is malformed.
  case invalidHeader(String)
  /// An element type other than float32.
  case unsupportedDType(String)
  /// Big-endian float32.
  case bigEndian
  /// Fortran (column-major) order.
  case fortranOrder
  /// A shape with a zero or negative dimension, or too many dimensions or elements.
  case invalidShape([Int], String)

  /// One line naming the problem.
  public var description: String {
    switch self {
    case .notNpy: "not a .npy file (no \\x93NUMPY magic)"
    case .unsupportedVersion(let major, let minor):
      ".npy format version \(major).\(minor) is not supported (1.0 to 3.0 are)"
    case .truncated(let needed, let got): "file is truncated: needs \(needed) bytes, has \(got)"
    case .trailingBytes(let n): "\(n) bytes follow the array's data"
    case .invalidHeader(let why): "invalid .npy header: \(why)"
    case .unsupportedDType(let d):
      "holds \(ResnetcNpy.dtypeName(d).map { "\($0) " } ?? "")('\(d)'), not float32 ('<f4'); save the array as float32"
    case .bigEndian: "big-endian float32 ('>f4') is not supported; save the array as little-endian '<f4'"
    case .fortranOrder: "the array is in Fortran order; save it in C order (numpy.ascontiguousarray)"
    case .invalidShape(_, let why): why
    }
  }
}

/// The fields of a `.npy` header dict, read by a small parser of the Python literal subset
/// NumPy writes: a dict of quoted keys to a quoted string, `True`/`False`, or a tuple of ints.
/// Positions in messages count bytes from the dict's start.
struct ResnetcNpyHeader {
  var descr: String
  var fortranOrder: Bool
  var shape: [Int]

  private enum Value {
    case string(String)
    case bool(Bool)
    case tuple([Int])
  }

  static func parse(_ text: [UInt8]) throws(ResnetcNpyError) -> ResnetcNpyHeader {
    var scanner = Scanner(bytes: text)
    var descr: String?
    var fortranOrder: Bool?
    var shape: [Int]?
    var keys: [String] = []
    try scanner.expect("{")
    while true {
      scanner.skipSpace()
      if scanner.accept("}") { break }
      guard case .string(let key) = try scanner.value() else { throw .invalidHeader("dict keys must be strings") }
      scanner.skipSpace()
      try scanner.expect(":")
      scanner.skipSpace()
      let value = try scanner.value()
      guard !keys.contains(key) else { throw .invalidHeader("key '\(key)' appears twice") }
      keys.append(key)
      switch (key, value) {
      case ("descr", .string(let s)): descr = s
      case ("fortran_order", .bool(let b)): fortranOrder = b
      case ("shape", .tuple(let t)): shape = t
      default: break
      }
      scanner.skipSpace()
      if scanner.accept("}") { break }
      try scanner.expect(",")
    }
    scanner.skipSpace()
    guard scanner.atEnd else { throw .invalidHeader("text after the dict") }
    guard let descr else { throw .invalidHeader("no 'descr' string") }
    guard let fortranOrder else { throw .invalidHeader("no 'fortran_order' flag") }
    guard let shape else { throw .invalidHeader("no 'shape' tuple") }
    guard keys.count == 3 else { throw .invalidHeader("unexpected keys besides descr, fortran_order and shape") }
    return ResnetcNpyHeader(descr: descr, fortranOrder: fortranOrder, shape: shape)
  }

  private struct Scanner {
    let bytes: [UInt8]
    var index = 0

    var atEnd: Bool { index == bytes.count }

    mutating func skipSpace() {
      while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x09 { index += 1 }
    }

    mutating func accept(_ c: Unicode.Scalar) -> Bool {
      guard index < bytes.count, bytes[index] == UInt8(ascii: c) else { return false }
      index += 1
      return true
    }

    mutating func expect(_ c: Unicode.Scalar) throws(ResnetcNpyError) {
      guard accept(c) else { throw .invalidHeader("expected '\(c)' at character \(index)") }
    }

    func starts(with word: String) -> Bool {
      bytes[index...].starts(with: word.utf8)
    }

    mutating func value() throws(ResnetcNpyError) -> Value {
      guard index < bytes.count else { throw .invalidHeader("unexpected end") }
      switch bytes[index] {
      case UInt8(ascii: "'"), UInt8(ascii: "\""):
        let quote = Unicode.Scalar(bytes[index])
        index += 1
        let start = index
        while index < bytes.count, bytes[index] != UInt8(ascii: quote) { index += 1 }
        let s = String(decoding: bytes[start..<index], as: UTF8.self)
        try expect(quote)
        return .string(s)
      case UInt8(ascii: "T"), UInt8(ascii: "F"):
        if starts(with: "True") {
          index += 4
          return .bool(true)
        }
        if starts(with: "False") {
          index += 5
          return .bool(false)
        }
        throw .invalidHeader("unexpected word at character \(index)")
      case UInt8(ascii: "("):
        index += 1
        var items: [Int] = []
        while true {
          skipSpace()
          if accept(")") { return .tuple(items) }
          items.append(try integer())
          skipSpace()
          if accept(")") { return .tuple(items) }
          try expect(",")
        }
      default:
        throw .invalidHeader("unexpected character at \(index)")
      }
    }

    /// An optional `-` and decimal digits, within 64 bits.
    mutating func integer() throws(ResnetcNpyError) -> Int {
      let start = index
      let negative = accept("-")
      var magnitude = 0
      var digits = 0
      while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
        let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
        let (sum, o2) = times10.addingReportingOverflow(Int(bytes[index] - UInt8(ascii: "0")))
        guard !o1, !o2 else { throw .invalidHeader("expected an integer at character \(start)") }
        magnitude = sum
        digits += 1
        index += 1
      }
      guard digits > 0 else { throw .invalidHeader("expected an integer at character \(start)") }
      return negative ? -magnitude : magnitude
    }
  }
}
