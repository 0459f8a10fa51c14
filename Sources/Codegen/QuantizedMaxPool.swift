import GraphIR

/// A max pool between a dequantize and a quantize of the same scale and zero point, as QDQ
/// models spell a quantized max pool, which one step runs as the max pool of the integers:
///
///     %d = dequantize(%x, s, z)
///     %m = max_pool2d(%d)              %q = max_pool2d(%x), on the integers themselves
///     %q = quantize(%m, s, z)
///
/// The interpreter's result is that max exactly: dequantizing is increasing (s > 0), so the
/// largest dequantized value of a window is the dequantized largest integer; and quantizing
/// `(x - z) · s` by the same `s` and `z` gives `x` back, as the product and the quotient in
/// Float each err by less than 2^-23 of the value, far less than half a step for
/// `|x - z| ≤ 255`. The pool's padding, which no window maximum takes, stays out of it.
struct QuantizedMaxPool: Hashable, Sendable {
  let dequantize: Node
  let pool: Node
  let quantize: Node
  /// The integers the dequantize reads.
  var input: Operand { dequantize.operands[0] }

  /// The graph nodes the step computes besides the quantize it writes.
  var absorbed: [String] { [dequantize.name, pool.name] }

  /// The chains of `graph` whose dequantize and pool nothing else reads, no graph output, by
  /// the name of the quantize that ends each.
  static func find(in graph: Graph, readers: [String: [Node]]) -> [String: QuantizedMaxPool] {
    let outputs = Set(graph.outputs)
    let types = graph.valueTypes
    func onlyReader(_ value: String) -> Node? {
      QuantizedResidual.onlyReader(of: value, readers: readers, outputs: outputs)
    }
    // The constant scale (positive, finite) and zero point of a per-tensor (de)quantize.
    func parameters(_ node: Node) -> (scale: Float, zero: Int32)? {
      guard node.operands.count == 3, let s = graph.constants[node.operands[1].name],
        let z = graph.constants[node.operands[2].name], s.type.shape == [], z.type.shape == [],
        let scale = s.data.first, scale > 0, scale.isFinite, let zero = z.integers.first
      else { return nil }
      return (scale, zero)
    }
    var chains: [String: QuantizedMaxPool] = [:]
    for dequantize in graph.nodes {
      guard case .dequantize = dequantize.op, case .value(let x) = dequantize.operands[0],
        let dtype = types[x]?.dtype, dtype == .u8 || dtype == .i8, let p = parameters(dequantize),
        let pool = onlyReader(dequantize.name), case .maxPool2d = pool.op,
        let quantize = onlyReader(pool.name), case .quantize = quantize.op, quantize.type.dtype == dtype,
        let q = parameters(quantize), q.scale == p.scale, q.zero == p.zero
      else { continue }
      chains[quantize.name] = QuantizedMaxPool(dequantize: dequantize, pool: pool, quantize: quantize)
    }
    return chains
  }
}
