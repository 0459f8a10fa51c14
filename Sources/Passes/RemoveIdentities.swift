import GraphIR

/// `remove-identities`: nodes that pass their input through unchanged are removed.
///
/// ```
/// %y = reshape(%x) / flatten(%x)      with the output shape of %x
/// %y = pad2d(%x) {pad=[0,0,0,0]}
/// %y = pad_channels(%x) {before=0, after=0}
/// %y = subsample2d(%x) {stride=[1,1]}
/// %y = transpose(%x) {perm=[0,1,...]}
/// %y = max_pool2d / avg_pool2d(%x) {kernel=[1,1], stride=[1,1], pad=[0,0,0,0]}
///                                      ->   (readers of %y read %x)
/// ```
///
/// ONNX `Identity` and inference-mode `Dropout` never reach the IR: the importer maps
/// their outputs to their inputs. Refuses when %x is a graph input and %y an output (an
/// output must be computed by a node).
let removeIdentities = Pass(name: "remove-identities", summary: "remove nodes that pass their input through unchanged")
{ graph, report in
  graph.forEachNode { graph, index in
    let node = graph.nodes[index]
    guard isIdentity(node, in: graph), case .value(let input) = node.operands[0] else { return 0 }
    let inputIsGraphInput = graph.inputs.contains { $0.name == input }
    if graph.outputs.contains(node.name), inputIsGraphInput || graph.outputs.contains(input) {
      report.remark(node.name, "kept: it copies %\(IRName.spelling(of: input)) to an output")
      return 0
    }
    graph.removeNode(at: index)
    replaceValue(node.name, with: input, in: &graph)
    report.count("removed")
    report.remark(node.name, "removed: \(node.op.name) leaves its input unchanged")
    return 1
  }
}

/// Whether `node` returns its input unchanged.
func isIdentity(_ node: Node, in graph: Graph) -> Bool {
  switch node.op {
  case .reshape, .flatten:
    return graph.type(of: node.operands[0], in: graph.valueTypes)?.shape == node.type.shape
  case .pad2d(let padding, _): return padding == .zero
  case .padChannels(let before, let after): return before == 0 && after == 0
  case .subsample2d(let stride): return stride == .square(1)
  case .maxPool2d(let a), .avgPool2d(let a, _):
    return a.kernel == .square(1) && a.stride == .square(1) && a.padding == .zero && !a.ceilMode
  case .transpose(let perm): return perm == Array(perm.indices)
  case .conv2d, .batchNorm, .scaleShift, .relu, .add, .mul, .clip, .globalAvgPool, .dense, .softmax, .quantize,
    .dequantize, .qconv2d, .qdense:
    return false
  }
}
