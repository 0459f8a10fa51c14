import GraphIR

/// The plain kernels of the quantized ops. Integer tensors live in f32 buffers, each element
/// a whole number in its type's range (held exactly). Sums of products are taken in Double or
/// 64-bit integers, which hold every sum a ResNet reaches exactly (and `qdense` on vectors
/// in floats only while exact). The requantization is the interpreter's:
/// `Float(sum) · (x_scale · w_scale[k] / y_scale)` in Float, rounded half to even, plus the
/// zero point, saturated. So these kernels give the interpreter's integers exactly.
extension PlainKernel {
  /// `quantize` (`x` f32, `in1` scales, `in2` zero points): a NaN quotient (a NaN input, or
  /// 0 / 0 where a scale is 0) gives the zero point.
  func quantize(axis: Int, to dtype: DType) -> [Stmt] {
    let range = dtype.integerRange!
    return alongAxis(axis) { x, scale, zero in
      let quotient = x / scale
      return .select(.compare(.notEqual, quotient, quotient), zero, saturated(.roundEven(quotient) + zero, range))
    }
  }

  /// `dequantize` (`x` integers, `in1` scales, `in2` zero points).
  func dequantize(axis: Int) -> [Stmt] {
    alongAxis(axis) { x, scale, zero in (x - zero) * scale }
  }

  /// `y[i] = f(x[i], scale, zero)` with element i's scale and zero point: one of each, read
  /// into locals before the loop (so that the compiler need not read them again after every
  /// store, and can vectorize the loop), or those at its index along `axis`.
  private func alongAxis(_ axis: Int, _ f: (Expr, Expr, Expr) -> Expr) -> [Stmt] {
    guard !operandTypes[1].shape.isEmpty else {
      let (scale, zero) = (Expr.variable("scale", .float), Expr.variable("zero", .float))
      let parameters: [Stmt] = [
        .define("scale", .load("in1", 0), mutable: false), .define("zero", .load("in2", 0), mutable: false),
      ]
      let element: [Stmt] = [.store("y", index("i"), f(.load("x", index("i")), scale, zero))]
      // Large tensors (a stem's output) in parallel runs of `run` elements.
      let run = 16_384
      guard count > 2 * run else { return parameters + [.loop("i", 0, .int(count), element)] }
      let start = index("part") * .int(run)
      return parameters + [
        .parallel(
          "part", (count + run - 1) / run,
          [.loop("i", start, .minimum(start + .int(run), .int(count)), element)])
      ]
    }
    let outer = y[..<axis].reduce(1, *), extent = y[axis], inner = y[(axis + 1)...].reduce(1, *)
    let i = (index("o") * .int(extent) + index("c")) * .int(inner) + index("j")
    let element = f(.load("x", i), .load("in1", index("c")), .load("in2", index("c")))
    return [
      .loop("o", 0, .int(outer), [.loop("c", 0, .int(extent), [.loop("j", 0, .int(inner), [.store("y", i, element)])])])
    ]
  }

  /// `min(max(v, lowest), highest)` of a whole-number float.
  private func saturated(_ v: Expr, _ range: ClosedRange<Int32>) -> Expr {
    .minimum(.maximum(v, .float(Float(range.lowerBound))), .float(Float(range.upperBound)))
  }

  /// The requantized output of sum `acc` (of type `sum`) for output channel `k`, as a float.
  private func requantized(_ k: Expr, relu: Bool, sum: Scalar = .double) -> [Stmt] {
    let range = operandTypes[7].dtype.integerRange!
    let wScale = operandTypes[4].shape.isEmpty ? Expr.load("in4", 0) : .load("in4", k)
    let zero = Expr.load("in7", 0)
    let v = Expr.convert(.variable("acc", sum), .float) * (.load("in1", 0) * wScale / .load("in6", 0))
    let q = saturated(.roundEven(v) + zero, range)
    let rounded = Expr.variable("rounded", .float)
    return [.define("rounded", q, mutable: false)]
      + [.define("out", relu ? .maximum(rounded, zero) : rounded, mutable: false)]
  }

  /// The weight's zero point for output channel `k`.
  private func weightZero(_ k: Expr) -> Expr {
    operandTypes[5].shape.isEmpty ? .load("in5", 0) : .load("in5", k)
  }

  /// `qconv2d`: for each output, the bias and every (input channel, tap) inside the image
  /// summed in Double, then requantized. Padded taps add nothing (they hold the zero point).
  func qconv2d(_ a: Conv2dAttributes) -> [Stmt] {
    let x = operandTypes[0].shape, wt = operandTypes[3].shape
    let (c, h, wd, k, r, s, p, q) = (x[1], x[2], x[3], wt[0], wt[2], wt[3], y[2], y[3])
    let cpg = c / a.groups, kpg = k / a.groups
    let (ih, iw) = (index("ih"), index("iw"))
    let product =
      (Expr.load("in3", ((index("k") * .int(cpg) + index("c")) * .int(r) + index("r")) * .int(s) + index("s"))
        - .variable("wz", .float))
      * (.load("x", ((index("n") * .int(c) + index("g") * .int(cpg) + index("c")) * .int(h) + ih) * .int(wd) + iw)
        - .load("in2", 0))
    let tap: [Stmt] = [
      .define(
        "iw", index("q") * .int(a.stride.w) - .int(a.padding.left) + index("s") * .int(a.dilation.w), mutable: false),
      .skip(.any([ih < 0, ih >= .int(h), iw < 0, iw >= .int(wd)])),
      .accumulate("acc", .convert(product, .double)),
    ]
    let taps: Stmt = .loop(
      "c", 0, .int(cpg),
      [
        .loop(
          "r", 0, .int(r),
          [
            .define(
              "ih", index("p") * .int(a.stride.h) - .int(a.padding.top) + index("r") * .int(a.dilation.h),
              mutable: false),
            .loop("s", 0, .int(s), tap),
          ])
      ])
    let bias: Expr = node.operands.count == 9 ? .convert(.load("in8", index("k")), .double) : .double(0)
    let position: [Stmt] =
      [.define("acc", bias, mutable: true), taps] + requantized(index("k"), relu: a.epilogue == .relu) + [
        .store(
          "y", ((index("n") * .int(k) + index("k")) * .int(p) + index("p")) * .int(q) + index("q"),
          .variable("out", .float))
      ]
    return [
      .loop(
        "n", 0, .int(y[0]),
        [
          .loop(
            "k", 0, .int(k),
            [
              .define("g", index("k") / .int(kpg), mutable: false),
              .define("wz", weightZero(index("k")), mutable: false),
              .loop("p", 0, .int(p), [.loop("q", 0, .int(q), position)]),
            ])
        ])
    ]
  }

