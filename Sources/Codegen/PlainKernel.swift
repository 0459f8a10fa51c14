import GraphIR

/// One node's plain kernel as kernel IR: loops with every shape a literal over row-major
/// (NCHW) buffers. `x` is operand 0, further operands are `in1`, `in2`, ... and the result is
/// `y`. Both backends print this one kernel (`CKernelPrinter`, `SwiftKernelPrinter`).
struct PlainKernel {
  let node: Node
  let operandTypes: [TensorType]

  /// The kernel, its buffers sized from the node's types.
  var kernel: Kernel { Kernel(parameters: parameters, body: body) }

  /// The operands `x`, `in1`, ... and the output `y`, sized from the node's types.
  var parameters: [KernelParameter] {
    zip(LoweredProgram.operandNames(node), operandTypes).map {
      KernelParameter(name: $0, elements: $1.elementCount, writable: false)
    } + [KernelParameter(name: "y", elements: node.type.elementCount, writable: true)]
  }

  var y: [Int] { node.type.shape }
  var count: Int { node.type.elementCount }

  private var body: [Stmt] {
    switch node.op {
    case .conv2d(let a): return conv2d(a)
    case .batchNorm(let epsilon):
      let k = Expr.variable("k", .float)
      return perChannel(
        [
          .define(
            "k", .load("in1", index("c")) / .squareRoot(.load("in4", index("c")) + .float(epsilon)), mutable: false)
        ]
      ) { x in x * k + (.load("in2", index("c")) - .load("in3", index("c")) * k) }
    case .scaleShift: return perChannel([]) { x in x * .load("in1", index("c")) + .load("in2", index("c")) }
    case .relu: return elementwise { x, _ in .select(x > .float(0), x, .float(0)) }
    case .add: return elementwise { x, i in x + .load("in1", i) }
    case .mul: return elementwise { x, i in x * .load("in1", i) }
    case .clip(let lo, let hi):
      return elementwise { x, _ in .select(x > .float(lo), .select(x < .float(hi), x, .float(hi)), .float(lo)) }
    case .maxPool2d(let a): return pool(a, average: nil)
    case .avgPool2d(let a, let countIncludePad): return pool(a, average: countIncludePad)
    case .globalAvgPool:
      let size = operandTypes[0].shape[2] * operandTypes[0].shape[3]
      let sum = Expr.variable("sum", .double)
      return [
        .loop(
          "p", 0, .int(y[0] * y[1]),
          [
            .define("sum", .double(0), mutable: true),
            .loop(
              "i", 0, .int(size),
              [.accumulate("sum", .convert(.load("x", index("p") * .int(size) + index("i")), .double))]),
            .store("y", index("p"), .convert(sum / .double(Double(size)), .float)),
          ])
      ]
    case .flatten, .reshape: return [.copy(target: "y", at: 0, source: "x", from: 0, count: count)]
    case .dense: return dense()
    case .softmax(let axis): return softmax(axis: axis)
    case .subsample2d(let s):
      let x = operandTypes[0].shape
      return [
        .loop(
          "p", 0, .int(y[0] * y[1]),
          [
            .loop(
              "i", 0, .int(y[2]),
              [
                .loop(
                  "j", 0, .int(y[3]),
                  [
                    .store(
                      "y", (index("p") * .int(y[2]) + index("i")) * .int(y[3]) + index("j"),
                      .load(
                        "x", (index("p") * .int(x[2]) + index("i") * .int(s.h)) * .int(x[3]) + index("j") * .int(s.w)))
                  ])
              ])
          ])
      ]
    case .padChannels(let before, _):
      let (c, size) = (operandTypes[0].shape[1], y[2] * y[3])
      return [
        .fill(target: "y", at: 0, value: .float(0), count: count),
        .loop(
          "n", 0, .int(y[0]),
          [
            .copy(
              target: "y", at: (index("n") * .int(y[1]) + .int(before)) * .int(size), source: "x",
              from: index("n") * .int(c * size), count: c * size)
          ]),
      ]
    case .pad2d(let p, let value):
      let x = operandTypes[0].shape
      return [
        .fill(target: "y", at: 0, value: .float(value), count: count),
        .loop(
          "p", 0, .int(y[0] * y[1]),
          [
            .loop(
              "i", 0, .int(x[2]),
              [
                .copy(
                  target: "y", at: (index("p") * .int(y[2]) + index("i") + .int(p.top)) * .int(y[3]) + .int(p.left),
                  source: "x", from: (index("p") * .int(x[2]) + index("i")) * .int(x[3]), count: x[3])
              ])
          ]),
      ]
    case .transpose(let perm): return transpose(perm)
    case .quantize(let axis): return quantize(axis: axis, to: node.type.dtype)
    case .dequantize(let axis): return dequantize(axis: axis)
    case .qconv2d(let a): return qconv2d(a)
    case .qdense: return qdense()
    }
  }

