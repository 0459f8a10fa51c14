import GraphIR
import Passes

/// Post-training static quantization: a float model becomes a QDQ model. Weights are int8,
/// symmetric, with one scale per output channel. Activations are uint8, asymmetric, with
/// one scale per tensor from calibration. Biases are int32 at scale `x_scale·w_scale[k]`.
///
/// The result is the form ONNX Runtime's quantizer writes: `quantize` → `dequantize` pairs
/// around float ops. `fuse-quantized` then turns each conv and dense layer into an integer
/// `qconv2d` or `qdense`.
public enum Quantizer {
  /// The passes run before quantizing: BatchNorm folds into the convs, but ReLUs and shortcut
  /// additions stay nodes so that each gets its own quantized range.
  public static let preparation = [
    "fold-constants", "remove-identities", "fold-pad", "fold-batchnorm", "fold-input-scale", "eliminate-dead-nodes",
  ]

  /// `graph` with BatchNorm folded, ready to calibrate; refuses a graph that is already
  /// quantized or that computes on integers.
  public static func prepare(_ graph: Graph) throws -> Graph {
    if let node = graph.nodes.first(where: \.op.isQuantized) {
      throw QuantizationError.alreadyQuantized(node: node.name, op: node.op.name)
    }
    if let input = graph.inputs.first(where: { $0.type.dtype != .f32 }) {
      throw QuantizationError.integerInput(input.name, input.type)
    }
    var prepared = graph
    try PassManager.named(preparation).run(&prepared)
    return prepared
  }

  /// The activations to quantize: every input and node value that a node reads, except one
  /// whose readers are all ReLUs (the ReLU's result is quantized instead) and the results of
  /// reshapes, flattens and transposes (they move values already quantized).
  public static func activations(_ graph: Graph) -> [String] {
    let readers = Dictionary(grouping: graph.nodes.flatMap { node in node.operands.map { ($0, node.op) } }) { $0.0 }
    let moves: Set<String> = ["reshape", "flatten", "transpose"]
    let producers = Dictionary(uniqueKeysWithValues: graph.nodes.map { ($0.name, $0.op.name) })
    let values = graph.inputs.map(\.name) + graph.nodes.map(\.name)
    return values.filter { name in
      guard let ops = readers[.value(name)], !ops.isEmpty else { return false }
      if ops.allSatisfy({ $0.1 == .relu }) { return false }
      return !moves.contains(producers[name] ?? "")
    }
  }

  /// The largest magnitude of an 8-bit weight, and of a weight in `reducedRange`.
  public static let fullRange: Int32 = 127
  /// Weights within ±64, as ONNX Runtime's `reduce_range` writes them: no two of them pass
  /// int16 in `vpmaddubsw`'s pair sums, so that CPUs without VNNI multiply bytes exactly.
  public static let reducedRange: Int32 = 64

