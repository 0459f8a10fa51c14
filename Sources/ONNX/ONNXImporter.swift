import Foundation
import GraphIR

/// A shape given on the command line for a model input: `1x3x224x224` for the only input,
/// or `name=1x3x224x224`.
public struct InputShape: Equatable, Sendable {
  /// The input it applies to; nil for a model's only input.
  public var input: String?
  /// The dimensions.
  public var shape: [Int]

  /// Parses `1x3x224x224` or `name=1x3x224x224`; nil when malformed.
  public init?(parsing text: String) {
    var dims = Substring(text)
    if let equals = text.lastIndex(of: "=") {
      input = String(text[..<equals])
      dims = text[text.index(after: equals)...]
    }
    let parts = dims.split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
    guard !parts.isEmpty, parts.allSatisfy({ $0 != nil && $0! > 0 }) else { return nil }
    shape = parts.map { $0! }
  }

  /// Makes a pin.
  public init(input: String?, shape: [Int]) {
    self.input = input
    self.shape = shape
  }
}

/// Imports ONNX models (opsets 1 to 28 of the default domain) into verified graphs.
public enum ONNXImporter {
  /// The default-domain opsets whose semantics resnetc implements for its ops.
  public static let supportedOpsets: ClosedRange<Int64> = 1...28
  /// Largest `.onnx` file read into memory (protobuf's own limit); larger models keep their
  /// weights in external data.
  public static let maxFileBytes = 1 << 31

  /// Reads and imports the model at `path`; external data is resolved in its folder.
  /// `feeding` names graph inputs that an initializer also defines and that are to stay
  /// inputs; any other such input is a constant, its initializer's value.
  public static func load(path: String, inputShapes: [InputShape] = [], feeding: Set<String> = []) throws -> Graph {
    let bytes = try ModelFile.readFile(path, limit: maxFileBytes)
    let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
    let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
    return try importModel(bytes, name: name, directory: directory, inputShapes: inputShapes, feeding: feeding)
  }

  /// Imports a model from its bytes. `directory` is where external data lives.
  public static func importModel(
    _ bytes: [UInt8], name: String, directory: String?, inputShapes: [InputShape] = [], feeding: Set<String> = []
  ) throws(ONNXError) -> Graph {
    var reader = ProtobufReader(bytes: bytes)
    let model: OnnxModel
    do {
      model = try OnnxModel(reading: &reader)
    } catch {
      throw .wireFormat(error)
    }
    guard model.hasGraph else { throw .noGraph }
    let opset = model.opsets.first { $0.domain == "" || $0.domain == "ai.onnx" }?.version ?? 0
    guard supportedOpsets.contains(opset) else { throw .unsupportedOpset(opset, supported: supportedOpsets) }
    let graph = model.graph
    guard !graph.hasSparseInitializers else {
      throw .invalidTensor(name: graph.name, reason: "sparse initializers are not supported")
    }
    var context = ImportContext(
      name: graph.name.isEmpty ? name : graph.name, opset: opset,
      decoder: TensorDecoder(bytes: bytes, external: ExternalData(modelDirectory: directory)))
    for tensor in graph.initializers {
      guard context.initializers.updateValue(tensor, forKey: tensor.name) == nil else {
        throw .duplicateName(tensor.name)
      }
    }
    for fed in feeding.sorted() {
      guard graph.inputs.contains(where: { $0.name == fed }), context.initializers.removeValue(forKey: fed) != nil
      else {
        throw .invalidInput(input: fed, reason: "is named by --feed but is no graph input that an initializer defines")
      }
    }
    for node in graph.nodes { context.used.formUnion(node.inputs.filter { !$0.isEmpty }) }
    context.used.formUnion(graph.outputs.map(\.name))
    try addInputs(graph.inputs, pins: inputShapes, to: &context)
    for node in graph.nodes { try convert(node, &context) }
    return try finish(graph.outputs, &context)
  }

  /// The graph inputs that are not initializers, with every dimension known.
  private static func addInputs(_ inputs: [OnnxValueInfo], pins: [InputShape], to context: inout ImportContext)
    throws(ONNXError)
  {
    let real = inputs.filter { context.initializers[$0.name] == nil }
    for pin in pins {
      if let name = pin.input, !real.contains(where: { $0.name == name }) { throw .unknownInputShape(name) }
      if pin.input == nil, real.count != 1 {
        throw .invalidInput(
          input: real.map(\.name).joined(separator: ", "),
          reason: "the model has \(real.count) inputs; name the one to pin with --input-shape NAME=SHAPE")
      }
    }
    for info in real {
      guard info.elemType == OnnxDataType.float else {
        throw .invalidInput(
          input: info.name,
          reason: "has element type \(OnnxDataType.name(info.elemType ?? 0)); resnetc takes float inputs")
      }
      let pin = pins.last { $0.input == info.name || ($0.input == nil && real.count == 1) }
      guard let dims = info.dims else {
        guard let pin else {
          throw .invalidInput(input: info.name, reason: "has no shape; give one with --input-shape")
        }
        try context.input(info.name, TensorType(pin.shape))
        continue
      }
      if let pin, pin.shape.count != dims.count {
        throw .invalidInput(
          input: info.name, reason: "has rank \(dims.count) but --input-shape gives \(pin.shape.count) dimensions")
      }
      var shape: [Int] = []
      for (index, dim) in dims.enumerated() {
        switch dim {
        case .value(let v):
          guard v > 0 else { throw .invalidInput(input: info.name, reason: "dimension \(index) is \(v)") }
          if let pin, pin.shape[index] != v {
            throw .invalidInput(
              input: info.name, reason: "dimension \(index) is \(v) but --input-shape gives \(pin.shape[index])")
          }
          shape.append(Int(v))
        case .param(let name):
          guard let pin else { throw .symbolicDimension(input: info.name, index: index, name: name) }
          shape.append(pin.shape[index])
        case .unknown:
          guard let pin else { throw .symbolicDimension(input: info.name, index: index, name: "?") }
          shape.append(pin.shape[index])
        }
      }
      try context.input(info.name, TensorType(shape))
    }
  }

