import GraphIR

/// `fuse-shortcut-add`: the addition that closes a residual block becomes the epilogue of
/// the convolution that computes the residual branch.
///
/// ```
/// %c = conv2d(%y, @w, @b) {epilogue=none}          (moved to the add's place)
/// %s = add(%c, %shortcut)                  ->   %c = conv2d(%y, @w, @b, %shortcut) {epilogue=add}
///                                                (readers of %s read %c)
/// ```
///
/// Either operand may be the fused convolution; when both qualify (a projection shortcut),
/// the one computed last is chosen, so the other is ready when it runs. The fused conv
/// moves to the add's position, after everything the add read. Identity, option-A
/// (subsample and zero channels) and projection shortcuts all fuse. Refuses when neither
/// operand is a `conv2d` without epilogue whose only reader is the add.
let fuseShortcutAdd = Pass(
  name: "fuse-shortcut-add", summary: "make a residual add the epilogue of the conv2d that feeds it"
) { graph, report in
  graph.forEachNode { graph, index in
    let node = graph.nodes[index]
    guard node.op == .add else { return 0 }
    var reasons: [String] = []
    var best: (conv: Int, operand: Int)?
    for (position, operand) in node.operands.enumerated() {
      guard case .value(let name) = operand, let ci = graph.definingIndex(of: name) else {
        reasons.append("operand \(position) is not computed by a node")
        continue
      }
      guard case .conv2d(let attributes) = graph.nodes[ci].op else {
        reasons.append("operand %\(IRName.spelling(of: name)) is produced by \(graph.nodes[ci].op.name)")
        continue
      }
      guard attributes.epilogue == .none else {
        reasons.append("conv %\(IRName.spelling(of: name)) already has epilogue \(attributes.epilogue.rawValue)")
        continue
      }
      let readers = graph.useCount(of: name)
      guard readers == 1, !graph.outputs.contains(name) else {
        reasons.append("conv result %\(IRName.spelling(of: name)) has \(readers) users")
        continue
      }
      if best == nil || ci > best!.conv { best = (ci, position) }
    }
    guard let (ci, position) = best else {
      report.remark(node.name, "not fused: " + reasons.joined(separator: "; "))
      return 0
    }
    var conv = graph.nodes[ci]
    guard case .conv2d(var attributes) = conv.op else { return 0 }
    attributes.epilogue = .add
    conv.op = .conv2d(attributes)
    conv.operands.append(node.operands[1 - position])
    graph.nodes[index] = conv
    graph.nodes.remove(at: ci)
    replaceValue(node.name, with: conv.name, in: &graph)
    report.count("fused into conv2d")
    report.absorbed(node.name, into: conv.name)
    report.remark(
      node.name,
      "fused into %\(IRName.spelling(of: conv.name)) (shortcut %\(IRName.spelling(of: node.operands[1 - position].name)))"
    )
    return 1
  }
}
