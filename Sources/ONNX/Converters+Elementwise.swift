import GraphIR

/// The four arithmetic ops of ONNX's default domain.
enum Arithmetic: String {
  case add = "Add", sub = "Sub", mul = "Mul", div = "Div"

  /// The exact result on two known elements (integer division truncates, as ONNX Runtime's).
  func apply(_ a: Double, _ b: Double, integer: Bool) -> Double? {
    switch self {
    case .add: return a + b
    case .sub: return a - b
    case .mul: return a * b
    case .div:
      guard integer else { return Double(Float(a) / Float(b)) }
      guard b != 0 else { return nil }
      return (a / b).rounded(.towardZero)
    }
  }
}

/// An operand of an elementwise op: known at import, or computed by the graph.
enum Term {
  case known(KnownTensor)
  case value(Operand)
}

/// `Add`, `Sub`, `Mul`, `Div` (`A op B`).
///
/// Known operands fold at import. A computed `x` with a constant that is a scalar or one value
/// per channel (axis 1 of a rank-2+ tensor: `[C,1,1]`, `[1,C,1,1]`, `[C]` on `[N,C]`) becomes
/// `scale_shift(x, s, t)`: `x + c` is `(1, c)`, `x − c` is `(1, −c)`, `c − x` is `(−1, c)`, `x·c`
/// is `(c, 0)` and `x / c` is `(1/c, 0)`; passes fold it into a neighbouring convolution. Any
/// other constant broadcast to `x`'s shape makes an `add` or `mul` with a constant; two
/// computed values of one shape make `add`, `mul`, or `add(a, mul(b, −1))`. Before opset 7,
/// `broadcast=1` aligns B's dimensions with A's from `axis` (by default the trailing ones).
func convertArithmetic(_ n: OnnxNodeView, _ c: inout ImportContext, _ kind: Arithmetic) throws(ONNXError) {
  let a = try n.attributes(c.opset < 7 ? ["broadcast", "axis", "consumed_inputs"] : [])
  try n.expectInputs(2...2)
  let lhs = try c.term(try n.requiredInput(0), node: n.label)
  var rhs = try c.term(try n.requiredInput(1), node: n.label)
  if c.opset < 7 {
    let shapeA = c.shape(of: lhs), shapeB = c.shape(of: rhs)
    if try a.int("broadcast", default: 0) != 0 {
      let axis = a.has("axis") ? try a.int("axis", default: 0) : nil
      guard let legacy = legacyBroadcastShape(shapeB, into: shapeA, axis: axis) else {
        throw n.fail(
          "B of shape \(shapeB) does not broadcast into A of shape \(shapeA) (legacy broadcast, axis \(axis.map(String.init) ?? "trailing"))"
        )
      }
      rhs = try c.reshaped(rhs, legacy, n)
    } else if shapeA != shapeB {
      throw n.fail("operands of shapes \(shapeA) and \(shapeB) differ, and broadcast is 0 (opset \(c.opset))")
    }
  }
  let result = try c.combine(kind, lhs, rhs, output: n.output, n)
  try c.bind(n.output, result)
}

/// `Sum(X1, ..., Xn)` as a chain of additions (operands of one shape before opset 8).
func convertSum(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  _ = try n.attributes(c.opset < 6 ? ["consumed_inputs"] : [])
  guard !n.node.inputs.isEmpty else { throw n.fail("has no inputs") }
  var total = try c.term(try n.requiredInput(0), node: n.label)
  for i in 1..<max(1, n.node.inputs.count) {
    let next = try c.term(try n.requiredInput(i), node: n.label)
    if c.opset < 8, c.shape(of: total) != c.shape(of: next) {
      throw n.fail(
        "operands of shapes \(c.shape(of: total)) and \(c.shape(of: next)) differ (opset \(c.opset) Sum does not broadcast)"
      )
    }
    total = try c.combine(.add, total, next, output: i == n.node.inputs.count - 1 ? n.output : n.output + ".sum\(i)", n)
  }
  try c.bind(n.output, total)
}

