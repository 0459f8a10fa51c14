import GraphIR

/// A quantized residual block's end, as QDQ models spell it and one integer-conv step runs:
///
///     %c = qconv2d(...)                      %c = qconv2d(...) then, in the same registers,
///     %d = dequantize(%c, ds, dz)            d = (c - dz) · ds
///     %a = add(%d, %e)   %e = dequantize(%r, rs, rz)     + (r - rz) · rs
///     %u = relu(%a)      (optional)          relu
///     %q = quantize(%u, qs, qz)              q = saturate(round(u / qs) + qz)
///
/// with every scale one number (per tensor), each value between the conv and the quantize
/// read once and none a graph output. The step reads the shortcut's integers `%r` itself, so
/// the shortcut's dequantize runs only where something else reads it. Each operation is the
/// interpreter's, in Float, in the same order, so the result is its integers exactly.
struct QuantizedResidual: Hashable, Sendable {
  let conv: Node
  let dequantize: Node
  let add: Node
  let relu: Node?
  let quantize: Node
  /// The shortcut's dequantize, and the integers it reads.
  let shortcut: Node
  var shortcutValue: String { shortcut.operands[0].name }

  /// The graph nodes the step computes besides the conv.
  var absorbed: [String] { [dequantize.name, add.name] + (relu.map { [$0.name] } ?? []) + [quantize.name] }

  /// The chains of `graph` that start at a conv `runs` accepts, by the name of the quantize
  /// that ends each.
  static func find(in graph: Graph, readers: [String: [Node]], runs: (Node) -> Bool) -> [String: QuantizedResidual] {
    let defining = Dictionary(graph.nodes.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    let outputs = Set(graph.outputs)
    func onlyReader(_ value: String) -> Node? {
      QuantizedResidual.onlyReader(of: value, readers: readers, outputs: outputs)
    }
    // Whether `node` is a (de)quantize with one scale and zero point, both constants, the
    // scale positive and at most 2^119 (so that 510 times it, a dequantized sum, is finite):
    // then no value of the chain is NaN, which the fused epilogue does not take.
    func perTensor(_ node: Node) -> Bool {
      guard node.operands.count == 3, node.operands[1].isConstant, node.operands[2].isConstant,
        let scale = graph.constants[node.operands[1].name], scale.type.shape == [],
        graph.constants[node.operands[2].name]?.type.shape == [], let value = scale.data.first
      else { return false }
      return value > 0 && value <= 0x1p119
    }
    var chains: [String: QuantizedResidual] = [:]
    for conv in graph.nodes {
      guard case .qconv2d = conv.op, runs(conv), let dequantize = onlyReader(conv.name),
        case .dequantize = dequantize.op, perTensor(dequantize),
        let add = onlyReader(dequantize.name), add.op == .add, add.operands.count == 2
      else { continue }
      let other = add.operands[0] == .value(dequantize.name) ? add.operands[1] : add.operands[0]
      guard case .value(let shortcutName) = other, let shortcut = defining[shortcutName],
        case .dequantize = shortcut.op, perTensor(shortcut), !shortcut.operands[0].isConstant,
        shortcut.type.shape == add.type.shape, let next = onlyReader(add.name)
      else { continue }
      var relu: Node? = nil
      var last = next
      if next.op == .relu {
        guard let after = onlyReader(next.name) else { continue }
        relu = next
        last = after
      }
      guard case .quantize = last.op, perTensor(last), last.operands[0] == .value(relu?.name ?? add.name) else {
        continue
      }
      chains[last.name] = QuantizedResidual(
        conv: conv, dequantize: dequantize, add: add, relu: relu, quantize: last, shortcut: shortcut)
    }
    return chains
  }

  /// The integer values that can live as bytes (`Buffer.quantized`): each written by an
  /// integer-conv step (a conv `runs` accepts on its own, or a chain's quantize) or by the
  /// pool of a quantized max pool (`pools`) whose input such a step writes, no graph output,
  /// and read only as the input of such convs, blocked (channels a multiple of `b`), as the
  /// shortcut of a chain whose dequantize nothing else reads, or by a quantized max pool.
  static func byteValues(
    in graph: Graph, readers allReaders: [String: [Node]], chains: [QuantizedResidual], unreadShortcuts: Set<String>,
    pools: [QuantizedMaxPool], block b: Int,
    runs: (Node) -> QConvPlan.Fit?
  ) -> Set<String> {
    let inChains = Set(chains.flatMap { [$0.conv.name] + $0.absorbed.dropLast() })
    var written: Set<String> = Set(chains.map(\.quantize.name))
    for node in graph.nodes where !inChains.contains(node.name) {
      if case .qconv2d = node.op, runs(node) != nil { written.insert(node.name) }
    }
    // A pool's input in blocks (written by an integer conv) makes its output blocked too.
    for pool in pools where written.contains(pool.input.name) { written.insert(pool.quantize.name) }
    let poolDequantizes = Set(pools.map(\.dequantize.name))
    let outputs = Set(graph.outputs)
    var result: Set<String> = []
    for value in written where !outputs.contains(value) {
      let readers = allReaders[value] ?? []
      let accepted =
        !readers.isEmpty
        && readers.allSatisfy { reader in
          if unreadShortcuts.contains(reader.name) || poolDequantizes.contains(reader.name) { return true }
          guard case .qconv2d = reader.op, let fit = runs(reader), fit.channels % b == 0,
            reader.operands.enumerated().allSatisfy({ $0.offset == 0 || $0.element != .value(value) })
          else { return false }
          return true
        }
      if accepted { result.insert(value) }
    }
    return result
  }

  /// The one node that reads `value`, once, where `value` is no graph output (of `outputs`).
  static func onlyReader(of value: String, readers: [String: [Node]], outputs: Set<String>) -> Node? {
    guard !outputs.contains(value), let list = readers[value], list.count == 1,
      list[0].operands.filter({ $0 == .value(value) }).count == 1
    else { return nil }
    return list[0]
  }

  /// The nodes that read each value (a node once per operand that names it).
  static func readers(of graph: Graph) -> [String: [Node]] {
    var readers: [String: [Node]] = [:]
    for node in graph.nodes {
      for case .value(let name) in node.operands { readers[name, default: []].append(node) }
    }
    return readers
  }

  /// The shortcut dequantizes that no node reads but the adds of `chains`: no step computes
  /// them.
  static func unreadShortcuts(_ chains: [QuantizedResidual], in graph: Graph, readers: [String: [Node]])
    -> Set<String>
  {
    let absorbedAdds = Set(chains.map(\.add.name))
    var result: Set<String> = []
    for chain in chains where !graph.outputs.contains(chain.shortcut.name) {
      if (readers[chain.shortcut.name] ?? []).allSatisfy({ absorbedAdds.contains($0.name) }) {
        result.insert(chain.shortcut.name)
      }
    }
    return result
  }
}
