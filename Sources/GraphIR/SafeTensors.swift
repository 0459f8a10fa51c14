/// The `.safetensors` weight format: an 8-byte little-endian header length N, N bytes of
/// JSON describing each tensor (`dtype`, `shape`, `data_offsets` into the data section),
/// then the data section, tensors back to back with no gaps and nothing after the last.
///
/// Reading checks every rule before any tensor is copied: the header fits in the file, is
/// UTF-8 JSON with no duplicate names or unknown keys, each tensor's byte length is its
/// shape times its dtype's size, and the offsets tile the data section exactly.
public enum SafeTensors {
  /// The largest header accepted (as in the format's reference reader).
  public static let maxHeaderLength = 100_000_000

  /// One tensor's entry in the header.
  public struct Entry: Equatable, Sendable {
    /// The tensor's name.
    public var name: String
    /// The format's dtype string (`F32`, `F16`, ...).
    public var dtype: String
    /// Its dimensions; the format allows zero-sized ones.
    public var shape: [Int]
    /// Byte range within the data section.
    public var offsets: Range<Int>
  }

  /// Byte sizes of the format's dtypes.
  static let dtypeSizes: [String: Int] = [
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
    "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8,
  ]

  /// Reads the header of `bytes` and checks the layout; returns the entries in offset order
  /// and the start of the data section.
  public static func readHeader(_ bytes: [UInt8]) throws(SafeTensorsError) -> (entries: [Entry], dataStart: Int) {
    guard bytes.count >= 8 else { throw .truncated(needed: 8, got: bytes.count) }
    var length: UInt64 = 0
    for i in (0..<8).reversed() { length = length << 8 | UInt64(bytes[i]) }
    guard length <= UInt64(maxHeaderLength) else { throw .headerTooLarge(length) }
    let headerLength = Int(length)
    guard headerLength <= bytes.count - 8 else { throw .truncated(needed: 8 + headerLength, got: bytes.count) }
    let headerBytes = Array(bytes[8..<8 + headerLength])
    guard headerBytes.first == UInt8(ascii: "{") else { throw .invalidHeader("the header does not start with '{'") }
    let json: JSON
    do {
      json = try JSON.parse(headerBytes)
    } catch {
      throw .invalidHeader("header JSON: \(error)")
    }
    guard case .object(let members) = json else { throw .invalidHeader("the header is not a JSON object") }
    var entries: [Entry] = []
    for (name, value) in members {
      if name == "__metadata__" {
        try checkMetadata(value)
        continue
      }
      entries.append(try entry(name: name, value))
    }
    let dataStart = 8 + headerLength
    entries.sort { $0.offsets.lowerBound < $1.offsets.lowerBound }
    try checkLayout(entries, dataLength: bytes.count - dataStart)
    return (entries, dataStart)
  }

  private static func checkMetadata(_ value: JSON) throws(SafeTensorsError) {
    guard case .object(let pairs) = value, pairs.allSatisfy({ if case .string = $0.value { true } else { false } })
    else {
      throw .invalidHeader("__metadata__ must map strings to strings")
    }
  }

  private static func entry(name: String, _ value: JSON) throws(SafeTensorsError) -> Entry {
    guard case .object(let fields) = value else { throw .invalidEntry(name, "is not an object") }
    if let extra = fields.first(where: { !["dtype", "shape", "data_offsets"].contains($0.key) }) {
      throw .invalidEntry(name, "has unknown key \(JSON.quote(extra.key))")
    }
    guard case .string(let dtype) = value["dtype"] else { throw .invalidEntry(name, "has no string dtype") }
    guard let size = dtypeSizes[dtype] else { throw .invalidEntry(name, "has unknown dtype \(JSON.quote(dtype))") }
    guard case .array(let dims) = value["shape"] else { throw .invalidEntry(name, "has no shape list") }
    var shape: [Int] = []
    var count = 1
    for dim in dims {
      guard case .int(let d) = dim, d >= 0 else {
        throw .invalidEntry(name, "has a shape entry that is not a whole number ≥ 0")
      }
      shape.append(d)
      let (next, overflow) = count.multipliedReportingOverflow(by: d)
      guard !overflow else { throw .invalidEntry(name, "has a shape whose size overflows") }
      count = next
    }
    guard case .array(let offsets) = value["data_offsets"], offsets.count == 2,
      case .int(let begin) = offsets[0], case .int(let end) = offsets[1], begin >= 0, begin <= end
    else { throw .invalidEntry(name, "needs data_offsets [begin, end] with 0 ≤ begin ≤ end") }
    let (bytes, overflow) = count.multipliedReportingOverflow(by: size)
    guard !overflow, end - begin == bytes else {
      throw .invalidEntry(
        name, "spans \(end - begin) bytes but its shape \(shapeText(shape)) of \(dtype) needs \(count) × \(size)")
    }
    return Entry(name: name, dtype: dtype, shape: shape, offsets: begin..<end)
  }

