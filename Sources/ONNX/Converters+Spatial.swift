import GraphIR

/// The largest kernel, stride, dilation or padding accepted from a file (far beyond any real
/// model; it keeps window arithmetic well inside `Int`).
let spatialLimit = 1 << 24

/// Padding from `pads` and `auto_pad` for a window over the last two axes of `x`.
/// `SAME_UPPER` and `SAME_LOWER` pad so that the output is `ceil(input / stride)`, the odd
/// pixel going after (upper) or before (lower).
func windowPadding(
  _ a: NodeAttributes, input: [Int], kernel: Size2d, stride: Size2d, dilation: Size2d
) throws(ONNXError) -> Padding2d {
  let autoPad = try a.string("auto_pad", default: "NOTSET")
  let pads = try a.ints("pads")
  if let pads {
    guard pads.count == 4 else { throw a.fail("pads", "has \(pads.count) values; a 2-D window needs 4") }
    guard pads.allSatisfy({ $0 >= 0 }) else { throw a.fail("pads", "has a negative value \(pads)") }
    guard pads.allSatisfy({ $0 <= spatialLimit }) else { throw a.fail("pads", "has a value over \(spatialLimit)") }
  }
  switch autoPad {
  case "NOTSET":
    guard let p = pads else { return .zero }
    return Padding2d(top: p[0], left: p[1], bottom: p[2], right: p[3])
  case "VALID":
    return .zero
  case "SAME_UPPER", "SAME_LOWER":
    func split(_ size: Int, _ k: Int, _ s: Int, _ d: Int) -> (Int, Int) {
      let total = max(0, ((size + s - 1) / s - 1) * s + (k - 1) * d + 1 - size)
      return autoPad == "SAME_UPPER" ? (total / 2, total - total / 2) : (total - total / 2, total / 2)
    }
    let (top, bottom) = split(input[2], kernel.h, stride.h, dilation.h)
    let (left, right) = split(input[3], kernel.w, stride.w, dilation.w)
    return Padding2d(top: top, left: left, bottom: bottom, right: right)
  default:
    throw a.fail("auto_pad", "is '\(autoPad)'; expected NOTSET, VALID, SAME_UPPER or SAME_LOWER")
  }
}

/// A 2-element attribute as a size, or `fallback`.
func size2d(_ a: NodeAttributes, _ name: String, default fallback: Size2d?) throws(ONNXError) -> Size2d {
  guard let list = try a.ints(name) else {
    guard let fallback else { throw a.fail(name, "is required") }
    return fallback
  }
  guard list.count == 2 else { throw a.fail(name, "has \(list.count) values; resnetc imports 2-D windows only") }
  guard list.allSatisfy({ (1...spatialLimit).contains($0) }) else {
    throw a.fail(name, "has a value outside 1...\(spatialLimit)")
  }
  return Size2d(list[0], list[1])
}

/// Converts a 1-D `Conv`, pool or global pool (input (N,C,L)) as the 2-D one over maps of
/// height 1: the input reshaped to (N,C,1,L), a conv weight (K,C,k) to (K,C,1,k), the
/// window attributes given a leading 1 (`pads` [b,e] becoming [0,b,0,e]), and the result
/// reshaped back to (N,K,L'). False, doing nothing, when the input is not 1-D.
func lowerTo2d(_ n: OnnxNodeView, _ c: inout ImportContext, _ convert2d: Converter) throws(ONNXError) -> Bool {
  let input = try n.requiredInput(0)
  let shape = try c.shape(of: input, node: n.label)
  guard shape.count == 3 else { return false }
  var node = n.node
  for i in node.attributes.indices {
    let ints = node.attributes[i].ints
    switch node.attributes[i].name {
    case "kernel_shape", "strides",
      "dilations" where ints.count == 1:
      node.attributes[i].ints = [1] + ints
    case "pads" where ints.count == 2: node.attributes[i].ints = [0, ints[0], 0, ints[1]]
    default: break
    }
  }
  let x = try c.operand(input, node: n.label)
  let lifted = try c.helper(n.output + ".2d_input", .reshape(shape: [shape[0], shape[1], 1, shape[2]]), [x])
  node.inputs[0] = c.freshName(n.output + ".2d_input")
  try c.alias(node.inputs[0], to: lifted)
  if node.inputs.count > 1, let weight = try c.knownTensor(node.inputs[1], node: n.label), weight.shape.count == 3 {
    node.inputs[1] = c.freshName(n.output + ".2d_weight")
    let w = weight.shape
    try c.defineKnown(node.inputs[1], weight.reshaped([w[0], w[1], 1, w[2]]))
  }
  node.outputs[0] = c.freshName(n.output + ".2d")
  try convert2d(OnnxNodeView(node: node, label: n.label), &c)
  let result = try c.operand(node.outputs[0], node: n.label)
  let y = c.type(of: result).shape
  try c.define(n.output, .reshape(shape: [y[0], y[1], y[3]]), [result])
  return true
}

