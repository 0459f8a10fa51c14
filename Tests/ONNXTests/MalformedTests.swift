import Foundation
import GraphIR
import Runtime
import Testing

@testable import ONNX

typealias B = ONNXBuilder

/// Imports `bytes` as a model with no folder.
func importBytes(_ bytes: [UInt8], pins: [InputShape] = []) throws(ONNXError) -> Graph {
  try ONNXImporter.importModel(bytes, name: "test", directory: nil, inputShapes: pins)
}

/// A one-node graph on input x: f32[1,2,2,2] computing y with `node`.
func oneNode(_ node: [UInt8], initializers: [[UInt8]] = [], opset: Int64 = 13, output: [Int64?] = [1, 2, 2, 2])
  -> [UInt8]
{
  B.model(
    graph: B.graph(
      nodes: [node], initializers: initializers, inputs: [B.valueInfo("x", [1, 2, 2, 2])],
      outputs: [B.valueInfo("y", output)]),
    opset: opset)
}

@Suite struct MalformedTests {
  @Test func theBuilderMakesAValidModel() throws {
    let g = try importBytes(B.reluModel())
    #expect(g.nodes.map(\.op) == [.relu])
  }

  @Test func everyTruncationIsAnError() throws {
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try fixturesDirectory() + "/conv_bias.onnx")))
    for length in 0..<bytes.count {
      #expect(throws: ONNXError.self, "truncated to \(length)") { try importBytes(Array(bytes.prefix(length))) }
    }
  }

  @Test func flippedBytesNeverCrash() throws {
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try fixturesDirectory() + "/conv_bias.onnx")))
    var failures = 0
    for i in 0..<bytes.count {
      for mask: UInt8 in [0xff, 0x01, 0x80] {
        var copy = bytes
        copy[i] ^= mask
        do {
          // A flip inside weight data still imports; whatever imports is a valid graph.
          try Verifier.verify(try importBytes(copy))
        } catch is ONNXError {
          failures += 1
        }
      }
    }
    #expect(failures > 0)
  }

  @Test func randomBytesNeverCrash() {
    var state: UInt64 = 99
    for _ in 0..<2000 {
      state = state &* 6364136223846793005 &+ 1442695040888963407
      let count = Int(state >> 56)
      let bytes = (0..<count).map { i in
        UInt8(truncatingIfNeeded: state >> UInt64((i * 7) % 57)) &+ UInt8(truncatingIfNeeded: i)
      }
      _ = try? importBytes(bytes)
    }
  }

  @Test func wireFormatErrors() {
    // The graph field (7) sent as a varint.
    #expect(
      throws: ONNXError.wireFormat(.unexpectedWireType(0, expected: "lengthDelimited for ModelProto.graph", offset: 1))
    ) {
      try importBytes(PB.int(7, 5))
    }
    // A length that runs past the end.
    #expect(throws: ONNXError.wireFormat(.lengthPastEnd(length: 1000, available: 3, offset: 1))) {
      try importBytes(PB.key(7, 2) + PB.varint(1000) + [1, 2, 3])
    }
    // Wire type 7 does not exist; an 11-byte varint overflows.
    #expect(throws: ONNXError.wireFormat(.invalidWireType(7, offset: 0))) { try importBytes([0x0f]) }
    #expect(throws: ONNXError.wireFormat(.varintOverflow(offset: 1))) {
      try importBytes([0x08] + Array(repeating: 0xff, count: 10) + [0x01])
    }
    #expect(throws: ONNXError.wireFormat(.groupsUnsupported(offset: 2))) { try importBytes(PB.key(99, 3)) }
  }

  @Test func runawayNestingInUnknownFieldsIsSkippedWithoutRecursion() {
    var nested: [UInt8] = []
    for _ in 0..<20_000 { nested = PB.bytes(1, nested) }
    #expect(throws: ONNXError.noGraph) { try importBytes(PB.bytes(99, nested)) }
  }

  @Test func nestingLimitOfTheReader() throws {
    var nested: [UInt8] = []
    for _ in 0..<(ProtobufReader.maxDepth + 1) { nested = PB.bytes(1, nested) }
    var reader = ProtobufReader(bytes: nested)
    #expect(throws: ProtobufError.nestingTooDeep(limit: ProtobufReader.maxDepth)) {
      while true {
        _ = try reader.nextField()
        reader = try reader.message()
      }
    }
  }

  @Test func opsetsOutsideTheSupportedRange() {
    for opset: Int64 in [0, 29] {
      #expect(throws: ONNXError.unsupportedOpset(opset, supported: 1...28)) {
        try importBytes(B.reluModel(opset: opset))
      }
    }
  }

  @Test func unsupportedOpsNameTheOpDomainOpsetAndNode() {
    #expect(throws: ONNXError.unsupportedOp(op: "LRN", domain: "", opset: 13, node: "norm1")) {
      try importBytes(oneNode(B.node("LRN", ["x"], ["y"], name: "norm1")))
    }
    #expect(throws: ONNXError.unsupportedOp(op: "FusedConv", domain: "com.microsoft", opset: 13, node: "y")) {
      try importBytes(oneNode(B.node("FusedConv", ["x"], ["y"], domain: "com.microsoft")))
    }
  }

  @Test func unknownAttributesAreErrors() {
    #expect(throws: ONNXError.unknownAttribute(op: "Relu", node: "r", attribute: "alpha")) {
      try importBytes(oneNode(B.node("Relu", ["x"], ["y"], name: "r", attributes: [B.floatAttribute("alpha", 0.1)])))
    }
    #expect(throws: ONNXError.badAttribute(op: "Flatten", node: "f", attribute: "axis", reason: "should be an integer"))
    {
      try importBytes(
        oneNode(B.node("Flatten", ["x"], ["y"], name: "f", attributes: [B.floatAttribute("axis", 1)]), output: [1, 8]))
    }
  }

  @Test func undefinedValuesAndCycles() {
    #expect(throws: ONNXError.undefinedValue(node: "r", value: "nope")) {
      try importBytes(oneNode(B.node("Relu", ["nope"], ["y"], name: "r")))
    }
    // a reads b's output and b reads a's: the first node reads a value not yet defined.
    let cycle = B.model(
      graph: B.graph(
        nodes: [B.node("Add", ["x", "b"], ["a"], name: "A"), B.node("Relu", ["a"], ["b"], name: "B")],
        inputs: [B.valueInfo("x", [1, 2, 2, 2])], outputs: [B.valueInfo("b", [1, 2, 2, 2])]))
    #expect(throws: ONNXError.undefinedValue(node: "A", value: "b")) { try importBytes(cycle) }
  }

  @Test func duplicateOutputsAndNames() throws {
    let twice = B.model(
      graph: B.graph(
        nodes: [B.node("Relu", ["x"], ["y"]), B.node("Relu", ["x"], ["y"])], inputs: [B.valueInfo("x", [1, 2, 2, 2])],
        outputs: [B.valueInfo("y", [1, 2, 2, 2])]))
    #expect(throws: ONNXError.duplicateName("y")) { try importBytes(twice) }
    let listedTwice = B.model(
      graph: B.graph(
        nodes: [B.node("Relu", ["x"], ["y"])], inputs: [B.valueInfo("x", [1, 2, 2, 2])],
        outputs: [B.valueInfo("y", [1, 2, 2, 2]), B.valueInfo("y", [1, 2, 2, 2])]))
    // Valid ONNX: the second slot gets a copy of its own.
    #expect(try importBytes(listedTwice).outputs == ["y", "y.2"])
    let missing = B.model(
      graph: B.graph(nodes: [], inputs: [B.valueInfo("x", [1, 2, 2, 2])], outputs: [B.valueInfo("z", [1])]))
    #expect(throws: ONNXError.invalidOutput(output: "z", reason: "no node computes it")) { try importBytes(missing) }
  }

  @Test func hugeZeroAndNegativeDims() {
    let conv = B.node("Conv", ["x", "w"], ["y"], name: "c")
    #expect(throws: ONNXError.invalidTensor(name: "w", reason: "has a negative dimension -2")) {
      try importBytes(oneNode(conv, initializers: [B.tensor("w", dims: [-2, 2, 1, 1], raw: [])]))
    }
    #expect(
      throws: ONNXError.invalidTensor(
        name: "w", reason: "shape [1099511627776, 1099511627776] has more than \(maxElementCount) elements")
    ) {
      try importBytes(oneNode(conv, initializers: [B.tensor("w", dims: [1 << 40, 1 << 40], raw: [])]))
    }
    #expect(throws: ONNXError.invalidTensor(name: "w", reason: "has a zero dimension [0, 2, 1, 1]")) {
      try importBytes(oneNode(conv, initializers: [B.tensor("w", dims: [0, 2, 1, 1], raw: [])]))
    }
    let negativeInput = B.model(
      graph: B.graph(
        nodes: [B.node("Relu", ["x"], ["y"])], inputs: [B.valueInfo("x", [1, -5])], outputs: [B.valueInfo("y", [1, 5])])
    )
    #expect(throws: ONNXError.invalidInput(input: "x", reason: "dimension 1 is -5")) { try importBytes(negativeInput) }
    let hugeInput = B.model(
      graph: B.graph(
        nodes: [B.node("Relu", ["x"], ["y"])], inputs: [B.valueInfo("x", [1 << 31, 1 << 31, 4])],
        outputs: [B.valueInfo("y", [nil])]))
    #expect(
      throws: ONNXError.graph(
        .shapeTooLarge(context: "input %x", shape: [1 << 31, 1 << 31, 4], limit: maxElementCount))
    ) {
      try importBytes(hugeInput)
    }
  }

  @Test func initializersMustMatchTheirShapeAndType() {
    let conv = B.node("Conv", ["x", "w"], ["y"], name: "c")
    #expect(
      throws: ONNXError.invalidTensor(name: "w", reason: "raw data has 8 bytes but its shape [2, 2, 1, 1] needs 16")
    ) {
      try importBytes(oneNode(conv, initializers: [B.tensor("w", dims: [2, 2, 1, 1], raw: [1, 2])]))
    }
    #expect(throws: ONNXError.invalidTensor(name: "w", reason: "has element type int64; resnetc imports float weights"))
    {
      try importBytes(
        oneNode(conv, initializers: [B.tensor("w", dims: [2, 2, 1, 1], raw: [1, 2, 3, 4, 5, 6, 7, 8], dataType: 7)]))
    }
    #expect(throws: ONNXError.invalidTensor(name: "w", reason: "has 0 values but its shape [2, 2, 1, 1] needs 4")) {
      try importBytes(oneNode(conv, initializers: [B.tensor("w", dims: [2, 2, 1, 1])]))
    }
  }

  @Test func inputsMustBeFloatWithKnownDims() throws {
    let ints = B.model(
      graph: B.graph(
        nodes: [B.node("Relu", ["x"], ["y"])], inputs: [B.valueInfo("x", [1, 2], elemType: 7)],
        outputs: [B.valueInfo("y", [1, 2])]))
    #expect(throws: ONNXError.invalidInput(input: "x", reason: "has element type int64; resnetc takes float inputs")) {
      try importBytes(ints)
    }
    let symbolic = B.model(
      graph: B.graph(
        nodes: [B.node("Relu", ["x"], ["y"])], inputs: [B.valueInfo("x", [nil, 2])],
        outputs: [B.valueInfo("y", [nil, 2])]))
    #expect(throws: ONNXError.symbolicDimension(input: "x", index: 0, name: "n")) { try importBytes(symbolic) }
    #expect(
      try importBytes(symbolic, pins: [InputShape(input: nil, shape: [3, 2])]).inputs[0].type == TensorType([3, 2]))
  }

  @Test func outputsDeclaredWithOtherShapes() {
    #expect(
      throws: ONNXError.invalidOutput(
        output: "y", reason: "is declared [ONNX.OnnxDim.value(1), ONNX.OnnxDim.value(3)] but computes [1, 2, 2, 2]")
    ) {
      try importBytes(oneNode(B.node("Relu", ["x"], ["y"]), output: [1, 3]))
    }
  }

  @Test func gemmTransposesASingleColumn() throws {
    // y = Aᵀ·B with A = [[1],[2],[3]] and B = [[1,0],[0,1],[1,1]]: [1+3, 2+3].
    let gemm = B.node("Gemm", ["a", "b"], ["y"], name: "g", attributes: [B.intAttribute("transA", 1)])
    let weights = [B.tensor("b", dims: [3, 2], raw: [1, 0, 0, 1, 1, 1])]
    let model = B.model(
      graph: B.graph(
        nodes: [gemm], initializers: weights, inputs: [B.valueInfo("a", [3, 1])], outputs: [B.valueInfo("y", [1, 2])]))
    let graph = try importBytes(model)
    let y = try Interpreter(graph: graph).run([Tensor(type: TensorType([3, 1]), data: [1, 2, 3])])[0]
    #expect(y.data == [4, 5])
    let wide = B.model(
      graph: B.graph(
        nodes: [gemm], initializers: weights, inputs: [B.valueInfo("a", [3, 2])], outputs: [B.valueInfo("y", [2, 2])]))
    #expect(
      throws: ONNXError.badAttribute(
        op: "Gemm", node: "g", attribute: "transA",
        reason: "is 1 with A of shape [3, 2]; resnetc transposes a single column only")
    ) {
      try importBytes(wide)
    }
  }

  @Test func unsupportedFormsOfSupportedOps() {
    #expect(
      throws: ONNXError.unsupportedNode(
        op: "Add", node: "a",
        reason:
          "computed operands of shapes [1, 2, 2, 2] and [1, 2, 1, 1]; resnetc combines computed tensors of one shape"
      )
    ) {
      let model = B.model(
        graph: B.graph(
          nodes: [B.node("GlobalAveragePool", ["x"], ["p"]), B.node("Add", ["x", "p"], ["y"], name: "a")],
          inputs: [B.valueInfo("x", [1, 2, 2, 2])], outputs: [B.valueInfo("y", [1, 2, 2, 2])]))
      try importBytes(model)
    }
    #expect(
      throws: ONNXError.badAttribute(
        op: "BatchNormalization", node: "bn", attribute: "training_mode", reason: "must be 0 (inference)")
    ) {
      try importBytes(
        oneNode(
          B.node(
            "BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], name: "bn",
            attributes: [B.intAttribute("training_mode", 1)]), opset: 15))
    }
    #expect(
      throws: ONNXError.badAttribute(
        op: "Pad", node: "p", attribute: "mode", reason: "is 'reflect'; resnetc imports constant padding only")
    ) {
      try importBytes(
        oneNode(
          B.node(
            "Pad", ["x"], ["y"], name: "p", attributes: [PB.string(1, "mode") + PB.int(20, 3) + PB.string(4, "reflect")]
          ), opset: 9))
    }
  }
}
