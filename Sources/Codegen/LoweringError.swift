import GraphIR

/// Why a graph cannot be lowered to kernels.
public enum LoweringError: Error, Equatable, CustomStringConvertible {
  /// The graph fails verification (lowering takes only verified graphs).
  case invalidGraph(GraphError)
  /// A node that lowering cannot turn into a kernel, and why.
  case node(String, String)

  public var description: String {
    switch self {
    case .invalidGraph(let error): "the graph cannot be compiled: \(error)"
    case .node(let name, let why): "node %\(IRName.spelling(of: name)) cannot be compiled: \(why)"
    }
  }
}
