/// Reads textual IR (as `IRPrinter` writes it) back into a verified graph.
///
/// The text declares each constant's type; `constantData` supplies its elements (from the
/// `.safetensors` file beside the `.gir`, or generated for tests). Parsing is a loop over
/// lines, never recursion, so graph depth does not matter.
public enum IRParser {
  /// Parses `text`; errors are `IRParseError` (with a line and column) or whatever
  /// `constantData` throws.
  public static func parse(
    _ text: String, constantData: (_ name: String, _ type: TensorType) throws -> [Float]
  ) throws -> Graph {
    try parse(text, constants: { name, type in Tensor(type: type, data: try constantData(name, type)) })
  }

  /// Parses `text`, with `constants` supplying each declared constant whole (an integer
  /// one, i8, u8 or i32, holds its elements in `integers`).
  public static func parse(
    _ text: String, constants: (_ name: String, _ type: TensorType) throws -> Tensor
  ) throws -> Graph {
    var lexer = IRLexer(text)
    var parser = Parser(tokens: try lexer.tokenize())
    return try parser.graph(constantData: constants)
  }
}

private struct Parser {
  let tokens: [(Token, SourceLocation)]
  var index = 0
  /// Where each value or constant was defined, to point verifier errors at a line.
  var definitions: [String: SourceLocation] = [:]

  init(tokens: [(Token, SourceLocation)]) {
    self.tokens = tokens
  }

  var token: Token { tokens[index].0 }
  var location: SourceLocation { tokens[index].1 }

  mutating func next() -> Token {
    let t = token
    if index < tokens.count - 1 { index += 1 }
    return t
  }

  func fail(_ what: String) -> IRParseError {
    IRParseError(.expected(what, found: token.display), at: location)
  }

  mutating func expect(_ punct: String) throws(IRParseError) {
    guard token == .punct(punct) else { throw fail("'\(punct)'") }
    _ = next()
  }

  mutating func expectWord(_ word: String) throws(IRParseError) {
    guard token == .word(word) else { throw fail("'\(word)'") }
    _ = next()
  }

  mutating func accept(_ punct: String) -> Bool {
    guard token == .punct(punct) else { return false }
    _ = next()
    return true
  }

  mutating func valueName() throws(IRParseError) -> String {
    guard case .value(let name) = token else { throw fail("a value (%name)") }
    _ = next()
    return name
  }

  mutating func globalName() throws(IRParseError) -> String {
    guard case .global(let name) = token else { throw fail("a name (@name)") }
    _ = next()
    return name
  }

  mutating func integer() throws(IRParseError) -> Int {
    guard case .int(let v) = token else { throw fail("an integer") }
    _ = next()
    return v
  }

  /// `f32[1,3,224,224]`
  mutating func tensorType() throws(IRParseError) -> TensorType {
    guard case .word(let word) = token else { throw fail("a tensor type such as f32[1,3,224,224]") }
    guard let dtype = DType(rawValue: word) else { throw IRParseError(.unsupportedDType(word), at: location) }
    _ = next()
    return TensorType(try intList(), dtype: dtype)
  }

  /// `[1,2,3]`, possibly empty.
  mutating func intList() throws(IRParseError) -> [Int] {
    try expect("[")
    var list: [Int] = []
    if accept("]") { return list }
    repeat { list.append(try integer()) } while accept(",")
    try expect("]")
    return list
  }

  mutating func graph(constantData: (String, TensorType) throws -> Tensor) throws -> Graph {
    try expectWord("graph")
    var graph = Graph(name: try globalName())
    try expect("(")
    if !accept(")") {
      repeat {
        let at = location
        let name = try valueName()
        try expect(":")
        graph.inputs.append(GraphInput(name: name, type: try tensorType()))
        definitions[name] = definitions[name] ?? at
      } while accept(",")
      try expect(")")
    }
    try expect("->")
    try expect("(")
    var declaredOutputs: [TensorType] = []
    let outputsAt = location
    if !accept(")") {
      repeat { declaredOutputs.append(try tensorType()) } while accept(",")
      try expect(")")
    }
    try expect("{")
    while true {
      switch token {
      case .word("const"):
        try constantDeclaration(into: &graph, constantData: constantData)
      case .value:
        graph.nodes.append(try node())
      case .word("return"):
        _ = next()
        repeat { graph.outputs.append(try valueName()) } while accept(",")
        try expect("}")
        guard token == .end else { throw fail("the end of the text") }
        try verify(graph, declaredOutputs: declaredOutputs, at: outputsAt)
        return graph
      default:
        throw fail("'const', a node (%name = op(...)) or 'return'")
      }
    }
  }

