import GraphIR

/// `fold-batchnorm`: a BatchNorm or a per-channel `scale_shift` after a convolution folds
/// into the convolution's weights and bias; one after another `scale_shift` composes with it;
/// any other BatchNorm becomes a `scale_shift`.
///
/// ```
/// %c = conv2d(%x, @w[, @b])                        %c = conv2d(%x, @w', @b')
/// %n = batch_norm(%c, @s, @t, @m, @v) {eps}   ->   (readers of %n read %c)
///   with  k = s / sqrt(v + eps),  w'[o] = w[o]·k[o],  b' = (b − m)·k + t   (b = 0 when absent)
/// %n = scale_shift(%c, @k, @t)                ->   the same with k and t as given
///
/// %n = batch_norm(%y, @s, @t, @m, @v)         ->   %n = scale_shift(%y, @k, @t − m·k)
///
/// %a = scale_shift(%y, @k1, @t1)                   %b = scale_shift(%y, @k1·k2, @t1·k2 + t2)
/// %b = scale_shift(%a, @k2, @t2)              ->   (%a removed)
/// ```
///
/// Folds into a conv only when it is a `conv2d` with no epilogue whose single reader is the
/// BatchNorm (not a graph output either), and whose weight, bias and the BatchNorm's
/// parameters are constants; composes only with a `scale_shift` of constants that has no
/// other reader. A BatchNorm or `scale_shift` whose parameters are computed stays as it is.
/// (ONNX `Mul` and `Add` by per-channel constants import as `scale_shift`, so a BatchNorm
/// written as `Mul` + `Add` folds here too.)
let foldBatchNorm = Pass(
  name: "fold-batchnorm",
  summary:
    "fold BatchNorm and scale_shift into the preceding conv2d or scale_shift; other BatchNorms become scale_shift"
) { graph, report in
  graph.forEachNode { graph, index in
    let node = graph.nodes[index]
    let isBatchNorm: Bool
    switch node.op {
    case .batchNorm: isBatchNorm = true
    case .scaleShift: isBatchNorm = false
    default: return 0
    }
    let params: [Tensor?] = node.operands.dropFirst().map { $0.isConstant ? graph.constants[$0.name] : nil }
    guard params.allSatisfy({ $0 != nil }) else {
      report.remark(node.name, "not folded: its scale, shift or statistics are computed, not constants")
      return 0
    }
    let (scale, shift) =
      if case .batchNorm(let epsilon) = node.op {
        batchNormAffine(params.map { $0!.data }, epsilon: epsilon)
      } else {
        (params[0]!.data, params[1]!.data)
      }
    switch foldableConv(feeding: node, in: graph) {
    case .success(let convIndex):
      foldInto(convIndex: convIndex, scale: scale, shift: shift, graph: &graph)
      let conv = graph.nodes[convIndex].name
      graph.removeNode(at: index)
      replaceValue(node.name, with: conv, in: &graph)
      report.count("folded into conv2d")
      report.absorbed(node.name, into: conv)
      report.remark(node.name, "folded into %\(IRName.spelling(of: conv))")
      return 1
    case .failure(let reason):
      if let producer = composableScaleShift(feeding: node, in: graph) {
        let (k1, t1) = (
          graph.constants[graph.nodes[producer].operands[1].name]!.data,
          graph.constants[graph.nodes[producer].operands[2].name]!.data
        )
        let k = scale.indices.map { Float(Double(k1[$0]) * Double(scale[$0])) }
        let t = scale.indices.map { Float(Double(t1[$0]) * Double(scale[$0]) + Double(shift[$0])) }
        let source = graph.nodes[producer].operands[0]
        setScaleShift(at: index, source, scale: k, shift: t, graph: &graph)
        let removed = graph.nodes[producer].name
        graph.removeNode(at: producer)
        report.count("composed with scale_shift")
        report.remark(node.name, "composed with %\(IRName.spelling(of: removed)) into one scale_shift")
        return 1
      }
      guard isBatchNorm else {
        report.remark(node.name, "not folded: \(reason.text)")
        return 0
      }
      setScaleShift(at: index, node.operands[0], scale: scale, shift: shift, graph: &graph)
      report.count("became scale_shift")
      report.remark(node.name, "became scale_shift: \(reason.text)")
      return 0
    }
  }
}

/// Makes node `index` `scale_shift(source, scale, shift)` with new constants named after it.
func setScaleShift(at index: Int, _ source: Operand, scale: [Float], shift: [Float], graph: inout Graph) {
  let node = graph.nodes[index]
  let channels = TensorType([scale.count])
  let k = graph.freshConstantName(node.name + ".scale")
  graph.constants.set(k, Tensor(type: channels, data: scale))
  let t = graph.freshConstantName(node.name + ".shift")
  graph.constants.set(t, Tensor(type: channels, data: shift))
  let old = node.operands
  graph.nodes[index].op = .scaleShift
  graph.nodes[index].operands = [source, .constant(k), .constant(t)]
  graph.removeUnusedConstants(among: old)
}