  /// Tensors sorted by offset must tile `0..<dataLength` exactly.
  private static func checkLayout(_ sorted: [Entry], dataLength: Int) throws(SafeTensorsError) {
    var position = 0
    for entry in sorted {
      guard entry.offsets.lowerBound == position else {
        throw .layout(
          entry.offsets.lowerBound < position
            ? "tensor \(JSON.quote(entry.name)) overlaps the one before it (starts at \(entry.offsets.lowerBound), previous ends at \(position))"
            : "gap before tensor \(JSON.quote(entry.name)) (bytes \(position)..<\(entry.offsets.lowerBound) belong to no tensor)"
        )
      }
      position = entry.offsets.upperBound
    }
    guard position == dataLength else {
      throw position > dataLength
        ? .truncated(needed: position, got: dataLength)
        : .layout("\(dataLength - position) bytes after the last tensor belong to no tensor")
    }
  }

  /// The format's dtype names of the element types resnetc holds.
  static let names: [DType: String] = [.f32: "F32", .i8: "I8", .u8: "U8", .i32: "I32"]

  /// Reads every tensor of `bytes` as constants (F32, I8, U8 or I32), in header (offset) order.
  public static func readConstants(_ bytes: [UInt8]) throws(SafeTensorsError) -> [(name: String, constant: Tensor)] {
    let (entries, dataStart) = try readHeader(bytes)
    var result: [(name: String, constant: Tensor)] = []
    result.reserveCapacity(entries.count)
    for entry in entries {
      guard let dtype = names.first(where: { $0.value == entry.dtype })?.key else {
        throw .unsupportedDType(name: entry.name, dtype: entry.dtype)
      }
      let start = dataStart + entry.offsets.lowerBound
      let type = TensorType(entry.shape, dtype: dtype)
      let count = entry.offsets.count / dtype.byteSize
      switch dtype {
      case .f32:
        result.append(
          (entry.name, Tensor(type: type, data: LittleEndianFloats.read(bytes, offset: start, count: count))))
      case .i8:
        let values = bytes[start..<start + count].map { Int32(Int8(bitPattern: $0)) }
        result.append((entry.name, Tensor(type: type, integers: values)))
      case .u8:
        result.append((entry.name, Tensor(type: type, integers: bytes[start..<start + count].map { Int32($0) })))
      case .i32:
        let values = (0..<count).map { i in
          let at = start + 4 * i
          return Int32(
            bitPattern: UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16
              | UInt32(bytes[at + 3]) << 24)
        }
        result.append((entry.name, Tensor(type: type, integers: values)))
      }
    }
    return result
  }

  /// The bytes of a safetensors file holding `constants` in order, with
  /// `metadata` as its `__metadata__`. The header is padded with spaces to a multiple of 8.
  public static func write(_ constants: [(name: String, constant: Tensor)], metadata: [(String, String)] = [])
    -> [UInt8]
  {
    var members: [(key: String, value: JSON)] = []
    if !metadata.isEmpty { members.append(("__metadata__", .object(metadata.map { ($0.0, .string($0.1)) }))) }
    var offset = 0
    for (name, constant) in constants {
      let length = constant.type.elementCount * constant.type.dtype.byteSize
      members.append(
        (
          name,
          .object([
            ("dtype", .string(names[constant.type.dtype] ?? "F32")),
            ("shape", .array(constant.type.shape.map { .int($0) })),
            ("data_offsets", .array([.int(offset), .int(offset + length)])),
          ])
        ))
      offset += length
    }
    var header = Array(JSON.object(members).serialized.utf8)
    while (8 + header.count) % 8 != 0 { header.append(UInt8(ascii: " ")) }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(8 + header.count + offset)
    var length = UInt64(header.count)
    for _ in 0..<8 {
      bytes.append(UInt8(truncatingIfNeeded: length))
      length >>= 8
    }
    bytes.append(contentsOf: header)
    for (_, constant) in constants {
      switch constant.type.dtype {
      case .f32: LittleEndianFloats.append(constant.data, to: &bytes)
      case .i8, .u8: bytes.append(contentsOf: constant.integers.map { UInt8(truncatingIfNeeded: $0) })
      case .i32:
        for value in constant.integers {
          withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
        }
      }
    }
    return bytes
  }
}

/// A `.safetensors` file that breaks a rule of the format.
public enum SafeTensorsError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The file ends before `needed` bytes.
  case truncated(needed: Int, got: Int)
  /// The header length is past the format's limit.
  case headerTooLarge(UInt64)
  /// The header is not the JSON object the format requires.
  case invalidHeader(String)
  /// One tensor's entry is malformed.
  case invalidEntry(String, String)
  /// The tensors do not tile the data section.
  case layout(String)
  /// A tensor of a dtype resnetc does not read.
  case unsupportedDType(name: String, dtype: String)

  /// One line naming the problem.
  public var description: String {
    switch self {
    case .truncated(let needed, let got): "file is truncated: needs \(needed) bytes, has \(got)"
    case .headerTooLarge(let n):
      "header length \(n) is larger than the format's limit of \(SafeTensors.maxHeaderLength)"
    case .invalidHeader(let why): why
    case .invalidEntry(let name, let why): "tensor \(JSON.quote(name)) \(why)"
    case .layout(let why): why
    case .unsupportedDType(let name, let dtype):
      "tensor \(JSON.quote(name)) has dtype \(dtype); resnetc reads F32, I8, U8 and I32"
    }
  }
}
