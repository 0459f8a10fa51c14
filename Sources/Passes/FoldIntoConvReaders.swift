import GraphIR

/// Folds node `index` into each conv2d that reads it as its input, for the passes that fold
/// a node into the convolutions after it (`fold-pad`, `fold-input-scale`).
///
/// `fold` is given the graph and a reader's index and attributes; it rewrites that conv to
/// read what the node read (returning nil), or returns why it cannot. Readers of other kinds
/// keep reading the node; a node left unread is removed (the return value is how many nodes
/// were removed, for `Graph.forEachNode`). `how` finishes the remark: "the padding of".
func foldIntoConvReaders(
  _ index: Int, graph: inout Graph, report: inout PassReport, how: String,
  _ fold: (inout Graph, Int, Conv2dAttributes) -> String?
) -> Int {
  let node = graph.nodes[index]
  var folded = 0
  var refusal: String?
  for i in graph.nodes.indices where graph.nodes[i].operands.first == .value(node.name) {
    guard case .conv2d(let a) = graph.nodes[i].op else { continue }
    if let reason = fold(&graph, i, a) {
      refusal = reason
      continue
    }
    graph.nodes[i].operands[0] = node.operands[0]
    report.absorbed(node.name, into: graph.nodes[i].name)
    folded += 1
  }
  guard folded > 0 else {
    report.remark(node.name, "not folded into a conv2d: \(refusal ?? "no conv2d reads it")")
    return 0
  }
  report.count("folded into conv2d", folded)
  guard graph.useCount(of: node.name) == 0 else {
    report.remark(node.name, "folded into \(folded) conv2d; kept for its other readers")
    return 0
  }
  graph.removeNode(at: index)
  report.remark(node.name, "folded into \(how) \(folded) conv2d")
  return 1
}
