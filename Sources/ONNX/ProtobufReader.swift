/// The protobuf wire types (the low three bits of a field's key).
enum WireType: UInt8, Sendable {
  /// int32, int64, uint, bool, enum.
  case varint = 0
  /// fixed64, double.
  case fixed64 = 1
  /// Strings, bytes, nested messages, packed repeated fields.
  case lengthDelimited = 2
  /// Deprecated groups (start).
  case startGroup = 3
  /// Deprecated groups (end).
  case endGroup = 4
  /// fixed32, float.
  case fixed32 = 5
}

/// Reads protobuf wire format from a byte range, checking every length against the bytes
/// that remain, so malformed input gives an error and never a read out of bounds.
///
/// Messages nest by handing a sub-range to a new reader whose `depth` is one more; past
/// `maxDepth` reading stops with an error.
struct ProtobufReader {
  /// Deepest message nesting accepted.
  static let maxDepth = 64

  let bytes: [UInt8]
  private(set) var position: Int
  let end: Int
  let depth: Int

  /// A reader over all of `bytes`.
  init(bytes: [UInt8]) {
    self.init(bytes: bytes, range: 0..<bytes.count, depth: 0)
  }

  private init(bytes: [UInt8], range: Range<Int>, depth: Int) {
    self.bytes = bytes
    position = range.lowerBound
    end = range.upperBound
    self.depth = depth
  }

  /// Whether every byte has been read.
  var isAtEnd: Bool { position >= end }

  /// The next field's number and wire type, or nil at the end.
  mutating func nextField() throws(ProtobufError) -> (number: Int, wireType: WireType)? {
    guard !isAtEnd else { return nil }
    let at = position
    let key = try varint()
    guard let wireType = WireType(rawValue: UInt8(key & 7)) else {
      throw .invalidWireType(Int(key & 7), offset: at)
    }
    let number = Int(key >> 3)
    guard number >= 1, number <= 536_870_911 else { throw .invalidFieldNumber(number, offset: at) }
    return (number, wireType)
  }

  /// A base-128 varint of at most ten bytes.
  mutating func varint() throws(ProtobufError) -> UInt64 {
    let start = position
    var result: UInt64 = 0
    var shift: UInt64 = 0
    while true {
      guard position < end else { throw .truncated(offset: start) }
      let byte = bytes[position]
      position += 1
      if shift == 63, byte > 1 { throw .varintOverflow(offset: start) }
      result |= UInt64(byte & 0x7f) << shift
      if byte & 0x80 == 0 { return result }
      shift += 7
      guard shift <= 63 else { throw .varintOverflow(offset: start) }
    }
  }

  /// A varint read as a signed 64-bit integer (two's complement, as int64 fields are).
  mutating func int64() throws(ProtobufError) -> Int64 {
    Int64(bitPattern: try varint())
  }

  /// Four little-endian bytes.
  mutating func fixed32() throws(ProtobufError) -> UInt32 {
    guard end - position >= 4 else { throw .truncated(offset: position) }
    var v: UInt32 = 0
    for i in (0..<4).reversed() { v = v << 8 | UInt32(bytes[position + i]) }
    position += 4
    return v
  }

  /// Eight little-endian bytes.
  mutating func fixed64() throws(ProtobufError) -> UInt64 {
    guard end - position >= 8 else { throw .truncated(offset: position) }
    var v: UInt64 = 0
    for i in (0..<8).reversed() { v = v << 8 | UInt64(bytes[position + i]) }
    position += 8
    return v
  }

  /// The byte range of a length-delimited field, after checking it fits.
  mutating func lengthDelimited() throws(ProtobufError) -> Range<Int> {
    let at = position
    let length = try varint()
    guard length <= UInt64(end - position) else {
      throw .lengthPastEnd(length: length, available: end - position, offset: at)
    }
    let range = position..<(position + Int(length))
    position = range.upperBound
    return range
  }

  /// A length-delimited field's bytes.
  mutating func bytesField() throws(ProtobufError) -> [UInt8] {
    Array(bytes[try lengthDelimited()])
  }

  /// A length-delimited field as UTF-8 text.
  mutating func string() throws(ProtobufError) -> String {
    let range = try lengthDelimited()
    guard let text = String(validating: bytes[range], as: UTF8.self) else {
      throw .invalidUTF8(offset: range.lowerBound)
    }
    return text
  }

  /// A reader over a nested message's bytes, one level deeper.
  mutating func message() throws(ProtobufError) -> ProtobufReader {
    let range = try lengthDelimited()
    guard depth + 1 <= ProtobufReader.maxDepth else { throw .nestingTooDeep(limit: ProtobufReader.maxDepth) }
    return ProtobufReader(bytes: bytes, range: range, depth: depth + 1)
  }

  /// Skips a field of `wireType` that the decoder does not use.
  mutating func skip(_ wireType: WireType) throws(ProtobufError) {
    switch wireType {
    case .varint: _ = try varint()
    case .fixed64: _ = try fixed64()
    case .lengthDelimited: _ = try lengthDelimited()
    case .fixed32: _ = try fixed32()
    case .startGroup, .endGroup: throw .groupsUnsupported(offset: position)
    }
  }

