import GraphIR

/// `QuantizeLinear(x, y_scale[, y_zero_point])`: per tensor, or per index of `axis` (opset
/// 13 on). Without a zero point the result is uint8 (or `output_dtype`'s type, opset 21).
func convertQuantizeLinear(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  let a = try n.attributes(["axis", "saturate", "block_size", "output_dtype"])
  try n.expectInputs(2...3)
  try expectNoBlocks(a)
  let x = try c.operand(try n.requiredInput(0), node: n.label)
  let shape = c.type(of: x).shape
  var fallback = DType.u8
  switch try a.int("output_dtype", default: 0) {
  case 0: break
  case Int(OnnxDataType.uint8): fallback = .u8
  case Int(OnnxDataType.int8): fallback = .i8
  case let other:
    throw a.fail("output_dtype", "is \(OnnxDataType.name(Int64(other))); resnetc quantizes to uint8 or int8")
  }
  let axis = try quantizationAxis(a, rank: shape.count)
  let q = try quantization(
    n, &c, scale: try n.requiredInput(1), zero: n.input(2), shape: shape, axis: axis, defaultType: fallback,
    allowed: [.u8, .i8])
  if a.has("output_dtype"), q.dtype != fallback {
    throw a.fail("output_dtype", "names another type than the zero point's \(q.dtype.rawValue)")
  }
  try c.define(n.output, .quantize(axis: axis), [x, q.scale, q.zero])
}

/// `DequantizeLinear(x, x_scale[, x_zero_point])`: `(x - zero) * scale`, x of uint8, int8 or
/// int32 (a bias, whose zero point is 0).
func convertDequantizeLinear(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  let a = try n.attributes(["axis", "block_size"])
  try n.expectInputs(2...3)
  try expectNoBlocks(a)
  let x = try c.operand(try n.requiredInput(0), node: n.label)
  let type = c.type(of: x)
  guard type.dtype.isInteger else {
    throw n.fail("input x is \(type.dtype.rawValue); DequantizeLinear takes uint8, int8 or int32")
  }
  let axis = try quantizationAxis(a, rank: type.rank)
  let q = try quantization(
    n, &c, scale: try n.requiredInput(1), zero: n.input(2), shape: type.shape, axis: axis,
    defaultType: type.dtype, allowed: [type.dtype])
  try c.define(n.output, .dequantize(axis: axis), [x, q.scale, q.zero])
}

/// `QLinearConv(x, x_scale, x_zero, w, w_scale, w_zero, y_scale, y_zero[, B])`, 2-D: the
/// weight's scale and zero point per tensor or per output channel, the others per tensor.
func convertQLinearConv(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  let a = try n.attributes(["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"])
  try n.expectInputs(8...9)
  let x = try c.operand(try n.requiredInput(0), node: n.label)
  let w = try c.operand(try n.requiredInput(3), node: n.label)
  let attributes = try convAttributes(n, a, c, x: x, w: w)
  var operands = try qlinearOperands(n, &c, x: x, w: w, weightAxis: 0)
  if let b = n.input(8) { operands.append(try c.operand(b, node: n.label)) }
  try c.define(n.output, .qconv2d(attributes), operands)
}

/// `QLinearMatMul(a, a_scale, a_zero, b, b_scale, b_zero, y_scale, y_zero)` with a matrix A
/// and a constant B `[I,O]`: a `qdense` with B transposed (its scale per tensor or per column).
func convertQLinearMatMul(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  _ = try n.attributes([])
  try n.expectInputs(8...8)
  let x = try c.operand(try n.requiredInput(0), node: n.label)
  guard c.type(of: x).rank == 2 else {
    throw n.fail("input A has shape \(c.type(of: x).shape); resnetc needs a matrix")
  }
  let bOperand = try c.operand(try n.requiredInput(3), node: n.label)
  guard let b = c.constantData(bOperand), b.type.rank == 2, b.type.dtype.isInteger else {
    throw n.fail("input B must be a constant integer matrix (resnetc imports QLinearMatMul as a dense layer)")
  }
  let (rows, columns) = (b.type.shape[0], b.type.shape[1])
  var transposed = [Int32](repeating: 0, count: b.integers.count)
  for i in 0..<rows { for o in 0..<columns { transposed[o * rows + i] = b.integers[i * columns + o] } }
  let w = try c.constant(
    bOperand.name + ".dense", Tensor(type: TensorType([columns, rows], dtype: b.type.dtype), integers: transposed))
  try c.define(n.output, .qdense, try qlinearOperands(n, &c, x: x, w: w, weightAxis: 1))
}

/// `QLinearAdd(A, A_scale, A_zero, B, B_scale, B_zero, C_scale, C_zero)` (domain
/// com.microsoft), A and B of one shape: dequantized, added in floats, quantized.
func convertQLinearAdd(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  _ = try n.attributes([])
  try n.expectInputs(7...8)
  var reals: [Operand] = []
  var shape: [Int] = []
  var firstType = DType.u8
  for (value, scale, zero) in [(0, 1, 2), (3, 4, 5)] {
    let x = try c.operand(try n.requiredInput(value), node: n.label)
    let type = c.type(of: x)
    guard type.dtype == .u8 || type.dtype == .i8 else {
      throw n.fail("input \(value) is \(type.dtype.rawValue); QLinearAdd takes uint8 or int8")
    }
    guard reals.isEmpty || type.shape == shape else {
      throw n.fail("adds shapes \(shape) and \(type.shape); resnetc adds tensors of one shape")
    }
    shape = type.shape
    if reals.isEmpty { firstType = type.dtype }
    let q = try quantization(
      n, &c, scale: try n.requiredInput(scale), zero: n.input(zero), shape: shape, axis: nil,
      defaultType: type.dtype, allowed: [type.dtype])
    reals.append(try c.helper(n.output + ".real\(reals.count)", .dequantize(axis: 1), [x, q.scale, q.zero]))
  }
  let sum = try c.helper(n.output + ".sum", .add, reals)
  let q = try quantization(
    n, &c, scale: try n.requiredInput(6), zero: n.input(7), shape: shape, axis: nil, defaultType: firstType,
    allowed: [.u8, .i8])
  try c.define(n.output, .quantize(axis: 1), [sum, q.scale, q.zero])
}

