import GraphIR

/// `fuse-quantized`: a convolution or dense layer between dequantized operands and a
/// quantize (the QDQ form that quantizers write) becomes one integer `qconv2d` or `qdense`.
///
/// ```
/// %x = dequantize(%xq, @xs, @xz)                   %q = qconv2d(%xq, @xs, @xz, @wq, @ws, @wz,
/// %w = dequantize(@wq, @ws, @wz) {axis=0}      ->             @ys, @yz, @bq) {epilogue=relu}
/// %b = dequantize(@bq, @bs, @bz) {axis=0}          (readers of %q read the qconv2d)
/// %c = conv2d(%x, %w, %b)
/// %r = relu(%c)                                    (the relu is optional; dense becomes
/// %q = quantize(%r, @ys, @yz)                       qdense the same way)
/// ```
///
/// The bias is optional. An i32 bias whose scale is `xs·ws[k]` and whose zero point is 0 is
/// used as it is. Any other bias (an f32 constant, or another scale) is requantized to
/// `round(b / (xs·ws[k]))`.
///
/// The fused op sums integer products and rounds once. The QDQ graph rounds the f32
/// convolution of dequantized values instead. The two differ by at most one quantization
/// step, and only at values halfway between two steps. ONNX Runtime fuses the same way.
///
/// Refuses when any of these holds:
/// - the input, weight or output scale is not a constant;
/// - the input or output is quantized per channel (only the weight may be);
/// - the weight is quantized along another axis than 0;
/// - the convolution or ReLU has another reader, or is a graph output;
/// - the convolution already has a shortcut-add epilogue.
///
/// Quantize and dequantize nodes that stay run as dequantize → f32 → quantize. Their remark
/// says so.
let fuseQuantized = Pass(
  name: "fuse-quantized",
  summary: "make dequantize -> conv2d/dense [-> relu] -> quantize one integer qconv2d or qdense"
) { graph, report in
  graph.forEachNode { graph, index in
    let node = graph.nodes[index]
    guard case .quantize = node.op else { return 0 }
    switch quantizedPattern(ending: node, in: graph) {
    case .failure(let refusal):
      report.remark(node.name, "not fused: \(refusal.text); stays a quantize of f32 values")
      return 0
    case .success(let pattern):
      let dequantizes = fuse(pattern, at: index, graph: &graph)
      report.count(pattern.isConv ? "fused into qconv2d" : "fused into qdense")
      for absorbed in pattern.absorbed + dequantizes {
        report.absorbed(absorbed, into: node.name)
        report.remark(absorbed, "fused into %\(IRName.spelling(of: node.name))")
      }
      report.remark(
        node.name,
        "fused %\(IRName.spelling(of: pattern.product)) into \(pattern.isConv ? "qconv2d" : "qdense")"
          + (pattern.relu ? " with a relu epilogue" : ""))
      return pattern.absorbed.count + dequantizes.count
    }
  }
  for node in graph.nodes where node.op.isDequantize && !node.operands[0].isConstant {
    let readers = graph.nodes.filter { $0.operands.contains(.value(node.name)) }.map(\.op.name)
    let names = readers.isEmpty ? "the graph's output" : Set(readers).sorted().joined(separator: ", ")
    report.remark(node.name, "stays: its f32 values are read by \(names)")
  }
}

extension Op {
  fileprivate var isDequantize: Bool {
    if case .dequantize = self { true } else { false }
  }
}

/// A matched `dequantize → conv2d/dense [→ relu] → quantize`.
private struct QuantizedPattern {
  /// The conv2d or dense node's name.
  var product: String
  /// Its attributes when it is a conv2d.
  var conv: Conv2dAttributes?
  var isConv: Bool { conv != nil }
  /// Whether a ReLU (a node or the conv's epilogue) comes before the quantize.
  var relu: Bool
  /// The quantized input, its scale and zero point.
  var x: Operand
  var xScale: String
  var xZero: String
  /// The quantized weight, its scales (one, or one per output) and zero points.
  var weight: String
  var weightScale: String
  var weightZero: String
  /// The bias: nil, an i32 constant to use as it is, or f32 values to requantize.
  var bias: Bias?
  /// The product and ReLU nodes that the fused op replaces.
  var absorbed: [String]

  enum Bias {
    case integers(String)
    case floats([Float])
  }
}