  /// `y[i] = f(x[i], i)` over every element.
  private func elementwise(_ f: (Expr, Expr) -> Expr) -> [Stmt] {
    [.loop("i", 0, .int(count), [.store("y", index("i"), f(.load("x", index("i")), index("i")))])]
  }

  /// `y[i] = f(x[i])` with `c` the channel of element i (x is (N,C,...)), after `setup` per
  /// channel.
  private func perChannel(_ setup: [Stmt], _ f: (Expr) -> Expr) -> [Stmt] {
    let inner = y[2...].reduce(1, *)
    let i = index("base") + index("j")
    return [
      .loop(
        "n", 0, .int(y[0]),
        [
          .loop(
            "c", 0, .int(y[1]),
            setup + [
              .define("base", (index("n") * .int(y[1]) + index("c")) * .int(inner), mutable: false),
              .loop("j", 0, .int(inner), [.store("y", i, f(.load("x", i)))]),
            ])
        ])
    ]
  }

  /// Direct convolution: for each output plane, the bias, then every (input channel, tap)
  /// accumulated over the output positions whose input position is inside the image, then
  /// the epilogue.
  private func conv2d(_ a: Conv2dAttributes) -> [Stmt] {
    let x = operandTypes[0].shape, wt = operandTypes[1].shape
    let (c, h, wd, k, r, s, p, q) = (x[1], x[2], x[3], wt[0], wt[2], wt[3], y[2], y[3])
    let cpg = c / a.groups, kpg = k / a.groups
    let hasBias = a.hasBias(operandCount: node.operands.count)
    let residual = "in\(node.operands.count - 1)"
    let plane = (index("n") * .int(k) + index("k")) * .int(p * q)
    let out = plane + index("i")
    let taps: Stmt = .loop(
      "r", 0, .int(r),
      [
        .define("ro", index("r") * .int(a.dilation.h) - .int(a.padding.top), mutable: false),
        .loop(
          "s", 0, .int(s),
          [
            .define("so", index("s") * .int(a.dilation.w) - .int(a.padding.left), mutable: false),
            .define(
              "wv", .load("in1", ((index("k") * .int(cpg) + index("c")) * .int(r) + index("r")) * .int(s) + index("s")),
              mutable: false),
            .inside(
              InsideRange(variable: "p", count: p, stride: a.stride.h, offset: index("ro"), limit: h, position: "ih"),
              [
                .inside(
                  InsideRange(
                    variable: "q", count: q, stride: a.stride.w, offset: index("so"), limit: wd, position: "iw"),
                  [
                    .storeAccumulate(
                      "y", plane + index("p") * .int(q) + index("q"),
                      .variable("wv", .float)
                        * .load(
                          "x",
                          ((index("n") * .int(c) + index("g") * .int(cpg) + index("c")) * .int(h) + index("ih"))
                            * .int(wd)
                            + index("iw")))
                  ])
              ]),
          ]),
      ])
    var epilogue: [Stmt] = []
    let v = Expr.load("y", out)
    switch a.epilogue {
    case .none: break
    case .relu: epilogue = [.loop("i", 0, .int(p * q), [.store("y", out, .select(v > .float(0), v, .float(0)))])]
    case .add: epilogue = [.loop("i", 0, .int(p * q), [.storeAccumulate("y", out, .load(residual, out))])]
    case .addReLU:
      let sum = Expr.variable("v", .float)
      epilogue = [
        .loop(
          "i", 0, .int(p * q),
          [
            .define("v", v + .load(residual, out), mutable: false),
            .store("y", out, .select(sum > .float(0), sum, .float(0))),
          ])
      ]
    }
    return [
      .loop(
        "n", 0, .int(y[0]),
        [
          .loop(
            "k", 0, .int(k),
            [
              .define("g", index("k") / .int(kpg), mutable: false),
              .loop("i", 0, .int(p * q), [.store("y", out, hasBias ? .load("in2", index("k")) : .float(0))]),
              .loop("c", 0, .int(cpg), [taps]),
            ] + epilogue)
        ])
    ]
  }

