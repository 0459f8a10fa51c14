/// A graph that is not well formed. Every case names the node (or input, constant, output)
/// at fault so the message can point at it.
public enum GraphError: Error, Equatable, Sendable {
  /// Two inputs or nodes define the same value name, or two constants share a name.
  case duplicateName(String)
  /// A node reads a value that nothing defines.
  case undefinedValue(node: String, operand: String)
  /// A node reads a value defined only by itself or a later node: the nodes are not in
  /// topological order, or they form a cycle.
  case usedBeforeDefinition(node: String, operand: String)
  /// A node reads a constant the table does not hold.
  case undefinedConstant(node: String, constant: String)
  /// A node has the wrong number of operands.
  case arity(node: String, op: String, expected: Arity, got: Int)
  /// An operand's shape does not fit the op. `expected` describes what would fit.
  case operandShape(node: String, op: String, operand: Int, expected: String, got: [Int])
  /// An operand's element type does not fit the op. `expected` names the types that would.
  case operandType(node: String, op: String, operand: Int, expected: String, got: DType)
  /// An integer constant holds a value outside its element type's range.
  case constantRange(name: String, dtype: DType, value: Int32)
  /// Channels that `groups` does not divide.
  case groupsDoNotDivide(node: String, channels: Int, groups: Int)
  /// An attribute outside its range.
  case invalidAttribute(node: String, op: String, attribute: String, value: String, reason: String)
  /// The node's recorded type differs from the one its operands imply.
  case typeMismatch(node: String, declared: TensorType, inferred: TensorType)
  /// A dimension is zero or negative.
  case nonPositiveDimension(context: String, shape: [Int])
  /// The shape's element count overflows or passes the element limit.
  case shapeTooLarge(context: String, shape: [Int], limit: Int)
  /// The shape has more dimensions than supported.
  case rankTooLarge(context: String, rank: Int, limit: Int)
  /// A constant's element count differs from its shape's.
  case constantSize(name: String, shape: [Int], expected: Int, got: Int)
  /// An output names no value.
  case undefinedOutput(String)
  /// The same value is listed twice as an output.
  case duplicateOutput(String)
  /// The graph returns nothing.
  case noOutputs
  /// The graph has no inputs.
  case noInputs
}

extension GraphError: CustomStringConvertible {
  /// One line that names the place and the problem.
  public var description: String {
    switch self {
    case .duplicateName(let name):
      "'\(name)' is defined more than once"
    case .undefinedValue(let node, let operand):
      "node %\(IRName.spelling(of: node)) reads %\(IRName.spelling(of: operand)), which is not defined"
    case .usedBeforeDefinition(let node, let operand):
      "node %\(IRName.spelling(of: node)) reads %\(IRName.spelling(of: operand)) before it is defined "
        + "(nodes must be in topological order, without cycles)"
    case .undefinedConstant(let node, let constant):
      "node %\(IRName.spelling(of: node)) reads constant @\(IRName.spelling(of: constant)), which is not defined"
    case .arity(let node, let op, let expected, let got):
      "node %\(IRName.spelling(of: node)) (\(op)) takes \(expected) operands, got \(got)"
    case .operandShape(let node, let op, let operand, let expected, let got):
      "node %\(IRName.spelling(of: node)) (\(op)): operand \(operand) should be \(expected), got \(shapeText(got))"
    case .operandType(let node, let op, let operand, let expected, let got):
      "node %\(IRName.spelling(of: node)) (\(op)): operand \(operand) should be \(expected), got \(got.rawValue)"
    case .constantRange(let name, let dtype, let value):
      "constant @\(IRName.spelling(of: name)) is \(dtype.rawValue) but holds \(value)"
    case .groupsDoNotDivide(let node, let channels, let groups):
      "node %\(IRName.spelling(of: node)) (conv2d): groups=\(groups) does not divide \(channels) channels"
    case .invalidAttribute(let node, let op, let attribute, let value, let reason):
      "node %\(IRName.spelling(of: node)) (\(op)): \(attribute)=\(value) is invalid: \(reason)"
    case .typeMismatch(let node, let declared, let inferred):
      "node %\(IRName.spelling(of: node)) is declared \(declared) but its operands give \(inferred)"
    case .nonPositiveDimension(let context, let shape):
      "\(context): shape \(shapeText(shape)) has a dimension that is not positive"
    case .shapeTooLarge(let context, let shape, let limit):
      "\(context): shape \(shapeText(shape)) has more than \(limit) elements"
    case .rankTooLarge(let context, let rank, let limit):
      "\(context): rank \(rank) is more than the supported \(limit)"
    case .constantSize(let name, let shape, let expected, let got):
      "constant @\(IRName.spelling(of: name)) has shape \(shapeText(shape)) (\(expected) elements) but \(got) elements"
    case .undefinedOutput(let name):
      "output %\(IRName.spelling(of: name)) is not defined"
    case .duplicateOutput(let name):
      "output %\(IRName.spelling(of: name)) is listed twice"
    case .noOutputs:
      "the graph has no outputs"
    case .noInputs:
      "the graph has no inputs"
    }
  }
}

/// `[1,3,224,224]`.
func shapeText(_ shape: [Int]) -> String {
  "[" + shape.map(String.init).joined(separator: ",") + "]"
}