/// The index of the `scale_shift` of constants that `node` reads as operand 0, when `node` is
/// its only reader and it is no graph output.
func composableScaleShift(feeding node: Node, in graph: Graph) -> Int? {
  guard case .value(let input) = node.operands[0], let i = graph.definingIndex(of: input),
    graph.nodes[i].op == .scaleShift, graph.nodes[i].operands.dropFirst().allSatisfy(\.isConstant),
    graph.useCount(of: input) == 1, !graph.outputs.contains(input)
  else { return nil }
  return i
}

/// Why a node's producer cannot absorb it.
struct Refusal: Error {
  let text: String
}

/// The per-channel `k` and `t − m·k` of a BatchNorm's (scale, shift, mean, var), in Double.
func batchNormAffine(_ p: [[Float]], epsilon: Float) -> (scale: [Float], shift: [Float]) {
  var scale: [Float] = [], shift: [Float] = []
  for c in p[0].indices {
    let k = Double(p[0][c]) / (Double(p[3][c]) + Double(epsilon)).squareRoot()
    scale.append(Float(k))
    shift.append(Float(Double(p[1][c]) - Double(p[2][c]) * k))
  }
  return (scale, shift)
}

/// The index of the conv2d that `node` (reading it as operand 0) may be folded into, judged
/// on the graph as it is now (an earlier fold may have given the conv more readers).
func foldableConv(feeding node: Node, in graph: Graph) -> Result<Int, Refusal> {
  guard case .value(let input) = node.operands[0], let i = graph.definingIndex(of: input) else {
    return .failure(Refusal(text: "its input is a graph input or constant, not a conv2d"))
  }
  let producer = graph.nodes[i]
  guard case .conv2d(let attributes) = producer.op else {
    return .failure(
      Refusal(text: "its input %\(IRName.spelling(of: input)) is produced by \(producer.op.name), not conv2d"))
  }
  guard attributes.epilogue == .none else {
    return .failure(
      Refusal(text: "conv %\(IRName.spelling(of: input)) already has epilogue \(attributes.epilogue.rawValue)"))
  }
  let readers = graph.useCount(of: input)
  guard readers == 1, !graph.outputs.contains(input) else {
    return .failure(Refusal(text: "conv result %\(IRName.spelling(of: input)) has \(readers) users"))
  }
  guard producer.operands[1...].allSatisfy(\.isConstant) else {
    return .failure(Refusal(text: "conv %\(IRName.spelling(of: input)) has a computed weight or bias"))
  }
  return .success(i)
}

/// Multiplies conv `convIndex`'s output channel o by `scale[o]` and adds `shift[o]` to its
/// bias, editing constants in place when this conv is their only reader.
func foldInto(convIndex: Int, scale: [Float], shift: [Float], graph: inout Graph) {
  let conv = graph.nodes[convIndex]
  let weightName = conv.operands[1].name
  var weight = graph.constants[weightName]!
  let perChannel = weight.type.elementCount / scale.count
  for o in scale.indices {
    for j in (o * perChannel)..<((o + 1) * perChannel) {
      weight.data[j] = Float(Double(weight.data[j]) * Double(scale[o]))
    }
  }
  let oldBias =
    conv.operands.count == 3 ? graph.constants[conv.operands[2].name]!.data : Array(repeating: 0, count: scale.count)
  let bias = scale.indices.map { Float(Double(oldBias[$0]) * Double(scale[$0]) + Double(shift[$0])) }
  let w = setConstant(weightName, weight, onlyReader: conv.name, graph: &graph, fallback: conv.name + ".weight")
  let biasTensor = Tensor(type: TensorType([scale.count]), data: bias)
  let b =
    conv.operands.count == 3
    ? setConstant(
      conv.operands[2].name, biasTensor, onlyReader: conv.name, graph: &graph, fallback: conv.name + ".bias")
    : setConstant(
      graph.freshConstantName(conv.name + ".bias"), biasTensor, onlyReader: conv.name, graph: &graph,
      fallback: conv.name + ".bias")
  let old = conv.operands
  graph.nodes[convIndex].operands = [conv.operands[0], .constant(w), .constant(b)]
  graph.removeUnusedConstants(among: old)
}

/// Stores `tensor` as constant `name` when only node `reader` reads it (or nothing does),
/// else under a fresh name derived from `fallback`; returns the name used.
func setConstant(_ name: String, _ tensor: Tensor, onlyReader reader: String, graph: inout Graph, fallback: String)
  -> String
{
  let others = graph.nodes.contains { $0.name != reader && $0.operands.contains(.constant(name)) }
  let target = others ? graph.freshConstantName(fallback) : name
  graph.constants.set(target, tensor)
  return target
}

/// Makes readers of value `old` (now without a definition) read `new`; when `old` was a
/// graph output, `new` takes its name instead so the output keeps its name.
func replaceValue(_ old: String, with new: String, in graph: inout Graph) {
  if graph.outputs.contains(old), !graph.outputs.contains(new), !graph.inputs.contains(where: { $0.name == new }) {
    graph.renameValue(new, to: old)
  } else {
    graph.replaceUses(of: old, with: new)
  }
}