/// Requires `x` to be an image batch (N,C,H,W).
func imageInput(_ x: Operand, _ n: OnnxNodeView, _ c: ImportContext) throws(ONNXError) -> [Int] {
  let shape = c.type(of: x).shape
  guard shape.count == 4 else { throw n.fail("input has shape \(shape); resnetc imports 2-D (N,C,H,W) \(n.op) only") }
  return shape
}

/// `Conv(X, W[, B])`, 2-D, with groups, dilations, strides, pads or auto_pad.
func convertConv(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  let a = try n.attributes(["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"])
  try n.expectInputs(2...3)
  if try lowerTo2d(n, &c, convertConv) { return }
  let x = try c.operand(try n.requiredInput(0), node: n.label)
  let w = try c.operand(try n.requiredInput(1), node: n.label)
  let attributes = try convAttributes(n, a, c, x: x, w: w)
  var operands = [x, w]
  if let b = n.input(2) { operands.append(try c.operand(b, node: n.label)) }
  try c.define(n.output, .conv2d(attributes), operands)
}

/// The attributes of a 2-D `Conv` or `QLinearConv` reading image `x` with weight `w`.
func convAttributes(
  _ n: OnnxNodeView, _ a: NodeAttributes, _ c: ImportContext, x: Operand, w: Operand
) throws(ONNXError) -> Conv2dAttributes {
  let input = try imageInput(x, n, c)
  let weight = c.type(of: w).shape
  guard weight.count == 4 else { throw n.fail("weight has shape \(weight); resnetc imports 2-D convolutions only") }
  let kernel = Size2d(weight[2], weight[3])
  if let k = try a.ints("kernel_shape"), k != kernel.elements {
    throw a.fail("kernel_shape", "is \(k) but the weight's kernel is \(kernel.elements)")
  }
  let stride = try size2d(a, "strides", default: .square(1))
  let dilation = try size2d(a, "dilations", default: .square(1))
  return Conv2dAttributes(
    stride: stride, padding: try windowPadding(a, input: input, kernel: kernel, stride: stride, dilation: dilation),
    dilation: dilation, groups: try a.int("group", default: 1))
}

/// `MaxPool(X)` or `AveragePool(X)`, 2-D.
func convertPool(_ n: OnnxNodeView, _ c: inout ImportContext, average: Bool) throws(ONNXError) {
  var known: Set<String> = ["auto_pad", "ceil_mode", "kernel_shape", "pads", "strides", "dilations"]
  known.insert(average ? "count_include_pad" : "storage_order")
  let a = try n.attributes(known)
  try n.expectInputs(1...1)
  try n.expectOnlyFirstOutputUsed(c)
  if try lowerTo2d(n, &c, { n, c throws(ONNXError) in try convertPool(n, &c, average: average) }) { return }
  let x = try c.operand(try n.requiredInput(0), node: n.label)
  let input = try imageInput(x, n, c)
  let kernel = try size2d(a, "kernel_shape", default: nil)
  let stride = try size2d(a, "strides", default: .square(1))
  let dilation = try size2d(a, "dilations", default: .square(1))
  let pool = Pool2dAttributes(
    kernel: kernel, stride: stride,
    padding: try windowPadding(a, input: input, kernel: kernel, stride: stride, dilation: dilation),
    dilation: dilation, ceilMode: try a.int("ceil_mode", default: 0) != 0)
  let op: Op =
    average ? .avgPool2d(pool, countIncludePad: try a.int("count_include_pad", default: 0) != 0) : .maxPool2d(pool)
  try c.define(n.output, op, [x])
}

/// `GlobalMaxPool(X)`, 2-D: a max pool whose window is the whole map.
func convertGlobalMaxPool(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  _ = try n.attributes([])
  try n.expectInputs(1...1)
  if try lowerTo2d(n, &c, convertGlobalMaxPool) { return }
  let x = try c.operand(try n.requiredInput(0), node: n.label)
  let shape = try imageInput(x, n, c)
  try c.define(n.output, .maxPool2d(Pool2dAttributes(kernel: Size2d(shape[2], shape[3]), stride: .square(1))), [x])
}

/// `GlobalAveragePool(X)`, 2-D.
func convertGlobalAveragePool(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  _ = try n.attributes([])
  try n.expectInputs(1...1)
  if try lowerTo2d(n, &c, convertGlobalAveragePool) { return }
  let x = try c.operand(try n.requiredInput(0), node: n.label)
  _ = try imageInput(x, n, c)
  try c.define(n.output, .globalAvgPool, [x])
}

