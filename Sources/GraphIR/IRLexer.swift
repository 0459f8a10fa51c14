/// A position in IR text, 1-based.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
  /// Line number.
  public var line: Int
  /// Column, counted in Unicode scalars.
  public var column: Int

  /// `3:14`.
  public var description: String { "\(line):\(column)" }
}

/// One token of IR text.
enum Token: Equatable {
  /// A bare word: a keyword, op name, attribute name, `f32`, `true`.
  case word(String)
  /// `%name`.
  case value(String)
  /// `@name`.
  case global(String)
  /// An integer literal.
  case int(Int)
  /// A literal with a fraction or exponent.
  case float(Float)
  /// One of `( ) { } [ ] , : =` or `->`.
  case punct(String)
  /// The end of the text.
  case end

  /// How an error message shows the token.
  var display: String {
    switch self {
    case .word(let w): "'\(w)'"
    case .value(let n): "'%\(IRName.spelling(of: n))'"
    case .global(let n): "'@\(IRName.spelling(of: n))'"
    case .int(let v): "'\(v)'"
    case .float(let v): "'\(v)'"
    case .punct(let p): "'\(p)'"
    case .end: "the end of the text"
    }
  }
}

/// Splits IR text into tokens. `//` starts a comment that runs to the end of the line.
struct IRLexer {
  private let scalars: [Unicode.Scalar]
  private var index = 0
  private var line = 1
  private var column = 1

  init(_ text: String) {
    scalars = Array(text.unicodeScalars)
  }

  /// All tokens with their locations, ending with `.end`.
  mutating func tokenize() throws(IRParseError) -> [(Token, SourceLocation)] {
    var tokens: [(Token, SourceLocation)] = []
    while true {
      skipSpaceAndComments()
      let location = SourceLocation(line: line, column: column)
      guard let scalar = peek() else {
        tokens.append((.end, location))
        return tokens
      }
      tokens.append((try token(startingWith: scalar, at: location), location))
    }
  }

  private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
    index + offset < scalars.count ? scalars[index + offset] : nil
  }

  private mutating func advance() {
    if scalars[index] == "\n" {
      line += 1
      column = 1
    } else {
      column += 1
    }
    index += 1
  }

  private mutating func skipSpaceAndComments() {
    while let s = peek() {
      if s == " " || s == "\t" || s == "\n" || s == "\r" {
        advance()
      } else if s == "/", peek(1) == "/" {
        while let c = peek(), c != "\n" { advance() }
      } else {
        return
      }
    }
  }

  private mutating func token(startingWith s: Unicode.Scalar, at location: SourceLocation) throws(IRParseError) -> Token
  {
    switch s {
    case "%":
      advance()
      return .value(try name(at: location))
    case "@":
      advance()
      return .global(try name(at: location))
    case "-" where peek(1) == ">":
      advance()
      advance()
      return .punct("->")
    case "-", "0"..."9":
      return try number(at: location)
    case "(", ")", "{", "}", "[", "]", ",", ":", "=":
      advance()
      return .punct(String(s))
    case "a"..."z", "A"..."Z", "_":
      var word = ""
      while let c = peek(), IRName.isBare(c), c != ".", c != "-" {
        word.unicodeScalars.append(c)
        advance()
      }
      return .word(word)
    default:
      throw IRParseError(.unexpectedCharacter(String(s)), at: location)
    }
  }

  /// A bare or quoted name after a sigil.
  private mutating func name(at location: SourceLocation) throws(IRParseError) -> String {
    if peek() == "\"" { return try quoted(at: location) }
    var name = ""
    while let c = peek(), IRName.isBare(c) {
      name.unicodeScalars.append(c)
      advance()
    }
    guard !name.isEmpty else { throw IRParseError(.expected("a name after the sigil", found: "nothing"), at: location) }
    return name
  }

  private mutating func quoted(at location: SourceLocation) throws(IRParseError) -> String {
    advance()
    var name = ""
    while true {
      guard let c = peek() else { throw IRParseError(.unterminatedName, at: location) }
      advance()
      switch c {
      case "\"": return name
      case "\\":
        guard let e = peek() else { throw IRParseError(.unterminatedName, at: location) }
        advance()
        switch e {
        case "\\": name += "\\"
        case "\"": name += "\""
        case "n": name += "\n"
        case "r": name += "\r"
        case "t": name += "\t"
        case "u": name.unicodeScalars.append(try unicodeEscape(at: location))
        default: throw IRParseError(.invalidEscape("\\" + String(e)), at: location)
        }
      case "\n": throw IRParseError(.unterminatedName, at: location)
      default: name.unicodeScalars.append(c)
      }
    }
  }

  /// The `{HEX}` of a `\u{HEX}` escape.
  private mutating func unicodeEscape(at location: SourceLocation) throws(IRParseError) -> Unicode.Scalar {
    guard peek() == "{" else { throw IRParseError(.invalidEscape("\\u without {"), at: location) }
    advance()
    var hex = ""
    while let c = peek(), c != "}", hex.count < 8 {
      hex.unicodeScalars.append(c)
      advance()
    }
    guard peek() == "}", let value = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(value) else {
      throw IRParseError(.invalidEscape("\\u{\(hex)"), at: location)
    }
    advance()
    return scalar
  }

  private mutating func number(at location: SourceLocation) throws(IRParseError) -> Token {
    var text = ""
    var isFloat = false
    if peek() == "-" {
      text = "-"
      advance()
    }
    while let c = peek() {
      switch c {
      case "0"..."9": break
      case ".", "e", "E": isFloat = true
      case "+", "-":
        guard text.last == "e" || text.last == "E" else {
          return try finishNumber(text, isFloat: isFloat, at: location)
        }
      default:
        return try finishNumber(text, isFloat: isFloat, at: location)
      }
      text.unicodeScalars.append(c)
      advance()
    }
    return try finishNumber(text, isFloat: isFloat, at: location)
  }

  private func finishNumber(_ text: String, isFloat: Bool, at location: SourceLocation) throws(IRParseError) -> Token {
    if !isFloat, let v = Int(text) { return .int(v) }
    if isFloat, let v = Float(text), v.isFinite { return .float(v) }
    throw IRParseError(.invalidNumber(text), at: location)
  }
}