  /// Converts one node, after checking its domain and that it reads only defined values.
  private static func convert(_ node: OnnxNode, _ context: inout ImportContext) throws(ONNXError) {
    let label = node.name.isEmpty ? (node.outputs.first ?? "?") : node.name
    let table = node.domain == "com.microsoft" ? microsoftConverters : converters
    guard node.domain.isEmpty || node.domain == "ai.onnx" || node.domain == "com.microsoft",
      let converter = table[node.opType]
    else {
      throw .unsupportedOp(op: node.opType, domain: node.domain, opset: context.opset, node: label)
    }
    guard let output = node.outputs.first, !output.isEmpty else {
      throw .unsupportedNode(op: node.opType, node: label, reason: "has no output")
    }
    context.current = (node.name, output)
    defer { context.current = ("", "") }
    try converter(OnnxNodeView(node: node, label: label), &context)
  }

  /// Maps the graph outputs to values, naming each result after its ONNX output.
  ///
  /// An output of the IR is computed by a node or is an input, and is listed once; an ONNX
  /// output that is an initializer (or Constant), a graph input under another name (through
  /// Identity or a zero Pad), or a value listed a second time, becomes a copy: a reshape to
  /// its own shape. Renaming values after their outputs never renames an input.
  private static func finish(_ outputs: [OnnxValueInfo], _ context: inout ImportContext) throws(ONNXError) -> Graph {
    var results: [Operand] = []
    for info in outputs {
      guard context.known[info.name] == nil else {
        throw .invalidOutput(
          output: info.name, reason: "is an integer tensor (shape arithmetic); resnetc's outputs are float tensors")
      }
      guard context.values[info.name] != nil || context.initializers[info.name] != nil else {
        throw .invalidOutput(output: info.name, reason: "no node computes it")
      }
      var operand = try context.operand(info.name, node: "graph output")
      let renamedInput = context.builder.graph.inputs.contains { $0.name == operand.name } && operand.name != info.name
      if operand.isConstant || results.contains(operand) || renamedInput {
        operand = try context.helper(
          info.name, .reshape(shape: context.type(of: operand).shape), [operand])
      }
      if let dims = info.dims {
        let shape = context.type(of: operand).shape
        let declared = dims.map { dim -> Int? in if case .value(let v) = dim { Int(v) } else { nil } }
        guard declared.count == shape.count, zip(declared, shape).allSatisfy({ $0 == nil || $0 == $1 }) else {
          throw .invalidOutput(output: info.name, reason: "is declared \(dims) but computes \(shape)")
        }
      }
      results.append(operand)
    }
    var graph: Graph
    do {
      graph = try context.builder.finish(outputs: results)
    } catch {
      throw .graph(error)
    }
    for (info, operand) in zip(outputs, results) where operand.name != info.name && graph.valueTypes[info.name] == nil {
      graph.renameValue(operand.name, to: info.name)
    }
    do {
      try Verifier.verify(graph)
    } catch {
      throw .graph(error)
    }
    return graph
  }
}

/// A node with the label its errors use.
struct OnnxNodeView {
  let node: OnnxNode
  let label: String

  var op: String { node.opType }

  /// Input `i`, or nil when absent or empty (an omitted optional input).
  func input(_ i: Int) -> String? {
    i < node.inputs.count && !node.inputs[i].isEmpty ? node.inputs[i] : nil
  }

  /// Input `i`, which the op requires.
  func requiredInput(_ i: Int) throws(ONNXError) -> String {
    guard let name = input(i) else { throw .unsupportedNode(op: op, node: label, reason: "input \(i) is missing") }
    return name
  }

  /// The first output's name.
  var output: String { node.outputs[0] }

  /// The node's attributes, rejecting any not in `known`.
  func attributes(_ known: Set<String>) throws(ONNXError) -> NodeAttributes {
    try NodeAttributes(node, label: label, known: known)
  }

  /// Checks the node has at most `count` inputs.
  func expectInputs(_ range: ClosedRange<Int>) throws(ONNXError) {
    guard range.contains(node.inputs.count) else {
      throw .unsupportedNode(
        op: op, node: label, reason: "takes \(range.lowerBound) to \(range.upperBound) inputs, got \(node.inputs.count)"
      )
    }
  }

  /// Checks that outputs after the first are absent or never read.
  func expectOnlyFirstOutputUsed(_ context: ImportContext) throws(ONNXError) {
    for extra in node.outputs.dropFirst() where !extra.isEmpty && context.used.contains(extra) {
      throw .unsupportedNode(
        op: op, node: label, reason: "output '\(extra)' is used; resnetc computes only the first output")
    }
  }

  func fail(_ reason: String) -> ONNXError { .unsupportedNode(op: op, node: label, reason: reason) }
}