/// `ReduceMean(X[, axes])` over the spatial axes of an image batch, as exporters write global
/// average pooling: `global_avg_pool`, then a reshape to (N,C) when `keepdims` is 0.
func convertReduceMean(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  let a = try n.attributes(c.opset < 18 ? ["axes", "keepdims"] : ["keepdims", "noop_with_empty_axes"])
  try n.expectInputs(c.opset < 18 ? 1...1 : 1...2)
  let x = try c.operand(try n.requiredInput(0), node: n.label)
  let shape = try imageInput(x, n, c)
  let axes: [Int]
  if c.opset < 18 {
    axes = try a.ints("axes") ?? [0, 1, 2, 3]
  } else if let name = n.input(1) {
    axes = try c.integerInput(name, node: n.label, op: n.op).map { Int($0) }
  } else {
    guard try a.int("noop_with_empty_axes", default: 0) == 0 else {
      throw n.fail("a ReduceMean that reduces nothing is not supported")
    }
    axes = [0, 1, 2, 3]
  }
  guard Set(axes.map { $0 < 0 ? $0 + 4 : $0 }) == [2, 3] else {
    throw n.fail("reduces axes \(axes); resnetc imports ReduceMean over the spatial axes (2, 3) only")
  }
  guard try a.int("keepdims", default: 1) == 0 else {
    try c.define(n.output, .globalAvgPool, [x])
    return
  }
  let pooled = try c.helper(n.output + ".pool", .globalAvgPool, [x])
  try c.define(n.output, .reshape(shape: [shape[0], shape[1]]), [pooled])
}

/// `Pad(data, pads[, constant_value[, axes]])` (or the `pads` and `value` attributes
/// before opset 11, `paddings` at opset 1) in constant mode: zero or constant borders on H
/// and W, or zero channels on C.
func convertPad(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  let padsName = c.opset < 2 ? "paddings" : "pads"
  let a = try n.attributes(c.opset < 11 ? ["mode", padsName, "value"] : ["mode"])
  let mode = try a.string("mode", default: "constant")
  guard mode == "constant" else { throw a.fail("mode", "is '\(mode)'; resnetc imports constant padding only") }
  let x = try c.operand(try n.requiredInput(0), node: n.label)
  _ = try imageInput(x, n, c)
  var pads: [Int]
  var value: Float = 0
  if c.opset < 11 {
    try n.expectInputs(1...1)
    guard let p = try a.ints(padsName) else { throw a.fail(padsName, "is required") }
    pads = p
    value = try a.float("value", default: 0)
  } else {
    try n.expectInputs(2...4)
    pads = try c.integerInput(try n.requiredInput(1), node: n.label, op: n.op).map { Int($0) }
    if let v = n.input(2) {
      let operand = try c.operand(v, node: n.label)
      guard let data = c.constantData(operand), data.data.count == 1 else {
        throw n.fail("constant_value must be a constant scalar")
      }
      value = data.data[0]
    }
    if let axesName = n.input(3) {
      let axes = try c.integerInput(axesName, node: n.label, op: n.op).map { Int($0) < 0 ? Int($0) + 4 : Int($0) }
      guard pads.count == 2 * axes.count, axes.allSatisfy({ (0..<4).contains($0) }) else {
        throw n.fail("axes \(axes) do not fit pads \(pads)")
      }
      var full = Array(repeating: 0, count: 8)
      for (i, axis) in axes.enumerated() {
        full[axis] = pads[i]
        full[axis + 4] = pads[i + axes.count]
      }
      pads = full
    }
  }
  guard pads.count == 8 else { throw n.fail("pads has \(pads.count) values; a 4-D input needs 8") }
  guard pads.allSatisfy({ $0 >= 0 }) else { throw n.fail("negative pads \(pads) (cropping) are not supported") }
  guard pads[0] == 0, pads[4] == 0 else { throw n.fail("padding the batch dimension is not supported") }
  let spatial = Padding2d(top: pads[2], left: pads[3], bottom: pads[6], right: pads[7])
  var y = x
  let channels = pads[1] != 0 || pads[5] != 0
  if channels {
    guard value == 0 else { throw n.fail("padding channels with \(value) is not supported (only zeros)") }
    let op = Op.padChannels(before: pads[1], after: pads[5])
    y = spatial == .zero ? try c.define(n.output, op, [y]) : try c.helper(n.output + ".channels", op, [y])
  }
  if spatial != .zero { y = try c.define(n.output, .pad2d(spatial, value: value), [y]) }
  if !channels, spatial == .zero { try c.alias(n.output, to: y) }
}
