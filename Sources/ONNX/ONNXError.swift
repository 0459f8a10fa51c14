import GraphIR

/// An ONNX file resnetc cannot import, with the node, tensor or input at fault.
public enum ONNXError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The bytes are not valid protobuf.
  case wireFormat(ProtobufError)
  /// The model has no graph.
  case noGraph
  /// The default domain's opset is outside what resnetc implements.
  case unsupportedOpset(Int64, supported: ClosedRange<Int64>)
  /// An op resnetc does not implement.
  case unsupportedOp(op: String, domain: String, opset: Int64, node: String)
  /// An attribute the op does not have (never silently dropped).
  case unknownAttribute(op: String, node: String, attribute: String)
  /// An attribute with a value outside what resnetc supports or ONNX allows.
  case badAttribute(op: String, node: String, attribute: String, reason: String)
  /// A node whose inputs or outputs resnetc cannot import, and why.
  case unsupportedNode(op: String, node: String, reason: String)
  /// A node reads a value nothing defines (or one defined only later: a cycle or bad order).
  case undefinedValue(node: String, value: String)
  /// Two nodes, inputs or initializers define the same name.
  case duplicateName(String)
  /// A tensor's data does not match its declared type and shape.
  case invalidTensor(name: String, reason: String)
  /// An input dimension without a value, not pinned by `--input-shape`.
  case symbolicDimension(input: String, index: Int, name: String)
  /// An input that cannot be imported, or a pinned shape that does not fit it.
  case invalidInput(input: String, reason: String)
  /// A `--input-shape` name that is not an input.
  case unknownInputShape(String)
  /// Weights in a side file that cannot be used.
  case externalData(tensor: String, reason: String)
  /// An output that is not computed by the graph, or whose declared shape differs.
  case invalidOutput(output: String, reason: String)
  /// Shapes that do not fit an op, found while building the graph.
  case graph(GraphError)

  /// One line naming the place and the problem.
  public var description: String {
    switch self {
    case .wireFormat(let e): "not a valid ONNX file: \(e)"
    case .noGraph: "the model has no graph"
    case .unsupportedOpset(let v, let supported):
      "opset \(v) of the default domain is not supported (resnetc implements opsets \(supported.lowerBound) to \(supported.upperBound))"
    case .unsupportedOp(let op, let domain, let opset, let node):
      "node \(node): op \(op) (domain '\(domain.isEmpty ? "ai.onnx" : domain)', opset \(opset)) is not supported"
    case .unknownAttribute(let op, let node, let attribute): "node \(node) (\(op)): unknown attribute '\(attribute)'"
    case .badAttribute(let op, let node, let attribute, let reason):
      "node \(node) (\(op)): attribute '\(attribute)' \(reason)"
    case .unsupportedNode(let op, let node, let reason): "node \(node) (\(op)): \(reason)"
    case .undefinedValue(let node, let value):
      "node \(node) reads '\(value)', which no earlier node, input or initializer defines"
    case .duplicateName(let name): "'\(name)' is defined more than once"
    case .invalidTensor(let name, let reason): "tensor '\(name)': \(reason)"
    case .symbolicDimension(let input, let index, let name):
      "input '\(input)' has symbolic dimension \(index) ('\(name)'); pin it with --input-shape"
    case .invalidInput(let input, let reason): "input '\(input)': \(reason)"
    case .unknownInputShape(let name): "--input-shape names '\(name)', which is not an input of the model"
    case .externalData(let tensor, let reason): "tensor '\(tensor)': external data \(reason)"
    case .invalidOutput(let output, let reason): "output '\(output)': \(reason)"
    case .graph(let e): e.description
    }
  }
}
