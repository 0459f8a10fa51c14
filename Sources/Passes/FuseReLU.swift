import GraphIR

/// `fuse-relu`: a ReLU after a convolution becomes the convolution's epilogue.
///
/// ```
/// %c = conv2d(...) {epilogue=none}      %c = conv2d(...) {epilogue=relu}
/// %r = relu(%c)                    ->   (readers of %r read %c)
/// %c = conv2d(...) {epilogue=add}       %c = conv2d(...) {epilogue=add_relu}
/// ```
///
/// Refuses when the input is not a `conv2d`, when the conv result has other readers (or is
/// a graph output: the pre-ReLU values would be lost), or when its epilogue already ends
/// in a ReLU.
let fuseReLU = Pass(name: "fuse-relu", summary: "make a ReLU after conv2d the conv's epilogue") { graph, report in
  graph.forEachNode { graph, index in
    let node = graph.nodes[index]
    guard node.op == .relu else { return 0 }
    guard case .value(let input) = node.operands[0], let ci = graph.definingIndex(of: input),
      case .conv2d(var attributes) = graph.nodes[ci].op
    else {
      let producer =
        node.operands[0].isConstant
        ? "a constant"
        : graph.definingIndex(of: node.operands[0].name).map { graph.nodes[$0].op.name } ?? "a graph input"
      report.remark(node.name, "not fused: its input is produced by \(producer), not conv2d")
      return 0
    }
    let readers = graph.useCount(of: input)
    guard readers == 1, !graph.outputs.contains(input) else {
      report.remark(node.name, "not fused: conv result %\(IRName.spelling(of: input)) has \(readers) users")
      return 0
    }
    switch attributes.epilogue {
    case .none: attributes.epilogue = .relu
    case .add: attributes.epilogue = .addReLU
    case .relu, .addReLU:
      report.remark(node.name, "not fused: conv %\(IRName.spelling(of: input)) already ends in a ReLU")
      return 0
    }
    graph.nodes[ci].op = .conv2d(attributes)
    graph.removeNode(at: index)
    replaceValue(node.name, with: input, in: &graph)
    report.count("fused into conv2d")
    report.absorbed(node.name, into: input)
    report.remark(node.name, "fused into %\(IRName.spelling(of: input)) (epilogue \(attributes.epilogue.rawValue))")
    return 1
  }
}
