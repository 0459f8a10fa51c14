import GraphIR

/// A graph rewrite: a name (its command-line spelling and golden-test folder) and a
/// function that changes the graph in place and says whether it changed anything.
public struct Pass: Sendable {
  /// The pass's name, as `--passes` and `--print-after` spell it.
  public let name: String
  /// Rewrites the graph; returns whether anything changed.
  public let run: @Sendable (inout Graph) throws -> Bool

  /// Makes a pass.
  public init(name: String, run: @escaping @Sendable (inout Graph) throws -> Bool) {
    self.name = name
    self.run = run
  }
}
