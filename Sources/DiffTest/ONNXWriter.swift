import GraphIR
import ONNX

/// Writes a graph as an ONNX model (opset 17), so that generated graphs also reach the
/// importer.
///
/// Each op becomes what an exporter writes for it: `Conv` (a fused epilogue as `Add` and
/// `Relu` after it), `BatchNormalization`, `scale_shift` as a BatchNormalization with mean 0,
/// variance 1 and epsilon 0, `Relu`, `Add` (a chain of single-use additions as one `Sum`),
/// `MaxPool`/`AveragePool`, `GlobalAveragePool`, `Flatten`, `Gemm` (transB=1), `Softmax`,
/// `subsample2d` as a 1x1 `MaxPool` with strides, `pad_channels` and `pad2d` as `Pad`,
/// `Reshape`, `Mul`, `Clip` (bounds as inputs), `Transpose`; `quantize` and `dequantize` as
/// `QuantizeLinear` and `DequantizeLinear`, `qconv2d` as `QLinearConv` (a ReLU epilogue as
/// `DequantizeLinear`, `Relu`, `QuantizeLinear` with the output's scale and zero point, which
/// is exact), `qdense` as `DequantizeLinear` of its operands, `Gemm` and `QuantizeLinear` (in
/// floats: not always the same integers). Constants are initializers; names are kept, and the few the writer makes up
/// are chosen not to collide with any of the graph's.
public enum ONNXWriter {
  /// The model's bytes.
  public static func model(_ graph: Graph) -> [UInt8] {
    var w = Writer(graph: graph)
    return w.model()
  }
}

/// Protobuf fields, as the writer spells them: `ProtobufWriter` with `Int` values.
enum Wire {
  static func int(_ field: Int, _ v: Int) -> [UInt8] { ProtobufWriter.int(field, Int64(v)) }
  static func bytes(_ field: Int, _ b: [UInt8]) -> [UInt8] { ProtobufWriter.bytes(field, b) }
  static func string(_ field: Int, _ s: String) -> [UInt8] { ProtobufWriter.string(field, s) }
  static func float(_ field: Int, _ f: Float) -> [UInt8] { ProtobufWriter.float(field, f) }
}

private struct Writer {
  let graph: Graph
  var nodes: [[UInt8]] = []
  var initializers: [[UInt8]] = []
  var taken: Set<String>
  /// Additions absorbed into the `Sum` of the addition that reads them.
  var absorbed: [String: [Operand]] = [:]

  init(graph: Graph) {
    self.graph = graph
    taken = Set(graph.inputs.map(\.name) + graph.nodes.map(\.name) + graph.constants.names)
  }

  mutating func model() -> [UInt8] {
    var uses: [String: Int] = [:]
    for node in graph.nodes { for case .value(let v) in node.operands { uses[v, default: 0] += 1 } }
    for output in graph.outputs { uses[output, default: 0] += 2 }
    var readByAdd: Set<String> = []
    for node in graph.nodes where node.op == .add { for case .value(let v) in node.operands { readByAdd.insert(v) } }
    for (name, constant) in graph.constants.entries { initializers.append(tensor(name, constant)) }
    for node in graph.nodes {
      if node.op == .add, uses[node.name] == 1, readByAdd.contains(node.name),
        !node.operands.contains(.value(node.name))
      {
        absorbed[node.name] = node.operands
        continue
      }
      emit(node)
    }
    let body =
      nodes.flatMap { Wire.bytes(1, $0) } + Wire.string(2, graph.name) + initializers.flatMap { Wire.bytes(5, $0) }
      + graph.inputs.flatMap { Wire.bytes(11, valueInfo($0.name, $0.type.shape)) }
      + graph.outputs.flatMap { Wire.bytes(12, valueInfo($0, nil)) }
    return Wire.int(1, 8) + Wire.string(2, "resnetc-difftest") + Wire.bytes(7, body)
      + Wire.bytes(8, Wire.string(1, "") + Wire.int(2, 17))
  }

  /// A name none of the graph's names equals.
  mutating func fresh(_ base: String) -> String {
    var name = base
    var n = 1
    while taken.contains(name) {
      n += 1
      name = "\(base)~\(n)"
    }
    taken.insert(name)
    return name
  }

  mutating func node(_ op: String, _ inputs: [String], _ output: String, _ attributes: [[UInt8]] = []) {
    nodes.append(
      inputs.flatMap { Wire.string(1, $0) } + Wire.string(2, output) + Wire.string(3, output) + Wire.string(4, op)
        + attributes.flatMap { Wire.bytes(5, $0) })
  }

