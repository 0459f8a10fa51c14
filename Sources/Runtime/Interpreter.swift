import GraphIR

/// The reference interpreter: runs a verified graph op by op with plain loops that
/// accumulate in Double. It is the oracle every compiled path is checked against, so it
/// favours being obviously right over being fast.
public struct Interpreter: Sendable {
  /// The graph it runs; verified when the interpreter is made.
  public let graph: Graph
  /// For each value, the index of the last node that reads it (outputs: never freed).
  private let lastUse: [String: Int]
  /// The most bytes of values (inputs and node results, not constants) alive at once.
  public let peakValueBytes: Int

  /// Verifies `graph` and prepares to run it.
  public init(graph: Graph) throws(GraphError) {
    try Verifier.verify(graph)
    self.graph = graph
    var lastUse: [String: Int] = [:]
    for (index, node) in graph.nodes.enumerated() {
      for case .value(let name) in node.operands { lastUse[name] = index }
    }
    for output in graph.outputs { lastUse[output] = Int.max }
    self.lastUse = lastUse
    peakValueBytes = Interpreter.peakBytes(graph, lastUse: lastUse)
  }

  /// Live bytes after each node is computed, before its dead operands are freed.
  private static func peakBytes(_ graph: Graph, lastUse: [String: Int]) -> Int {
    var live = graph.inputs.reduce(0) { $0 + $1.type.elementCount * $1.type.dtype.byteSize }
    var peak = live
    let sizes = graph.valueTypes.mapValues { $0.elementCount * $0.dtype.byteSize }
    for (index, node) in graph.nodes.enumerated() {
      live += sizes[node.name]!
      peak = max(peak, live)
      for case .value(let name) in Set(node.operands) where lastUse[name] == index { live -= sizes[name]! }
    }
    return peak
  }

  /// Runs the graph on `inputs`, given in the graph's input order, and returns its outputs in
  /// order. Each input must have exactly its declared type.
  public func run(_ inputs: [Tensor]) throws(InterpreterError) -> [Tensor] {
    guard inputs.count == graph.inputs.count else {
      throw .inputCount(expected: graph.inputs.count, got: inputs.count)
    }
    var values: [String: Tensor] = [:]
    for (declared, tensor) in zip(graph.inputs, inputs) {
      guard tensor.type == declared.type else {
        throw .inputType(name: declared.name, expected: declared.type, got: tensor.type)
      }
      guard tensor.storedCount == declared.type.elementCount else {
        throw .inputSize(name: declared.name, expected: declared.type.elementCount, got: tensor.storedCount)
      }
      values[declared.name] = tensor
    }
    for (index, node) in graph.nodes.enumerated() {
      let operands = node.operands.map { operand -> Tensor in
        switch operand {
        case .value(let name): values[name]!
        case .constant(let name): graph.constants[name]!
        }
      }
      values[node.name] = ReferenceKernels.evaluate(node.op, operands, type: node.type)
      for case .value(let name) in node.operands where lastUse[name] == index {
        values[name] = nil
      }
    }
    return graph.outputs.map { values[$0]! }
  }
}

extension Interpreter {
  /// The result of `op` on `operands` (whose types fit it), of type `type`: one step of the
  /// interpreter, for compile-time folding.
  public static func evaluate(_ op: Op, _ operands: [Tensor], type: TensorType) -> Tensor {
    ReferenceKernels.evaluate(op, operands, type: type)
  }
}

/// Inputs that do not fit the graph.
public enum InterpreterError: Error, Equatable, Sendable, CustomStringConvertible {
  /// Wrong number of inputs.
  case inputCount(expected: Int, got: Int)
  /// An input of another shape or dtype than declared.
  case inputType(name: String, expected: TensorType, got: TensorType)
  /// An input whose data does not fill its shape.
  case inputSize(name: String, expected: Int, got: Int)

  /// One line naming the problem.
  public var description: String {
    switch self {
    case .inputCount(let expected, let got): "the model takes \(expected) inputs, got \(got)"
    case .inputType(let name, let expected, let got): "input %\(name) must be \(expected), got \(got)"
    case .inputSize(let name, let expected, let got): "input %\(name) needs \(expected) elements, got \(got)"
    }
  }
}
