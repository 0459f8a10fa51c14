/// Parameter and multiply-add counts, the paper's measures of a network's size and cost.
///
/// Parameters are the learned constants: convolution and dense weights and biases and
/// BatchNorm's scale and shift, but not BatchNorm's running mean and variance (statistics,
/// not parameters). Multiply-adds count convolutions and dense layers only.
extension Graph {
  /// Whether operand `index` of `op` is a learned parameter when it is a constant.
  static func isParameter(_ op: Op, operand index: Int) -> Bool {
    switch op {
    case .batchNorm: index == 1 || index == 2
    case .conv2d(let a): !(a.epilogue.addsResidual && index == 3)
    case .scaleShift, .relu, .add, .mul, .clip, .transpose, .maxPool2d, .avgPool2d, .globalAvgPool, .flatten, .dense,
      .softmax,
      .subsample2d, .padChannels, .pad2d, .reshape:
      true
    // The weights and the bias; scales and zero points are not learned.
    case .qconv2d, .qdense: index == 3 || index == 8
    case .quantize, .dequantize: false
    }
  }

  /// Elements of the parameter constants `node` reads.
  public func parameterCount(of node: Node) -> Int {
    var total = 0
    for (index, operand) in node.operands.enumerated() {
      guard case .constant(let name) = operand, Graph.isParameter(node.op, operand: index) else { continue }
      total += constants[name]?.type.elementCount ?? 0
    }
    return total
  }

  /// Elements of all parameter constants, each counted once however many nodes read it.
  public var parameterCount: Int {
    var seen = Set<String>()
    var total = 0
    for node in nodes {
      for (index, operand) in node.operands.enumerated() {
        guard case .constant(let name) = operand, Graph.isParameter(node.op, operand: index),
          seen.insert(name).inserted
        else { continue }
        total += constants[name]?.type.elementCount ?? 0
      }
    }
    return total
  }

  /// Multiply-adds of one node: `N·K·P·Q·(C/groups)·R·S` for a convolution, `N·O·I` for a
  /// dense layer, zero for the rest. `values` (from `valueTypes`) saves recomputing the
  /// types of values when the weight is not a constant.
  public func multiplyAdds(of node: Node, values: [String: TensorType]? = nil) -> Int {
    switch node.op {
    case .conv2d, .dense:
      let weight = node.operands[1]
      guard let w = type(of: weight, in: values ?? (weight.isConstant ? [:] : valueTypes)) else { return 0 }
      return node.type.elementCount * w.shape.dropFirst().reduce(1, *)
    case .qconv2d, .qdense:
      let weight = node.operands[3]
      guard let w = type(of: weight, in: values ?? (weight.isConstant ? [:] : valueTypes)) else { return 0 }
      return node.type.elementCount * w.shape.dropFirst().reduce(1, *)
    case .quantize, .dequantize, .batchNorm, .scaleShift, .relu, .add, .mul, .clip, .transpose, .maxPool2d, .avgPool2d,
      .globalAvgPool,
      .flatten, .softmax, .subsample2d,
      .padChannels, .pad2d, .reshape:
      return 0
    }
  }

  /// Multiply-adds of the whole graph.
  public var multiplyAdds: Int {
    let values = valueTypes
    return nodes.reduce(0) { $0 + multiplyAdds(of: $1, values: values) }
  }
}

extension Operand {
  /// Whether this operand names a constant.
  public var isConstant: Bool {
    if case .constant = self { true } else { false }
  }
}
