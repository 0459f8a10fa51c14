import Testing

@testable import GraphIR

/// `x: f32[1,4,8,8] -> conv 3x3 (4->8) -> relu`, valid; tests break one thing at a time.
func smallGraph() -> Graph {
  var constants = ConstantTable()
  constants.set("w", Tensor(type: TensorType([8, 4, 3, 3]), data: Array(repeating: 0.5, count: 288)))
  constants.set("b", Tensor(type: TensorType([8]), data: Array(repeating: 0, count: 8)))
  let conv = Conv2dAttributes(stride: .square(1), padding: .uniform(1))
  return Graph(
    name: "small", inputs: [GraphInput(name: "x", type: TensorType([1, 4, 8, 8]))], constants: constants,
    nodes: [
      Node(
        name: "c", op: .conv2d(conv), operands: [.value("x"), .constant("w"), .constant("b")],
        type: TensorType([1, 8, 8, 8])),
      Node(name: "r", op: .relu, operands: [.value("c")], type: TensorType([1, 8, 8, 8])),
    ], outputs: ["r"])
}

@Suite struct VerifierTests {
  @Test func validGraphPasses() throws {
    try Verifier.verify(smallGraph())
  }

  @Test func duplicateName() {
    var g = smallGraph()
    g.nodes[1].name = "c"
    g.outputs = ["c"]
    #expect(throws: GraphError.duplicateName("c")) { try Verifier.verify(g) }
  }

  @Test func inputNameReused() {
    var g = smallGraph()
    g.inputs.append(GraphInput(name: "x", type: TensorType([1])))
    #expect(throws: GraphError.duplicateName("x")) { try Verifier.verify(g) }
  }

  @Test func danglingValue() {
    var g = smallGraph()
    g.nodes[1].operands = [.value("nowhere")]
    #expect(throws: GraphError.undefinedValue(node: "r", operand: "nowhere")) { try Verifier.verify(g) }
  }

  @Test func cycleIsUseBeforeDefinition() {
    var g = smallGraph()
    g.nodes[0].operands[0] = .value("r")
    #expect(throws: GraphError.usedBeforeDefinition(node: "c", operand: "r")) { try Verifier.verify(g) }
  }

  @Test func selfLoop() {
    var g = smallGraph()
    g.nodes[1].operands = [.value("r")]
    #expect(throws: GraphError.usedBeforeDefinition(node: "r", operand: "r")) { try Verifier.verify(g) }
  }

  @Test func danglingConstant() {
    var g = smallGraph()
    g.nodes[0].operands[1] = .constant("missing")
    #expect(throws: GraphError.undefinedConstant(node: "c", constant: "missing")) { try Verifier.verify(g) }
  }

