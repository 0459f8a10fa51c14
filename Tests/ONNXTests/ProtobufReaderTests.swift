import Testing

@testable import ONNX

@Suite struct ProtobufReaderTests {
  @Test func varints() throws {
    for value: UInt64 in [0, 1, 127, 128, 300, 1 << 35, UInt64.max] {
      var r = ProtobufReader(bytes: PB.varint(value))
      #expect(try r.varint() == value)
      #expect(r.isAtEnd)
    }
    // -1 as int64 is ten bytes of two's complement.
    var r = ProtobufReader(bytes: PB.varint(UInt64(bitPattern: -1)))
    #expect(try r.int64() == -1)
  }

  @Test func packedAndUnpackedRepeatedFields() throws {
    var dims: [Int64] = []
    var unpacked = ProtobufReader(bytes: PB.int(1, 3) + PB.int(1, 224))
    while let (_, wire) = try unpacked.nextField() { try unpacked.appendVarints(wire, to: &dims) }
    var packed = ProtobufReader(bytes: PB.bytes(1, PB.varint(3) + PB.varint(224)))
    while let (_, wire) = try packed.nextField() { try packed.appendVarints(wire, to: &dims) }
    #expect(dims == [3, 224, 3, 224])

    var floats: [Float] = []
    var f = ProtobufReader(bytes: PB.float(4, 1.5) + PB.bytes(4, [0, 0, 0x80, 0x3f]))
    while let (_, wire) = try f.nextField() { try f.appendFloats(wire, to: &floats) }
    #expect(floats == [1.5, 1])
    var odd = ProtobufReader(bytes: PB.bytes(4, [0, 0, 0x80]))
    let (_, wire) = try #require(try odd.nextField())
    #expect(throws: ProtobufError.packedLength(3, elementSize: 4, offset: 2)) {
      try odd.appendFloats(wire, to: &floats)
    }
  }

  @Test func unknownFieldsOfEveryWireTypeAreSkipped() throws {
    let bytes =
      PB.int(50, 7) + PB.key(51, 1) + Array(repeating: 0, count: 8) + PB.bytes(52, [1, 2, 3]) + PB.float(53, 2)
      + PB.int(1, 9)
    var r = ProtobufReader(bytes: bytes)
    var last: Int64 = 0
    while let (number, wire) = try r.nextField() {
      if number == 1 { last = try r.int64() } else { try r.skip(wire) }
    }
    #expect(last == 9)
  }

  @Test func truncatedFixedWidthFields() {
    var r = ProtobufReader(bytes: [1, 2, 3])
    #expect(throws: ProtobufError.truncated(offset: 0)) { try r.fixed32() }
    #expect(throws: ProtobufError.truncated(offset: 0)) { try r.fixed64() }
  }

  @Test func invalidStringsAndFieldNumbers() {
    var r = ProtobufReader(bytes: PB.bytes(1, [0xff, 0xfe]))
    _ = try? r.nextField()
    #expect(throws: ProtobufError.invalidUTF8(offset: 2)) { try r.string() }
    var zero = ProtobufReader(bytes: [0x00, 0x01])
    #expect(throws: ProtobufError.invalidFieldNumber(0, offset: 0)) { try zero.nextField() }
  }
}
