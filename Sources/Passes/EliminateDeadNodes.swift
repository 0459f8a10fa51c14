import GraphIR

/// `eliminate-dead-nodes`: nodes whose values no output depends on are removed, and so are
/// constants no node reads.
///
/// ```
/// %unused = relu(%x)         ->   (removed)
/// const @orphan: f32[4]      ->   (removed)
/// ```
///
/// Graph inputs stay even when unused: they are the program's interface.
let eliminateDeadNodes = Pass(name: "eliminate-dead-nodes", summary: "remove nodes and constants no output depends on")
{ graph, report in
  var live = Set(graph.outputs)
  for node in graph.nodes.reversed() where live.contains(node.name) {
    for case .value(let name) in node.operands { live.insert(name) }
  }
  let before = graph.nodes
  graph.nodes.removeAll { !live.contains($0.name) }
  for node in before where !live.contains(node.name) {
    report.count("nodes removed")
    report.remark(node.name, "removed: no output depends on it")
  }
  let read = Set(graph.nodes.flatMap { $0.operands.filter(\.isConstant).map(\.name) })
  for name in graph.constants.names where !read.contains(name) {
    graph.constants.remove(name)
    report.count("constants removed")
  }
}
