import GraphIR

/// `fold-input-scale`: a per-channel `scale_shift` before convolutions folds into their
/// weights and biases, where the convolution's padding allows.
///
/// ```
/// %s = scale_shift(%x, @k, @t)
/// %c = conv2d(%s, @w[, @b]) {groups=g}        ->   %c = conv2d(%x, @w', @b')
///   with  w'[o,i,r,s] = w[o,i,r,s]·k[j],  b'[o] = b[o] + Σ_{i,r,s} w[o,i,r,s]·t[j]
///   where j = (o / (K/g))·(C/g) + i, the input channel that tap reads
/// ```
///
/// Exact only where the conv reads no padding, or `t` is all zeros: a padded position is 0 in
/// the conv's input, which the folded conv would take as `x = 0`, i.e. `t` after the
/// `scale_shift` — so a conv with padding and a nonzero shift keeps reading %s (as a stem conv
/// with padding 3 after input normalization does). Each conv2d reader with constant weight
/// and bias that qualifies folds; %s stays for its other readers, or is removed when none is
/// left. The `scale_shift` must have constant scale and shift.
let foldInputScale = Pass(
  name: "fold-input-scale", summary: "fold a scale_shift into the conv2d that read it, where padding allows"
) { graph, report in
  graph.forEachNode { graph, index in
    let node = graph.nodes[index]
    guard node.op == .scaleShift else { return 0 }
    guard let k = graph.constants[node.operands[1].name], node.operands[1].isConstant,
      let t = graph.constants[node.operands[2].name], node.operands[2].isConstant
    else {
      report.remark(node.name, "not folded into a conv2d: its scale or shift is computed")
      return 0
    }
    let shifts = t.data.contains { $0 != 0 }
    return foldIntoConvReaders(index, graph: &graph, report: &report, how: "the weights of") { graph, i, a in
      let conv = graph.nodes[i]
      let parameters = conv.operands[1..<(a.epilogue.addsResidual ? conv.operands.count - 1 : conv.operands.count)]
      guard parameters.allSatisfy(\.isConstant) else {
        return "conv %\(IRName.spelling(of: conv.name)) has a computed weight or bias"
      }
      guard !shifts || a.padding == .zero else {
        return "conv %\(IRName.spelling(of: conv.name)) pads its input, and the shift is not zero"
      }
      foldScale(into: i, scale: k.data, shift: t.data, attributes: a, graph: &graph)
      return nil
    }
  }
}

/// Scales conv `convIndex`'s weights by the input channel's `scale` and adds what `shift`
/// contributes to each output channel's bias (in Double), editing the constants in place
/// when this conv is their only reader.
func foldScale(into convIndex: Int, scale: [Float], shift: [Float], attributes a: Conv2dAttributes, graph: inout Graph)
{
  let conv = graph.nodes[convIndex]
  let weightName = conv.operands[1].name
  var weight = graph.constants[weightName]!
  let (k, cpg) = (weight.type.shape[0], weight.type.shape[1])
  let taps = weight.type.shape[2] * weight.type.shape[3]
  let kpg = k / a.groups
  let hasBias = a.hasBias(operandCount: conv.operands.count)
  var bias = hasBias ? graph.constants[conv.operands[2].name]!.data.map(Double.init) : Array(repeating: 0, count: k)
  for o in 0..<k {
    for i in 0..<cpg {
      let channel = (o / kpg) * cpg + i
      for tap in 0..<taps {
        let j = (o * cpg + i) * taps + tap
        bias[o] += Double(weight.data[j]) * Double(shift[channel])
        weight.data[j] = Float(Double(weight.data[j]) * Double(scale[channel]))
      }
    }
  }
  let w = setConstant(weightName, weight, onlyReader: conv.name, graph: &graph, fallback: conv.name + ".weight")
  let biasTensor = Tensor(type: TensorType([k]), data: bias.map { Float($0) })
  let biasName = hasBias ? conv.operands[2].name : graph.freshConstantName(conv.name + ".bias")
  let b = setConstant(biasName, biasTensor, onlyReader: conv.name, graph: &graph, fallback: conv.name + ".bias")
  var operands = conv.operands
  operands[1] = .constant(w)
  if hasBias { operands[2] = .constant(b) } else { operands.insert(.constant(b), at: 2) }
  graph.nodes[convIndex].operands = operands
  graph.removeUnusedConstants(among: conv.operands)
}