  /// The QDQ model of prepared graph `graph`, with `ranges` from `Calibration.ranges` for each
  /// of `activations(graph)`, its weights within ±`weightRange` (`fullRange` or `reducedRange`).
  public static func quantize(_ graph: Graph, ranges: [String: ActivationRange], weightRange: Int32 = fullRange)
    throws -> QuantizedModel
  {
    var result = graph
    var points: [QuantizationPoint] = []
    var weightNodes: [Node] = []
    var pairs: [String: [Node]] = [:]
    var scales: [String: Float] = [:]
    for name in activations(graph) {
      guard let range = ranges[name] else { throw QuantizationError.missingRange(name) }
      let (scale, zero) = activationParameters(range)
      let type = valueType(name, in: graph)
      let s = result.freshConstantName(name + ".scale")
      result.constants.set(s, Tensor(type: TensorType([]), data: [scale]))
      let z = result.freshConstantName(name + ".zero_point")
      result.constants.set(z, Tensor(type: TensorType([], dtype: .u8), integers: [zero]))
      let q = freshValueName(name + ".quantized", in: result)
      let dq = freshValueName(name + ".dequantized", in: result, also: [q])
      pairs[name] = [
        Node(
          name: q, op: .quantize(axis: 0), operands: [.value(name), .constant(s), .constant(z)],
          type: TensorType(type.shape, dtype: .u8)),
        Node(name: dq, op: .dequantize(axis: 0), operands: [.value(q), .constant(s), .constant(z)], type: type),
      ]
      scales[name] = scale
      points.append(QuantizationPoint(value: name, quantized: q, range: range, scale: scale, zero: zero))
    }
    // Readers read the dequantized values; graph outputs stay the float values.
    for i in result.nodes.indices {
      result.nodes[i].operands = result.nodes[i].operands.map { operand in
        guard case .value(let name) = operand, let pair = pairs[name] else { return operand }
        return .value(pair[1].name)
      }
    }
    // Weights and biases of conv2d and dense.
    var quantizedWeights: [String: Node] = [:]
    for i in result.nodes.indices {
      let node = result.nodes[i]
      switch node.op {
      case .conv2d, .dense: break
      default: continue
      }
      guard case .constant(let w) = node.operands[1], let weight = result.constants[w], weight.type.dtype == .f32
      else { continue }
      let dq: Node
      if let shared = quantizedWeights[w] {
        dq = shared
      } else {
        dq = quantizeWeight(w, weight, range: weightRange, graph: &result)
        quantizedWeights[w] = dq
        weightNodes.append(dq)
      }
      result.nodes[i].operands[1] = .value(dq.name)
      guard node.operands.count > 2, case .constant(let b) = node.operands[2],
        let bias = result.constants[b], bias.type.dtype == .f32,
        case .value(let x) = node.operands[0], let source = pairs.first(where: { $0.value[1].name == x })?.key,
        let xScale = scales[source]
      else { continue }
      let weightScales = result.constants[dq.operands[1].name]!.data
      let bq = quantizeBias(node.name, bias, scales: weightScales.map { xScale * $0 }, graph: &result)
      weightNodes.append(bq)
      result.nodes[i].operands[2] = .value(bq.name)
    }
    result.removeUnusedConstants(among: graph.constants.names.map { .constant($0) })
    // Each pair right after its value's definition (inputs' pairs first); weights first of all.
    var nodes = weightNodes
    for input in graph.inputs { nodes += pairs[input.name] ?? [] }
    for node in result.nodes {
      nodes.append(node)
      nodes += pairs[node.name] ?? []
    }
    result.nodes = nodes
    try Verifier.verify(result)
    return QuantizedModel(graph: result, points: points)
  }

  /// The u8 scale and zero point that represent `range` (which holds 0) exactly at its ends.
  static func activationParameters(_ range: ActivationRange) -> (scale: Float, zero: Int32) {
    let width = Double(range.upper) - Double(range.lower)
    guard width > 0, width.isFinite else { return (1, 0) }
    let scale = Float(width / 255)
    let zero = (-Double(range.lower) / Double(scale)).rounded(.toNearestOrEven)
    return (scale, Int32(min(max(zero, 0), 255)))
  }

