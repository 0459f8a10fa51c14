/// Text that is not valid IR, with where it went wrong.
public struct IRParseError: Error, Equatable, Sendable, CustomStringConvertible {
  /// What went wrong.
  public enum Kind: Equatable, Sendable {
    /// A character that starts no token.
    case unexpectedCharacter(String)
    /// Something else stood where `expected` should have.
    case expected(String, found: String)
    /// A quoted name with no closing quote on its line.
    case unterminatedName
    /// An escape the quoted-name syntax does not have.
    case invalidEscape(String)
    /// A number literal out of range or malformed.
    case invalidNumber(String)
    /// A word where an op name should be.
    case unknownOp(String)
    /// An attribute the op does not have.
    case unknownAttribute(op: String, name: String)
    /// An attribute given twice.
    case duplicateAttribute(op: String, name: String)
    /// A required attribute not given.
    case missingAttribute(op: String, name: String)
    /// An attribute of the wrong kind or size.
    case badAttribute(op: String, name: String, expected: String, found: String)
    /// An element type other than f32.
    case unsupportedDType(String)
    /// The header's output types differ from the returned values' types.
    case outputTypes(declared: [TensorType], actual: [TensorType])
    /// The graph parsed but is not well formed.
    case invalidGraph(GraphError)
  }

  /// What went wrong.
  public var kind: Kind
  /// Where.
  public var location: SourceLocation

  /// Makes an error.
  public init(_ kind: Kind, at location: SourceLocation) {
    self.kind = kind
    self.location = location
  }

  /// `line:column: message`.
  public var description: String { "\(location): \(message)" }

  /// The message without the location.
  public var message: String {
    let message: String
    switch kind {
    case .unexpectedCharacter(let c): message = "unexpected character '\(c.debugDescription.dropFirst().dropLast())'"
    case .expected(let what, let found): message = "expected \(what), found \(found)"
    case .unterminatedName: message = "quoted name is not closed on its line"
    case .invalidEscape(let e): message = "invalid escape \(e) in a quoted name"
    case .invalidNumber(let n): message = "invalid number '\(n)'"
    case .unknownOp(let op): message = "unknown op '\(op)' (known: \(Op.names.joined(separator: ", ")))"
    case .unknownAttribute(let op, let name): message = "\(op) has no attribute '\(name)'"
    case .duplicateAttribute(let op, let name): message = "\(op): attribute '\(name)' is given twice"
    case .missingAttribute(let op, let name): message = "\(op) needs attribute '\(name)'"
    case .badAttribute(let op, let name, let expected, let found):
      message = "\(op): attribute '\(name)' should be \(expected), found \(found)"
    case .unsupportedDType(let d): message = "element type '\(d)' is not supported (f32, i8, u8 and i32 are)"
    case .outputTypes(let declared, let actual):
      message =
        "the header declares outputs \(declared.map(\.description)) but the returned values are \(actual.map(\.description))"
    case .invalidGraph(let error): message = error.description
    }
    return message
  }
}
