import GraphIR
import Runtime

/// `fold-constants`: a node that reads only constants is computed once, at compile time.
///
/// ```
/// %t = op(@a, @b)        ->   @t = <op(a, b)>   (readers of %t read @t)
/// ```
///
/// Weight-only subgraphs appear in imported models (a weight reshaped, padded or added to
/// another). The result is computed by the reference interpreter's kernels. Refuses for a
/// node whose value is a graph output (an output must be computed from the inputs).
let foldConstants = Pass(name: "fold-constants", summary: "compute nodes that read only constants") { graph, report in
  graph.forEachNode { graph, index in
    let node = graph.nodes[index]
    guard node.operands.allSatisfy(\.isConstant) else { return 0 }
    guard !graph.outputs.contains(node.name) else {
      report.remark(node.name, "not folded: its value is a graph output")
      return 0
    }
    let operands = node.operands.map { graph.constants[$0.name]! }
    let name = graph.freshConstantName(node.name)
    graph.constants.set(name, Interpreter.evaluate(node.op, operands, type: node.type))
    graph.nodes.remove(at: index)
    for i in graph.nodes.indices where graph.nodes[i].operands.contains(.value(node.name)) {
      graph.nodes[i].operands = graph.nodes[i].operands.map { $0 == .value(node.name) ? .constant(name) : $0 }
    }
    graph.removeUnusedConstants(among: node.operands)
    report.count("folded")
    report.remark(node.name, "folded into constant @\(IRName.spelling(of: name))")
    return 1
  }
}
