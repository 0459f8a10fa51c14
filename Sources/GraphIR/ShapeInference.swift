/// The result type of `op` applied to operands of types `operands`, or the error that
/// explains why they do not fit. `node` names the node in errors.
///
/// The operand count must already match `op.arity`.
public func inferType(of op: Op, operands: [TensorType], node: String) throws(GraphError) -> TensorType {
  let check = ShapeCheck(node: node, op: op.name, operands: operands)
  if !op.isQuantized {
    for i in operands.indices { try check.dtype(i, [.f32]) }
  }
  var dtype = operands[0].dtype
  let shape: [Int]
  switch op {
  case .conv2d(let a):
    shape = try check.conv2d(a)
  case .batchNorm(let epsilon):
    try check.attribute("epsilon", "\(epsilon)", epsilon.isFinite && epsilon >= 0, "must be finite and not negative")
    let x = try check.rank(0, atLeast: 2)
    for i in 1...4 { try check.shape(i, equals: [x[1]]) }
    shape = x
  case .scaleShift:
    let x = try check.rank(0, atLeast: 2)
    for i in 1...2 { try check.shape(i, equals: [x[1]]) }
    shape = x
  case .relu:
    shape = operands[0].shape
  case .add, .mul:
    try check.shape(1, equals: operands[0].shape)
    shape = operands[0].shape
  case .clip(let min, let max):
    try check.attribute("min", "\(min)", !min.isNaN, "must be a number")
    try check.attribute("max", "\(max)", !max.isNaN && max >= min, "must be a number no less than min \(min)")
    shape = operands[0].shape
  case .transpose(let perm):
    let rank = operands[0].rank
    try check.attribute(
      "perm", shapeText(perm), perm.sorted() == Array(0..<rank), "must order the axes 0..<\(rank), each once")
    shape = perm.map { operands[0].shape[$0] }
  case .maxPool2d(let a):
    shape = try check.pool2d(a)
  case .avgPool2d(let a, _):
    shape = try check.pool2d(a)
  case .globalAvgPool:
    let x = try check.rank(0, equals: 4)
    shape = [x[0], x[1], 1, 1]
  case .flatten(let axis):
    let x = operands[0].shape
    try check.attribute("axis", "\(axis)", (0...x.count).contains(axis), "must be in 0...\(x.count)")
    shape = [x[..<axis].reduce(1, *), x[axis...].reduce(1, *)]
  case .dense:
    let x = try check.rank(0, equals: 2)
    let w = try check.rank(1, equals: 2)
    try check.shape(1, equals: [w[0], x[1]])
    if operands.count == 3 { try check.shape(2, equals: [w[0]]) }
    shape = [x[0], w[0]]
  case .softmax(let axis):
    let rank = operands[0].rank
    try check.attribute("axis", "\(axis)", (0..<rank).contains(axis), "must be in 0..<\(rank)")
    shape = operands[0].shape
  case .subsample2d(let stride):
    let x = try check.rank(0, equals: 4)
    try check.positive("stride", stride.elements)
    shape = [
      x[0], x[1], x[2] / stride.h + (x[2] % stride.h == 0 ? 0 : 1), x[3] / stride.w + (x[3] % stride.w == 0 ? 0 : 1),
    ]
  case .padChannels(let before, let after):
    let x = try check.rank(0, equals: 4)
    try check.attribute("before", "\(before)", before >= 0, "must not be negative")
    try check.attribute("after", "\(after)", after >= 0, "must not be negative")
    shape = [x[0], try check.sum("before/after", [x[1], before, after]), x[2], x[3]]
  case .pad2d(let p, let value):
    let x = try check.rank(0, equals: 4)
    try check.notNegative("pad", p.elements)
    try check.attribute("value", "\(value)", !value.isNaN, "must be a number")
    shape = [
      x[0], x[1], try check.sum("pad", [x[2], p.top, p.bottom]), try check.sum("pad", [x[3], p.left, p.right]),
    ]
  case .reshape(let target):
    try check.positive("shape", target)
    let from = operands[0].elementCount
    let to = try checkedShapeProduct(target, context: "node %\(IRName.spelling(of: node)) (reshape)")
    try check.attribute("shape", shapeText(target), to == from, "has \(to) elements but the input has \(from)")
    shape = target
  case .quantize(let axis):
    try check.dtype(0, [.f32])
    try check.dtype(1, [.f32])
    try check.dtype(2, [.i8, .u8])
    try check.quantization(scale: 1, zero: 2, of: 0, axis: axis)
    dtype = operands[2].dtype
    shape = operands[0].shape
  case .dequantize(let axis):
    try check.dtype(0, [.i8, .u8, .i32])
    try check.dtype(1, [.f32])
    try check.dtype(2, [operands[0].dtype])
    try check.quantization(scale: 1, zero: 2, of: 0, axis: axis)
    dtype = .f32
    shape = operands[0].shape
  case .qconv2d(let a):
    try check.attribute(
      "epilogue", a.epilogue.rawValue, a.epilogue == .none || a.epilogue == .relu, "must be none or relu")
    _ = try check.quantizedProduct(weightRank: 4)
    let plain = ShapeCheck(
      node: node, op: op.name, operands: [operands[0], operands[3]] + (operands.count == 9 ? [operands[8]] : []))
    shape = try plain.conv2d(a)
    dtype = operands[7].dtype
  case .qdense:
    let o = try check.quantizedProduct(weightRank: 2)
    let x = try check.rank(0, equals: 2)
    try check.shape(3, equals: [o, x[1]])
    shape = [x[0], o]
    dtype = operands[7].dtype
  }
  let type = TensorType(shape, dtype: dtype)
  _ = try type.checkedElementCount(context: "node %\(IRName.spelling(of: node)) (\(op.name))")
  return type
}