/// The pattern that ends in `quantize` node `node`, or why there is none.
private func quantizedPattern(ending node: Node, in graph: Graph) -> Result<QuantizedPattern, Refusal> {
  guard scalarConstant(node.operands[1], graph), node.operands[2].isConstant else {
    return .failure(Refusal(text: "its scale is not one constant for the whole tensor"))
  }
  guard case .value(var input) = node.operands[0], var producer = graph.definingIndex(of: input) else {
    return .failure(Refusal(text: "its input is a graph input"))
  }
  var absorbed: [String] = []
  var relu = false
  if graph.nodes[producer].op == .relu {
    guard singleReader(input, graph) else {
      return .failure(Refusal(text: "relu %\(IRName.spelling(of: input)) has other readers"))
    }
    absorbed.append(input)
    relu = true
    guard case .value(let before) = graph.nodes[producer].operands[0], let p = graph.definingIndex(of: before) else {
      return .failure(Refusal(text: "the relu's input is not a conv2d or dense"))
    }
    (input, producer) = (before, p)
  }
  let product = graph.nodes[producer]
  var conv: Conv2dAttributes?
  switch product.op {
  case .conv2d(let attributes):
    switch attributes.epilogue {
    case .none: break
    case .relu: relu = true
    case .add, .addReLU:
      return .failure(Refusal(text: "conv %\(IRName.spelling(of: input)) adds a shortcut in its epilogue"))
    }
    conv = attributes
  case .dense: conv = nil
  default:
    return .failure(Refusal(text: "its input is produced by \(product.op.name), not conv2d or dense"))
  }
  guard singleReader(input, graph) else {
    return .failure(Refusal(text: "%\(IRName.spelling(of: input)) has other readers"))
  }
  absorbed.insert(input, at: 0)
  guard let x = dequantized(product.operands[0], graph), scalarConstant(x.scale, graph) else {
    return .failure(Refusal(text: "the input of %\(IRName.spelling(of: input)) is not dequantized per tensor"))
  }
  guard let w = dequantized(product.operands[1], graph), case .constant(let weight) = w.values else {
    return .failure(Refusal(text: "the weight of %\(IRName.spelling(of: input)) is not a dequantized constant"))
  }
  let channels = product.type.shape[1]
  guard scalarConstant(w.scale, graph) || (w.axis == 0 && graph.constants[w.scale.name]?.type.shape == [channels])
  else {
    return .failure(Refusal(text: "the weight of %\(IRName.spelling(of: input)) is not quantized per output channel"))
  }
  let xType: TensorType? =
    switch x.values {
    case .value(let name):
      graph.definingIndex(of: name).map { graph.nodes[$0].type }
        ?? graph.inputs.first { $0.name == name }?.type
    case .constant(let name): graph.constants[name]?.type
    }
  guard xType?.dtype == .u8 || xType?.dtype == .i8 else {
    return .failure(Refusal(text: "the input of %\(IRName.spelling(of: input)) is not 8-bit"))
  }
  guard let wType = graph.constants[weight]?.type, wType.dtype == .u8 || wType.dtype == .i8 else {
    return .failure(Refusal(text: "the weight of %\(IRName.spelling(of: input)) is not 8-bit"))
  }
  var bias: QuantizedPattern.Bias?
  if product.operands.count > 2 {
    guard let b = quantizedBias(product.operands[2], x: x.scale, w: w.scale, channels: channels, graph) else {
      return .failure(Refusal(text: "the bias of %\(IRName.spelling(of: input)) is not a constant or too large"))
    }
    bias = b
  }
  return .success(
    QuantizedPattern(
      product: input, conv: conv, relu: relu, x: x.values, xScale: x.scale.name, xZero: x.zero.name,
      weight: weight, weightScale: w.scale.name, weightZero: w.zero.name, bias: bias, absorbed: absorbed))
}

