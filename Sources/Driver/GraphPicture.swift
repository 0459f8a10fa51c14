import Foundation
import GraphIR

/// A graph as `resnetc view` draws it: one box per graph input and node, one edge per value
/// a node reads, each box placed on a grid by resnetc's own layered layout.
struct GraphPicture {
  /// One box.
  struct Box {
    /// The value's name as the IR spells it (quoted where it needs quotes).
    var name: String
    /// `input`, or the node's op name.
    var op: String
    /// The op's main attributes: `7x7 /2`, `3x3 /2 groups 32`.
    var attributes: String
    /// The output type, `f32[1,64,56,56]`.
    var shape: String
    /// What a conv does after its sums (`bias+add+relu`); empty for other ops.
    var epilogue: String
    /// The kernel the compiled program runs for it (`direct 6px x2`), empty if unknown.
    var kernel: String
    /// The layout of its output in the compiled program (`NCHW8c`).
    var layout: String
    /// The nodes the passes folded or fused into it, spelled.
    var fused: [String]
    /// Milliseconds per run from a profile, if one was given and names this node.
    var milliseconds: Double?
    /// Whether the graph returns this value.
    var isOutput: Bool
    /// Layer from the top (longest path from an input) and column from the left.
    var rank = 0
    var column = 0
  }

  /// One value read by a node: from the box that computes it to the box that reads it.
  struct Edge: Equatable {
    var from: Int
    var to: Int
    /// A residual connection: the shortcut operand of a conv that adds it, or the operand of
    /// an `add` that skips over the other one's path.
    var isShortcut: Bool
  }

  var name: String
  var boxes: [Box] = []
  var edges: [Edge] = []
  /// The profile's total milliseconds over the boxes it names, when one was given.
  var profiledMilliseconds: Double?
  /// The slowest box's milliseconds, the top of the colour scale.
  private var slowestMilliseconds = 0.0

  /// The picture of `graph`. `choices` are the compiled program's kernels and layouts by node
  /// name, `fused` the nodes absorbed into each conv, `milliseconds` a profile's time by node.
  init(
    _ graph: Graph, choices: [String: (kernel: String, layout: String)] = [:], fused: [String: [String]] = [:],
    milliseconds: [String: Double]? = nil
  ) {
    name = graph.name
    let outputs = Set(graph.outputs)
    var index: [String: Int] = [:]
    for input in graph.inputs {
      index[input.name] = boxes.count
      boxes.append(
        Box(
          name: IRName.spelling(of: input.name), op: "input", attributes: "", shape: input.type.description,
          epilogue: "", kernel: "", layout: "", fused: [], milliseconds: nil, isOutput: outputs.contains(input.name)))
    }
    let values = graph.valueTypes
    for node in graph.nodes {
      let me = boxes.count
      let reads = node.operands.enumerated().compactMap { position, operand -> (position: Int, box: Int)? in
        if case .value(let name) = operand, let from = index[name] { (position, from) } else { nil }
      }
      var rank = 0
      for read in reads { rank = max(rank, boxes[read.box].rank + 1) }
      let shortcuts = Self.shortcutPositions(node, reads: reads, ranks: boxes.map(\.rank))
      for read in reads { edges.append(Edge(from: read.box, to: me, isShortcut: shortcuts.contains(read.position))) }
      var box = Box(
        name: IRName.spelling(of: node.name), op: node.op.name,
        attributes: Self.attributes(
          node, filter: node.operands.count > 1 ? graph.type(of: node.operands[1], in: values) : nil),
        shape: node.type.description, epilogue: epilogueText(node), kernel: choices[node.name]?.kernel ?? "",
        layout: choices[node.name]?.layout ?? "", fused: (fused[node.name] ?? []).map { IRName.spelling(of: $0) },
        milliseconds: milliseconds?[node.name], isOutput: outputs.contains(node.name))
      box.rank = rank
      index[node.name] = me
      boxes.append(box)
    }
    if let milliseconds {
      profiledMilliseconds = milliseconds.values.reduce(0, +)
      slowestMilliseconds = boxes.compactMap(\.milliseconds).max() ?? 0
    }
    assignColumns()
  }

