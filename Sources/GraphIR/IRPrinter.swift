/// Writes a graph as textual IR; `IRParser.parse` reads it back to an equal graph.
///
/// ```
/// graph @resnet20(%input: f32[1,3,32,32]) -> (f32[1,10]) {
///   const @conv1.weight: f32[16,3,3,3]
///   %conv1 = conv2d(%input, @conv1.weight) {stride=[1,1], pad=[1,1,1,1], dilation=[1,1], groups=1, epilogue=none} : f32[1,16,32,32]
///   return %prob
/// }
/// ```
///
/// Constants are declared with their types only; their data lives in the `.safetensors`
/// file beside the `.gir`. Every attribute is written, defaults included, so the text is
/// canonical.
public enum IRPrinter {
  /// The whole graph as text, ending in a newline.
  public static func print(_ graph: Graph) -> String {
    let values = graph.valueTypes
    let inputs = graph.inputs.map { "%\(IRName.spelling(of: $0.name)): \($0.type)" }
    let outputs = graph.outputs.map { values[$0].map(\.description) ?? "?" }
    var text = "graph @\(IRName.spelling(of: graph.name))(\(inputs.joined(separator: ", "))) -> ("
    text += outputs.joined(separator: ", ") + ") {\n"
    for (name, constant) in graph.constants.entries {
      text += "  const @\(IRName.spelling(of: name)): \(constant.type)\n"
    }
    for node in graph.nodes {
      text += "  " + line(for: node) + "\n"
    }
    text += "  return " + graph.outputs.map { "%" + IRName.spelling(of: $0) }.joined(separator: ", ")
    text += "\n}\n"
    return text
  }

  /// One node's line, without indentation.
  public static func line(for node: Node) -> String {
    var text = "%\(IRName.spelling(of: node.name)) = \(node.op.name)("
    text += node.operands.map(\.description).joined(separator: ", ") + ")"
    let attributes = node.op.attributes
    if !attributes.isEmpty {
      text += " {" + attributes.map { "\($0.name)=\($0.value)" }.joined(separator: ", ") + "}"
    }
    return text + " : \(node.type)"
  }
}
