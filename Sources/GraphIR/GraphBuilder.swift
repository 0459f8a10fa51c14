/// Builds a verified graph one node at a time, inferring each node's type as it is added.
///
/// Used by the built-in model family, importers and tests. Errors from `add` name the node.
public struct GraphBuilder {
  /// The graph so far.
  public private(set) var graph: Graph
  private var types: [String: TensorType] = [:]

  /// Starts an empty graph called `name`.
  public init(name: String) {
    graph = Graph(name: name)
  }

  /// Adds an input and returns it as an operand.
  @discardableResult
  public mutating func input(_ name: String, _ type: TensorType) throws(GraphError) -> Operand {
    _ = try type.checkedElementCount(context: "input %\(IRName.spelling(of: name))")
    guard types.updateValue(type, forKey: name) == nil else { throw .duplicateName(name) }
    graph.inputs.append(GraphInput(name: name, type: type))
    return .value(name)
  }

  /// Adds a constant and returns it as an operand.
  @discardableResult
  public mutating func constant(_ name: String, _ type: TensorType, _ data: [Float]) throws(GraphError) -> Operand {
    let count = try type.checkedElementCount(context: "constant @\(IRName.spelling(of: name))")
    guard data.count == count else {
      throw .constantSize(name: name, shape: type.shape, expected: count, got: data.count)
    }
    guard graph.constants[name] == nil else { throw .duplicateName(name) }
    graph.constants.set(name, Tensor(type: type, data: data))
    return .constant(name)
  }

  /// Adds a constant of any element type (an integer one within its type's range).
  @discardableResult
  public mutating func constant(_ name: String, _ tensor: Tensor) throws(GraphError) -> Operand {
    guard tensor.type.dtype.isInteger else { return try constant(name, tensor.type, tensor.data) }
    let count = try tensor.type.checkedElementCount(context: "constant @\(IRName.spelling(of: name))")
    guard tensor.integers.count == count, tensor.data.isEmpty else {
      throw .constantSize(name: name, shape: tensor.type.shape, expected: count, got: tensor.integers.count)
    }
    if let range = tensor.type.dtype.integerRange, let outside = tensor.integers.first(where: { !range.contains($0) }) {
      throw .constantRange(name: name, dtype: tensor.type.dtype, value: outside)
    }
    guard graph.constants[name] == nil else { throw .duplicateName(name) }
    graph.constants.set(name, tensor)
    return .constant(name)
  }

  /// Adds a node computing `op` on `operands` and returns its result as an operand.
  @discardableResult
  public mutating func node(_ name: String, _ op: Op, _ operands: [Operand]) throws(GraphError) -> Operand {
    guard op.arity.accepts(operands.count) else {
      throw .arity(node: name, op: op.name, expected: op.arity, got: operands.count)
    }
    var operandTypes: [TensorType] = []
    for operand in operands {
      guard let type = graph.type(of: operand, in: types) else {
        switch operand {
        case .value(let v): throw .undefinedValue(node: name, operand: v)
        case .constant(let c): throw .undefinedConstant(node: name, constant: c)
        }
      }
      operandTypes.append(type)
    }
    let type = try inferType(of: op, operands: operandTypes, node: name)
    guard types.updateValue(type, forKey: name) == nil else { throw .duplicateName(name) }
    graph.nodes.append(Node(name: name, op: op, operands: operands, type: type))
    return .value(name)
  }

  /// The type of a value added so far.
  public func type(of operand: Operand) -> TensorType? {
    graph.type(of: operand, in: types)
  }

  /// Marks `values` as the graph's outputs and returns the verified graph.
  public consuming func finish(outputs: [Operand]) throws(GraphError) -> Graph {
    graph.outputs = outputs.map(\.name)
    try Verifier.verify(graph)
    return graph
  }
}
