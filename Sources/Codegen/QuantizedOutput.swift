/// The end of an integer conv kernel's output vector: its sum, scaled by the requantizing
/// factor, rounded to the output type (and for a residual end dequantized, added to the
/// dequantized shortcut, ReLU'd and quantized again), then stored as floats or bytes. Every
/// operation is the interpreter's, in Float and in the same order, so the integers stored are
/// its integers exactly.
struct QuantizedOutput: Hashable, Sendable {
  /// The output type's range (the conv's, before a residual end).
  let range: ClosedRange<Int32>
  /// Whether the conv's ReLU follows its zero point.
  let relu: Bool
  let residual: QConvPlan.Residual?
  let bytes: QConvPlan.Bytes

  /// The kernel's parameters around its packed weights `weights` and bias `bias` (each
  /// integer conv kernel packs its own): its input `x` (N,C,H,W), `qp` (`QConvPlan.Parameter`),
  /// the weights, their scales `ws` (one, or one per output channel), the bias, the
  /// shortcut's integers `res` of a residual end, and the output `y`; as floats or bytes as
  /// `bytes` says.
  func parameters(
    x: [Int], y: [Int], weights: KernelParameter, perChannelScale: Bool, bias: KernelParameter?
  ) -> [KernelParameter] {
    let (inputs, outputs) = (x.reduce(1, *), y.reduce(1, *))
    var parameters = [
      KernelParameter(name: "x", elements: inputs, writable: false, element: bytes.input ? .byte : .float),
      KernelParameter(name: "qp", elements: QConvPlan.Parameter.allCases.count, writable: false), weights,
      KernelParameter(name: "ws", elements: perChannelScale ? y[1] : 1, writable: false),
    ]
    if let bias { parameters.append(bias) }
    if residual != nil {
      parameters.append(
        KernelParameter(name: "res", elements: outputs, writable: false, element: bytes.shortcut ? .byte : .float))
    }
    parameters.append(
      KernelParameter(name: "y", elements: outputs, writable: true, element: bytes.output ? .byte : .float))
    return parameters
  }

  /// The `qp` values the kernel reads, each defined as its local (`Parameter.variable`) once,
  /// before its work: the input's zero point where `inputZero` (a kernel that copies its
  /// input reads it; one that reads the input in place does not).
  func parameterLocals(inputZero: Bool = true) -> [Stmt] {
    var read: [QConvPlan.Parameter] = inputZero ? [.xScale, .xZero, .yScale, .yZero] : [.xScale, .yScale, .yZero]
    if let residual {
      read += [.dScale, .rScale, .rZero, .qScale, .qZero]
      if !residual.sharedZero { read.append(.dZero) }
    }
    return read.map { .define("qp_\($0)", .load("qp", .int($0.rawValue)), mutable: false) }
  }

  /// The requantizing factor of output-channel block `block` (of `b` channels), `x_scale ·
  /// w_scale[k] / y_scale` as the interpreter computes it, with one weights scale or one per
  /// output channel.
  static func factor(block: Expr, perChannelScale: Bool, width b: Int) -> Expr {
    let scale: Expr = perChannelScale ? .vectorLoad("ws", block * .int(b)) : .splat(.load("ws", 0))
    return .splat(QConvPlan.Parameter.xScale.variable) * scale / .splat(QConvPlan.Parameter.yScale.variable)
  }

  /// Statements that store `scaled` (a vector of floats: a sum times its factor, exact as the
  /// interpreter's `Float(sum) · factor`) at `at` of `y`, its locals named from `v`.
  func statements(_ scaled: Expr, _ v: String, at: Expr) -> [Stmt] {
    let qp = { (parameter: QConvPlan.Parameter) in parameter.variable }
    if residual == nil, let store = byteStore(scaled, v, zero: qp(.yZero), range: range, atLeastZero: relu, at: at) {
      return store
    }
    // The conv's ReLU (at least its zero point) is a lower bound of 0 before the zero point.
    var body = QConvPlan.clamped(scaled, v, zero: qp(.yZero), range: range, atLeastZero: relu)
    guard let residual else {
      let signed = range.lowerBound < 0
      let result = QConvPlan.rounded(v, plus: qp(.yZero) + .float(bytes.output && signed ? 128 : 0))
      body.append(
        bytes.output ? .narrowingStore("y", at, result, .byte) : .vectorStore("y", at, result, aligned: true))
      return body
    }
    // The interpreter's dequantize, add, ReLU and quantize, in the same order; each product
    // is a statement of its own, so that C compilers cannot contract it with the add into a
    // fused multiply-add (which rounds once).
    let whole = Expr.roundEven(.variable(v + "c", .vector))
    let integer: Expr = residual.sharedZero ? whole : whole + .splat(qp(.yZero)) - .splat(qp(.dZero))
    body.append(.define(v + "d", integer * .splat(qp(.dScale)), mutable: false))
    let shortcut: Expr =
      bytes.shortcut
      ? .byteVectorLoad("res", at) - .splat(qp(.rZero) + .float(residual.signedShortcut ? 128 : 0))
      : .vectorLoad("res", at) - .splat(qp(.rZero))
    body.append(.define(v + "r", shortcut * .splat(qp(.rScale)), mutable: false))
    var sum = Expr.variable(v + "d", .vector) + .variable(v + "r", .vector)
    if residual.relu { sum = .vectorMax(sum, .splat(.float(0))) }
    body.append(.define(v + "s", sum, mutable: false))
    let quotient = Expr.variable(v + "s", .vector) / .splat(qp(.qScale))
    if let store = byteStore(quotient, v + "q", zero: qp(.qZero), range: residual.range, atLeastZero: false, at: at) {
      return body + store
    }
    body += QConvPlan.clamped(quotient, v + "q", zero: qp(.qZero), range: residual.range, atLeastZero: false)
    let signed = residual.range.lowerBound < 0
    let result = QConvPlan.rounded(v + "q", plus: qp(.qZero) + .float(bytes.output && signed ? 128 : 0))
    body.append(
      bytes.output ? .narrowingStore("y", at, result, .byte) : .vectorStore("y", at, result, aligned: true))
    return body
  }

  /// For a byte output of `range` (u8, or i8 offset by 128 into bytes): `value` (a sum scaled
  /// to the output's units, less its zero point `zero`) bounded above by the range's top less
  /// the zero point, and below by 0 where `atLeastZero`, then rounded, plus the zero point,
  /// clamped below and stored by one `saturatingByteStore`: the integers of rounding the value
  /// clamped to the range less the zero point, then adding it, as rounding and clamping to
  /// whole bounds commute. Nil for a float output.
  private func byteStore(
    _ value: Expr, _ name: String, zero: Expr, range: ClosedRange<Int32>, atLeastZero: Bool, at: Expr
  ) -> [Stmt]? {
    let offset: Int32 = range.lowerBound < 0 ? 128 : 0
    guard bytes.output, range.lowerBound + offset == 0, range.upperBound + offset == 255 else { return nil }
    var bounded = Expr.vectorMin(value, .splat(.float(Float(range.upperBound)) - zero))
    if atLeastZero { bounded = .vectorMax(bounded, .splat(.float(0))) }
    return [
      .define(name + "c", bounded, mutable: false),
      .saturatingByteStore("y", at, .variable(name + "c", .vector), plus: zero + .float(Float(offset))),
    ]
  }
}
