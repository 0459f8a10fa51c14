import Foundation
import GraphIR
import Passes

let explainCommand = Command(
  name: "explain",
  summary: "Show, for each node, which pass changed it, or why none did.",
  usage: "MODEL [options]",
  details: modelHelp + """

    Runs the pass pipeline (-O1, or --passes) and prints each node of the model as built or
    imported, with what happened to it: folded, fused (and into what), or the precondition
    that stopped each pass (for example "conv result %x has 2 users"). Then one line per pass.

    Passes, in -O1 order:
    \(Pipeline.all.map { "  " + $0.name.padding(toLength: 22, withPad: " ", startingAt: 0) + $0.summary }.joined(separator: "\n"))
    """,
  options: modelOptions
) { arguments, console in
  let original = try loadUnoptimized(try modelArgument(arguments), arguments)
  var graph = original
  let reports = try passManager(arguments).run(&graph)
  console.out(explanation(of: original, reports: reports, result: graph))
}

/// One line per node of `original` with every remark the passes made about it, then the
/// passes' summaries and the node counts before and after.
func explanation(of original: Graph, reports: [PassReport], result: Graph) -> String {
  var remarks: [String: [String]] = [:]
  for report in reports {
    for (node, text) in report.remarks { remarks[node, default: []].append("\(report.pass): \(text)") }
  }
  // What each conv absorbed, and by which pass.
  var absorbed: [String: [String]] = [:]
  for report in reports {
    for (node, host) in report.absorptions {
      absorbed[host, default: []].append("%\(IRName.spelling(of: node)) (\(report.pass))")
    }
  }
  var text = ""
  for node in original.nodes {
    var notes = remarks[node.name] ?? []
    if let parts = absorbed[node.name], case .conv2d = node.op {
      notes.insert("absorbed " + parts.joined(separator: ", "), at: 0)
    }
    let head = "%\(IRName.spelling(of: node.name)) (\(node.op.name))"
    text += notes.isEmpty ? head + ": no pass changes it\n" : head + ": " + notes.joined(separator: "; ") + "\n"
  }
  text += "\n" + reports.map { $0.summary + "\n" }.joined()
  text += "nodes: \(original.nodes.count) before, \(result.nodes.count) after\n"
  return text
}
