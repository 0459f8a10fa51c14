/// The passes resnetc has, and the order `-O1` runs them in.
///
/// BatchNorm folds first, so that the additions and ReLUs that follow a BatchNorm follow
/// its convolution; the shortcut addition fuses before ReLU, so that the ReLU after it
/// turns the `add` epilogue into `add_relu`; clean-ups run last.
public enum Pipeline {
  /// `-O1`.
  public static let `default`: [Pass] = [
    foldConstants, removeIdentities, foldBatchNorm, fuseShortcutAdd, fuseReLU, eliminateDeadNodes,
  ]

  /// Every pass, for `--passes`.
  public static let all: [Pass] = `default`
}
