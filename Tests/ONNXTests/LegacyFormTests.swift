import GraphIR
import Runtime
import Testing

@testable import ONNX

/// An int64 tensor initializer.
private func int64s(_ name: String, _ values: [Int64], dims: [Int64]? = nil) -> [UInt8] {
  (dims ?? [Int64(values.count)]).flatMap { PB.int(1, $0) } + PB.int(2, 7) + PB.string(8, name)
    + PB.bytes(9, values.flatMap { v in (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } })
}

private func intsAttribute(_ name: String, _ v: [Int64]) -> [UInt8] {
  PB.string(1, name) + PB.int(20, 7) + v.flatMap { PB.int(8, $0) }
}

/// Legacy attributes, constant folding at import, and the errors of the new converters.
@Suite struct LegacyFormTests {
  /// Before opset 7 a BatchNorm with `is_test=0` (its default) trains on the batch, and a
  /// Dropout drops at random: both refused, naming the attribute.
  @Test func trainingModeBeforeOpset7IsRefused() {
    let params = ["s", "b", "m", "v"].map { B.tensor($0, dims: [2], raw: [1, 1]) }
    for (op, inputs) in [("BatchNormalization", ["x", "s", "b", "m", "v"]), ("Dropout", ["x"])] {
      let model = oneNode(B.node(op, inputs, ["y"], name: "n"), initializers: params, opset: 6)
      #expect(throws: ONNXError.self) { try importBytes(model) }
      do {
        _ = try importBytes(model)
      } catch {
        #expect(error.description.contains("is_test"))
      }
    }
  }

