import GraphIR

/// The state of one import: the graph being built and what each ONNX name stands for.
struct ImportContext {
  var builder: GraphBuilder
  /// The default domain's opset version.
  let opset: Int64
  let decoder: TensorDecoder
  /// ONNX value names resolved so far, to graph values or constants.
  var values: [String: Operand] = [:]
  /// Initializers not yet turned into constants (added on first use, so unused ones vanish).
  var initializers: [String: OnnxTensor] = [:]
  /// Integer tensors known at import (shapes, pads, axes): from Constant nodes and from
  /// folded shape arithmetic. Integer initializers are read where they are used.
  var known: [String: KnownTensor] = [:]
  /// Every ONNX name some node or the graph's outputs read.
  var used: Set<String> = []
  /// Names of all values and constants defined so far, to keep made-up names unique.
  private var taken: Set<String> = []
  /// The ONNX node being converted, by its name (empty where the exporter gave none), and
  /// its first output: the node that defines that output takes the ONNX node's name.
  var current: (node: String, output: String) = ("", "")
  /// Scales and zero points made graph constants, by ONNX name and type: one constant for all
  /// the nodes that read them.
  var sharedConstants: [String: Operand] = [:]

  init(name: String, opset: Int64, decoder: TensorDecoder) {
    builder = GraphBuilder(name: name)
    self.opset = opset
    self.decoder = decoder
  }

  /// A name not used yet, `base` itself if possible, claimed.
  mutating func fresh(_ base: String) -> String {
    let name = freshName(base)
    taken.insert(name)
    return name
  }

  /// A name no value, initializer or constant has, without claiming it (for a value that a
  /// converter defines next).
  func freshName(_ base: String) -> String {
    var name = base
    var n = 1
    while taken.contains(name) || values[name] != nil || initializers[name] != nil || known[name] != nil {
      n += 1
      name = "\(base).\(n)"
    }
    return name
  }

  /// The graph operand for ONNX value `name`, read by `node`.
  mutating func operand(_ name: String, node: String) throws(ONNXError) -> Operand {
    if let operand = values[name] { return operand }
    if known[name] != nil {
      throw .invalidTensor(name: name, reason: "holds integers, read by node \(node) as a float tensor")
    }
    guard let tensor = initializers.removeValue(forKey: name) else {
      throw .undefinedValue(node: node, value: name)
    }
    let operand: Operand
    if let dtype = TensorDecoder.quantizedTypes[tensor.dataType] {
      // The weights and biases of quantized models: kept as integers.
      let (shape, data) = try decoder.integers(tensor)
      guard !shape.contains(0) else { throw .invalidTensor(name: name, reason: "has a zero dimension \(shape)") }
      let type = TensorType(shape.isEmpty ? [1] : shape, dtype: dtype)
      operand = try constant(name, Tensor(type: type, integers: data.map { Int32(truncatingIfNeeded: $0) }))
    } else {
      let (shape, data) = try decoder.floats(tensor)
      guard !shape.contains(0) else { throw .invalidTensor(name: name, reason: "has a zero dimension \(shape)") }
      operand = try constant(name, Tensor(type: TensorType(shape.isEmpty ? [1] : shape), data: data))
    }
    values[name] = operand
    return operand
  }

  /// Adds a constant under `base` (or a fresh variant of it).
  mutating func constant(_ base: String, _ tensor: Tensor) throws(ONNXError) -> Operand {
    let name = builder.graph.constants[base] == nil && !taken.contains(base) ? base : fresh(base)
    taken.insert(name)
    do {
      return try builder.constant(name, tensor)
    } catch {
      throw .graph(error)
    }
  }

  /// The constant made of `tensor` for ONNX value `name` (a scale or zero point), made once
  /// for each type it is read as.
  mutating func sharedConstant(_ name: String, _ tensor: Tensor) throws(ONNXError) -> Operand {
    let key = "\(name)|\(tensor.type)"
    if let operand = sharedConstants[key], constantData(operand) == tensor { return operand }
    let operand = try constant(name, tensor)
    sharedConstants[key] = operand
    return operand
  }

  /// The type and values of integer initializer `name` (uint8, int8 or int32; a scalar has
  /// shape `[]`), or of an integer graph constant it already became. It is not consumed.
  func integerConstant(_ name: String, node: String) throws(ONNXError) -> (TensorType, [Int32]) {
    if let tensor = initializers[name] {
      guard let dtype = TensorDecoder.quantizedTypes[tensor.dataType] else {
        throw .invalidTensor(
          name: name, reason: "is \(OnnxDataType.name(tensor.dataType)), read by node \(node) as a zero point")
      }
      let (shape, data) = try decoder.integers(tensor)
      return (TensorType(shape, dtype: dtype), data.map { Int32(truncatingIfNeeded: $0) })
    }
    if let operand = values[name], let tensor = constantData(operand), tensor.type.dtype.isInteger {
      return (tensor.type, tensor.integers)
    }
    throw .unsupportedNode(
      op: "", node: node, reason: "zero point '\(name)' must be an integer initializer (uint8, int8 or int32)")
  }

