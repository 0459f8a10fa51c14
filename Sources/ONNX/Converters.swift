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
  "Add": { n, c throws(ONNXError) in try convertArithmetic(n, &c, .add) },
  "Sub": { n, c throws(ONNXError) in try convertArithmetic(n, &c, .sub) },
  "Mul": { n, c throws(ONNXError) in try convertArithmetic(n, &c, .mul) },
  "Div": { n, c throws(ONNXError) in try convertArithmetic(n, &c, .div) },
  "Sum": convertSum,
  "Clip": convertClip,
  "Gemm": convertGemm,
  "MatMul": convertMatMul,
  "Flatten": convertFlatten,
  "Reshape": convertReshape,
  "Pad": convertPad,
  "Softmax": convertSoftmax,
  "Constant": convertConstant,
  "Identity": convertIdentity,
  "Dropout": convertDropout,
  "Shape": convertShape,
  "ConstantOfShape": convertConstantOfShape,
  "Gather": convertGather,
  "Unsqueeze": convertUnsqueeze,
  "Squeeze": convertSqueeze,
  "Concat": convertConcat,
  "Cast": convertCast,
  "Slice": convertSlice,
  "Transpose": convertTranspose,
  "GlobalMaxPool": convertGlobalMaxPool,
  "QuantizeLinear": convertQuantizeLinear,
  "DequantizeLinear": convertDequantizeLinear,
  "QLinearConv": convertQLinearConv,
  "QLinearMatMul": convertQLinearMatMul,
]

/// The converters of ONNX Runtime's contributed ops (domain com.microsoft) that quantized
/// ResNets use.
let microsoftConverters: [String: Converter] = [
  "QLinearAdd": convertQLinearAdd,
  "QuantizeLinear": convertQuantizeLinear,
  "DequantizeLinear": convertDequantizeLinear,
]

/// `BatchNormalization(X, scale, B, mean, var)` in inference mode: `is_test=1` before
/// opset 7 (where 0, the default, means training on the batch's statistics), `spatial=1`
/// before opset 9 (statistics per channel), `training_mode=0` from opset 14.
/// `consumed_inputs` (opset 1) is a memory hint with no effect on the result.
func convertBatchNormalization(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  let known: Set<String> =
    switch c.opset {
    case ..<6: ["epsilon", "momentum", "spatial", "is_test", "consumed_inputs"]
    case ..<7: ["epsilon", "momentum", "spatial", "is_test"]
    case ..<9: ["epsilon", "momentum", "spatial"]
    case ..<14: ["epsilon", "momentum"]
    default: ["epsilon", "momentum", "training_mode"]
    }
  let a = try n.attributes(known)
  guard try a.int("training_mode", default: 0) == 0 else { throw a.fail("training_mode", "must be 0 (inference)") }
  if c.opset < 7, try a.int("is_test", default: 0) == 0 {
    throw a.fail("is_test", "is 0 (training on the batch's statistics); resnetc imports inference, is_test=1")
  }
  guard try a.int("spatial", default: 1) == 1 else {
    throw a.fail("spatial", "is 0 (statistics per element, not per channel); resnetc imports spatial=1")
  }
  try n.expectInputs(5...5)
  try n.expectOnlyFirstOutputUsed(c)
  let operands = try (0..<5).map { i throws(ONNXError) in try c.operand(try n.requiredInput(i), node: n.label) }
  try c.define(n.output, .batchNorm(epsilon: try a.float("epsilon", default: 1e-5)), operands)
}

/// `Relu(X)` (`consumed_inputs` before opset 6 is a memory hint).
func convertRelu(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  _ = try n.attributes(c.opset < 6 ? ["consumed_inputs"] : [])
  try n.expectInputs(1...1)
  try c.define(n.output, .relu, [try c.operand(try n.requiredInput(0), node: n.label)])
}

/// `Identity(X)`: the output is the input.
func convertIdentity(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  _ = try n.attributes([])
  try n.expectInputs(1...1)
  try c.alias(n.output, to: try c.operand(try n.requiredInput(0), node: n.label))
}

/// `Dropout(X[, ratio[, training_mode]])` at inference: the output is the input. Before
/// opset 7 that takes `is_test=1`; its default 0 drops at random (training).
func convertDropout(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  let known: Set<String> =
    switch c.opset {
    case ..<6: ["ratio", "is_test", "consumed_inputs"]
    case ..<7: ["ratio", "is_test"]
    default: ["ratio", "seed"]
    }
  let a = try n.attributes(known)
  if c.opset < 7, try a.int("is_test", default: 0) == 0 {
    throw a.fail("is_test", "is 0 (training: a random mask); resnetc imports inference, is_test=1")
  }
  try n.expectInputs(1...3)
  try n.expectOnlyFirstOutputUsed(c)
  if let training = n.input(2) {
    guard let mode = try? c.integerInput(training, node: n.label, op: n.op), mode.allSatisfy({ $0 == 0 }) else {
      throw n.fail("training_mode must be a constant false")
    }
  }
  try c.alias(n.output, to: try c.operand(try n.requiredInput(0), node: n.label))
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
