/// Checks that a graph is well formed; passes run it after every rewrite in tests.
///
/// A verified graph has at least one input and one output; unique value names; constants
/// whose data matches their shapes; nodes in topological order whose operand counts fit
/// their ops and whose recorded types are what shape inference gives; and outputs that
/// name defined values, each once.
public enum Verifier {
  /// Throws the first problem found, naming the node, input, constant or output at fault.
  public static func verify(_ graph: Graph) throws(GraphError) {
    guard !graph.inputs.isEmpty else { throw .noInputs }
    var defined: [String: TensorType] = [:]
    for input in graph.inputs {
      _ = try input.type.checkedElementCount(context: "input %\(IRName.spelling(of: input.name))")
      guard defined.updateValue(input.type, forKey: input.name) == nil else {
        throw .duplicateName(input.name)
      }
    }
    for (name, constant) in graph.constants.entries {
      let count = try constant.type.checkedElementCount(context: "constant @\(IRName.spelling(of: name))")
      if let range = constant.type.dtype.integerRange {
        guard constant.integers.count == count, constant.data.isEmpty else {
          throw .constantSize(
            name: name, shape: constant.type.shape, expected: count, got: constant.integers.count)
        }
        if let outside = constant.integers.first(where: { !range.contains($0) }) {
          throw .constantRange(name: name, dtype: constant.type.dtype, value: outside)
        }
      } else {
        guard constant.data.count == count, constant.integers.isEmpty else {
          throw .constantSize(name: name, shape: constant.type.shape, expected: count, got: constant.data.count)
        }
      }
    }
    let nodeNames = Set(graph.nodes.map(\.name))
    for node in graph.nodes {
      guard node.op.arity.accepts(node.operands.count) else {
        throw .arity(node: node.name, op: node.op.name, expected: node.op.arity, got: node.operands.count)
      }
      var operandTypes: [TensorType] = []
      operandTypes.reserveCapacity(node.operands.count)
      for operand in node.operands {
        switch operand {
        case .value(let name):
          guard let type = defined[name] else {
            if nodeNames.contains(name) { throw .usedBeforeDefinition(node: node.name, operand: name) }
            throw .undefinedValue(node: node.name, operand: name)
          }
          operandTypes.append(type)
        case .constant(let name):
          guard let constant = graph.constants[name] else {
            throw .undefinedConstant(node: node.name, constant: name)
          }
          operandTypes.append(constant.type)
        }
      }
      let inferred = try inferType(of: node.op, operands: operandTypes, node: node.name)
      guard inferred == node.type else {
        throw .typeMismatch(node: node.name, declared: node.type, inferred: inferred)
      }
      guard defined.updateValue(node.type, forKey: node.name) == nil else {
        throw .duplicateName(node.name)
      }
    }
    guard !graph.outputs.isEmpty else { throw .noOutputs }
    var seen = Set<String>()
    for output in graph.outputs {
      guard defined[output] != nil else { throw .undefinedOutput(output) }
      guard seen.insert(output).inserted else { throw .duplicateOutput(output) }
    }
  }
}
