@testable import ONNX

/// Protobuf wire format, to build ONNX models (well formed or not) in tests.
typealias PB = ProtobufWriter

/// ONNX messages as bytes.
enum ONNXBuilder {
  static func model(graph: [UInt8], opset: Int64 = 13, domain: String = "") -> [UInt8] {
    PB.int(1, 8) + PB.bytes(7, graph) + PB.bytes(8, PB.string(1, domain) + PB.int(2, opset))
  }

  static func graph(nodes: [[UInt8]], initializers: [[UInt8]] = [], inputs: [[UInt8]], outputs: [[UInt8]]) -> [UInt8] {
    nodes.flatMap { PB.bytes(1, $0) } + PB.string(2, "g") + initializers.flatMap { PB.bytes(5, $0) }
      + inputs.flatMap { PB.bytes(11, $0) } + outputs.flatMap { PB.bytes(12, $0) }
  }

  static func node(
    _ op: String, _ inputs: [String], _ outputs: [String], name: String = "", domain: String = "",
    attributes: [[UInt8]] = []
  ) -> [UInt8] {
    inputs.flatMap { PB.string(1, $0) } + outputs.flatMap { PB.string(2, $0) } + PB.string(3, name) + PB.string(4, op)
      + attributes.flatMap { PB.bytes(5, $0) } + (domain.isEmpty ? [] : PB.string(7, domain))
  }

  static func intAttribute(_ name: String, _ v: Int64) -> [UInt8] { PB.string(1, name) + PB.int(20, 2) + PB.int(3, v) }
  static func floatAttribute(_ name: String, _ v: Float) -> [UInt8] {
    PB.string(1, name) + PB.int(20, 1) + PB.float(2, v)
  }

  /// A float tensor with `raw` little-endian data (or external data entries).
  static func tensor(
    _ name: String, dims: [Int64], raw: [Float]? = nil, dataType: Int64 = 1, external: [(String, String)] = []
  ) -> [UInt8] {
    var bytes = dims.flatMap { PB.int(1, $0) } + PB.int(2, dataType) + PB.string(8, name)
    if let raw {
      bytes += PB.bytes(9, raw.flatMap { f in (0..<4).map { UInt8(truncatingIfNeeded: f.bitPattern >> (8 * $0)) } })
    }
    if !external.isEmpty {
      bytes += external.flatMap { PB.bytes(13, PB.string(1, $0.0) + PB.string(2, $0.1)) } + PB.int(14, 1)
    }
    return bytes
  }

  /// A float tensor value info; nil dims are symbolic (`dim_param`).
  static func valueInfo(_ name: String, _ dims: [Int64?], elemType: Int64 = 1) -> [UInt8] {
    let shape = dims.flatMap { d in PB.bytes(1, d.map { PB.int(1, $0) } ?? PB.string(2, "n")) }
    return PB.string(1, name) + PB.bytes(2, PB.bytes(1, PB.int(1, elemType) + PB.bytes(2, shape)))
  }

  /// `y = relu(x)` on f32[1,2,2,2], plus whatever `extra` nodes and initializers.
  static func reluModel(opset: Int64 = 13) -> [UInt8] {
    model(
      graph: graph(
        nodes: [node("Relu", ["x"], ["y"], name: "relu1")], inputs: [valueInfo("x", [1, 2, 2, 2])],
        outputs: [valueInfo("y", [1, 2, 2, 2])]), opset: opset)
  }
}
