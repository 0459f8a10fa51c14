/// A node's attributes, read by name; creating it rejects any attribute the op does not have.
struct NodeAttributes {
  let node: OnnxNode
  let label: String

  /// `AttributeProto.AttributeType` values.
  enum Kind {
    static let float: Int64 = 1, int: Int64 = 2, string: Int64 = 3, tensor: Int64 = 4
    static let floats: Int64 = 6, ints: Int64 = 7
  }

  init(_ node: OnnxNode, label: String, known: Set<String>) throws(ONNXError) {
    self.node = node
    self.label = label
    var seen = Set<String>()
    for attribute in node.attributes {
      guard known.contains(attribute.name) else {
        throw .unknownAttribute(op: node.opType, node: label, attribute: attribute.name)
      }
      guard seen.insert(attribute.name).inserted else {
        throw .badAttribute(op: node.opType, node: label, attribute: attribute.name, reason: "is given twice")
      }
    }
  }

  func fail(_ name: String, _ reason: String) -> ONNXError {
    .badAttribute(op: node.opType, node: label, attribute: name, reason: reason)
  }

  private func attribute(_ name: String, kind: Int64, what: String) throws(ONNXError) -> OnnxAttribute? {
    guard let a = node.attributes.first(where: { $0.name == name }) else { return nil }
    guard a.type == kind || a.type == 0 else { throw fail(name, "should be \(what)") }
    return a
  }

  func int(_ name: String, default value: Int) throws(ONNXError) -> Int {
    guard let a = try attribute(name, kind: Kind.int, what: "an integer") else { return value }
    guard let i = a.i, let v = Int(exactly: i) else { throw fail(name, "should be an integer") }
    return v
  }

  func ints(_ name: String) throws(ONNXError) -> [Int]? {
    guard let a = try attribute(name, kind: Kind.ints, what: "a list of integers") else { return nil }
    return a.ints.map { Int($0) }
  }

  func float(_ name: String, default value: Float) throws(ONNXError) -> Float {
    guard let a = try attribute(name, kind: Kind.float, what: "a float") else { return value }
    guard let f = a.f else { throw fail(name, "should be a float") }
    return f
  }

  func floats(_ name: String) throws(ONNXError) -> [Float]? {
    try attribute(name, kind: Kind.floats, what: "a list of floats")?.floats
  }

  func string(_ name: String, default value: String) throws(ONNXError) -> String {
    guard let a = try attribute(name, kind: Kind.string, what: "a string") else { return value }
    guard let s = a.s, let text = String(validating: s, as: UTF8.self) else { throw fail(name, "should be a string") }
    return text
  }

  func tensor(_ name: String) throws(ONNXError) -> OnnxTensor? {
    guard let a = try attribute(name, kind: Kind.tensor, what: "a tensor") else { return nil }
    guard let t = a.t else { throw fail(name, "should be a tensor") }
    return t
  }

  /// Whether `name` is given at all.
  func has(_ name: String) -> Bool { node.attributes.contains { $0.name == name } }
}
