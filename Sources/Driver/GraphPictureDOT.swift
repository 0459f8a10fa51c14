import Foundation

/// A `GraphPicture` in Graphviz's DOT language, for `dot -Tsvg` and other tools: one
/// `nI [label=…]` line per box and one `nI -> nJ` line per edge, shortcut edges dashed red.
func graphPictureDOT(_ picture: GraphPicture) -> String {
  var out = "digraph \(dotString(picture.name)) {\n"
  out += "  graph [rankdir=TB, fontname=\"monospace\", labelloc=t, label=\(dotString(picture.name))];\n"
  out += "  node [shape=box, style=\"rounded,filled\", fontname=\"monospace\", fontsize=10];\n"
  out += "  edge [color=\"#6b7280\"];\n"
  let heatColour = { (heat: Double) -> String in
    String(format: "#ff%02x%02x", Int(245 - 170 * heat), Int(235 - 200 * heat))
  }
  for (i, box) in picture.boxes.enumerated() {
    let fill = picture.profiledMilliseconds == nil ? opColour(box.op) : picture.heat(box).map(heatColour) ?? "#f3f4f6"
    let label = picture.lines(box).map(dotLabelLine).joined(separator: "\\n")
    out += "  n\(i) [label=\"\(label)\", fillcolor=\"\(fill)\"\(box.isOutput ? ", penwidth=2.5" : "")];\n"
  }
  for edge in picture.edges {
    out +=
      "  n\(edge.from) -> n\(edge.to)"
      + (edge.isShortcut ? " [class=\"shortcut\", style=dashed, color=\"#c0392b\", penwidth=2]" : "") + ";\n"
  }
  return out + "}\n"
}

/// `text` as a quoted DOT string.
private func dotString(_ text: String) -> String { "\"" + dotLabelLine(text) + "\"" }

/// `text` inside a quoted DOT string: backslashes and quotes escaped, line breaks as `\n`.
private func dotLabelLine(_ text: String) -> String {
  var out = ""
  for scalar in text.unicodeScalars {
    switch scalar {
    case "\\": out += "\\\\"
    case "\"": out += "\\\""
    case "\n": out += "\\n"
    case _ where scalar.value < 0x20: out += " "
    default: out.unicodeScalars.append(scalar)
    }
  }
  return out
}
