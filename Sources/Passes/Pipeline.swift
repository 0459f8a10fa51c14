/// The passes resnetc has, and the order `-O1` runs them in.
///
/// Quantized convolutions and dense layers fuse first, while their weights are still
/// dequantize nodes (fold-constants would make them f32 constants).
/// Explicit zero padding folds into convolutions first; BatchNorm (and `scale_shift`) folds
/// into the convolution before it, so that the additions and ReLUs that follow a BatchNorm
/// follow its convolution, and what is left of it into the convolution after it where
/// padding allows; the shortcut addition fuses before ReLU, so that the ReLU after it turns
/// the `add` epilogue into `add_relu`; clean-ups run last.
public enum Pipeline {
  /// `-O1`.
  public static let `default`: [Pass] = [
    fuseQuantized, foldConstants, removeIdentities, foldPad, foldBatchNorm, foldInputScale, fuseShortcutAdd, fuseReLU,
    eliminateDeadNodes,
  ]

  /// Every pass, for `--passes`.
  public static let all: [Pass] = `default`
}