  /// Opset 1's `consumed_inputs` is accepted on the ops that had it, and refused elsewhere.
  @Test func consumedInputsOnlyWhereTheOpHadIt() throws {
    let relu = B.node("Relu", ["x"], ["y"], attributes: [intsAttribute("consumed_inputs", [0])])
    #expect(try importBytes(oneNode(relu, opset: 1)).nodes.map(\.op.name) == ["relu"])
    #expect(throws: ONNXError.unknownAttribute(op: "Relu", node: "y", attribute: "consumed_inputs")) {
      try importBytes(oneNode(relu, opset: 13))
    }
  }

  /// Legacy broadcasting: B of shape [2] aligned at axis 1 of A [1,2,2,2] is one value per
  /// channel, a `scale_shift`; without `broadcast=1` the shapes must match.
  @Test func legacyBroadcastAlignsAtAxis() throws {
    let c = B.tensor("c", dims: [2], raw: [3, -1])
    let node = B.node(
      "Mul", ["x", "c"], ["y"], attributes: [B.intAttribute("broadcast", 1), B.intAttribute("axis", 1)])
    let graph = try importBytes(oneNode(node, initializers: [c], opset: 6))
    #expect(graph.nodes.map(\.op.name) == ["scale_shift"])
    let x = Tensor(type: TensorType([1, 2, 2, 2]), data: [1, 2, 3, 4, 5, 6, 7, 8])
    #expect(try Interpreter(graph: graph).run([x])[0].data == [3, 6, 9, 12, -5, -6, -7, -8])
    #expect(throws: ONNXError.self) {
      try importBytes(oneNode(B.node("Mul", ["x", "c"], ["y"]), initializers: [c], opset: 6))
    }
  }

  /// Older PyTorch's flatten: Shape → Gather → Unsqueeze → Concat → Reshape folds into one
  /// reshape at import.
  @Test func shapeArithmeticFolds() throws {
    let nodes = [
      B.node("Shape", ["x"], ["s"]),
      B.node("Gather", ["s", "zero"], ["n"], attributes: [B.intAttribute("axis", 0)]),
      B.node("Unsqueeze", ["n"], ["n1"], attributes: [intsAttribute("axes", [0])]),
      B.node("Concat", ["n1", "minus"], ["shape"], attributes: [B.intAttribute("axis", 0)]),
      B.node("Reshape", ["x", "shape"], ["y"]),
    ]
    let model = B.model(
      graph: B.graph(
        nodes: nodes, initializers: [int64s("zero", [0], dims: []), int64s("minus", [-1])],
        inputs: [B.valueInfo("x", [1, 2, 2, 2])], outputs: [B.valueInfo("y", [1, 8])]), opset: 11)
    let graph = try importBytes(model)
    #expect(graph.nodes.map(\.op) == [.reshape(shape: [1, 8])])
  }

  /// What a file can ask of the constant folder without holding the data is checked before
  /// anything is allocated; indices out of range and computed operands are errors naming the
  /// node.
  @Test func foldingErrorsAreClear() {
    let huge = B.node("ConstantOfShape", ["shape"], ["y"], name: "fill")
    #expect(throws: ONNXError.self) {
      try importBytes(oneNode(huge, initializers: [int64s("shape", [1 << 20, 1 << 20])]))
    }
    let gather = B.node("Gather", ["table", "i"], ["y"], name: "pick")
    #expect(
      throws: ONNXError.unsupportedNode(op: "Gather", node: "pick", reason: "index 9 is out of range for extent 4")
    ) {
      try importBytes(oneNode(gather, initializers: [int64s("table", [1, 2, 3, 4]), int64s("i", [9])]))
    }
    let divide = B.node("Div", ["x", "x"], ["y"], name: "ratio")
    #expect(
      throws: ONNXError.unsupportedNode(
        op: "Div", node: "ratio", reason: "divides by a computed tensor; resnetc divides by constants only")
    ) { try importBytes(oneNode(divide)) }
    let concat = B.node("Concat", ["x", "x"], ["y"], name: "join", attributes: [B.intAttribute("axis", 1)])
    #expect(throws: ONNXError.self) { try importBytes(oneNode(concat, output: [1, 4, 2, 2])) }
  }

  /// Values a file chooses cannot trap the folder: the largest int64 as an index or a step,
  /// scalars to concatenate.
  @Test func extremeIntegersAreErrorsOrClamped() throws {
    let gather = B.node("Gather", ["table", "i"], ["y"], name: "pick")
    #expect(throws: ONNXError.self) {
      try importBytes(oneNode(gather, initializers: [int64s("table", [1, 2]), int64s("i", [Int64.max])]))
    }
    let slice = B.node("Slice", ["table", "starts", "ends", "axes", "steps"], ["s"], name: "cut")
    let reshape = B.node("Reshape", ["x", "s"], ["y"])
    let sliced = B.model(
      graph: B.graph(
        nodes: [slice, reshape],
        initializers: [
          int64s("table", [1, 2, 2, 2, 9]), int64s("starts", [0]), int64s("ends", [Int64.max]), int64s("axes", [0]),
          int64s("steps", [Int64.max]),
        ], inputs: [B.valueInfo("x", [1, 2, 2, 2])], outputs: [B.valueInfo("y", [8])]))
    // The slice keeps element 0 only: [1], not a shape that fits; the error names the Reshape.
    #expect(throws: ONNXError.self) { try importBytes(sliced) }
    let concat = B.node("Concat", ["a", "a"], ["y"], name: "join", attributes: [B.intAttribute("axis", 0)])
    #expect(throws: ONNXError.unsupportedNode(op: "Concat", node: "join", reason: "concatenates scalars")) {
      try importBytes(oneNode(concat, initializers: [int64s("a", [3], dims: [])]))
    }
  }

  /// Clip's bounds: attributes before opset 11, constant inputs from it on; an empty range is
  /// an error.
  @Test func clipBounds() throws {
    let old = B.node("Clip", ["x"], ["y"], attributes: [B.floatAttribute("min", 0), B.floatAttribute("max", 6)])
    #expect(try importBytes(oneNode(old, opset: 6)).nodes.map(\.op) == [.clip(min: 0, max: 6)])
    let new = B.node("Clip", ["x", "", "hi"], ["y"])
    let bound = B.tensor("hi", dims: [], raw: [0.5])
    #expect(
      try importBytes(oneNode(new, initializers: [bound], opset: 13)).nodes.map(\.op) == [
        .clip(min: -.greatestFiniteMagnitude, max: 0.5)
      ])
    let empty = B.node(
      "Clip", ["x"], ["y"], name: "c", attributes: [B.floatAttribute("min", 2), B.floatAttribute("max", 1)])
    #expect(throws: ONNXError.unsupportedNode(op: "Clip", node: "c", reason: "clips to [2.0, 1.0], which is empty")) {
      try importBytes(oneNode(empty, opset: 6))
    }
  }
}
