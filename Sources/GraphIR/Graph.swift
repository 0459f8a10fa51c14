/// What an op reads: a value computed in the graph (`%name`) or a named constant (`@name`).
public enum Operand: Hashable, Sendable, CustomStringConvertible {
  /// A graph input or a node's result.
  case value(String)
  /// A constant (weight) from the graph's constant table.
  case constant(String)

  /// The name without its sigil.
  public var name: String {
    switch self {
    case .value(let name), .constant(let name): name
    }
  }

  /// `%name` or `@name`, quoted when the name needs it.
  public var description: String {
    switch self {
    case .value(let name): "%" + IRName.spelling(of: name)
    case .constant(let name): "@" + IRName.spelling(of: name)
    }
  }
}

/// One operation and the value it defines.
public struct Node: Hashable, Sendable {
  /// The name of the value this node defines; unique among inputs and nodes.
  public var name: String
  /// The operation and its attributes.
  public var op: Op
  /// Inputs, in the op's positional order.
  public var operands: [Operand]
  /// The result's type, as shape inference computes it.
  public var type: TensorType

  /// Makes a node.
  public init(name: String, op: Op, operands: [Operand], type: TensorType) {
    self.name = name
    self.op = op
    self.operands = operands
    self.type = type
  }
}

/// A named input of the graph.
public struct GraphInput: Hashable, Sendable {
  /// The value's name.
  public var name: String
  /// Its static type.
  public var type: TensorType

  /// Makes an input.
  public init(name: String, type: TensorType) {
    self.name = name
    self.type = type
  }
}

/// A tensor of known values: a graph's constant (weight, bias, normalization statistic,
/// quantization scale or zero point), or an input or output of the interpreter.
///
/// An f32 tensor's elements are in `data`; an integer tensor's (i8, u8, i32) in `integers`,
/// each within its type's range. The other array is empty.
public struct Tensor: Equatable, Sendable {
  /// Its static type.
  public var type: TensorType
  /// The elements of an f32 tensor in row-major (C) order; `data.count == type.elementCount`
  /// when well formed. Empty for integer tensors.
  public var data: [Float]
  /// The elements of an integer tensor in row-major order. Empty for f32 tensors.
  public var integers: [Int32]

  /// Makes an f32 tensor (or, with an integer `type` and empty `data`, a malformed one that
  /// the verifier reports).
  public init(type: TensorType, data: [Float]) {
    self.type = type
    self.data = data
    self.integers = []
  }

  /// Makes an integer tensor.
  public init(type: TensorType, integers: [Int32]) {
    self.type = type
    self.data = []
    self.integers = integers
  }

  /// How many elements it holds, in whichever array its type uses.
  public var storedCount: Int { type.dtype.isInteger ? integers.count : data.count }
}

/// Constant tensors by name, kept in the order they were added so printing and writing are
/// deterministic.
public struct ConstantTable: Equatable, Sendable {
  /// Names in order of addition.
  public private(set) var names: [String] = []
  private var byName: [String: Tensor] = [:]

  /// An empty table.
  public init() {}

  /// The constant called `name`, if any.
  public subscript(name: String) -> Tensor? { byName[name] }

  /// Adds or replaces `constant` under `name`; a new name goes last.
  public mutating func set(_ name: String, _ constant: Tensor) {
    if byName.updateValue(constant, forKey: name) == nil { names.append(name) }
  }

  /// Removes `name` if present.
  public mutating func remove(_ name: String) {
    guard byName.removeValue(forKey: name) != nil else { return }
    names.removeAll { $0 == name }
  }

  /// Number of constants.
  public var count: Int { names.count }

  /// `(name, constant)` pairs in order.
  public var entries: [(name: String, constant: Tensor)] {
    names.map { ($0, byName[$0]!) }
  }

  /// Tables are equal when they hold the same constants in the same order.
  public static func == (a: ConstantTable, b: ConstantTable) -> Bool {
    a.names == b.names && a.byName == b.byName
  }
}

/// A model: inputs, constants, nodes in topological order, and outputs.
///
/// The graph is a value: passes take it `inout` and a copy is never affected. Nodes refer
/// to values and constants by name, so removing or replacing a node never invalidates
/// indices elsewhere.
public struct Graph: Equatable, Sendable {
  /// The model's name (`resnet50`, or the name from the file it came from).
  public var name: String
  /// Inputs with their static types.
  public var inputs: [GraphInput]
  /// Weights and other named constants.
  public var constants: ConstantTable
  /// Operations; every operand is defined by an input or an earlier node.
  public var nodes: [Node]
  /// Names of the values the model returns, in order.
  public var outputs: [String]

  /// Makes a graph.
  public init(
    name: String, inputs: [GraphInput] = [], constants: ConstantTable = ConstantTable(),
    nodes: [Node] = [], outputs: [String] = []
  ) {
    self.name = name
    self.inputs = inputs
    self.constants = constants
    self.nodes = nodes
    self.outputs = outputs
  }

  /// The type of every value (inputs and node results) by name.
  public var valueTypes: [String: TensorType] {
    var types: [String: TensorType] = [:]
    for input in inputs { types[input.name] = input.type }
    for node in nodes { types[node.name] = node.type }
    return types
  }

  /// The type of an operand, if it is defined.
  public func type(of operand: Operand, in values: [String: TensorType]) -> TensorType? {
    switch operand {
    case .value(let name): values[name]
    case .constant(let name): constants[name]?.type
    }
  }
}
