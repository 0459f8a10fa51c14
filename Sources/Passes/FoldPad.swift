import GraphIR

/// `fold-pad`: a zero `pad2d` read by convolutions becomes part of their padding.
///
/// ```
/// %p = pad2d(%x) {pad=[t,l,b,r], value=0}
/// %c = conv2d(%p, ...) {pad=[t2,l2,b2,r2]}    ->   %c = conv2d(%x, ...) {pad=[t+t2,l+l2,b+b2,r+r2]}
/// ```
///
/// Exact because a convolution pads with zeros. Each conv2d that reads %p as its input
/// folds; readers of other kinds keep reading %p (a max pool pads with minus infinity, an
/// average pool may leave padding out of its divisor), and a %p left unread is removed.
/// Refuses a pad of another value.
let foldPad = Pass(name: "fold-pad", summary: "fold a zero pad2d into the padding of the conv2d that read it") {
  graph, report in
  graph.forEachNode { graph, index in
    let node = graph.nodes[index]
    guard case .pad2d(let padding, let value) = node.op else { return 0 }
    guard value == 0 else {
      report.remark(node.name, "not folded: it pads with \(value), and convolutions pad with 0")
      return 0
    }
    return foldIntoConvReaders(index, graph: &graph, report: &report, how: "the padding of") { graph, i, a in
      var padded = a
      padded.padding = Padding2d(
        top: a.padding.top + padding.top, left: a.padding.left + padding.left,
        bottom: a.padding.bottom + padding.bottom, right: a.padding.right + padding.right)
      graph.nodes[i].op = .conv2d(padded)
      return nil
    }
  }
}