/// The number of positions a window of `kernel` taps spaced `dilation` apart takes along
/// an axis of `input` elements padded by `padBegin` and `padEnd`, moving by `stride`; nil
/// when the window is larger than the padded axis.
///
/// With `ceilMode` the count rounds up, but a last window must start inside the input or
/// its leading padding (PyTorch's and ONNX's rule).
public func slidingWindowCount(
  input: Int, kernel: Int, stride: Int, dilation: Int, padBegin: Int, padEnd: Int, ceilMode: Bool
) -> Int? {
  // Attributes come from files: every step is checked, and overflow means "does not fit".
  let (spanLess1, o1) = (kernel - 1).multipliedReportingOverflow(by: dilation)
  let (padded0, o2) = input.addingReportingOverflow(padBegin)
  let (padded, o3) = padded0.addingReportingOverflow(padEnd)
  guard !o1, !o2, !o3, kernel >= 1, stride >= 1 else { return nil }
  let span = spanLess1 + 1
  guard span <= padded else { return nil }
  let room = padded - span
  var count = (ceilMode ? room / stride + (room % stride == 0 ? 0 : 1) : room / stride) + 1
  if ceilMode, (count - 1) * stride >= input + padBegin { count -= 1 }
  return count
}

/// Checks over one node's operands, throwing errors that name the node.
private struct ShapeCheck {
  let node: String
  let op: String
  let operands: [TensorType]

  func dtype(_ i: Int, _ allowed: [DType]) throws(GraphError) {
    guard allowed.contains(operands[i].dtype) else {
      let names = allowed.map(\.rawValue)
      let expected = names.count == 1 ? names[0] : names.dropLast().joined(separator: ", ") + " or " + names.last!
      throw .operandType(node: node, op: op, operand: i, expected: expected, got: operands[i].dtype)
    }
  }

  /// A scale (f32) and zero point of the same shape: `[]` for the whole of operand `value`, or
  /// one per index of its axis `axis`.
  func quantization(scale: Int, zero: Int, of value: Int, axis: Int) throws(GraphError) {
    let x = operands[value].shape
    try attribute("axis", "\(axis)", (0..<max(x.count, 1)).contains(axis), "must be in 0..<\(max(x.count, 1))")
    let s = operands[scale].shape
    if !s.isEmpty {
      guard axis < x.count else { throw .operandShape(node: node, op: op, operand: scale, expected: "[]", got: s) }
      try shape(scale, equals: [x[axis]])
    }
    try shape(zero, equals: s)
  }

  /// The operand types of `qconv2d` and `qdense` (x, x_scale, x_zero, w, w_scale, w_zero,
  /// y_scale, y_zero[, bias]); returns the number of outputs (w's first dimension).
  func quantizedProduct(weightRank: Int) throws(GraphError) -> Int {
    try dtype(0, [.i8, .u8])
    try dtype(3, [.i8, .u8])
    try dtype(7, [.i8, .u8])
    for i in [1, 4, 6] { try dtype(i, [.f32]) }
    try dtype(2, [operands[0].dtype])
    try dtype(5, [operands[3].dtype])
    _ = try rank(0, equals: weightRank)
    let w = try rank(3, equals: weightRank)
    for i in [1, 2, 6, 7] { try shape(i, equals: []) }
    if !operands[4].shape.isEmpty { try shape(4, equals: [w[0]]) }
    try shape(5, equals: operands[4].shape)
    if operands.count == 9 {
      try dtype(8, [.i32])
      try shape(8, equals: [w[0]])
    }
    return w[0]
  }

  func rank(_ i: Int, equals rank: Int) throws(GraphError) -> [Int] {
    let shape = operands[i].shape
    guard shape.count == rank else {
      throw .operandShape(node: node, op: op, operand: i, expected: "of rank \(rank)", got: shape)
    }
    return shape
  }

