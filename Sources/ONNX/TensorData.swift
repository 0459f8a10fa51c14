import GraphIR

/// Decodes `TensorProto` contents, checking that the data present matches the dims before
/// anything is allocated.
struct TensorDecoder {
  /// The ONNX element types that quantized models' tensors have, as graph types.
  static let quantizedTypes: [Int64: DType] = [
    OnnxDataType.uint8: .u8, OnnxDataType.int8: .i8, OnnxDataType.int32: .i32,
  ]

  let bytes: [UInt8]
  let external: ExternalData

  /// The tensor's shape as Ints, checked for negative dims and overflow; zero dims allowed.
  func shape(_ t: OnnxTensor) throws(ONNXError) -> (shape: [Int], count: Int) {
    guard t.dims.count <= maxRank else {
      throw .invalidTensor(name: t.name, reason: "rank \(t.dims.count) is more than \(maxRank)")
    }
    var count = 1
    var shape: [Int] = []
    for d in t.dims {
      guard d >= 0, let dim = Int(exactly: d) else {
        throw .invalidTensor(name: t.name, reason: "has a negative dimension \(d)")
      }
      let (next, overflow) = count.multipliedReportingOverflow(by: dim)
      guard !overflow, next <= maxElementCount else {
        throw .invalidTensor(name: t.name, reason: "shape \(t.dims) has more than \(maxElementCount) elements")
      }
      count = next
      shape.append(dim)
    }
    return (shape, count)
  }

  /// The raw little-endian bytes of a tensor stored as `raw_data` or externally, or nil when
  /// its values are in the typed fields.
  private func rawBytes(_ t: OnnxTensor, elementSize: Int, count: Int) throws(ONNXError) -> [UInt8]? {
    let expected = count * elementSize
    if t.dataLocation == 1 {
      return try external.read(tensor: t.name, entries: t.externalData, expectedBytes: expected)
    }
    guard let range = t.rawData else { return nil }
    guard range.count == expected else {
      throw .invalidTensor(
        name: t.name, reason: "raw data has \(range.count) bytes but its shape \(t.dims) needs \(expected)")
    }
    return Array(bytes[range])
  }

  private func checkCount(_ t: OnnxTensor, _ got: Int, _ count: Int) throws(ONNXError) {
    guard got == count else {
      throw .invalidTensor(name: t.name, reason: "has \(got) values but its shape \(t.dims) needs \(count)")
    }
  }

  /// A float tensor's values.
  func floats(_ t: OnnxTensor) throws(ONNXError) -> (shape: [Int], data: [Float]) {
    guard !t.hasSegment else { throw .invalidTensor(name: t.name, reason: "segmented tensors are not supported") }
    guard t.dataType == OnnxDataType.float else {
      throw .invalidTensor(
        name: t.name, reason: "has element type \(OnnxDataType.name(t.dataType)); resnetc imports float weights")
    }
    let (shape, count) = try shape(t)
    if let raw = try rawBytes(t, elementSize: 4, count: count) {
      return (shape, LittleEndianFloats.read(raw, offset: 0, count: count))
    }
    try checkCount(t, t.floatData.count, count)
    return (shape, t.floatData)
  }

  /// An integer tensor's values (int64, int32, or the one-byte bool, uint8 and int8, whose
  /// typed values ONNX keeps in `int32_data`).
  func integers(_ t: OnnxTensor) throws(ONNXError) -> (shape: [Int], data: [Int64]) {
    let (shape, count) = try shape(t)
    switch t.dataType {
    case OnnxDataType.int64:
      if let raw = try rawBytes(t, elementSize: 8, count: count) {
        return (
          shape, (0..<count).map { i in (0..<8).reversed().reduce(Int64(0)) { $0 << 8 | Int64(raw[i * 8 + $1]) } }
        )
      }
      try checkCount(t, t.int64Data.count, count)
      return (shape, t.int64Data)
    case OnnxDataType.int32:
      if let raw = try rawBytes(t, elementSize: 4, count: count) {
        return (
          shape,
          (0..<count).map { i in
            Int64(Int32(bitPattern: (0..<4).reversed().reduce(UInt32(0)) { $0 << 8 | UInt32(raw[i * 4 + $1]) }))
          }
        )
      }
      try checkCount(t, t.int32Data.count, count)
      return (shape, t.int32Data.map { Int64(Int32(truncatingIfNeeded: $0)) })
    case OnnxDataType.bool, OnnxDataType.uint8, OnnxDataType.int8:
      let signed = t.dataType == OnnxDataType.int8
      if let raw = try rawBytes(t, elementSize: 1, count: count) {
        return (shape, raw.map { signed ? Int64(Int8(bitPattern: $0)) : Int64($0) })
      }
      try checkCount(t, t.int32Data.count, count)
      return (shape, t.int32Data)
    default:
      throw .invalidTensor(
        name: t.name, reason: "has element type \(OnnxDataType.name(t.dataType)) where integers were expected")
    }
  }
}
