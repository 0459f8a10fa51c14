import GraphIR

/// Converts one ONNX node into graph nodes.
typealias Converter = @Sendable (OnnxNodeView, inout ImportContext) throws(ONNXError) -> Void

/// The converter for each supported op type of the default domain.
let converters: [String: Converter] = [
  "Conv": convertConv,
  "MaxPool": { n, c throws(ONNXError) in try convertPool(n, &c, average: false) },
  "AveragePool": { n, c throws(ONNXError) in try convertPool(n, &c, average: true) },
  "GlobalAveragePool": convertGlobalAveragePool,
  "ReduceMean": convertReduceMean,
  "BatchNormalization": convertBatchNormalization,
  "Relu": convertRelu,
  "Add": convertAdd,
  "Sum": convertSum,
  "Gemm": convertGemm,
  "MatMul": convertMatMul,
  "Flatten": convertFlatten,
  "Reshape": convertReshape,
  "Pad": convertPad,
  "Softmax": convertSoftmax,
  "Constant": convertConstant,
  "Identity": convertIdentity,
  "Dropout": convertDropout,
]

/// `BatchNormalization(X, scale, B, mean, var)` in inference mode.
func convertBatchNormalization(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  let a = try n.attributes(["epsilon", "momentum", "spatial", "training_mode"])
  guard try a.int("training_mode", default: 0) == 0 else { throw a.fail("training_mode", "must be 0 (inference)") }
  guard try a.int("spatial", default: 1) == 1 else { throw a.fail("spatial", "must be 1") }
  try n.expectInputs(5...5)
  try n.expectOnlyFirstOutputUsed(c)
  let operands = try (0..<5).map { i throws(ONNXError) in try c.operand(try n.requiredInput(i), node: n.label) }
  try c.define(n.output, .batchNorm(epsilon: try a.float("epsilon", default: 1e-5)), operands)
}

/// `Relu(X)`.
func convertRelu(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  _ = try n.attributes([])
  try n.expectInputs(1...1)
  try c.define(n.output, .relu, [try c.operand(try n.requiredInput(0), node: n.label)])
}

/// `Identity(X)`: the output is the input.
func convertIdentity(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  _ = try n.attributes([])
  try n.expectInputs(1...1)
  try c.alias(n.output, to: try c.operand(try n.requiredInput(0), node: n.label))
}

/// `Dropout(X[, ratio[, training_mode]])` at inference: the output is the input.
func convertDropout(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  _ = try n.attributes(["ratio", "seed"])
  try n.expectInputs(1...3)
  try n.expectOnlyFirstOutputUsed(c)
  if let training = n.input(2) {
    guard let mode = try? c.integerInput(training, node: n.label, op: n.op), mode.allSatisfy({ $0 == 0 }) else {
      throw n.fail("training_mode must be a constant false")
    }
  }
  try c.alias(n.output, to: try c.operand(try n.requiredInput(0), node: n.label))
}

/// `Add(A, B)`: same shapes, or a constant that broadcasts to the other operand's shape.
func convertAdd(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  _ = try n.attributes([])
  try n.expectInputs(2...2)
  let a = try c.operand(try n.requiredInput(0), node: n.label)
  let b = try c.operand(try n.requiredInput(1), node: n.label)
  try c.define(n.output, .add, try broadcastOperands(a, b, n, &c))
}

/// `Sum(X1, ..., Xn)` as a chain of additions.
func convertSum(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  _ = try n.attributes([])
  guard !n.node.inputs.isEmpty else { throw n.fail("has no inputs") }
  var total = try c.operand(try n.requiredInput(0), node: n.label)
  guard n.node.inputs.count > 1 else { return try c.alias(n.output, to: total) }
  for i in 1..<n.node.inputs.count {
    let next = try c.operand(try n.requiredInput(i), node: n.label)
    let operands = try broadcastOperands(total, next, n, &c)
    total =
      i == n.node.inputs.count - 1
      ? try c.define(n.output, .add, operands) : try c.helper(n.output + ".sum\(i)", .add, operands)
  }
}

/// Two addends of one shape: a constant addend is expanded to the other's shape by
/// NumPy broadcasting; two computed values must already agree.
func broadcastOperands(_ a: Operand, _ b: Operand, _ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError)
  -> [Operand]
{
  let ta = c.type(of: a), tb = c.type(of: b)
  if ta.shape == tb.shape { return [a, b] }
  if let data = c.constantData(b), let expanded = broadcast(data, to: ta.shape) {
    return [a, try c.constant(b.name + ".broadcast", expanded)]
  }
  if let data = c.constantData(a), let expanded = broadcast(data, to: tb.shape) {
    return [try c.constant(a.name + ".broadcast", expanded), b]
  }
  throw n.fail(
    "add operands broadcast: \(ta) and \(tb); resnetc adds tensors of one shape, or a constant that broadcasts")
}

/// `tensor` expanded to `shape` by NumPy broadcasting rules, or nil when it does not broadcast.
func broadcast(_ tensor: Tensor, to shape: [Int]) -> Tensor? {
  let from = tensor.type.shape
  guard from.count <= shape.count else { return nil }
  let padded = Array(repeating: 1, count: shape.count - from.count) + from
  guard zip(padded, shape).allSatisfy({ $0 == $1 || $0 == 1 }) else { return nil }
  let count = shape.reduce(1, *)
  var strides = Array(repeating: 0, count: shape.count)
  var stride = 1
  for axis in (0..<shape.count).reversed() {
    strides[axis] = padded[axis] == 1 ? 0 : stride
    stride *= padded[axis]
  }
  var data = [Float](repeating: 0, count: count)
  for index in 0..<count {
    var rest = index, source = 0
    for axis in (0..<shape.count).reversed() {
      source += (rest % shape[axis]) * strides[axis]
      rest /= shape[axis]
    }
    data[index] = tensor.data[source]
  }
  return Tensor(type: TensorType(shape), data: data)
}

/// `Softmax(X)` along one axis. Before opset 13 Softmax normalizes over all axes from
/// `axis` on, which is the same only when those after it are 1.
func convertSoftmax(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  let a = try n.attributes(["axis"])
  try n.expectInputs(1...1)
  let x = try c.operand(try n.requiredInput(0), node: n.label)
  let shape = c.type(of: x).shape
  var axis = try a.int("axis", default: c.opset < 13 ? 1 : -1)
  if axis < 0 { axis += shape.count }
  guard (0..<shape.count).contains(axis) else { throw a.fail("axis", "is out of range for rank \(shape.count)") }
  if c.opset < 13, !shape[(axis + 1)...].allSatisfy({ $0 == 1 }) {
    throw n.fail("Softmax before opset 13 over several axes (\(shape) from axis \(axis)) is not supported")
  }
  try c.define(n.output, .softmax(axis: axis), [x])
}