  /// `dequantize(@w.quantized, @w.scale, @w.zero_point) {axis=0}` with i8 values in
  /// [-range, range] and one scale per output channel: `max|w[k]| / range`.
  static func quantizeWeight(_ name: String, _ weight: Tensor, range: Int32, graph: inout Graph) -> Node {
    let channels = weight.type.shape[0]
    let per = weight.type.elementCount / max(channels, 1)
    var scales: [Float] = []
    var integers: [Int32] = []
    integers.reserveCapacity(weight.data.count)
    for k in 0..<channels {
      let values = weight.data[(k * per)..<((k + 1) * per)]
      let largest = values.reduce(Float(0)) { max($0, abs($1)) }
      let scale = largest > 0 && largest.isFinite ? largest / Float(range) : 1
      scales.append(scale)
      let bound = Float(range)
      for v in values {
        integers.append(Int32(min(max((v / scale).rounded(.toNearestOrEven), -bound), bound)))
      }
    }
    let q = graph.freshConstantName(name + ".quantized")
    graph.constants.set(q, Tensor(type: TensorType(weight.type.shape, dtype: .i8), integers: integers))
    let s = graph.freshConstantName(name + ".scale")
    graph.constants.set(s, Tensor(type: TensorType([channels]), data: scales))
    let z = graph.freshConstantName(name + ".zero_point")
    graph.constants.set(
      z, Tensor(type: TensorType([channels], dtype: .i8), integers: [Int32](repeating: 0, count: channels)))
    return Node(
      name: freshValueName(name + ".dequantized", in: graph), op: .dequantize(axis: 0),
      operands: [.constant(q), .constant(s), .constant(z)], type: weight.type)
  }

  /// The bias of node `node` in i32 at `scales`, dequantized.
  static func quantizeBias(_ node: String, _ bias: Tensor, scales: [Float], graph: inout Graph) -> Node {
    let integers = zip(bias.data, scales).map { b, s -> Int32 in
      let q = (Double(b) / Double(s)).rounded(.toNearestOrEven)
      return Int32(min(max(q, Double(Int32.min + 1)), Double(Int32.max)))
    }
    let q = graph.freshConstantName(node + ".bias_quantized")
    graph.constants.set(q, Tensor(type: TensorType([scales.count], dtype: .i32), integers: integers))
    let s = graph.freshConstantName(node + ".bias_scale")
    graph.constants.set(s, Tensor(type: TensorType([scales.count]), data: scales))
    let z = graph.freshConstantName(node + ".bias_zero_point")
    graph.constants.set(
      z, Tensor(type: TensorType([scales.count], dtype: .i32), integers: [Int32](repeating: 0, count: scales.count)))
    return Node(
      name: freshValueName(node + ".bias_dequantized", in: graph), op: .dequantize(axis: 0),
      operands: [.constant(q), .constant(s), .constant(z)], type: bias.type)
  }

  static func valueType(_ name: String, in graph: Graph) -> TensorType {
    graph.nodes.first { $0.name == name }?.type ?? graph.inputs.first { $0.name == name }!.type
  }

  /// `base`, or `base.2`, ... : a name no input or node (nor any of `also`) defines.
  static func freshValueName(_ base: String, in graph: Graph, also: [String] = []) -> String {
    let taken = Set(graph.inputs.map(\.name) + graph.nodes.map(\.name) + also)
    var name = base
    var n = 1
    while taken.contains(name) {
      n += 1
      name = "\(base).\(n)"
    }
    return name
  }
}

/// One quantized activation: its float value, the quantize node's name, the range and the
/// parameters chosen.
public struct QuantizationPoint: Sendable, Equatable {
  public let value: String
  public let quantized: String
  public let range: ActivationRange
  public let scale: Float
  public let zero: Int32
}

/// A QDQ graph and its quantized activations.
public struct QuantizedModel: Sendable {
  public let graph: Graph
  public let points: [QuantizationPoint]
}

/// Why a model cannot be quantized.
public enum QuantizationError: Error, Equatable, CustomStringConvertible {
  case alreadyQuantized(node: String, op: String)
  case integerInput(String, TensorType)
  case missingRange(String)
  case noCalibrationInputs

  public var description: String {
    switch self {
    case .alreadyQuantized(let node, let op):
      "the model is already quantized: node %\(IRName.spelling(of: node)) is \(op)"
    case .integerInput(let name, let type):
      "input %\(IRName.spelling(of: name)) is \(type); quantize expects a model with f32 inputs"
    case .missingRange(let name): "no calibrated range for %\(IRName.spelling(of: name))"
    case .noCalibrationInputs: "no calibration inputs: give --calibrate DIR or --calibrate-random N"
    }
  }
}