  mutating func constant(_ base: String, _ values: [Float], shape: [Int]) -> String {
    let name = fresh(base)
    initializers.append(tensor(name, Tensor(type: TensorType(shape), data: values)))
    return name
  }

  mutating func integers(_ base: String, _ values: [Int]) -> String {
    let name = fresh(base)
    initializers.append(
      Wire.int(1, values.count) + Wire.int(2, 7) + Wire.string(8, name) + values.flatMap { Wire.int(7, $0) })
    return name
  }

  /// The leaves of an addition, through the additions it absorbed.
  func addends(_ operands: [Operand]) -> [String] {
    operands.flatMap { operand in absorbed[operand.name].map(addends) ?? [operand.name] }
  }

  mutating func emit(_ n: Node) {
    let x = n.operands.map(\.name)
    switch n.op {
    case .conv2d(let a):
      var attributes = [
        ints("strides", a.stride.elements), ints("pads", a.padding.elements), ints("dilations", a.dilation.elements),
        int("group", a.groups),
      ]
      let weight = graph.type(of: n.operands[1], in: graph.valueTypes)!.shape
      attributes.append(ints("kernel_shape", [weight[2], weight[3]]))
      let convInputs = Array(x.prefix(a.epilogue.addsResidual ? x.count - 1 : x.count))
      switch a.epilogue {
      case .none: node("Conv", convInputs, n.name, attributes)
      case .relu:
        let t = fresh(n.name + "~conv")
        node("Conv", convInputs, t, attributes)
        node("Relu", [t], n.name)
      case .add, .addReLU:
        let t = fresh(n.name + "~conv")
        node("Conv", convInputs, t, attributes)
        if a.epilogue == .add {
          node("Add", [t, x.last!], n.name)
        } else {
          let s = fresh(n.name + "~sum")
          node("Add", [t, x.last!], s)
          node("Relu", [s], n.name)
        }
      }
    case .batchNorm(let epsilon):
      node("BatchNormalization", x, n.name, [float("epsilon", epsilon)])
    case .scaleShift:
      let c = graph.type(of: n.operands[1], in: graph.valueTypes)!.shape
      let mean = constant(n.name + "~mean", Array(repeating: 0, count: c[0]), shape: c)
      let variance = constant(n.name + "~var", Array(repeating: 1, count: c[0]), shape: c)
      node("BatchNormalization", [x[0], x[1], x[2], mean, variance], n.name, [float("epsilon", 0)])
    case .relu: node("Relu", x, n.name)
    case .mul: node("Mul", x, n.name)
    case .clip(let lo, let hi):
      let bounds = [constant(n.name + "~min", [lo], shape: []), constant(n.name + "~max", [hi], shape: [])]
      node("Clip", [x[0]] + bounds, n.name)
    case .transpose(let perm): node("Transpose", x, n.name, [ints("perm", perm)])
    case .add:
      let leaves = addends(n.operands)
      node(leaves.count > 2 ? "Sum" : "Add", leaves, n.name)
    case .maxPool2d(let a): node("MaxPool", x, n.name, pool(a))
    case .avgPool2d(let a, let countIncludePad):
      node("AveragePool", x, n.name, pool(a) + [int("count_include_pad", countIncludePad ? 1 : 0)])
    case .globalAvgPool: node("GlobalAveragePool", x, n.name)
    case .flatten(let axis): node("Flatten", x, n.name, [int("axis", axis)])
    case .dense: node("Gemm", x, n.name, [int("transB", 1)])
    case .softmax(let axis): node("Softmax", x, n.name, [int("axis", axis)])
    case .subsample2d(let stride):
      node("MaxPool", x, n.name, [ints("kernel_shape", [1, 1]), ints("strides", stride.elements)])
    case .padChannels(let before, let after):
      node("Pad", [x[0], integers(n.name + "~pads", [0, before, 0, 0, 0, after, 0, 0])], n.name)
    case .pad2d(let p, let value):
      let pads = integers(n.name + "~pads", [0, 0, p.top, p.left, 0, 0, p.bottom, p.right])
      node("Pad", [x[0], pads, constant(n.name + "~value", [value], shape: [])], n.name)
    case .reshape(let shape):
      node("Reshape", [x[0], integers(n.name + "~shape", shape)], n.name)
    case .quantize(let axis): node("QuantizeLinear", x, n.name, [int("axis", axis)])
    case .dequantize(let axis): node("DequantizeLinear", x, n.name, [int("axis", axis)])
    case .qconv2d(let a):
      let attributes = [
        ints("strides", a.stride.elements), ints("pads", a.padding.elements), ints("dilations", a.dilation.elements),
        int("group", a.groups),
      ]
      guard a.epilogue == .relu else {
        node("QLinearConv", x, n.name, attributes)
        return
      }
      let conv = fresh(n.name + "~conv"), real = fresh(n.name + "~real"), relu = fresh(n.name + "~relu")
      node("QLinearConv", x, conv, attributes)
      node("DequantizeLinear", [conv, x[6], x[7]], real)
      node("Relu", [real], relu)
      node("QuantizeLinear", [relu, x[6], x[7]], n.name)
    case .qdense:
      let xr = fresh(n.name + "~x"), wr = fresh(n.name + "~w"), y = fresh(n.name + "~y")
      node("DequantizeLinear", [x[0], x[1], x[2]], xr)
      node("DequantizeLinear", [x[3], x[4], x[5]], wr, [int("axis", 0)])
      var gemm = [xr, wr]
      if x.count == 9 {
        let scale = graph.constants[x[1]]!.data[0]
        let weightScales = graph.constants[x[4]]!.data
        let biasScale = constant(
          n.name + "~bias_scale", weightScales.map { $0 * scale },
          shape: weightScales.count == 1 ? [] : [weightScales.count])
        let zeros = fresh(n.name + "~bias_zero")
        initializers.append(
          tensor(
            zeros,
            Tensor(
              type: TensorType(weightScales.count == 1 ? [] : [weightScales.count], dtype: .i32),
              integers: Array(repeating: 0, count: weightScales.count))))
        let b = fresh(n.name + "~b")
        node("DequantizeLinear", [x[8], biasScale, zeros], b)
        gemm.append(b)
      }
      node("Gemm", gemm, y, [int("transB", 1)])
      node("QuantizeLinear", [y, x[6], x[7]], n.name)
    }
  }

