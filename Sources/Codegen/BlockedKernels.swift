import GraphIR

/// The blocked (NCHW`B`c) kernels other than convolution, as kernel IR: max and average
/// pooling, global average pooling, the dense layer and the reorders between layouts. Each is one loop over
/// its units of parallel work with every shape a literal; a vector is one pixel's `B`
/// channels.
struct BlockedKernels {
  /// Channels per block.
  let b: Int

  private func parameters(input: Int, _ more: [(String, Int)] = [], output: Int) -> [KernelParameter] {
    [KernelParameter(name: "x", elements: input, writable: false)]
      + more.map { KernelParameter(name: $0.0, elements: $0.1, writable: false) }
      + [KernelParameter(name: "y", elements: output, writable: true)]
  }

  /// Pooling of a blocked input over planes (n, channel block): max pooling where `average`
  /// is nil (padding never wins), else average pooling, divided by the taps inside the image
  /// or, where `average` is true, by those inside the padded image (as the plain kernel).
  func pool(_ a: Pool2dAttributes, average: Bool?, x: [Int], y: [Int], bytes: PoolBytes = .none) -> Kernel {
    let (h, wd, p, q) = (x[2], x[3], y[2], y[3])
    let (ih, iw) = (index("ih"), index("iw"))
    let m = Expr.variable("m", .vector)
    var tap = a.tapStart(h: h, wd: wd, paddedCounter: average == true ? "count" : nil)
    let place = ((index("plane") * .int(h) + ih) * .int(wd) + iw) * .int(b)
    let v: Expr = bytes.input ? .byteVectorLoad("x", place) : .vectorLoad("x", place)
    tap.append(average == nil ? .assign("m", .vectorMax(v, m)) : .assign("m", m + v))
    if average == false { tap.append(.accumulate("count", 1)) }
    let window: Stmt = .loop(
      "r", 0, .int(a.kernel.h),
      [
        .define(
          "ih", index("p") * .int(a.stride.h) - .int(a.padding.top) + index("r") * .int(a.dilation.h), mutable: false),
        .loop("s", 0, .int(a.kernel.w), tap),
      ])
    var pixel: [Stmt] = [.define("m", .splat(.float(average == nil ? -.infinity : 0)), mutable: true)]
    if average != nil { pixel.append(.define("count", 0, mutable: true)) }
    pixel.append(window)
    // A window with no tap inside has a zero sum; dividing it by one keeps it zero.
    var result = average == nil ? m : m * .splat(.float(1) / .convert(.maximum(index("count"), 1), .float))
    // Bytes hold the integers plus the offset: the max of either form is that of the other.
    let shift = Float((bytes.output ? bytes.offset : 0) - (bytes.input ? bytes.offset : 0))
    if shift != 0 { result = result + .splat(.float(shift)) }
    let out = ((index("plane") * .int(p) + index("p")) * .int(q) + index("q")) * .int(b)
    pixel.append(
      bytes.output ? .narrowingStore("y", out, result, .byte) : .vectorStore("y", out, result, aligned: true))
    var parameters = parameters(input: x.reduce(1, *), output: y.reduce(1, *))
    if bytes.input { parameters[0].element = .byte }
    if bytes.output { parameters[1].element = .byte }
    return Kernel(
      parameters: parameters, vectorWidth: b,
      body: [.parallel("plane", y[0] * y[1] / b, [.loop("p", 0, .int(p), [.loop("q", 0, .int(q), pixel)])])])
  }

  /// Whether a max pool of integers reads and writes bytes (`Buffer.quantized`, the integers
  /// plus `offset`) rather than whole numbers in floats.
  struct PoolBytes: Hashable, Sendable {
    let input: Bool
    let output: Bool
    let offset: Int

    static let none = PoolBytes(input: false, output: false, offset: 0)
  }

  /// Global average pooling of a blocked input into (N,C,1,1), which is the plain layout; the
  /// result may go straight to a caller's buffer, so it is stored without assuming alignment.
  func globalAvgPool(x: [Int]) -> Kernel {
    let size = x[2] * x[3]
    let sum = Expr.variable("sum", .vector)
    return Kernel(
      parameters: parameters(input: x.reduce(1, *), output: x[0] * x[1]), vectorWidth: b,
      body: [
        .parallel(
          "plane", x[0] * x[1] / b,
          [
            .define("sum", .splat(.float(0)), mutable: true),
            .loop(
              "i", 0, .int(size),
              [.accumulate("sum", .vectorLoad("x", (index("plane") * .int(size) + index("i")) * .int(b)))]),
            .vectorStore("y", index("plane") * .int(b), sum / .float(Float(size)), aligned: false),
          ])
      ])
  }

