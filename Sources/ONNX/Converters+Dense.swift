import GraphIR

/// `w` transposed: (rows, cols) -> (cols, rows).
func transposed(_ w: Tensor) -> Tensor {
  let (rows, cols) = (w.type.shape[0], w.type.shape[1])
  var data = [Float](repeating: 0, count: w.data.count)
  for r in 0..<rows {
    for col in 0..<cols { data[col * rows + r] = w.data[r * cols + col] }
  }
  return Tensor(type: TensorType([cols, rows]), data: data)
}

/// `Gemm(A, B[, C])`: `alpha · A' · B' + beta · C` with A the computed input and B, C
/// constants, as `dense(A, w, b)` where `w = alpha · B'ᵀ` is made at import.
func convertGemm(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  // `broadcast` (before opset 7) allows C to broadcast, which resnetc does in any case.
  let a = try n.attributes(
    c.opset < 7 ? ["alpha", "beta", "broadcast", "transA", "transB"] : ["alpha", "beta", "transA", "transB"])
  try n.expectInputs(2...3)
  var x = try c.operand(try n.requiredInput(0), node: n.label)
  var xShape = c.type(of: x).shape
  guard xShape.count == 2 else { throw n.fail("input A has shape \(xShape); Gemm needs a matrix") }
  if try a.int("transA", default: 0) != 0 {
    // Aᵀ of a single column is the same elements as one row; a wider A would need a transpose.
    guard xShape[1] == 1 else {
      throw a.fail("transA", "is 1 with A of shape \(xShape); resnetc transposes a single column only")
    }
    xShape = [1, xShape[0]]
    x = try c.helper(n.output + ".row", .reshape(shape: xShape), [x])
  }
  let bOperand = try c.operand(try n.requiredInput(1), node: n.label)
  let transB = try a.int("transB", default: 0) != 0
  if try quantizedGemm(n, &c, a, x: x, xShape: xShape, b: bOperand, transB: transB) { return }
  guard let b = c.constantData(bOperand), b.type.rank == 2 else {
    throw n.fail("input B must be a constant matrix (resnetc imports Gemm as a dense layer)")
  }
  var w = transB ? b : transposed(b)
  let alpha = try a.float("alpha", default: 1)
  if alpha != 1 { w.data = w.data.map { $0 * alpha } }
  let outputs = w.type.shape[0]
  guard w.type.shape[1] == xShape[1] else {
    throw n.fail("A has \(xShape[1]) columns but B\(transB ? "ᵀ" : "") has \(w.type.shape[1]) rows")
  }
  let weight = alpha == 1 && transB ? bOperand : try c.constant(bOperand.name + ".dense", w)
  var operands = [x, weight]
  var rowBias: Tensor?
  if let cName = n.input(2) {
    let beta = try a.float("beta", default: 1)
    let cOperand = try c.operand(cName, node: n.label)
    guard let bias = c.constantData(cOperand), var full = broadcast(bias, to: [xShape[0], outputs]) else {
      throw n.fail("input C must be a constant that broadcasts to [\(xShape[0]),\(outputs)]")
    }
    if beta != 1 { full.data = full.data.map { $0 * beta } }
    let firstRow = Array(full.data[0..<outputs])
    if (0..<xShape[0]).allSatisfy({ Array(full.data[($0 * outputs)..<(($0 + 1) * outputs)]) == firstRow }) {
      let vector = Tensor(type: TensorType([outputs]), data: firstRow)
      operands.append(bias == vector ? cOperand : try c.constant(cOperand.name + ".bias", vector))
    } else {
      rowBias = full
    }
  }
  guard let rowBias else {
    try c.define(n.output, .dense, operands)
    return
  }
  let product = try c.helper(n.output + ".product", .dense, operands)
  try c.define(n.output, .add, [product, try c.constant((n.input(2) ?? "C") + ".rows", rowBias)])
}

/// A Gemm of a quantized model: B `[O,I]` (transB=1) and C `[O]`, when present, dequantized
/// constants, alpha and beta 1. It becomes a dense layer that reads the dequantized values, for
/// `fuse-quantized` to make integer. False when B is no dequantized constant.
private func quantizedGemm(
  _ n: OnnxNodeView, _ c: inout ImportContext, _ a: NodeAttributes, x: Operand, xShape: [Int], b: Operand,
  transB: Bool
) throws(ONNXError) -> Bool {
  guard c.isDequantizedConstant(b) else { return false }
  let w = c.type(of: b).shape
  guard transB, try a.float("alpha", default: 1) == 1, w.count == 2, w[1] == xShape[1] else {
    throw n.fail(
      "B is a dequantized constant of shape \(w); resnetc imports it with transB=1, alpha=1 and \(xShape[1]) columns")
  }
  var operands = [x, b]
  if let cName = n.input(2) {
    let bias = try c.operand(cName, node: n.label)
    guard try a.float("beta", default: 1) == 1, c.type(of: bias).shape == [w[0]] else {
      throw n.fail("C must be a vector of \(w[0]) with beta=1 where B is dequantized")
    }
    operands.append(bias)
  }
  try c.define(n.output, .dense, operands)
  return true
}