  /// Whether `operand` is a `dequantize` node's result whose quantized input is a constant
  /// (the weights of a quantized model).
  func isDequantizedConstant(_ operand: Operand) -> Bool {
    guard case .value(let name) = operand,
      let node = builder.graph.nodes.last(where: { $0.name == name }), case .dequantize = node.op
    else { return false }
    return node.operands[0].isConstant
  }

  /// The type of a resolved operand.
  func type(of operand: Operand) -> TensorType {
    builder.type(of: operand)!
  }

  /// The data of `operand` when it is a constant.
  func constantData(_ operand: Operand) -> Tensor? {
    guard case .constant(let name) = operand else { return nil }
    return builder.graph.constants[name]
  }

  /// The values of an integer tensor input (a Reshape shape, Pad pads), which must be a
  /// constant known at import.
  mutating func integerInput(_ name: String, node: String, op: String) throws(ONNXError) -> [Int64] {
    guard let tensor = try knownTensor(name, node: node) else {
      throw .unsupportedNode(
        op: op, node: node, reason: "input '\(name)' is computed; resnetc needs it to be a constant")
    }
    guard tensor.isInteger else {
      throw .unsupportedNode(op: op, node: node, reason: "input '\(name)' holds floats where integers were expected")
    }
    return tensor.integers
  }

  /// The values of ONNX value `name` when they are known at import (an integer or float
  /// initializer, a Constant, a folded result or a graph constant); nil when it is computed.
  /// Reading a float initializer here does not make it a graph constant.
  func knownTensor(_ name: String, node: String) throws(ONNXError) -> KnownTensor? {
    if let tensor = known[name] { return tensor }
    if let tensor = initializers[name] {
      if tensor.dataType == OnnxDataType.float {
        let (shape, data) = try decoder.floats(tensor)
        return KnownTensor(shape: shape, values: data.map(Double.init), isInteger: false)
      }
      let (shape, data) = try decoder.integers(tensor)
      return KnownTensor(shape: shape, values: data.map(Double.init), isInteger: true)
    }
    guard let operand = values[name] else { throw .undefinedValue(node: node, value: name) }
    guard let data = constantData(operand) else { return nil }
    return KnownTensor(shape: data.type.shape, values: data.data.map(Double.init), isInteger: false)
  }

  /// Makes ONNX value `name` a tensor known at import: an integer one is kept for the shape
  /// inputs that read it, a float one becomes a graph constant.
  mutating func defineKnown(_ name: String, _ tensor: KnownTensor) throws(ONNXError) {
    guard values[name] == nil, known[name] == nil else { throw .duplicateName(name) }
    if tensor.isInteger {
      known[name] = tensor
    } else {
      guard !tensor.shape.contains(0) else {
        throw .invalidTensor(name: name, reason: "has a zero dimension \(tensor.shape)")
      }
      try alias(name, to: try constant(name, tensor.tensor))
    }
  }

  /// The shape of ONNX value `name`, computed or known.
  func shape(of name: String, node: String) throws(ONNXError) -> [Int] {
    if let tensor = known[name] { return tensor.shape }
    if let operand = values[name] { return type(of: operand).shape }
    if let tensor = initializers[name] { return try decoder.shape(tensor).shape }
    throw .undefinedValue(node: node, value: name)
  }

  /// Adds a node defining ONNX value `name` (or a fresh name derived from it).
  @discardableResult
  mutating func define(_ name: String, _ op: Op, _ operands: [Operand]) throws(ONNXError) -> Operand {
    guard values[name] == nil else { throw .duplicateName(name) }
    let preferred = preferredName(name)
    let nodeName = taken.contains(preferred) ? fresh(preferred) : preferred
    taken.insert(nodeName)
    let result: Operand
    do {
      result = try builder.node(nodeName, op, operands)
    } catch {
      throw .graph(error)
    }
    values[name] = result
    return result
  }

  /// The name of the node that computes ONNX value `name`: the ONNX node's own where the
  /// exporter gave one (`/layer1/layer1.0/conv1/Conv`), `name` is its first output and no
  /// ONNX value is called so; else `name`.
  func preferredName(_ name: String) -> String {
    let node = current.node
    guard name == current.output, !node.isEmpty, !used.contains(node), values[node] == nil,
      initializers[node] == nil, known[node] == nil
    else { return name }
    return node
  }

  /// A node with a made-up name, for the intermediate steps of one ONNX node (named as
  /// `preferredName` says where it computes the node's output).
  mutating func helper(_ base: String, _ op: Op, _ operands: [Operand]) throws(ONNXError) -> Operand {
    let name = fresh(preferredName(base))
    do {
      return try builder.node(name, op, operands)
    } catch {
      throw .graph(error)
    }
  }

  /// Makes ONNX value `name` stand for `operand` (Identity, Dropout).
  mutating func alias(_ name: String, to operand: Operand) throws(ONNXError) {
    guard values[name] == nil else { throw .duplicateName(name) }
    values[name] = operand
  }

  /// Marks the graph's ONNX input `name` as an input of type `type`.
  mutating func input(_ name: String, _ type: TensorType) throws(ONNXError) {
    guard values[name] == nil else { throw .duplicateName(name) }
    taken.insert(name)
    do {
      values[name] = try builder.input(name, type)
    } catch {
      throw .graph(error)
    }
  }
}