  func rank(_ i: Int, atLeast rank: Int) throws(GraphError) -> [Int] {
    let shape = operands[i].shape
    guard shape.count >= rank else {
      throw .operandShape(node: node, op: op, operand: i, expected: "of rank \(rank) or more", got: shape)
    }
    return shape
  }

  func shape(_ i: Int, equals expected: [Int]) throws(GraphError) {
    guard operands[i].shape == expected else {
      throw .operandShape(node: node, op: op, operand: i, expected: shapeText(expected), got: operands[i].shape)
    }
  }

  func attribute(_ name: String, _ value: String, _ ok: Bool, _ reason: String) throws(GraphError) {
    guard ok else {
      throw .invalidAttribute(node: node, op: op, attribute: name, value: value, reason: reason)
    }
  }

  /// `values` added, or an error naming `name` when the sum overflows.
  func sum(_ name: String, _ values: [Int]) throws(GraphError) -> Int {
    var total = 0
    for v in values {
      let (next, overflow) = total.addingReportingOverflow(v)
      guard !overflow else {
        throw .invalidAttribute(
          node: node, op: op, attribute: name, value: shapeText(values), reason: "the size overflows")
      }
      total = next
    }
    return total
  }

  func positive(_ name: String, _ values: [Int]) throws(GraphError) {
    try attribute(name, shapeText(values), values.allSatisfy { $0 > 0 }, "must be positive")
  }

  func notNegative(_ name: String, _ values: [Int]) throws(GraphError) {
    try attribute(name, shapeText(values), values.allSatisfy { $0 >= 0 }, "must not be negative")
  }

  /// Output extents of a window sliding over the last two axes of `x`.
  func windowExtents(
    x: [Int], kernel: Size2d, stride: Size2d, dilation: Size2d, padding: Padding2d, ceilMode: Bool
  ) throws(GraphError) -> (Int, Int) {
    let h = slidingWindowCount(
      input: x[2], kernel: kernel.h, stride: stride.h, dilation: dilation.h,
      padBegin: padding.top, padEnd: padding.bottom, ceilMode: ceilMode)
    let w = slidingWindowCount(
      input: x[3], kernel: kernel.w, stride: stride.w, dilation: dilation.w,
      padBegin: padding.left, padEnd: padding.right, ceilMode: ceilMode)
    guard let h, let w else {
      throw .operandShape(
        node: node, op: op, operand: 0,
        expected: "at least as large as the \(kernel.h)x\(kernel.w) window (dilation "
          + "\(dilation.h)x\(dilation.w)) after padding \(shapeText(padding.elements))",
        got: x)
    }
    return (h, w)
  }

  func conv2d(_ a: Conv2dAttributes) throws(GraphError) -> [Int] {
    try positive("stride", a.stride.elements)
    try positive("dilation", a.dilation.elements)
    try notNegative("pad", a.padding.elements)
    try attribute("groups", "\(a.groups)", a.groups > 0, "must be positive")
    let x = try rank(0, equals: 4)
    let w = try rank(1, equals: 4)
    guard x[1] % a.groups == 0 else { throw .groupsDoNotDivide(node: node, channels: x[1], groups: a.groups) }
    guard w[0] % a.groups == 0 else { throw .groupsDoNotDivide(node: node, channels: w[0], groups: a.groups) }
    try shape(1, equals: [w[0], x[1] / a.groups, w[2], w[3]])
    let hasBias = a.hasBias(operandCount: operands.count)
    if hasBias { try shape(2, equals: [w[0]]) }
    let (p, q) = try windowExtents(
      x: x, kernel: Size2d(w[2], w[3]), stride: a.stride, dilation: a.dilation, padding: a.padding,
      ceilMode: false)
    let out = [x[0], w[0], p, q]
    if a.epilogue.addsResidual { try shape(operands.count - 1, equals: out) }
    return out
  }

  func pool2d(_ a: Pool2dAttributes) throws(GraphError) -> [Int] {
    try positive("kernel", a.kernel.elements)
    try positive("stride", a.stride.elements)
    try positive("dilation", a.dilation.elements)
    try notNegative("pad", a.padding.elements)
    let p = a.padding
    try attribute(
      "pad", shapeText(p.elements),
      max(p.top, p.bottom) < a.kernel.h && max(p.left, p.right) < a.kernel.w,
      "padding must be smaller than the window")
    let x = try rank(0, equals: 4)
    let (h, w) = try windowExtents(
      x: x, kernel: a.kernel, stride: a.stride, dilation: a.dilation, padding: a.padding,
      ceilMode: a.ceilMode)
    return [x[0], x[1], h, w]
  }
}