  @Test func wrongArity() {
    var g = smallGraph()
    g.nodes[1].operands = [.value("c"), .value("x")]
    #expect(throws: GraphError.arity(node: "r", op: "relu", expected: Arity(min: 1, max: 1), got: 2)) {
      try Verifier.verify(g)
    }
  }

  @Test func mismatchedWeightShape() {
    var g = smallGraph()
    g.constants.set("w", Tensor(type: TensorType([8, 3, 3, 3]), data: Array(repeating: 0, count: 216)))
    #expect(
      throws: GraphError.operandShape(node: "c", op: "conv2d", operand: 1, expected: "[8,4,3,3]", got: [8, 3, 3, 3])
    ) {
      try Verifier.verify(g)
    }
  }

  @Test func mismatchedBiasShape() {
    var g = smallGraph()
    g.constants.set("b", Tensor(type: TensorType([4]), data: Array(repeating: 0, count: 4)))
    #expect(throws: GraphError.operandShape(node: "c", op: "conv2d", operand: 2, expected: "[8]", got: [4])) {
      try Verifier.verify(g)
    }
  }

  @Test func addShapesMustMatch() throws {
    var b = GraphBuilder(name: "g")
    let x = try b.input("x", TensorType([1, 2]))
    let y = try b.input("y", TensorType([1, 3]))
    #expect(throws: GraphError.operandShape(node: "s", op: "add", operand: 1, expected: "[1,2]", got: [1, 3])) {
      try b.node("s", .add, [x, y])
    }
  }

  @Test func groupsMustDivideChannels() {
    var g = smallGraph()
    if case .conv2d(var a) = g.nodes[0].op {
      a.groups = 3
      g.nodes[0].op = .conv2d(a)
    }
    #expect(throws: GraphError.groupsDoNotDivide(node: "c", channels: 4, groups: 3)) { try Verifier.verify(g) }
  }

  @Test func zeroStride() {
    var g = smallGraph()
    g.nodes[0].op = .conv2d(Conv2dAttributes(stride: Size2d(0, 1)))
    #expect(
      throws: GraphError.invalidAttribute(
        node: "c", op: "conv2d", attribute: "stride", value: "[0,1]", reason: "must be positive")
    ) {
      try Verifier.verify(g)
    }
  }

  @Test func kernelLargerThanInput() throws {
    var b = GraphBuilder(name: "g")
    let x = try b.input("x", TensorType([1, 1, 2, 2]))
    let w = try b.constant("w", TensorType([1, 1, 3, 3]), Array(repeating: 0, count: 9))
    #expect(throws: GraphError.self) { try b.node("c", .conv2d(Conv2dAttributes()), [x, w]) }
  }

  @Test func recordedTypeMustMatchInference() {
    var g = smallGraph()
    g.nodes[1].type = TensorType([1, 8, 8, 9])
    #expect(
      throws: GraphError.typeMismatch(
        node: "r", declared: TensorType([1, 8, 8, 9]), inferred: TensorType([1, 8, 8, 8]))
    ) {
      try Verifier.verify(g)
    }
  }

  @Test func zeroAndNegativeDimensions() {
    for dim in [0, -3] {
      var g = smallGraph()
      g.inputs[0].type = TensorType([1, 4, dim, 8])
      #expect(throws: GraphError.nonPositiveDimension(context: "input %x", shape: [1, 4, dim, 8])) {
        try Verifier.verify(g)
      }
    }
  }

  @Test func shapeProductOverflow() {
    var g = smallGraph()
    g.inputs[0].type = TensorType([1 << 31, 1 << 31, 4, 8])
    #expect(
      throws: GraphError.shapeTooLarge(context: "input %x", shape: [1 << 31, 1 << 31, 4, 8], limit: maxElementCount)
    ) {
      try Verifier.verify(g)
    }
  }

  @Test func rankTooLarge() {
    var g = smallGraph()
    g.inputs[0].type = TensorType(Array(repeating: 1, count: 9))
    #expect(throws: GraphError.rankTooLarge(context: "input %x", rank: 9, limit: maxRank)) { try Verifier.verify(g) }
  }

  @Test func constantDataMustFillShape() {
    var g = smallGraph()
    g.constants.set("b", Tensor(type: TensorType([8]), data: [1, 2, 3]))
    #expect(throws: GraphError.constantSize(name: "b", shape: [8], expected: 8, got: 3)) { try Verifier.verify(g) }
  }

  @Test func outputs() {
    var g = smallGraph()
    g.outputs = ["nope"]
    #expect(throws: GraphError.undefinedOutput("nope")) { try Verifier.verify(g) }
    g.outputs = ["r", "r"]
    #expect(throws: GraphError.duplicateOutput("r")) { try Verifier.verify(g) }
    g.outputs = []
    #expect(throws: GraphError.noOutputs) { try Verifier.verify(g) }
  }

  @Test func inputsRequired() {
    var g = smallGraph()
    g.inputs = []
    #expect(throws: GraphError.noInputs) { try Verifier.verify(g) }
  }

  @Test func messagesNameTheNode() {
    let error = GraphError.groupsDoNotDivide(node: "layer1.0.conv1", channels: 4, groups: 3)
    #expect(error.description == "node %layer1.0.conv1 (conv2d): groups=3 does not divide 4 channels")
  }
}

