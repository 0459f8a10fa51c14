/// Queries and edits over who uses which value, for passes.
extension Graph {
  /// How many times `value` is read in the graph as it is now: by node operands, plus once
  /// for each output slot. Passes ask this at the moment they decide, never from a count
  /// taken before one of their own rewrites.
  public func useCount(of value: String) -> Int {
    var count = outputs.reduce(0) { $0 + ($1 == value ? 1 : 0) }
    for node in nodes {
      for case .value(let name) in node.operands where name == value { count += 1 }
    }
    return count
  }

  /// The index of the node defining `value`, or nil for an input or an undefined name.
  public func definingIndex(of value: String) -> Int? {
    nodes.firstIndex { $0.name == value }
  }

  /// Visits every node once, in order, while `visit` may rewrite the graph: it returns how
  /// many nodes at or before `index` it removed (0 or 1), and the walk continues with the
  /// node that followed the visited one.
  public mutating func forEachNode(_ visit: (inout Graph, _ index: Int) throws -> Int) rethrows {
    var index = 0
    while index < nodes.count {
      index += 1 - (try visit(&self, index))
    }
  }

  /// Points every read of value `old` (operands and outputs) at value `new`.
  public mutating func replaceUses(of old: String, with new: String) {
    for i in nodes.indices where nodes[i].operands.contains(.value(old)) {
      nodes[i].operands = nodes[i].operands.map { $0 == .value(old) ? .value(new) : $0 }
    }
    outputs = outputs.map { $0 == old ? new : $0 }
  }

  /// Renames value `old` to `new` in its definition, every read and the outputs. `new` must
  /// not name another value.
  public mutating func renameValue(_ old: String, to new: String) {
    for i in nodes.indices where nodes[i].name == old { nodes[i].name = new }
    for i in inputs.indices where inputs[i].name == old { inputs[i].name = new }
    replaceUses(of: old, with: new)
  }

  /// Removes node `index`, whose value the caller has made unused, and then any constants
  /// no node reads any more.
  public mutating func removeNode(at index: Int) {
    let removed = nodes.remove(at: index)
    removeUnusedConstants(among: removed.operands)
  }

  /// Removes those of `candidates` that are constants no node reads.
  public mutating func removeUnusedConstants(among candidates: [Operand]) {
    for case .constant(let name) in candidates where !nodes.contains(where: { $0.operands.contains(.constant(name)) }) {
      constants.remove(name)
    }
  }

  /// A constant name not used yet: `base`, or `base.2`, `base.3`, ...
  public func freshConstantName(_ base: String) -> String {
    var name = base
    var n = 1
    while constants[name] != nil {
      n += 1
      name = "\(base).\(n)"
    }
    return name
  }
}
