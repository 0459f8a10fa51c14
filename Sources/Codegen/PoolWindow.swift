import GraphIR

extension Pool2dAttributes {
  /// The start of one pooling tap at output column `q`, tap (`r`, `s`), input row `ih`
  /// already defined: defines the input column `iw`, adds one to `paddedCounter` (when given)
  /// for a tap inside the padded map, then skips a tap outside the `h` × `wd` input. The
  /// plain and blocked pooling kernels share it.
  func tapStart(h: Int, wd: Int, paddedCounter: String?) -> [Stmt] {
    let (ih, iw) = (index("ih"), index("iw"))
    var tap: [Stmt] = [
      .define("iw", index("q") * .int(stride.w) - .int(padding.left) + index("s") * .int(dilation.w), mutable: false)
    ]
    if let counter = paddedCounter {
      let outside: Expr = .any([
        ih < .int(-padding.top), ih >= .int(h + padding.bottom), iw < .int(-padding.left),
        iw >= .int(wd + padding.right),
      ])
      tap.append(.accumulate(counter, .select(outside, 0, 1)))
    }
    tap.append(.skip(.any([ih < 0, ih >= .int(h), iw < 0, iw >= .int(wd)])))
    return tap
  }
}