  /// Max pooling (`average` nil; padding never wins) or average pooling (the divisor counts
  /// padded positions inside the padded map when `average` is true).
  private func pool(_ a: Pool2dAttributes, average: Bool?) -> [Stmt] {
    let x = operandTypes[0].shape
    let (h, wd) = (x[2], x[3])
    let (ih, iw) = (index("ih"), index("iw"))
    let acc = Expr.variable("acc", .float), v = Expr.variable("v", .float)
    var window = a.tapStart(h: h, wd: wd, paddedCounter: average == true ? "inside" : nil)
    window.append(.define("v", .load("x", (index("pl") * .int(h) + ih) * .int(wd) + iw), mutable: false))
    window.append(average == nil ? .assign("acc", .select(v > acc, v, acc)) : .accumulate("acc", v))
    if average == false { window.append(.accumulate("valid", 1)) }
    var position: [Stmt] = [.define("acc", .float(average == nil ? -.infinity : 0), mutable: true)]
    if let countIncludePad = average {
      position.append(.define(countIncludePad ? "inside" : "valid", 0, mutable: true))
    }
    position.append(
      .loop(
        "r", 0, .int(a.kernel.h),
        [
          .define(
            "ih", index("p") * .int(a.stride.h) - .int(a.padding.top) + index("r") * .int(a.dilation.h), mutable: false),
          .loop("s", 0, .int(a.kernel.w), window),
        ]))
    let result: Expr
    switch average {
    case nil: result = acc
    case true?: result = acc / .convert(.maximum(index("inside"), 1), .float)
    case false?:
      result = .select(.compare(.equal, index("valid"), 0), .float(0), acc / .convert(index("valid"), .float))
    }
    position.append(.store("y", (index("pl") * .int(y[2]) + index("p")) * .int(y[3]) + index("q"), result))
    return [.loop("pl", 0, .int(y[0] * y[1]), [.loop("p", 0, .int(y[2]), [.loop("q", 0, .int(y[3]), position)])])]
  }

  /// `y = x·wᵀ + b`; x is (N,I), w is (O,I).
  private func dense() -> [Stmt] {
    let (n, inputs, outputs) = (y[0], operandTypes[0].shape[1], y[1])
    let product =
      Expr.load("x", index("n") * .int(inputs) + index("i")) * .load("in1", index("o") * .int(inputs) + index("i"))
    return [
      .loop(
        "n", 0, .int(n),
        [
          .loop(
            "o", 0, .int(outputs),
            [
              .define("acc", node.operands.count == 3 ? .load("in2", index("o")) : .float(0), mutable: true),
              .loop("i", 0, .int(inputs), [.accumulate("acc", product)]),
              .store("y", index("n") * .int(outputs) + index("o"), .variable("acc", .float)),
            ])
        ])
    ]
  }

  /// Softmax along `axis`, subtracting the maximum first; the sum in Double.
  private func softmax(axis: Int) -> [Stmt] {
    let (outer, extent, inner) = (y[..<axis].reduce(1, *), y[axis], y[(axis + 1)...].reduce(1, *))
    let at = index("base") + index("j") * .int(inner)
    let (xj, yj, m) = (Expr.load("x", at), Expr.load("y", at), Expr.variable("m", .float))
    return [
      .loop(
        "o", 0, .int(outer),
        [
          .loop(
            "i", 0, .int(inner),
            [
              .define("base", index("o") * .int(extent * inner) + index("i"), mutable: false),
              .define("m", .load("x", index("base")), mutable: true),
              .loop("j", 1, .int(extent), [.assign("m", .select(xj > m, xj, m))]),
              .define("sum", .double(0), mutable: true),
              .loop(
                "j", 0, .int(extent),
                [.store("y", at, .exponential(xj - m)), .accumulate("sum", .convert(yj, .double))]),
              .loop(
                "j", 0, .int(extent),
                [.store("y", at, .convert(.convert(yj, .double) / .variable("sum", .double), .float))]),
            ])
        ])
    ]
  }

  /// The input stride of each output axis of a transpose of `shape` by `perm`.
  static func permutedStrides(_ shape: [Int], _ perm: [Int]) -> [Int] {
    var strides = Array(repeating: 1, count: shape.count)
    for axis in stride(from: shape.count - 2, through: 0, by: -1) {
      strides[axis] = strides[axis + 1] * shape[axis + 1]
    }
    return perm.map { strides[$0] }
  }

  /// `y` = `x` with axes permuted: one loop per output axis.
  private func transpose(_ perm: [Int]) -> [Stmt] {
    let strides = PlainKernel.permutedStrides(operandTypes[0].shape, perm)
    var output: Expr = index("i0"), input: Expr = index("i0") * .int(strides[0])
    for axis in y.indices.dropFirst() {
      output = output * .int(y[axis]) + index("i\(axis)")
      input = input + index("i\(axis)") * .int(strides[axis])
    }
    var body: [Stmt] = [.store("y", output, .load("x", input))]
    for axis in y.indices.reversed() { body = [.loop("i\(axis)", 0, .int(y[axis]), body)] }
    return body
  }
}
