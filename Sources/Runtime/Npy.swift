import GraphIR

/// NumPy's `.npy` format for f32 tensors: the magic `\x93NUMPY`, a version, a header length
/// (2 bytes in version 1, 4 in versions 2 and 3), a Python dict literal
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (1, 10), }`, then the data.
///
/// Only little-endian float32 in C order is accepted; anything else is an error that says
/// what the file holds. The data must be exactly the shape's size, checked before copying.
public enum Npy {
  static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
  /// Largest header accepted.
  public static let maxHeaderLength = 1 << 16

  /// Reads a tensor from the bytes of a `.npy` file.
  public static func read(_ bytes: [UInt8]) throws(NpyError) -> Tensor {
    guard bytes.count >= 10 else { throw .truncated(needed: 10, got: bytes.count) }
    guard Array(bytes[0..<6]) == magic else { throw .notNpy }
    let major = bytes[6]
    let lengthStart = 8
    let lengthSize: Int
    switch major {
    case 1: lengthSize = 2
    case 2, 3: lengthSize = 4
    default: throw .unsupportedVersion(Int(major), Int(bytes[7]))
    }
    guard bytes.count >= lengthStart + lengthSize else {
      throw .truncated(needed: lengthStart + lengthSize, got: bytes.count)
    }
    var headerLength = 0
    for i in (0..<lengthSize).reversed() { headerLength = headerLength << 8 | Int(bytes[lengthStart + i]) }
    let headerStart = lengthStart + lengthSize
    guard headerLength <= maxHeaderLength else {
      throw .invalidHeader("header length \(headerLength) is over the limit \(maxHeaderLength)")
    }
    guard headerStart + headerLength <= bytes.count else {
      throw .truncated(needed: headerStart + headerLength, got: bytes.count)
    }
    guard let header = String(validating: bytes[headerStart..<headerStart + headerLength], as: UTF8.self) else {
      throw .invalidHeader("the header is not text")
    }
    let fields = try NpyHeader.parse(header)
    guard fields.descr == "<f4" else {
      throw fields.descr == ">f4" ? .bigEndian : .unsupportedDType(fields.descr)
    }
    guard !fields.fortranOrder else { throw .fortranOrder }
    let count: Int
    do {
      count = try checkedShapeProduct(fields.shape, context: "the array")
    } catch {
      throw .invalidShape(fields.shape, error.description)
    }
    let dataStart = headerStart + headerLength
    let expected = count * 4
    let available = bytes.count - dataStart
    guard available == expected else {
      throw available < expected
        ? .truncated(needed: dataStart + expected, got: bytes.count) : .trailingBytes(available - expected)
    }
    return Tensor(type: TensorType(fields.shape), data: LittleEndianFloats.read(bytes, offset: dataStart, count: count))
  }

  /// The bytes of a version 1.0 `.npy` file holding `tensor` as little-endian float32.
  public static func write(_ tensor: Tensor) -> [UInt8] {
    let dims = tensor.type.shape.map(String.init)
    let shape = dims.count == 1 ? "(\(dims[0]),)" : "(" + dims.joined(separator: ", ") + ")"
    var header = Array("{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }".utf8)
    while (10 + header.count + 1) % 64 != 0 { header.append(UInt8(ascii: " ")) }
    header.append(UInt8(ascii: "\n"))
    var bytes = magic + [1, 0, UInt8(header.count & 0xff), UInt8(header.count >> 8)] + header
    LittleEndianFloats.append(tensor.data, to: &bytes)
    return bytes
  }
}

/// A `.npy` file resnetc cannot read.
public enum NpyError: Error, Equatable, Sendable, CustomStringConvertible {
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
  /// A shape with a zero or negative dimension, or too many elements.
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
    case .unsupportedDType(let d): "dtype '\(d)' is not supported; save the array as float32 ('<f4')"
    case .bigEndian: "big-endian float32 ('>f4') is not supported; save the array as little-endian '<f4'"
    case .fortranOrder: "the array is in Fortran order; save it in C order (numpy.ascontiguousarray)"
    case .invalidShape(_, let why): why
    }
  }
}