/// `Clip(X[, min[, max]])` (the bounds are attributes before opset 11, constant inputs from
/// it on); an absent bound is the largest finite float, as ONNX defines it.
func convertClip(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  var lo = -Float.greatestFiniteMagnitude, hi = Float.greatestFiniteMagnitude
  if c.opset < 11 {
    let a = try n.attributes(["min", "max", "consumed_inputs"])
    try n.expectInputs(1...1)
    lo = try a.float("min", default: lo)
    hi = try a.float("max", default: hi)
  } else {
    _ = try n.attributes([])
    try n.expectInputs(1...3)
    for (index, bound) in [(1, "min"), (2, "max")] {
      guard let name = n.input(index) else { continue }
      guard let value = try c.knownTensor(name, node: n.label), value.values.count == 1 else {
        throw n.fail("\(bound) must be a constant scalar")
      }
      if index == 1 { lo = Float(value.values[0]) } else { hi = Float(value.values[0]) }
    }
  }
  guard !lo.isNaN, !hi.isNaN, lo <= hi else { throw n.fail("clips to [\(lo), \(hi)], which is empty") }
  let x = try c.operand(try n.requiredInput(0), node: n.label)
  try c.define(n.output, .clip(min: lo, max: hi), [x])
}

extension ImportContext {
  /// ONNX value `name` as an elementwise operand.
  mutating func term(_ name: String, node: String) throws(ONNXError) -> Term {
    if let tensor = try knownTensor(name, node: node) { return .known(tensor) }
    return .value(try operand(name, node: node))
  }

  func shape(of term: Term) -> [Int] {
    switch term {
    case .known(let t): t.shape
    case .value(let v): type(of: v).shape
    }
  }

  /// `term` under `shape` (of the same size).
  mutating func reshaped(_ term: Term, _ shape: [Int], _ n: OnnxNodeView) throws(ONNXError) -> Term {
    switch term {
    case .known(let t): return .known(t.reshaped(shape))
    case .value(let v):
      return shape == type(of: v).shape ? term : .value(try helper(n.output + ".aligned", .reshape(shape: shape), [v]))
    }
  }

  /// Makes ONNX value `name` the result of an elementwise op.
  mutating func bind(_ name: String, _ term: Term) throws(ONNXError) {
    switch term {
    case .known(let t): try defineKnown(name, t)
    case .value(let v): try alias(name, to: v)
    }
  }

  /// `lhs kind rhs`, with the graph nodes it takes named after `output`.
  mutating func combine(_ kind: Arithmetic, _ lhs: Term, _ rhs: Term, output: String, _ n: OnnxNodeView)
    throws(ONNXError) -> Term
  {
    switch (lhs, rhs) {
    case (.known(let a), .known(let b)):
      return .known(try fold(kind, a, b, n))
    case (.value(let x), .known(let k)):
      return .value(try withConstant(kind, x, k, constantFirst: false, output: output, n))
    case (.known(let k), .value(let x)):
      return .value(try withConstant(kind, x, k, constantFirst: true, output: output, n))
    case (.value(let x), .value(let y)):
      let (sx, sy) = (type(of: x).shape, type(of: y).shape)
      guard sx == sy else {
        throw n.fail("computed operands of shapes \(sx) and \(sy); resnetc combines computed tensors of one shape")
      }
      switch kind {
      case .add: return .value(try helper(output, .add, [x, y]))
      case .mul: return .value(try helper(output, .mul, [x, y]))
      case .sub:
        let minus = try constant(
          output + ".minus", Tensor(type: TensorType(sy), data: Array(repeating: -1, count: KnownTensor.count(sy))))
        let negated = try helper(output + ".negated", .mul, [y, minus])
        return .value(try helper(output, .add, [x, negated]))
      case .div:
        throw n.fail("divides by a computed tensor; resnetc divides by constants only")
      }
    }
  }