  /// Appends the values of a repeated varint field, packed or not.
  mutating func appendVarints(_ wireType: WireType, to values: inout [Int64]) throws(ProtobufError) {
    switch wireType {
    case .varint: values.append(try int64())
    case .lengthDelimited:
      var packed = try message()
      while !packed.isAtEnd { values.append(try packed.int64()) }
    default: throw .unexpectedWireType(wireType.rawValue, expected: "varint", offset: position)
    }
  }

  /// Appends the values of a repeated float field, packed or not.
  mutating func appendFloats(_ wireType: WireType, to values: inout [Float]) throws(ProtobufError) {
    switch wireType {
    case .fixed32: values.append(Float(bitPattern: try fixed32()))
    case .lengthDelimited:
      let range = try lengthDelimited()
      guard range.count % 4 == 0 else { throw .packedLength(range.count, elementSize: 4, offset: range.lowerBound) }
      values.reserveCapacity(values.count + range.count / 4)
      var inner = ProtobufReader(bytes: bytes, range: range, depth: depth)
      while !inner.isAtEnd { values.append(Float(bitPattern: try inner.fixed32())) }
    default: throw .unexpectedWireType(wireType.rawValue, expected: "fixed32", offset: position)
    }
  }

  /// Appends the values of a repeated double field, packed or not.
  mutating func appendDoubles(_ wireType: WireType, to values: inout [Double]) throws(ProtobufError) {
    switch wireType {
    case .fixed64: values.append(Double(bitPattern: try fixed64()))
    case .lengthDelimited:
      let range = try lengthDelimited()
      guard range.count % 8 == 0 else { throw .packedLength(range.count, elementSize: 8, offset: range.lowerBound) }
      var inner = ProtobufReader(bytes: bytes, range: range, depth: depth)
      while !inner.isAtEnd { values.append(Double(bitPattern: try inner.fixed64())) }
    default: throw .unexpectedWireType(wireType.rawValue, expected: "fixed64", offset: position)
    }
  }

  /// An int64 field, after checking its wire type.
  mutating func int64(_ wire: WireType, field: String) throws(ProtobufError) -> Int64 {
    try expect(wire, is: .varint, field: field)
    return try int64()
  }

  /// A string field, after checking its wire type.
  mutating func string(_ wire: WireType, field: String) throws(ProtobufError) -> String {
    try expect(wire, is: .lengthDelimited, field: field)
    return try string()
  }

  /// A nested message, after checking its wire type.
  mutating func message(_ wire: WireType, field: String) throws(ProtobufError) -> ProtobufReader {
    try expect(wire, is: .lengthDelimited, field: field)
    return try message()
  }

  /// Checks that a singular field has the wire type its declaration needs.
  func expect(_ wireType: WireType, is expected: WireType, field: String) throws(ProtobufError) {
    guard wireType == expected else {
      throw .unexpectedWireType(wireType.rawValue, expected: "\(expected) for \(field)", offset: position)
    }
  }
}

/// Bytes that are not valid protobuf wire format.
public enum ProtobufError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The data ends inside a field.
  case truncated(offset: Int)
  /// A varint longer than ten bytes or past 64 bits.
  case varintOverflow(offset: Int)
  /// Wire type 6 or 7.
  case invalidWireType(Int, offset: Int)
  /// Field number 0 or past the protobuf maximum.
  case invalidFieldNumber(Int, offset: Int)
  /// A field of another wire type than its declaration.
  case unexpectedWireType(UInt8, expected: String, offset: Int)
  /// A length that runs past the end of the enclosing message.
  case lengthPastEnd(length: UInt64, available: Int, offset: Int)
  /// Messages nested deeper than the limit.
  case nestingTooDeep(limit: Int)
  /// A string field that is not UTF-8.
  case invalidUTF8(offset: Int)
  /// A packed fixed-size field whose length is not a multiple of the element size.
  case packedLength(Int, elementSize: Int, offset: Int)
  /// Deprecated groups, which ONNX never uses.
  case groupsUnsupported(offset: Int)

  /// One line naming the problem and the byte offset.
  public var description: String {
    switch self {
    case .truncated(let offset): "the data ends inside a field (byte \(offset))"
    case .varintOverflow(let offset): "a varint is longer than 64 bits (byte \(offset))"
    case .invalidWireType(let type, let offset): "invalid wire type \(type) (byte \(offset))"
    case .invalidFieldNumber(let number, let offset): "invalid field number \(number) (byte \(offset))"
    case .unexpectedWireType(let type, let expected, let offset):
      "wire type \(type) where \(expected) was expected (byte \(offset))"
    case .lengthPastEnd(let length, let available, let offset):
      "a field of \(length) bytes runs past the end of its message (\(available) bytes left, byte \(offset))"
    case .nestingTooDeep(let limit): "messages are nested deeper than \(limit) levels"
    case .invalidUTF8(let offset): "a string is not UTF-8 (byte \(offset))"
    case .packedLength(let length, let size, let offset):
      "a packed field of \(length) bytes is not a multiple of \(size) (byte \(offset))"
    case .groupsUnsupported(let offset): "protobuf groups are not supported (byte \(offset))"
    }
  }
}
