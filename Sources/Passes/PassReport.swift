/// What one pass did: counts of each kind of change, and a remark per node it considered
/// (what fired, or which precondition failed), for `--stats` and `resnetc explain`.
public struct PassReport: Sendable, Equatable {
  /// The pass's name.
  public let pass: String
  /// Kinds of change with how often each happened, in the order first counted.
  public private(set) var counts: [(what: String, count: Int)] = []
  /// Remarks in the order made, each about one node of the graph the pass was given.
  public private(set) var remarks: [(node: String, text: String)] = []
  /// Nodes that became part of a conv2d, each with that conv (its name when absorbed), in
  /// the order absorbed.
  public private(set) var absorptions: [(node: String, host: String)] = []

  /// An empty report for `pass`.
  public init(pass: String) {
    self.pass = pass
  }

  /// Counts `times` changes (one by default) of kind `what`.
  public mutating func count(_ what: String, _ times: Int = 1) {
    if let i = counts.firstIndex(where: { $0.what == what }) {
      counts[i].count += times
    } else {
      counts.append((what, times))
    }
  }

  /// Notes what happened at `node`, or why nothing did.
  public mutating func remark(_ node: String, _ text: String) {
    remarks.append((node, text))
  }

  /// Notes that `node` became part of the conv2d `host`.
  public mutating func absorbed(_ node: String, into host: String) {
    absorptions.append((node, host))
  }

  /// Whether the pass changed the graph.
  public var changed: Bool { counts.contains { $0.count > 0 } }

  /// `fold-batchnorm: 53 folded into conv2d, 0 ...`, or `fold-batchnorm: no change`.
  public var summary: String {
    pass + ": " + (counts.isEmpty ? "no change" : counts.map { "\($0.count) \($0.what)" }.joined(separator: ", "))
  }

  public static func == (a: PassReport, b: PassReport) -> Bool {
    a.pass == b.pass && a.summary == b.summary && a.remarks.map(\.node) == b.remarks.map(\.node)
      && a.remarks.map(\.text) == b.remarks.map(\.text) && a.absorptions.map(\.node) == b.absorptions.map(\.node)
      && a.absorptions.map(\.host) == b.absorptions.map(\.host)
  }
}