/// `MatMul(A, B)` with A a computed matrix and B a constant: `dense(A, Bᵀ)`.
func convertMatMul(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  _ = try n.attributes([])
  try n.expectInputs(2...2)
  let x = try c.operand(try n.requiredInput(0), node: n.label)
  let xShape = c.type(of: x).shape
  guard xShape.count == 2 else { throw n.fail("input A has shape \(xShape); resnetc imports MatMul of matrices") }
  let bOperand = try c.operand(try n.requiredInput(1), node: n.label)
  guard let b = c.constantData(bOperand), b.type.rank == 2 else { throw n.fail("input B must be a constant matrix") }
  guard b.type.shape[0] == xShape[1] else {
    throw n.fail("A has \(xShape[1]) columns but B has \(b.type.shape[0]) rows")
  }
  try c.define(n.output, .dense, [x, try c.constant(bOperand.name + ".dense", transposed(b))])
}

/// `Flatten(X)` at `axis` (negative counts from the end).
func convertFlatten(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  let a = try n.attributes(["axis"])
  try n.expectInputs(1...1)
  let x = try c.operand(try n.requiredInput(0), node: n.label)
  let rank = c.type(of: x).rank
  var axis = try a.int("axis", default: 1)
  if axis < 0 { axis += rank }
  guard (0...rank).contains(axis) else { throw a.fail("axis", "is out of range for rank \(rank)") }
  try c.define(n.output, .flatten(axis: axis), [x])
}

/// `Reshape(data, shape)` with a constant shape (the `shape` attribute before opset 5): 0
/// copies the input's dimension (unless `allowzero`), -1 takes what is left.
func convertReshape(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  let a = try n.attributes(c.opset < 5 ? ["shape", "consumed_inputs"] : ["allowzero"])
  try n.expectInputs(c.opset < 5 ? 1...1 : 2...2)
  let source = try n.requiredInput(0)
  let input = try c.shape(of: source, node: n.label)
  let requested: [Int64]
  if c.opset < 5 {
    guard let list = try a.ints("shape") else { throw a.fail("shape", "is required") }
    requested = list.map { Int64($0) }
  } else {
    requested = try c.integerInput(try n.requiredInput(1), node: n.label, op: n.op)
  }
  let allowZero = try a.int("allowzero", default: 0) != 0
  var shape: [Int] = []
  var inferred: Int?
  for (i, d) in requested.enumerated() {
    switch d {
    case 0 where !allowZero:
      guard i < input.count else {
        throw n.fail("shape \(requested) copies dimension \(i), which the input \(input) lacks")
      }
      shape.append(input[i])
    case -1:
      guard inferred == nil else { throw n.fail("shape \(requested) has more than one -1") }
      inferred = i
      shape.append(1)
    case 1...:
      guard let v = Int(exactly: d), v <= maxElementCount else { throw n.fail("shape \(requested) is too large") }
      shape.append(v)
    default:
      throw n.fail("shape \(requested) has an invalid dimension \(d)")
    }
  }
  let total = input.reduce(1, *)
  // Each requested dimension is in range, but their product may not be: multiply checked.
  guard let known = try? checkedShapeProduct(shape, context: "reshape") else {
    throw n.fail("shape \(requested) has more than \(maxElementCount) elements")
  }
  if let inferred {
    guard total % known == 0 else { throw n.fail("shape \(requested) does not fit an input of \(total) elements") }
    shape[inferred] = total / known
  }
  guard shape.reduce(1, *) == total else { throw n.fail("shape \(requested) does not fit the input \(input)") }
  try reshape(n, &c, source, to: shape)
}

/// `Constant`: a float tensor becomes a graph constant; an integer one is kept for the
/// shape and pad inputs that read it.
func convertConstant(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  let a = try n.attributes([
    "value", "value_float", "value_floats", "value_int", "value_ints", "sparse_value", "value_string", "value_strings",
  ])
  try n.expectInputs(0...0)
  let given = n.node.attributes.map(\.name)
  guard given.count == 1 else { throw n.fail("needs exactly one value attribute, got \(given)") }
  switch given[0] {
  case "value":
    guard var tensor = try a.tensor("value") else { throw a.fail("value", "is missing") }
    tensor.name = n.output
    if tensor.dataType == OnnxDataType.float {
      let (shape, data) = try c.decoder.floats(tensor)
      let type = TensorType(shape.isEmpty ? [1] : shape)
      guard !shape.contains(0) else { throw n.fail("the constant has a zero dimension \(shape)") }
      try c.alias(n.output, to: try c.constant(n.output, Tensor(type: type, data: data)))
    } else {
      let (shape, data) = try c.decoder.integers(tensor)
      try c.defineKnown(n.output, KnownTensor(shape: shape, values: data.map(Double.init), isInteger: true))
    }
  case "value_float":
    try c.alias(
      n.output,
      to: try c.constant(n.output, Tensor(type: TensorType([1]), data: [try a.float("value_float", default: 0)])))
  case "value_floats":
    let values = try a.floats("value_floats") ?? []
    guard !values.isEmpty else { throw a.fail("value_floats", "is empty") }
    try c.alias(n.output, to: try c.constant(n.output, Tensor(type: TensorType([values.count]), data: values)))
  case "value_int":
    try c.defineKnown(
      n.output, KnownTensor(shape: [], values: [Double(try a.int("value_int", default: 0))], isInteger: true))
  case "value_ints":
    let list = try a.ints("value_ints") ?? []
    try c.defineKnown(n.output, KnownTensor(shape: [list.count], values: list.map(Double.init), isInteger: true))
  default:
    throw a.fail(given[0], "is not supported (resnetc imports float and integer constants)")
  }
}