/// Rewrites node `index` (the quantize) as the fused op and removes what it replaced;
/// returns the dequantize nodes removed with it (all before `index`).
private func fuse(_ pattern: QuantizedPattern, at index: Int, graph: inout Graph) -> [String] {
  let node = graph.nodes[index]
  var operands: [Operand] = [
    pattern.x, .constant(pattern.xScale), .constant(pattern.xZero), .constant(pattern.weight),
    .constant(pattern.weightScale), .constant(pattern.weightZero), node.operands[1], node.operands[2],
  ]
  switch pattern.bias {
  case nil: break
  case .integers(let name): operands.append(.constant(name))
  case .floats(let values):
    let name = graph.freshConstantName(pattern.product + ".bias_quantized")
    let scales = biasScales(x: pattern.xScale, w: pattern.weightScale, count: values.count, graph)
    let integers = zip(values, scales).map { Int32(Double($0 / $1).rounded(.toNearestOrEven)) }
    graph.constants.set(name, Tensor(type: TensorType([values.count], dtype: .i32), integers: integers))
    operands.append(.constant(name))
  }
  let replaced = graph.nodes.filter { pattern.absorbed.contains($0.name) }
  if var conv = pattern.conv {
    conv.epilogue = pattern.relu ? .relu : .none
    graph.nodes[index].op = .qconv2d(conv)
  } else {
    graph.nodes[index].op = .qdense
  }
  graph.nodes[index].operands = operands
  graph.nodes.removeAll { pattern.absorbed.contains($0.name) }
  var removed: [String] = []
  // The dequantize nodes the product read go too when nothing else reads them.
  for operand in replaced.flatMap(\.operands) {
    guard case .value(let name) = operand, graph.useCount(of: name) == 0,
      let i = graph.definingIndex(of: name), case .dequantize = graph.nodes[i].op
    else { continue }
    graph.removeNode(at: i)
    removed.append(name)
  }
  graph.removeUnusedConstants(among: replaced.flatMap(\.operands))
  return removed
}

/// A dequantize's operands, when `operand` is the value of one whose scale and zero point
/// are constants.
private func dequantized(_ operand: Operand, _ graph: Graph) -> (
  values: Operand, scale: Operand, zero: Operand, axis: Int
)? {
  guard case .value(let name) = operand, let i = graph.definingIndex(of: name),
    case .dequantize(let axis) = graph.nodes[i].op
  else { return nil }
  let operands = graph.nodes[i].operands
  guard operands[1].isConstant, operands[2].isConstant else { return nil }
  return (operands[0], operands[1], operands[2], axis)
}

/// The bias as the fused op takes it, or nil when it is computed or does not fit in i32.
private func quantizedBias(_ operand: Operand, x: Operand, w: Operand, channels: Int, _ graph: Graph)
  -> QuantizedPattern.Bias?
{
  let scales = biasScales(x: x.name, w: w.name, count: channels, graph)
  let values: [Float]
  if case .constant(let name) = operand, let tensor = graph.constants[name], tensor.type.dtype == .f32 {
    values = tensor.data
  } else if let b = dequantized(operand, graph), case .constant(let name) = b.values,
    let integers = graph.constants[name], integers.type.dtype == .i32,
    let bScale = graph.constants[b.scale.name], let bZero = graph.constants[b.zero.name]
  {
    let perChannel = bScale.data.count == channels
    let scale = { (k: Int) in perChannel ? bScale.data[k] : bScale.data[0] }
    let zero = { (k: Int) in perChannel ? bZero.integers[k] : bZero.integers[0] }
    let exact = (0..<channels).allSatisfy { k in
      zero(k) == 0 && abs(scale(k) - scales[k]) <= 1e-6 * scales[k]
    }
    if exact { return .integers(name) }
    values = (0..<channels).map { Float(Double(integers.integers[$0] - zero($0)) * Double(scale($0))) }
  } else {
    return nil
  }
  let limit = Double(Int32.max)
  guard values.count == channels, zip(values, scales).allSatisfy({ abs(Double($0 / $1)) < limit }) else {
    return nil
  }
  return .floats(values)
}

/// `xs · ws[k]` for each output channel.
private func biasScales(x: String, w: String, count: Int, _ graph: Graph) -> [Float] {
  let xs = graph.constants[x]!.data[0]
  let ws = graph.constants[w]!.data
  return (0..<count).map { xs * (ws.count == 1 ? ws[0] : ws[$0]) }
}

/// Whether `operand` is a constant f32 scalar.
private func scalarConstant(_ operand: Operand, _ graph: Graph) -> Bool {
  guard case .constant(let name) = operand, let tensor = graph.constants[name] else { return false }
  return tensor.type.shape.isEmpty && tensor.type.dtype == .f32
}

/// Whether value `name` is read exactly once and is no graph output.
private func singleReader(_ name: String, _ graph: Graph) -> Bool {
  graph.useCount(of: name) == 1 && !graph.outputs.contains(name)
}