  /// `qdense`: x is (N,I), w is (O,I). Outputs are the units of parallel work; the sums are
  /// taken in 64-bit integers where they cannot pass 2^31 (which compilers vectorize, as
  /// integer sums may be reordered), else in Double.
  func qdense() -> [Stmt] {
    let (n, inputs, outputs) = (y[0], operandTypes[0].shape[1], y[1])
    let exact = inputs <= 33_000
    let sum: Scalar = exact ? .index : .double
    let product =
      (Expr.load("x", index("n") * .int(inputs) + index("i")) - .load("in2", 0))
      * (.load("in3", index("o") * .int(inputs) + index("i")) - .variable("wz", .float))
    let bias: Expr =
      node.operands.count == 9 ? .convert(.load("in8", index("o")), sum) : exact ? .int(0) : .double(0)
    let item = index("item")
    return [
      .parallel(
        "item", n * outputs,
        [
          .define("n", item / .int(outputs), mutable: false),
          .define("o", item % .int(outputs), mutable: false),
          .define("wz", weightZero(index("o")), mutable: false),
          .define("acc", bias, mutable: true),
          .loop("i", 0, .int(inputs), [.accumulate("acc", .convert(product, sum))]),
        ] + requantized(index("o"), relu: false, sum: sum) + [
          .store("y", index("n") * .int(outputs) + index("o"), .variable("out", .float))
        ])
    ]
  }

  /// Whether `qdense` of `inputs` inputs runs on vectors of `b` lanes: each lane sums
  /// `inputs / b` products of at most 255² in a float, exact while below 2^24.
  static func vectorDense(inputs: Int, block b: Int) -> Bool {
    inputs % b == 0 && inputs / b * 255 * 255 < 1 << 24
  }

  /// `qdense` on vectors of `b` lanes (where `vectorDense` holds), its weights bytes offset by
  /// `weightOffset` (`Packing.bytes`): each output's products summed lane by lane in floats,
  /// in up to four vectors side by side so that the multiply-adds need not wait for each
  /// other (exact: every partial sum a whole number below 2^24), the lanes then in Double
  /// with the bias, and requantized as the plain kernel does.
  func qdenseVectors(block b: Int, weightOffset: Int) -> Kernel {
    let (n, inputs, outputs) = (y[0], operandTypes[0].shape[1], y[1])
    let item = index("item")
    let bias: Expr = node.operands.count == 9 ? .convert(.load("in8", index("o")), .double) : .double(0)
    let sums: [Stmt] = (0..<b).map {
      .accumulate("acc", .convert(.lane(.variable("lanes", .vector), .int($0)), .double))
    }
    let ways = [4, 2, 1].first { inputs % ($0 * b) == 0 }!
    let lanes = (0..<ways).map { "lanes\($0)" }
    var step: [Stmt] = []
    for (j, name) in lanes.enumerated() {
      let at = index("i") * .int(ways * b) + .int(j * b)
      step += [
        .define(
          "xv\(j)", .vectorLoad("x", index("n") * .int(inputs) + at) - .splat(.variable("xz", .float)), mutable: false),
        .define(
          "wv\(j)", .byteVectorLoad("in3", index("o") * .int(inputs) + at) - .splat(.variable("wz", .float)),
          mutable: false),
        .multiplyAdd(name, .variable("xv\(j)", .vector), .variable("wv\(j)", .vector)),
      ]
    }
    let total = lanes.dropFirst().reduce(Expr.variable(lanes[0], .vector)) { $0 + .variable($1, .vector) }
    let body: [Stmt] = [
      .define("xz", .load("in2", 0), mutable: false),
      .parallel(
        "item", n * outputs,
        [
          .define("n", item / .int(outputs), mutable: false),
          .define("o", item % .int(outputs), mutable: false),
          // The weights are bytes offset by `weightOffset`: so is their zero point.
          .define("wz", weightZero(index("o")) + .float(Float(weightOffset)), mutable: false),
        ] + lanes.map { .define($0, .splat(.float(0)), mutable: true) } + [
          .loop("i", 0, .int(inputs / (ways * b)), step),
          .define("lanes", total, mutable: false),
          .define("acc", bias, mutable: true),
        ] + sums + requantized(index("o"), relu: false) + [
          .store("y", index("n") * .int(outputs) + index("o"), .variable("out", .float))
        ]),
    ]
    var parameters = self.parameters
    parameters[3].element = .byte
    return Kernel(parameters: parameters, vectorWidth: b, body: body)
  }
}
