import GraphIR
import Passes

/// Shrinks a failing graph while it keeps failing, to a regression case a person can read.
///
/// Greedy, to a fixed point: drop one of several outputs; make a node's readers read one of
/// its operands of the same type instead (the node then dies); drop dead nodes and unused
/// constants. Each candidate must pass the verifier and still fail `fails`.
public enum Minimizer {
  /// The smallest graph found that still fails.
  public static func minimize(_ graph: Graph, fails: (Graph) -> Bool) -> Graph {
    var best = graph
    var changed = true
    while changed {
      changed = false
      for candidate in candidates(best) where (try? Verifier.verify(candidate)) != nil && fails(candidate) {
        best = candidate
        changed = true
        break
      }
    }
    return best
  }

  /// Graphs one step smaller than `graph`.
  static func candidates(_ graph: Graph) -> [Graph] {
    var result: [Graph] = []
    let live = pruned(graph)
    if live != graph { result.append(live) }
    if graph.outputs.count > 1 {
      for i in graph.outputs.indices {
        var g = graph
        g.outputs.remove(at: i)
        result.append(pruned(g))
      }
    }
    let types = graph.valueTypes
    for node in graph.nodes.reversed() {
      for case .value(let operand) in node.operands where types[operand] == node.type && operand != node.name {
        guard !graph.outputs.contains(operand) || !graph.outputs.contains(node.name) else { continue }
        var g = graph
        g.replaceUses(of: node.name, with: operand)
        result.append(pruned(g))
      }
    }
    return result
  }

  /// `graph` without dead nodes and unused constants.
  static func pruned(_ graph: Graph) -> Graph {
    var g = graph
    var live = Set(g.outputs)
    for node in g.nodes.reversed() where live.contains(node.name) {
      for case .value(let name) in node.operands { live.insert(name) }
    }
    g.nodes.removeAll { !live.contains($0.name) }
    let read = Set(g.nodes.flatMap { $0.operands.filter(\.isConstant).map(\.name) })
    for name in g.constants.names where !read.contains(name) { g.constants.remove(name) }
    return g
  }
}
