import Codegen
import ResnetCompiler
import GraphIR
import Passes

let infoCommand = Command(
  name: "info",
  summary: "Print a per-layer table (name, op, output shape, parameters, multiply-adds) and totals.",
  usage: "MODEL [--json] [options]",
  details: modelHelp + """

    Parameters count convolution and dense weights and biases and BatchNorm scale and
    shift (not its running statistics); multiply-adds count convolutions and dense layers,
    the paper's measure. Kernel and layout are what the program compiled for this machine
    (--target native) runs for each node, as --profile names it: 'direct 6px x2' (a register
    tile of 6 pixels by 2 channel blocks), 'winograd F(2,3)', 'grouped', 'blocked', 'plain';
    integer convs 'int8 vnni', 'int8 byte pairs', 'int8 split pairs' (byte pairs whose sums
    could pass int16 split in two), 'int16 pairs' or 'int16 winograd F(2,3)';
    'in %X' where X's step computes it. Epilogue is what a conv does after its sums (bias,
    add of the shortcut, relu); fused names the nodes the passes folded or fused into it.
    The arena is the peak memory of intermediate values in the
    program compiled for this machine (--target native; its static memory plan, also
    RESNETC_ARENA_BYTES in the generated header). On a CPU without VNNI, a note says how
    many integer convs run as int16 pairs and which weights would run as byte pairs.
    With --json, one object with model, parameters, multiplyAdds, arenaBytes, ops (count
    per op name), inputs, outputs and layers.
    """,
  options: [OptionSpec(names: ["--json"], value: nil, help: "print one JSON object instead of a table")] + modelOptions
) { arguments, console in
  let (graph, reports) = try loadModelReporting(try modelArgument(arguments), arguments, console: console)
  let fused = fusedNodes(reports)
  console.out(
    arguments.flags.contains("--json")
      ? try infoJSON(graph, fused: fused).serialized + "\n" : try infoTable(graph, fused: fused))
}

/// The nodes the passes folded or fused into each conv, by the conv's name.
func fusedNodes(_ reports: [PassReport]) -> [String: [String]] {
  var fused: [String: [String]] = [:]
  for report in reports {
    for (node, host) in report.absorptions { fused[host, default: []].append(node) }
  }
  return fused
}

/// What a conv does after its sums: `bias+add+relu`, `bias`, `none`.
func epilogueText(_ node: Node) -> String {
  guard case .conv2d(let a) = node.op else { return "" }
  let hasBias = node.operands.count - (a.epilogue.addsResidual ? 1 : 0) > 2
  var parts = hasBias ? ["bias"] : []
  if a.epilogue.addsResidual { parts.append("add") }
  if a.epilogue == .relu || a.epilogue == .addReLU { parts.append("relu") }
  return parts.isEmpty ? "none" : parts.joined(separator: "+")
}

/// Op names with how many nodes use each, sorted by name.
func opCounts(_ graph: Graph) -> [(name: String, count: Int)] {
  var counts: [String: Int] = [:]
  for node in graph.nodes { counts[node.op.name, default: 0] += 1 }
  return counts.keys.sorted().map { ($0, counts[$0]!) }
}

/// The kernel and layout each node compiles to on this machine, or nil for a quantized model
/// the compiler refuses (its output an integer tensor, say), which has no kernels or arena to
/// show; a float model's refusal is an error.
func compiledChoices(_ model: ResnetCompiler.Model, _ graph: Graph) throws(ResnetCompiler.CompilerError)
  -> [String: (kernel: String, layout: String)]?
{
  guard graph.nodes.contains(where: { $0.op.isQuantized }) else { return try model.kernelChoices() }
  return try? model.kernelChoices()
}

/// The `--json` object.
func infoJSON(_ graph: Graph, fused: [String: [String]] = [:]) throws(ResnetCompiler.CompilerError) -> JSON {
  let model = try ResnetCompiler.Model(graph: graph)
  let values = graph.valueTypes
  let choices = try compiledChoices(model, graph)
  let layers = graph.nodes.map { node -> JSON in
    var members: [(key: String, value: JSON)] = [
      ("name", .string(node.name)), ("op", .string(node.op.name)),
      ("shape", .array(node.type.shape.map { .int($0) })),
      ("parameters", .int(graph.parameterCount(of: node))),
      ("multiplyAdds", .int(graph.multiplyAdds(of: node, values: values))),
      ("kernel", .string(choices?[node.name]?.kernel ?? "")), ("layout", .string(choices?[node.name]?.layout ?? "")),
    ]
    if case .conv2d = node.op {
      members.append(("epilogue", .string(epilogueText(node))))
      members.append(("fused", .array((fused[node.name] ?? []).map { .string($0) })))
    }
    return .object(members)
  }
  let tensor = { (name: String, type: TensorType) -> JSON in
    .object([("name", .string(name)), ("shape", .array(type.shape.map { .int($0) }))])
  }
  return .object([
    ("model", .string(graph.name)),
    ("parameters", .int(graph.parameterCount)),
    ("multiplyAdds", .int(graph.multiplyAdds)),
    ("arenaBytes", choices != nil ? .int(try model.arenaBytes()) : .null),
    ("ops", .object(opCounts(graph).map { ($0.name, .int($0.count)) })),
    ("inputs", .array(graph.inputs.map { tensor($0.name, $0.type) })),
    ("outputs", .array(graph.outputs.map { tensor($0, values[$0]!) })),
    ("layers", .array(layers)),
  ])
}