  /// `y = x · scale[c] + shift[c]` of a blocked (N,C,H,W) input over planes (n, channel
  /// block), each plane's factors one vector; with `relu`, `max(0, y)`.
  func scaleShift(x: [Int], relu: Bool) -> Kernel {
    let (c, size) = (x[1], x[2] * x[3])
    let pixel = (index("plane") * .int(size) + index("i")) * .int(b)
    let value = Expr.vectorLoad("x", pixel) * .variable("s", .vector) + .variable("t", .vector)
    return Kernel(
      parameters: parameters(input: x.reduce(1, *), [("scale", c), ("shift", c)], output: x.reduce(1, *)),
      vectorWidth: b,
      body: [
        .parallel(
          "plane", x[0] * c / b,
          [
            .define("cb", index("plane") % .int(c / b), mutable: false),
            .define("s", .vectorLoad("scale", index("cb") * .int(b)), mutable: false),
            .define("t", .vectorLoad("shift", index("cb") * .int(b)), mutable: false),
            .loop(
              "i", 0, .int(size),
              [
                .vectorStore(
                  "y", pixel, relu ? .vectorMax(value, .splat(.float(0))) : value, aligned: true)
              ]),
          ])
      ])
  }

  /// `y = x·wᵀ + b` over output blocks (n, ob); weights packed (O/B, I, B), the bias
  /// zero-padded to whole blocks; the last block stores only real outputs. Two accumulators
  /// take alternate inputs.
  func dense(x: [Int], outputs: Int, hasBias: Bool) -> Kernel {
    let (n, inputs) = (x[0], x[1])
    let blocks = (outputs + b - 1) / b
    var more = [("wp", blocks * inputs * b)]
    if hasBias { more.append(("bias", blocks * b)) }
    let (acc0, acc1) = (Expr.variable("acc0", .vector), Expr.variable("acc1", .vector))
    let product = { (i: Expr) -> (Expr, Expr) in
      (.load("x", index("xn") + i), .vectorLoad("wp", index("wo") + i * .int(self.b)))
    }
    let (x0, w0) = product(index("i") * 2)
    let (x1, w1) = product(index("i") * 2 + 1)
    var body: [Stmt] = [
      .define("n", index("item") / .int(blocks), mutable: false),
      .define("ob", index("item") % .int(blocks), mutable: false),
      .define("acc0", hasBias ? .vectorLoad("bias", index("ob") * .int(b)) : .splat(.float(0)), mutable: true),
      .define("acc1", .splat(.float(0)), mutable: true),
      .define("xn", index("n") * .int(inputs), mutable: false),
      .define("wo", index("ob") * .int(inputs * b), mutable: false),
      .loop("i", 0, .int(inputs / 2), [.multiplyAdd("acc0", x0, w0), .multiplyAdd("acc1", x1, w1)]),
    ]
    if inputs % 2 == 1 {
      let (x, w) = product(.int(inputs - 1))
      body.append(.multiplyAdd("acc0", x, w))
    }
    body.append(.accumulate("acc0", acc1))
    let store = { (lanes: Int) -> Stmt in
      .loop(
        "k", 0, .int(lanes),
        [.store("y", index("n") * .int(outputs) + index("ob") * .int(self.b) + index("k"), .lane(acc0, index("k")))])
    }
    let last = outputs - (blocks - 1) * b
    if last == b {
      body.append(store(b))
    } else if blocks == 1 {
      body.append(store(last))
    } else {
      body.append(.branch(index("ob") < .int(blocks - 1), [store(b)], else: [store(last)]))
    }
    return Kernel(
      parameters: parameters(input: n * inputs, more, output: n * outputs), vectorWidth: b,
      body: [.parallel("item", n * blocks, body)])
  }

  /// Plain (N,C,H,W) to blocked (`toBlocked`) or back, over planes (n, channel block).
  func reorder(shape: [Int], toBlocked: Bool) -> Kernel {
    let (c, size) = (shape[1], shape[2] * shape[3])
    let cb = c / b
    let plain = ((index("n") * .int(c) + index("cb") * .int(b) + index("c")) * .int(size)) + index("i")
    let blocked = (index("plane") * .int(size) + index("i")) * .int(b) + index("c")
    let (to, from) = toBlocked ? (blocked, plain) : (plain, blocked)
    let count = shape.reduce(1, *)
    return Kernel(
      parameters: parameters(input: count, output: count), vectorWidth: b,
      body: [
        .parallel(
          "plane", shape[0] * cb,
          [
            .define("n", index("plane") / .int(cb), mutable: false),
            .define("cb", index("plane") % .int(cb), mutable: false),
            .loop("c", 0, .int(b), [.loop("i", 0, .int(size), [.store("y", to, .load("x", from))])]),
          ])
      ])
  }
}