  mutating func constantDeclaration(
    into graph: inout Graph, constantData: (String, TensorType) throws -> Tensor
  ) throws {
    _ = next()
    let at = location
    let name = try globalName()
    try expect(":")
    let type = try tensorType()
    guard graph.constants[name] == nil else { throw IRParseError(.invalidGraph(.duplicateName(name)), at: at) }
    do {
      _ = try type.checkedElementCount(context: "constant @\(IRName.spelling(of: name))")
    } catch {
      throw IRParseError(.invalidGraph(error), at: at)
    }
    var constant = try constantData(name, type)
    constant.type = type
    graph.constants.set(name, constant)
  }

  /// `%name = op(operands) {attributes} : type`
  mutating func node() throws(IRParseError) -> Node {
    let at = location
    let name = try valueName()
    try expect("=")
    guard case .word(let opName) = token else { throw fail("an op name") }
    let opAt = location
    _ = next()
    try expect("(")
    var operands: [Operand] = []
    if !accept(")") {
      repeat {
        switch token {
        case .value(let v): operands.append(.value(v))
        case .global(let c): operands.append(.constant(c))
        default: throw fail("an operand (%value or @constant)")
        }
        _ = next()
      } while accept(",")
      try expect(")")
    }
    let attributes = try attributeList(op: opName)
    let op: Op?
    do {
      op = try Op.make(name: opName, attributes: AttributeReader(attributes))
    } catch {
      throw IRParseError(error.parseErrorKind(op: opName), at: opAt)
    }
    guard let op else { throw IRParseError(.unknownOp(opName), at: opAt) }
    try expect(":")
    let type = try tensorType()
    if definitions[name] == nil { definitions[name] = at }
    return Node(name: name, op: op, operands: operands, type: type)
  }

  /// `{name=value, ...}`, or nothing.
  mutating func attributeList(op: String) throws(IRParseError) -> [(name: String, value: AttributeValue)] {
    var list: [(name: String, value: AttributeValue)] = []
    guard accept("{") else { return list }
    if accept("}") { return list }
    repeat {
      guard case .word(let name) = token else { throw fail("an attribute name") }
      let at = location
      _ = next()
      guard !list.contains(where: { $0.name == name }) else {
        throw IRParseError(.duplicateAttribute(op: op, name: name), at: at)
      }
      try expect("=")
      list.append((name, try attributeValue()))
    } while accept(",")
    try expect("}")
    return list
  }

  mutating func attributeValue() throws(IRParseError) -> AttributeValue {
    switch token {
    case .int(let v):
      _ = next()
      return .int(v)
    case .float(let v):
      _ = next()
      return .float(v)
    case .word("true"):
      _ = next()
      return .bool(true)
    case .word("false"):
      _ = next()
      return .bool(false)
    case .word(let w):
      _ = next()
      return .word(w)
    case .punct("["):
      return .ints(try intList())
    default:
      throw fail("an attribute value")
    }
  }

  func verify(_ graph: Graph, declaredOutputs: [TensorType], at outputsAt: SourceLocation) throws(IRParseError) {
    do {
      try Verifier.verify(graph)
    } catch {
      let at = error.subject.flatMap { definitions[$0] } ?? outputsAt
      throw IRParseError(.invalidGraph(error), at: at)
    }
    let values = graph.valueTypes
    let actual = graph.outputs.compactMap { values[$0] }
    guard actual == declaredOutputs else {
      throw IRParseError(.outputTypes(declared: declaredOutputs, actual: actual), at: outputsAt)
    }
  }
}

extension AttributeError {
  func parseErrorKind(op: String) -> IRParseError.Kind {
    switch self {
    case .unknown(let name): .unknownAttribute(op: op, name: name)
    case .missing(let name): .missingAttribute(op: op, name: name)
    case .badValue(let name, let expected, let found):
      .badAttribute(op: op, name: name, expected: expected, found: found)
    }
  }
}

extension GraphError {
  /// The node, input or constant the error is about, when it names one.
  public var subject: String? {
    switch self {
    case .duplicateName(let name), .undefinedOutput(let name), .duplicateOutput(let name): name
    case .undefinedValue(let node, _), .usedBeforeDefinition(let node, _), .undefinedConstant(let node, _),
      .arity(let node, _, _, _), .operandShape(let node, _, _, _, _), .operandType(let node, _, _, _, _),
      .groupsDoNotDivide(let node, _, _),
      .invalidAttribute(let node, _, _, _, _), .typeMismatch(let node, _, _):
      node
    case .constantSize(let name, _, _, _), .constantRange(let name, _, _): name
    case .nonPositiveDimension, .shapeTooLarge, .rankTooLarge, .noOutputs, .noInputs: nil
    }
  }
}
