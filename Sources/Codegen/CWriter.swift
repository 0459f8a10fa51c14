/// Writes C source with consistent indentation; emitters call `line` and `block` and never
/// count spaces.
public struct CWriter {
  /// The text so far.
  public private(set) var text = ""
  private var depth = 0

  /// An empty writer; lines start `depth` levels deep (a body to place inside a block).
  public init(depth: Int = 0) {
    self.depth = depth
  }

  /// Appends one line at the current indentation (an empty line stays empty).
  public mutating func line(_ s: String = "") {
    text += s.isEmpty ? "\n" : String(repeating: "  ", count: depth) + s + "\n"
  }

  /// Appends `text` as it is (it should end with a newline).
  public mutating func raw(_ text: String) {
    self.text += text
  }

  /// Appends the lines `body` writes one level deeper.
  public mutating func indented(_ body: (inout CWriter) -> Void) {
    depth += 1
    body(&self)
    depth -= 1
  }

  /// Appends `header(body) {`, the body one level deeper, then `}`: the header is made
  /// from the body's text (to name what the body uses).
  public mutating func block(header: (String) -> String, _ body: (inout CWriter) -> Void) {
    var inner = CWriter(depth: depth + 1)
    body(&inner)
    line(header(inner.text) + " {")
    raw(inner.text)
    line("}")
  }

  /// Whether `word` occurs in `text` as a whole identifier.
  public static func containsWord(_ text: String, _ word: String) -> Bool {
    let identifier: (Character) -> Bool = { $0.isLetter || $0.isNumber || $0 == "_" }
    var rest = text[...]
    while let range = rest.range(of: word) {
      let before = range.lowerBound == text.startIndex ? nil : text[text.index(before: range.lowerBound)]
      let after = range.upperBound == text.endIndex ? nil : text[range.upperBound]
      if !(before.map(identifier) ?? false) && !(after.map(identifier) ?? false) { return true }
      rest = text[range.upperBound...]
    }
    return false
  }

  /// Appends `header {`, the body one level deeper, then `}` (with `trailer` after it, for
  /// `};` or `} while (0);`).
  public mutating func block(_ header: String, trailer: String = "", _ body: (inout CWriter) -> Void) {
    line(header + " {")
    depth += 1
    body(&self)
    depth -= 1
    line("}" + trailer)
  }
}

/// Turns names from models into C identifiers and comment text that cannot break the
/// generated source.
public enum CName {
  /// Words C (C11) reserves, and names the generated program defines itself.
  static let reserved: Set<String> = [
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum", "extern",
    "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return", "short", "signed",
    "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void", "volatile", "while",
    "_Alignas", "_Alignof", "_Atomic", "_Bool", "_Complex", "_Generic", "_Imaginary", "_Noreturn",
    "_Static_assert", "_Thread_local", "main", "NULL",
  ]

  /// A C identifier (`[A-Za-z_][A-Za-z0-9_]*`) made from `name` behind `prefix`: every other
  /// character becomes `_`, and the result is never a keyword nor starts with a digit.
  /// Callers add a unique suffix where two names could sanitize alike.
  public static func identifier(_ name: String, prefix: String = "") -> String {
    var out = prefix
    for scalar in name.unicodeScalars {
      switch scalar {
      case "a"..."z", "A"..."Z", "0"..."9", "_": out.unicodeScalars.append(scalar)
      default: out += "_"
      }
    }
    if out.isEmpty || out.unicodeScalars.first.map({ ("0"..."9").contains($0) }) == true { out = "_" + out }
    if reserved.contains(out) { out = "_" + out }
    return out
  }

  /// `name` made safe inside a `/* */` or `//` comment: printable ASCII only, with `*/`,
  /// `/*`, backslashes and line breaks neutralized.
  public static func comment(_ name: String) -> String {
    var out = ""
    var last: Unicode.Scalar = " "
    for scalar in name.unicodeScalars {
      let c: Unicode.Scalar = (" "..."~").contains(scalar) && scalar != "\\" ? scalar : "?"
      // A space keeps "*" and "/" from ever touching, so no "*/" or "/*" can form.
      if (last == "*" && c == "/") || (last == "/" && c == "*") {
        out += " "
      }
      out.unicodeScalars.append(c)
      last = c
    }
    return out
  }
}