@Suite struct ShapeInferenceTests {
  @Test func slidingWindowFloorAndCeil() {
    // 112 -> 56 with a 3x3/2 pad-1 max pool (ResNet stem).
    #expect(
      slidingWindowCount(input: 112, kernel: 3, stride: 2, dilation: 1, padBegin: 1, padEnd: 1, ceilMode: false) == 56)
    // 6 with kernel 3 stride 2: floor gives 2, ceil gives 3.
    #expect(
      slidingWindowCount(input: 6, kernel: 3, stride: 2, dilation: 1, padBegin: 0, padEnd: 0, ceilMode: false) == 2)
    #expect(
      slidingWindowCount(input: 6, kernel: 3, stride: 2, dilation: 1, padBegin: 0, padEnd: 0, ceilMode: true) == 3)
    // Ceil mode drops a last window that would start in the trailing padding.
    #expect(
      slidingWindowCount(input: 5, kernel: 2, stride: 2, dilation: 1, padBegin: 1, padEnd: 1, ceilMode: true) == 3)
    #expect(
      slidingWindowCount(input: 4, kernel: 2, stride: 2, dilation: 1, padBegin: 1, padEnd: 1, ceilMode: true) == 3)
    // Dilation widens the window: 3 taps spaced 2 span 5.
    #expect(
      slidingWindowCount(input: 7, kernel: 3, stride: 1, dilation: 2, padBegin: 0, padEnd: 0, ceilMode: false) == 3)
    #expect(
      slidingWindowCount(input: 4, kernel: 3, stride: 1, dilation: 2, padBegin: 0, padEnd: 0, ceilMode: false) == nil)
  }

  @Test func everyOpInfersItsShape() throws {
    let x = TensorType([2, 4, 9, 9])
    let cases: [(Op, [TensorType], [Int])] = [
      (
        .conv2d(Conv2dAttributes(stride: .square(2), padding: .uniform(1), groups: 2)), [x, TensorType([6, 2, 3, 3])],
        [2, 6, 5, 5]
      ),
      (
        .conv2d(Conv2dAttributes(dilation: .square(2))), [x, TensorType([3, 4, 3, 3]), TensorType([3])], [2, 3, 5, 5]
      ),
      (.batchNorm(epsilon: 1e-5), [x] + Array(repeating: TensorType([4]), count: 4), [2, 4, 9, 9]),
      (.maxPool2d(Pool2dAttributes(kernel: .square(3), stride: .square(2), ceilMode: true)), [x], [2, 4, 4, 4]),
      (
        .avgPool2d(Pool2dAttributes(kernel: .square(2), stride: .square(2)), countIncludePad: false), [x], [2, 4, 4, 4]
      ),
      (.globalAvgPool, [x], [2, 4, 1, 1]),
      (.flatten(axis: 1), [x], [2, 324]),
      (.flatten(axis: 0), [x], [1, 648]),
      (.dense, [TensorType([2, 5]), TensorType([3, 5]), TensorType([3])], [2, 3]),
      (.softmax(axis: 1), [TensorType([2, 5])], [2, 5]),
      (.subsample2d(stride: .square(2)), [x], [2, 4, 5, 5]),
      (.padChannels(before: 1, after: 3), [x], [2, 8, 9, 9]),
    ]
    for (op, operands, expected) in cases {
      #expect(try inferType(of: op, operands: operands, node: "n").shape == expected, "\(op.name)")
    }
  }

  @Test func poolPaddingMustBeSmallerThanWindow() {
    let op = Op.maxPool2d(Pool2dAttributes(kernel: .square(2), stride: .square(1), padding: .uniform(2)))
    #expect(throws: GraphError.self) { try inferType(of: op, operands: [TensorType([1, 1, 4, 4])], node: "p") }
  }

  @Test func denseChecksInnerDimension() {
    #expect(throws: GraphError.operandShape(node: "fc", op: "dense", operand: 1, expected: "[3,5]", got: [3, 4])) {
      try inferType(of: .dense, operands: [TensorType([2, 5]), TensorType([3, 4])], node: "fc")
    }
  }
}
