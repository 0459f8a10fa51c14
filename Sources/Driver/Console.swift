import Foundation

/// Where a command writes: the process's standard streams, or buffers in tests.
public struct Console: Sendable {
  /// Writes to standard output.
  public var out: @Sendable (String) -> Void
  /// Writes to standard error.
  public var err: @Sendable (String) -> Void

  /// Whether standard error is a terminal that can redraw a line (progress bars go there).
  public var isTerminal: Bool

  /// A console over the given writers.
  public init(
    out: @escaping @Sendable (String) -> Void, err: @escaping @Sendable (String) -> Void, isTerminal: Bool = false
  ) {
    self.out = out
    self.err = err
    self.isTerminal = isTerminal
  }

  /// The process's standard output and error.
  public static let standard = Console(
    out: { FileHandle.standardOutput.write(Data($0.utf8)) },
    err: { FileHandle.standardError.write(Data($0.utf8)) },
    isTerminal: isatty(STDERR_FILENO) != 0 && ProcessInfo.processInfo.environment["TERM"].map { $0 != "dumb" } ?? false)
}
