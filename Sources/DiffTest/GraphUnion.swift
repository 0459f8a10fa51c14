import GraphIR

/// Several graphs side by side in one: each keeps its own inputs, constants, nodes and
/// outputs under the prefix `g<k>/`, so one compilation serves many graphs (the C and
/// Swift compilers' start-up dominates on small graphs).
public struct GraphUnion {
  /// The combined graph.
  public let graph: Graph
  /// How many inputs and outputs each part has, in order.
  public let inputCounts: [Int]
  public let outputCounts: [Int]

  /// The graphs' union; every one of them must be verified.
  public init(_ parts: [Graph], name: String = "union") {
    var union = Graph(name: name)
    for (k, part) in parts.enumerated() {
      let prefix = GraphUnion.prefix(k)
      let rename = { (operand: Operand) -> Operand in
        switch operand {
        case .value(let v): .value(prefix + v)
        case .constant(let c): .constant(prefix + c)
        }
      }
      union.inputs += part.inputs.map { GraphInput(name: prefix + $0.name, type: $0.type) }
      for (name, tensor) in part.constants.entries { union.constants.set(prefix + name, tensor) }
      union.nodes += part.nodes.map {
        Node(name: prefix + $0.name, op: $0.op, operands: $0.operands.map(rename), type: $0.type)
      }
      union.outputs += part.outputs.map { prefix + $0 }
    }
    graph = union
    inputCounts = parts.map(\.inputs.count)
    outputCounts = parts.map(\.outputs.count)
  }

  /// The prefix of part `k`'s names.
  public static func prefix(_ k: Int) -> String { "g\(k)/" }

  /// `all` (the union's inputs or outputs, in order) cut into the parts' lists.
  public static func split<T>(_ all: [T], counts: [Int]) -> [[T]] {
    precondition(all.count == counts.reduce(0, +), "\(all.count) items for parts of \(counts)")
    var start = 0
    return counts.map { n in
      defer { start += n }
      return Array(all[start..<(start + n)])
    }
  }
}
