import GraphIR

/// A graph rewrite: a name (its command-line spelling and golden-test folder) and a
/// function that changes the graph in place and reports what it did.
public struct Pass: Sendable {
  /// The pass's name, as `--passes` and `--print-after` spell it.
  public let name: String
  /// One line for `--help`.
  public let summary: String
  /// Rewrites the graph, counting changes and remarking on the nodes it considered.
  public let run: @Sendable (inout Graph, inout PassReport) throws -> Void

  /// Makes a pass.
  public init(name: String, summary: String, run: @escaping @Sendable (inout Graph, inout PassReport) throws -> Void) {
    self.name = name
    self.summary = summary
    self.run = run
  }
}
