import Testing

@testable import GraphIR

/// A safetensors file from a hand-written header and a data section of `dataLength` bytes.
func safetensorsFile(header: String, dataLength: Int) -> [UInt8] {
  let h = Array(header.utf8)
  var bytes: [UInt8] = (0..<8).map { UInt8(truncatingIfNeeded: h.count >> (8 * $0)) }
  bytes += h
  bytes += (0..<dataLength).map { UInt8(truncatingIfNeeded: $0) }
  return bytes
}

@Suite struct SafeTensorsTests {
  let tensors: [(name: String, constant: Tensor)] = [
    ("a", Tensor(type: TensorType([2, 3]), data: [1, 2, 3, 4, 5, -6.5])),
    ("b.weight", Tensor(type: TensorType([1]), data: [.pi])),
  ]

  @Test func roundTrip() throws {
    let bytes = SafeTensors.write(tensors, metadata: [("producer", "resnetc")])
    let read = try SafeTensors.readConstants(bytes)
    #expect(read.map(\.name) == ["a", "b.weight"])
    #expect(read.map(\.constant) == tensors.map(\.constant))
    // The header is padded so that the data starts 8-byte aligned.
    #expect(try SafeTensors.readHeader(bytes).dataStart % 8 == 0)
  }

  @Test func everyTruncationIsRefused() {
    let bytes = SafeTensors.write(tensors)
    for length in 0..<bytes.count {
      #expect(throws: SafeTensorsError.self, "truncated to \(length)") {
        try SafeTensors.readConstants(Array(bytes.prefix(length)))
      }
    }
  }

  @Test func headerLongerThanFile() {
    var bytes = SafeTensors.write(tensors)
    bytes[0] = 0xff
    bytes[1] = 0xff
    #expect(throws: SafeTensorsError.truncated(needed: 8 + 0xffff + Int(bytes[2]) << 16, got: bytes.count)) {
      try SafeTensors.readHeader(bytes)
    }
  }

  @Test func headerOverLimitIsRefusedBeforeReading() {
    let bytes: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0x10]
    #expect(throws: SafeTensorsError.headerTooLarge(0x1000_0000_0000_0000)) { try SafeTensors.readHeader(bytes) }
  }

  @Test func layoutRules() {
    let cases: [(String, Int, SafeTensorsError)] = [
      (
        #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, 4,
        .invalidEntry("a", "spans 4 bytes but its shape [2] of F32 needs 2 × 4")
      ),
      (
        #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, 8,
        .layout(#"gap before tensor "a" (bytes 0..<4 belong to no tensor)"#)
      ),
      (
        #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
        8,
        .layout(#"tensor "b" overlaps the one before it (starts at 4, previous ends at 8)"#)
      ),
      (
        #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, 6,
        .layout("2 bytes after the last tensor belong to no tensor")
      ),
      (#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, 8, .truncated(needed: 16, got: 8)),
      (
        #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}"#, 8,
        .invalidEntry("a", "needs data_offsets [begin, end] with 0 ≤ begin ≤ end")
      ),
      (#"{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,4]}}"#, 4, .invalidEntry("a", #"has unknown dtype "Q4""#)),
      (
        #"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, 4,
        .invalidEntry("a", "has a shape entry that is not a whole number ≥ 0")
      ),
      (
        #"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}"#, 4,
        .invalidEntry("a", "has a shape whose size overflows")
      ),
      (
        #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}}"#, 4,
        .invalidEntry("a", #"has unknown key "extra""#)
      ),
      (#"{"__metadata__":{"k":1}}"#, 0, .invalidHeader("__metadata__ must map strings to strings")),
      (#"[1]"#, 0, .invalidHeader("the header does not start with '{'")),
    ]
    for (header, length, expected) in cases {
      #expect(throws: expected, "\(header)") {
        try SafeTensors.readHeader(safetensorsFile(header: header, dataLength: length))
      }
    }
  }

  @Test func duplicateTensorNames() {
    let header =
      #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
    #expect(throws: SafeTensorsError.self) {
      try SafeTensors.readHeader(safetensorsFile(header: header, dataLength: 8))
    }
  }

  @Test func otherDTypesAreValidatedButNotLoaded() throws {
    let bytes = safetensorsFile(header: #"{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, dataLength: 4)
    #expect(try SafeTensors.readHeader(bytes).entries.count == 1)
    #expect(throws: SafeTensorsError.unsupportedDType(name: "h", dtype: "F16")) { try SafeTensors.readConstants(bytes) }
  }

  @Test func randomBytesNeverCrash() {
    var state: UInt64 = 12345
    for _ in 0..<500 {
      state = state &* 6364136223846793005 &+ 1442695040888963407
      let count = Int(state >> 58)
      let bytes = (0..<count).map { i in UInt8(truncatingIfNeeded: (state >> UInt64(i % 56)) &+ UInt64(i)) }
      _ = try? SafeTensors.readConstants(bytes)
    }
  }
}

@Suite struct JSONTests {
  @Test func parsesAndSerializes() throws {
    let text = #"{"a": [1, -2, 3.5, true, null], "b": {"c": "x\"y\u00e9\ud83d\ude00"}}"#
    let value = try JSON.parse(Array(text.utf8))
    #expect(value["a"] == .array([.int(1), .int(-2), .double(3.5), .bool(true), .null]))
    #expect(value["b"]?["c"] == .string("x\"yé😀"))
    #expect(try JSON.parse(Array(value.serialized.utf8)) == value)
  }

  @Test func refusesMalformedText() {
    for text in [#"{"a":1,"a":2}"#, "[1,]", "{", #""\ud800""#, "01x", "[1] 2", "\"tab\tin\"", "nul", "1e999"] {
      #expect(throws: JSONError.self, "\(text)") { try JSON.parse(Array(text.utf8)) }
    }
  }

  @Test func nestingIsBounded() {
    let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
    #expect(throws: JSONError(message: "nesting deeper than 64", offset: 65)) { try JSON.parse(Array(deep.utf8)) }
  }
}

@Suite struct IntegerSafeTensorsTests {
  @Test func integerTensorsRoundTrip() throws {
    let constants: [(name: String, constant: Tensor)] = [
      ("w", Tensor(type: TensorType([2, 2], dtype: .i8), integers: [-128, -1, 0, 127])),
      ("z", Tensor(type: TensorType([], dtype: .u8), integers: [255])),
      ("b", Tensor(type: TensorType([2], dtype: .i32), integers: [Int32.min, 123_456_789])),
      ("s", Tensor(type: TensorType([1]), data: [0.25])),
    ]
    let back = try SafeTensors.readConstants(SafeTensors.write(constants))
    #expect(back.map(\.name) == constants.map(\.name))
    #expect(back.map(\.constant) == constants.map(\.constant))
  }
}
