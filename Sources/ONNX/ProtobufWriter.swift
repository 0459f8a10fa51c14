/// Protobuf wire format, written: the counterpart of `ProtobufReader`, for ONNX models made by
/// programs (the differential tests' ONNX writer, the tests' model builder).
public enum ProtobufWriter {
  /// `value` as a base-128 varint.
  public static func varint(_ value: UInt64) -> [UInt8] {
    var v = value
    var out: [UInt8] = []
    repeat {
      let byte = UInt8(v & 0x7f)
      v >>= 7
      out.append(v == 0 ? byte : byte | 0x80)
    } while v != 0
    return out
  }

  /// A field's key: its number and wire type.
  public static func key(_ field: Int, _ wire: UInt8) -> [UInt8] { varint(UInt64(field) << 3 | UInt64(wire)) }
  /// An integer field (wire type 0; negative values as ten-byte two's complement).
  public static func int(_ field: Int, _ v: Int64) -> [UInt8] { key(field, 0) + varint(UInt64(bitPattern: v)) }
  /// A length-delimited field.
  public static func bytes(_ field: Int, _ b: [UInt8]) -> [UInt8] { key(field, 2) + varint(UInt64(b.count)) + b }
  /// A string field, UTF-8.
  public static func string(_ field: Int, _ s: String) -> [UInt8] { bytes(field, Array(s.utf8)) }
  /// A float field (wire type 5, little-endian).
  public static func float(_ field: Int, _ f: Float) -> [UInt8] {
    key(field, 5) + (0..<4).map { UInt8(truncatingIfNeeded: f.bitPattern >> (8 * $0)) }
  }
}