  func pool(_ a: Pool2dAttributes) -> [[UInt8]] {
    var attributes = [
      ints("kernel_shape", a.kernel.elements), ints("strides", a.stride.elements), ints("pads", a.padding.elements),
      int("ceil_mode", a.ceilMode ? 1 : 0),
    ]
    if a.dilation != .square(1) { attributes.append(ints("dilations", a.dilation.elements)) }
    return attributes
  }

  func int(_ name: String, _ v: Int) -> [UInt8] { Wire.string(1, name) + Wire.int(20, 2) + Wire.int(3, v) }
  func ints(_ name: String, _ v: [Int]) -> [UInt8] {
    Wire.string(1, name) + Wire.int(20, 7) + v.flatMap { Wire.int(8, $0) }
  }
  func float(_ name: String, _ v: Float) -> [UInt8] { Wire.string(1, name) + Wire.int(20, 1) + Wire.float(2, v) }

  /// `TensorProto` with raw little-endian data: FLOAT (1), UINT8 (2), INT8 (3) or INT32 (6).
  func tensor(_ name: String, _ t: Tensor) -> [UInt8] {
    let head = { (code: Int) in t.type.shape.flatMap { Wire.int(1, $0) } + Wire.int(2, code) + Wire.string(8, name) }
    switch t.type.dtype {
    case .f32:
      return head(1)
        + Wire.bytes(9, t.data.flatMap { f in (0..<4).map { UInt8(truncatingIfNeeded: f.bitPattern >> (8 * $0)) } })
    case .u8: return head(2) + Wire.bytes(9, t.integers.map { UInt8(truncatingIfNeeded: $0) })
    case .i8: return head(3) + Wire.bytes(9, t.integers.map { UInt8(truncatingIfNeeded: $0) })
    case .i32:
      return head(6)
        + Wire.bytes(9, t.integers.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } })
    }
  }

  /// `ValueInfoProto`: a float tensor, with its shape when given.
  func valueInfo(_ name: String, _ shape: [Int]?) -> [UInt8] {
    var tensorType = Wire.int(1, 1)
    if let shape { tensorType += Wire.bytes(2, shape.flatMap { Wire.bytes(1, Wire.int(1, $0)) }) }
    return Wire.string(1, name) + Wire.bytes(2, Wire.bytes(1, tensorType))
  }
}