  /// The operand positions of `node` that are shortcuts: of the two values an `add` (or a
  /// conv that adds its last operand) sums, the one from the shallower box, the one added on
  /// a tie. A projection conv that hosts the add thus has its own input as the shortcut.
  private static func shortcutPositions(_ node: Node, reads: [(position: Int, box: Int)], ranks: [Int]) -> Set<Int> {
    let summed: [(position: Int, box: Int)]
    switch node.op {
    case .conv2d(let a) where a.epilogue.addsResidual:
      summed = reads.filter { $0.position == 0 || $0.position == node.operands.count - 1 }
    case .add:
      summed = reads
    default:
      return []
    }
    guard summed.count == 2, summed[0].box != summed[1].box else { return [] }
    return [ranks[summed[0].box] < ranks[summed[1].box] ? summed[0].position : summed[1].position]
  }

  /// The op's main attributes, for the box's second line.
  private static func attributes(_ node: Node, filter: TensorType?) -> String {
    let window = { (kernel: Size2d, stride: Size2d) -> String in
      "\(kernel.h)x\(kernel.w)"
        + (stride.h == 1 && stride.w == 1 ? "" : stride.h == stride.w ? " /\(stride.h)" : " /\(stride.h)x\(stride.w)")
    }
    switch node.op {
    case .conv2d(let a):
      guard let shape = filter?.shape, shape.count == 4 else { return "" }
      return window(Size2d(shape[2], shape[3]), a.stride) + (a.groups == 1 ? "" : " groups \(a.groups)")
    case .maxPool2d(let a), .avgPool2d(let a, _):
      return window(a.kernel, a.stride)
    default:
      return ""
    }
  }

  /// Places each box in a column of its rank: a box goes under the first box it reads that
  /// is not a shortcut (its main input) where that column is free, else in the next free one.
  private mutating func assignColumns() {
    var mainInput = [Int?](repeating: nil, count: boxes.count)
    for edge in edges where !edge.isShortcut && mainInput[edge.to] == nil { mainInput[edge.to] = edge.from }
    for edge in edges where mainInput[edge.to] == nil { mainInput[edge.to] = edge.from }
    var byRank: [Int: [Int]] = [:]
    for (i, box) in boxes.enumerated() { byRank[box.rank, default: []].append(i) }
    for rank in byRank.keys.sorted() {
      var members: [(box: Int, wanted: Int)] = []
      for i in byRank[rank]! {
        let wanted: Int = mainInput[i].map { boxes[$0].column } ?? 0
        members.append((i, wanted))
      }
      members.sort { $0.wanted != $1.wanted ? $0.wanted < $1.wanted : $0.box < $1.box }
      var next = 0
      for (i, wanted) in members {
        boxes[i].column = max(wanted, next)
        next = boxes[i].column + 1
      }
    }
  }

  /// Rows and columns the layout uses.
  var rankCount: Int { (boxes.map(\.rank).max() ?? -1) + 1 }
  var columnCount: Int { (boxes.map(\.column).max() ?? -1) + 1 }

  /// How many boxes run each op, by op name.
  var opCounts: [String: Int] { boxes.reduce(into: [:]) { $0[$1.op, default: 0] += 1 } }

  /// A box's share of the slowest box's time, 0...1, when a profile names it.
  func heat(_ box: Box) -> Double? {
    guard let ms = box.milliseconds else { return nil }
    return slowestMilliseconds > 0 ? ms / slowestMilliseconds : 0
  }

  /// The lines written in a box, the name first.
  func lines(_ box: Box) -> [String] {
    var lines = [box.name, box.attributes.isEmpty ? box.op : box.op + " " + box.attributes, box.shape]
    let compiled = [box.epilogue == "none" ? "" : box.epilogue, box.kernel].filter { !$0.isEmpty }
    if !compiled.isEmpty { lines.append(compiled.joined(separator: " · ")) }
    if !box.fused.isEmpty { lines.append("fused " + box.fused.joined(separator: ", ")) }
    if let time = timeText(box) { lines.append(time) }
    return lines
  }

  /// The box's time line: `0.412 ms (3.1%)`.
  func timeText(_ box: Box) -> String? {
    guard let ms = box.milliseconds else { return nil }
    let total = profiledMilliseconds ?? 0
    let share = total > 0 ? ms / total * 100 : 0
    return formatMilliseconds(ms) + " (" + String(format: "%.1f", share) + "%)"
  }
}

/// `0.412 ms`.
func formatMilliseconds(_ ms: Double) -> String { String(format: "%.3f ms", ms) }
