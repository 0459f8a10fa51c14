/// The loop `--profile` measures this machine's peak with: on every thread at once, chains of
/// fused multiply-adds on registers only, in the vectors the kernels use (scalar multiply-adds
/// for `generic`), so the percentages of the profile are of what the compiled target reaches
/// here, not of a constant.
///
/// Each work item (one per thread) runs `iterations` steps of `chains` independent
/// multiply-adds, enough chains to cover the latency of a multiply-add on both pipes of
/// current x86 cores, and stores their sum so that nothing is dead. The input holds the
/// factor, small enough that the sums never overflow.
///
/// Integer layers are measured against a second loop, `integerKernel`: the byte quads that
/// the target's integer convs multiply (`vpdpbusd` with VNNI, else `vpmaddubsw` and
/// `vpmaddwd`), two operations a product as for floats: each chain multiplies its own bytes by
/// the input's, zero bytes (the time of these instructions does not depend on the values), so
/// that the sums stay where they start.
enum PeakKernel {
  /// Independent accumulators.
  static let chains = 10
  /// Steps per work item: 4 ms on a Zen 5 core with AVX-512 (240 GFLOP/s), 5–8 ms on Zen 3
  /// and Zen 4 by their peaks.
  static let iterations = 3_000_000
  /// Work items the kernel accepts (the runtime's most threads).
  static let items = 256

  /// Floating-point operations of one work item with `width` floats per vector.
  static func flopsPerItem(width: Int) -> Int { 2 * chains * iterations * max(width, 1) }

  /// The kernel for vectors of `width` floats (0 for scalars): operands `x` (the factor, one
  /// vector) and `y` (one vector per item).
  static func kernel(width: Int) -> Kernel {
    let b = max(width, 1)
    let vector = width > 0
    let factor: Expr = vector ? .vectorLoad("x", .int(0)) : .load("x", .int(0))
    let type: Scalar = vector ? .vector : .float
    var body: [Stmt] = [.define("m", factor, mutable: false)]
    for c in 0..<chains {
      body.append(.define("acc\(c)", vector ? .splat(.float(Float(c))) : .float(Float(c)), mutable: true))
    }
    let m = Expr.variable("m", type)
    let step: [Stmt] = (0..<chains).map { c in
      vector ? .multiplyAdd("acc\(c)", m, m) : .accumulate("acc\(c)", m * m)
    }
    body.append(.loop("i", 0, .int(iterations), step))
    let sum = (1..<chains).reduce(Expr.variable("acc0", type)) { $0 + .variable("acc\($1)", type) }
    let at = index("item") * .int(b)
    body.append(vector ? .vectorStore("y", at, sum, aligned: true) : .store("y", at, sum))
    return Kernel(
      parameters: [
        KernelParameter(name: "x", elements: b, writable: false),
        KernelParameter(name: "y", elements: items * b, writable: true),
      ], vectorWidth: width, body: [.parallel("item", items, body)])
  }

  /// Operations of one work item of `integerKernel` with `width` lanes: four products a lane.
  static func integerOpsPerItem(width: Int) -> Int { 2 * 4 * chains * iterations * width }

  /// The integer loop for vectors of `width` 32-bit lanes, nil without vectors: operands `x`
  /// (one quad vector of bytes, zero) and `y` (one float vector per item).
  static func integerKernel(width: Int) -> Kernel? {
    guard width > 0 else { return nil }
    var body: [Stmt] = [.define("m", .quadVectorLoad("x", .int(0)), mutable: false)]
    for c in 0..<chains {
      // Chains that start apart, so that no compiler can merge them into one.
      body.append(.define("acc\(c)", .convert(.splat(.float(Float(c))), .intVector), mutable: true))
    }
    // Each step multiplies the accumulator's own bytes (by zero bytes), so that no step is
    // the same as another and none can leave the loop: a compiler would sum a product of
    // unchanging operands once (as it may for `vpmaddubsw`, which has no accumulator).
    let m = Expr.variable("m", .quadVector)
    body.append(
      .loop(
        "i", 0, .int(iterations),
        (0..<chains).map { .quadMultiplyAdd("acc\($0)", .quadBits(.variable("acc\($0)", .intVector)), m) }))
    let sums = (0..<chains).map { Expr.convert(.variable("acc\($0)", .intVector), .vector) }
    body.append(.vectorStore("y", index("item") * .int(width), sums.dropFirst().reduce(sums[0], +), aligned: true))
    return Kernel(
      parameters: [
        KernelParameter(name: "x", elements: 4 * width, writable: false, element: .byte),
        KernelParameter(name: "y", elements: items * width, writable: true),
      ], vectorWidth: width, body: [.parallel("item", items, body)])
  }
}