/// The human-readable table.
func infoTable(_ graph: Graph, fused: [String: [String]] = [:]) throws(ResnetCompiler.CompilerError) -> String {
  let model = try ResnetCompiler.Model(graph: graph)
  let values = graph.valueTypes
  let choices = try compiledChoices(model, graph)
  var rows = [["layer", "op", "output", "parameters", "multiply-adds", "kernel", "layout", "epilogue", "fused"]]
  for node in graph.nodes {
    let params = graph.parameterCount(of: node)
    let macs = graph.multiplyAdds(of: node, values: values)
    rows.append([
      IRName.spelling(of: node.name), node.op.name, node.type.description, params == 0 ? "" : grouped(params),
      macs == 0 ? "" : grouped(macs), choices?[node.name]?.kernel ?? "", choices?[node.name]?.layout ?? "",
      epilogueText(node), (fused[node.name] ?? []).map { IRName.spelling(of: $0) }.joined(separator: ","),
    ])
  }
  var text = "model \(IRName.spelling(of: graph.name))\n"
  text += graph.inputs.map { "input  %\(IRName.spelling(of: $0.name)): \($0.type)\n" }.joined()
  text += graph.outputs.map { "output %\(IRName.spelling(of: $0)): \(values[$0]!)\n" }.joined()
  text += "\n" + renderTable(rows, rightAligned: [3, 4]) + "\n"
  text += "parameters     \(grouped(graph.parameterCount))\n"
  text += "multiply-adds  \(grouped(graph.multiplyAdds)) (\(gigas(graph.multiplyAdds)) G)\n"
  text +=
    choices != nil
    ? "arena          \(grouped(try model.arenaBytes())) bytes (peak of intermediate values in code compiled for this machine)\n"
    : "arena          none: this quantized model does not compile ('resnetc compile' says why; 'resnetc run' interprets it)\n"
  text +=
    "nodes          \(graph.nodes.count): " + opCounts(graph).map { "\($0.count) \($0.name)" }.joined(separator: ", ")
    + "\n"
  if let note = int16PairsNote(graph.nodes.compactMap { choices?[$0.name]?.kernel }, target: Target.native()) {
    text += note + "\n"
  }
  return text
}

/// Where integer convs run as int16 pairs on a CPU without VNNI (AVX2, AVX-512): why (their
/// input is plain, which the split of byte pairs does not read), and which weights would run
/// as byte pairs; nil where none does or the CPU has VNNI.
func int16PairsNote(_ kernels: [String], target: Target) -> String? {
  guard target == .avx2 || target == .avx512 else { return nil }
  let count = kernels.filter { $0.hasPrefix("int16 pairs") }.count
  guard count > 0 else { return nil }
  return
    "note           \(count) integer conv\(count == 1 ? " runs" : "s run") as int16 pairs (vpmaddwd): this CPU has no VNNI, "
    + "and over a plain input (a stem, or channels that are no multiple of a block) the faster byte pairs "
    + "(vpmaddubsw) take only signed weights whose pairs cannot pass int16, as weights within ±64 are "
    + "('resnetc quantize --reduce-range', or ONNX Runtime's reduce_range)"
}

/// `11,689,512`.
func grouped(_ n: Int) -> String {
  let digits = String(n.magnitude)
  var out = ""
  for (i, c) in digits.enumerated() {
    if i > 0, (digits.count - i) % 3 == 0 { out += "," }
    out.append(c)
  }
  return (n < 0 ? "-" : "") + out
}

/// `3.86` for 3,857,973,248.
func gigas(_ n: Int) -> String {
  let hundredths = (n + 5_000_000) / 10_000_000
  let fraction = hundredths % 100
  return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
}

/// Rows as aligned columns separated by two spaces; the first row is the header.
func renderTable(_ rows: [[String]], rightAligned: Set<Int>) -> String {
  let columns = rows.map(\.count).max() ?? 0
  let widths = (0..<columns).map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
  return rows.map { row in
    row.enumerated().map { c, cell in
      let pad = String(repeating: " ", count: widths[c] - cell.count)
      return rightAligned.contains(c) ? pad + cell : cell + pad
    }.joined(separator: "  ").trimmingTrailingSpaces()
  }.joined(separator: "\n")
}

extension String {
  func trimmingTrailingSpaces() -> String {
    var s = self
    while s.last == " " { s.removeLast() }
    return s
  }
}