/// The operands of `qconv2d` and `qdense` after x and w: each one's scale and zero point,
/// then the output's (w's per tensor or per index of `weightAxis` of the ONNX weight).
private func qlinearOperands(
  _ n: OnnxNodeView, _ c: inout ImportContext, x: Operand, w: Operand, weightAxis: Int
) throws(ONNXError) -> [Operand] {
  let xType = c.type(of: x), wType = c.type(of: w)
  for (what, type) in [("x", xType), ("w", wType)] where type.dtype != .u8 && type.dtype != .i8 {
    throw n.fail("input \(what) is \(type.dtype.rawValue); \(n.op) takes uint8 or int8")
  }
  let xq = try quantization(
    n, &c, scale: try n.requiredInput(1), zero: n.input(2), shape: xType.shape, axis: nil, defaultType: xType.dtype,
    allowed: [xType.dtype])
  // The weight's own axis: ONNX QLinearMatMul's B is [I,O], its scales per column.
  var onnxWeightShape = wType.shape
  if weightAxis == 1 { onnxWeightShape.reverse() }
  let wq = try quantization(
    n, &c, scale: try n.requiredInput(4), zero: n.input(5), shape: onnxWeightShape, axis: weightAxis,
    defaultType: wType.dtype, allowed: [wType.dtype])
  let yq = try quantization(
    n, &c, scale: try n.requiredInput(6), zero: n.input(7), shape: [1], axis: nil, defaultType: .u8,
    allowed: [.u8, .i8])
  return [x, xq.scale, xq.zero, w, wq.scale, wq.zero, yq.scale, yq.zero]
}

private func expectNoBlocks(_ a: NodeAttributes) throws(ONNXError) {
  guard try a.int("block_size", default: 0) == 0 else {
    throw a.fail("block_size", "is not 0; resnetc quantizes per tensor or per axis, not in blocks")
  }
}

/// The `axis` attribute, made non-negative (default 1, as ONNX).
private func quantizationAxis(_ a: NodeAttributes, rank: Int) throws(ONNXError) -> Int {
  var axis = try a.int("axis", default: 1)
  if axis < 0 { axis += rank }
  guard axis >= 0, axis < max(rank, 1) else { throw a.fail("axis", "is out of range for rank \(rank)") }
  return axis
}

/// A scale (f32) and a zero point as graph constants of one shape: `[]` for a single pair, or
/// `[shape[axis]]` for one per index along `axis` (nil: only a single pair is allowed). The
/// scale must be a known positive finite float; the zero point an integer initializer of an
/// `allowed` type, or absent (zeros of `defaultType`).
private func quantization(
  _ n: OnnxNodeView, _ c: inout ImportContext, scale scaleName: String, zero zeroName: String?, shape: [Int],
  axis: Int?, defaultType: DType, allowed: [DType]
) throws(ONNXError) -> (scale: Operand, zero: Operand, dtype: DType) {
  guard let scale = try c.knownTensor(scaleName, node: n.label), !scale.isInteger else {
    throw n.fail("scale '\(scaleName)' must be a constant float tensor")
  }
  let count = scale.values.count
  // A single value, even of shape [1] along an axis of one index, is the same per tensor.
  let perAxis = count != 1
  let pairShape: [Int] = perAxis ? [count] : []
  if perAxis {
    guard let axis, scale.shape.count == 1, axis < shape.count, shape[axis] == count else {
      throw n.fail(
        "scale '\(scaleName)' has shape \(scale.shape); it must be a scalar"
          + (axis.map { ", or hold one value per index of axis \($0) of \(shape)" } ?? ""))
    }
  } else {
    guard scale.shape.count <= 1 else { throw n.fail("scale '\(scaleName)' has shape \(scale.shape), not a scalar") }
  }
  if let bad = scale.values.first(where: { !($0 > 0) || !$0.isFinite }) {
    throw n.fail("scale '\(scaleName)' holds \(bad); scales must be positive and finite")
  }
  var dtype = defaultType
  var zeros = [Int32](repeating: 0, count: count)
  if let zeroName {
    let (type, values) = try c.integerConstant(zeroName, node: n.label)
    guard allowed.contains(type.dtype) else {
      throw n.fail(
        "zero point '\(zeroName)' is \(type.dtype.rawValue); expected \(allowed.map(\.rawValue).joined(separator: " or "))"
      )
    }
    guard values.count == count, type.rank <= 1 else {
      throw n.fail("zero point '\(zeroName)' has shape \(type.shape) but its scale '\(scaleName)' has \(scale.shape)")
    }
    dtype = type.dtype
    zeros = values
  }
  if dtype == .i32, zeros.contains(where: { $0 != 0 }) {
    throw n.fail("zero point '\(zeroName ?? "")' of an int32 tensor must be 0")
  }
  let scaleOperand = try c.sharedConstant(
    scaleName, Tensor(type: TensorType(pairShape), data: scale.values.map { Float($0) }))
  let zeroOperand = try c.sharedConstant(
    zeroName ?? "\(scaleName).zero_\(dtype.rawValue)",
    Tensor(type: TensorType(pairShape, dtype: dtype), integers: zeros))
  return (scaleOperand, zeroOperand, dtype)
}