  /// Elementwise `kind` on two known tensors, NumPy-broadcast.
  private func fold(_ kind: Arithmetic, _ a: KnownTensor, _ b: KnownTensor, _ n: OnnxNodeView) throws(ONNXError)
    -> KnownTensor
  {
    guard let shape = broadcastShape(a.shape, b.shape),
      (try? checkedShapeProduct(shape.map { max($0, 1) }, context: n.label)) != nil
    else { throw n.fail("constant operands of shapes \(a.shape) and \(b.shape) do not broadcast") }
    try KnownTensor.checkSize(KnownTensor.count(shape), n)
    guard let va = broadcastValues(a.values, shape: a.shape, to: shape),
      let vb = broadcastValues(b.values, shape: b.shape, to: shape)
    else { throw n.fail("constant operands of shapes \(a.shape) and \(b.shape) do not broadcast") }
    let integer = a.isInteger && b.isInteger
    var values: [Double] = []
    for (x, y) in zip(va, vb) {
      guard let v = kind.apply(x, y, integer: integer) else { throw n.fail("divides an integer by zero") }
      values.append(v)
    }
    return KnownTensor(shape: shape, values: values, isInteger: integer)
  }

  /// `x kind k` (or `k kind x` when `constantFirst`) with `k` a constant.
  private mutating func withConstant(
    _ kind: Arithmetic, _ x: Operand, _ k: KnownTensor, constantFirst: Bool, output: String, _ n: OnnxNodeView
  ) throws(ONNXError) -> Operand {
    let shape = type(of: x).shape
    guard broadcastShape(shape, k.shape) == shape, let full = broadcastValues(k.values, shape: k.shape, to: shape)
    else {
      throw n.fail("the constant of shape \(k.shape) does not broadcast to the computed operand's shape \(shape)")
    }
    if kind == .div, constantFirst {
      throw n.fail("divides a constant by a computed tensor; resnetc divides by constants only")
    }
    let padded = Array(repeating: 1, count: max(0, shape.count - k.shape.count)) + k.shape
    if shape.count >= 2, padded.enumerated().allSatisfy({ $0.offset == 1 || $0.element == 1 }) {
      // One value per channel (or one in all): the channel's value is the element at its offset.
      let channels = shape[1]
      let perChannel = (0..<channels).map { ch in Float(k.values.count == 1 ? k.values[0] : k.values[ch]) }
      let one = Array(repeating: Float(1), count: channels), zero = Array(repeating: Float(0), count: channels)
      let (scale, shift): ([Float], [Float]) =
        switch kind {
        case .add: (one, perChannel)
        case .sub: constantFirst ? (one.map { -$0 }, perChannel) : (one, perChannel.map { -$0 })
        case .mul: (perChannel, zero)
        case .div: (perChannel.map { 1 / $0 }, zero)
        }
      let vector = TensorType([channels])
      let s = try constant(output + ".scale", Tensor(type: vector, data: scale))
      let t = try constant(output + ".shift", Tensor(type: vector, data: shift))
      return try helper(output, .scaleShift, [x, s, t])
    }
    let type = TensorType(shape)
    let values = full.map { Float($0) }
    switch kind {
    case .add:
      return try helper(output, .add, [x, try constant(output + ".addend", Tensor(type: type, data: values))])
    case .mul:
      return try helper(output, .mul, [x, try constant(output + ".factor", Tensor(type: type, data: values))])
    case .div:
      let reciprocal = Tensor(type: type, data: values.map { 1 / $0 })
      return try helper(output, .mul, [x, try constant(output + ".factor", reciprocal)])
    case .sub where constantFirst:
      let minus = try constant(output + ".minus", Tensor(type: type, data: Array(repeating: -1, count: values.count)))
      let negated = try helper(output + ".negated", .mul, [x, minus])
      return try helper(output, .add, [negated, try constant(output + ".addend", Tensor(type: type, data: values))])
    case .sub:
      let addend = Tensor(type: type, data: values.map { -$0 })
      return try helper(output, .add, [x, try constant(output + ".addend", addend)])
    }
  }
}

/// `tensor` expanded to `shape` by NumPy broadcasting rules, or nil when it does not broadcast.
func broadcast(_ tensor: Tensor, to shape: [Int]) -> Tensor? {
  guard let data = broadcastValues(tensor.data, shape: tensor.type.shape, to: shape) else { return nil }
  return Tensor(type: TensorType(shape), data: data)
}
