/// The loop `--profile` measures this machine's peak with: on every thread at once, chains of
/// fused multiply-adds on registers only, in the vectors the kernels use (scalar multiply-adds
/// for `generic`), so the percentages of the profile are of what the compiled target reaches
/// here, not of a constant.
///
/// Each work item (one per thread) runs `iterations` steps of `chains` independent
/// multiply-adds, enough chains to cover the latency of a multiply-add on both pipes of
/// current x86 cores, and stores their sum so that nothing is dead. The input holds the
/// factor, small enough that the sums never overflow.
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
}
