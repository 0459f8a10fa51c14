/// The fields of a `.npy` header dict, read by a small parser of the Python literal subset
/// NumPy writes: a dict of quoted keys to a quoted string, `True`/`False`, or a tuple of ints.
struct NpyHeader {
  var descr: String
  var fortranOrder: Bool
  var shape: [Int]

  private enum Value {
    case string(String)
    case bool(Bool)
    case tuple([Int])
  }

  static func parse(_ text: String) throws(NpyError) -> NpyHeader {
    var scanner = Scanner(chars: Array(text.unicodeScalars))
    var fields: [String: Value] = [:]
    try scanner.expect("{")
    while true {
      scanner.skipSpace()
      if scanner.accept("}") { break }
      guard case .string(let key) = try scanner.value() else { throw .invalidHeader("dict keys must be strings") }
      scanner.skipSpace()
      try scanner.expect(":")
      scanner.skipSpace()
      guard fields.updateValue(try scanner.value(), forKey: key) == nil else {
        throw .invalidHeader("key '\(key)' appears twice")
      }
      scanner.skipSpace()
      if scanner.accept("}") { break }
      try scanner.expect(",")
    }
    scanner.skipSpace()
    guard scanner.atEnd else { throw .invalidHeader("text after the dict") }
    guard case .string(let descr) = fields["descr"] else { throw .invalidHeader("no 'descr' string") }
    guard case .bool(let fortran) = fields["fortran_order"] else { throw .invalidHeader("no 'fortran_order' flag") }
    guard case .tuple(let shape) = fields["shape"] else { throw .invalidHeader("no 'shape' tuple") }
    guard fields.count == 3 else { throw .invalidHeader("unexpected keys besides descr, fortran_order and shape") }
    return NpyHeader(descr: descr, fortranOrder: fortran, shape: shape)
  }

  private struct Scanner {
    let chars: [Unicode.Scalar]
    var index = 0

    var atEnd: Bool { index == chars.count }

    mutating func skipSpace() {
      while index < chars.count, chars[index] == " " || chars[index] == "\n" || chars[index] == "\t" { index += 1 }
    }

    mutating func accept(_ c: Unicode.Scalar) -> Bool {
      guard index < chars.count, chars[index] == c else { return false }
      index += 1
      return true
    }

    mutating func expect(_ c: Unicode.Scalar) throws(NpyError) {
      guard accept(c) else { throw .invalidHeader("expected '\(c)' at character \(index)") }
    }

    mutating func value() throws(NpyError) -> Value {
      guard index < chars.count else { throw .invalidHeader("unexpected end") }
      switch chars[index] {
      case "'", "\"":
        let quote = chars[index]
        index += 1
        var s = ""
        while index < chars.count, chars[index] != quote {
          s.unicodeScalars.append(chars[index])
          index += 1
        }
        try expect(quote)
        return .string(s)
      case "T", "F":
        let word = String(String.UnicodeScalarView(chars[index..<min(index + 5, chars.count)]))
        if word.hasPrefix("True") {
          index += 4
          return .bool(true)
        }
        if word == "False" {
          index += 5
          return .bool(false)
        }
        throw .invalidHeader("unexpected word at character \(index)")
      case "(":
        index += 1
        var items: [Int] = []
        while true {
          skipSpace()
          if accept(")") { return .tuple(items) }
          items.append(try integer())
          skipSpace()
          if accept(")") { return .tuple(items) }
          try expect(",")
        }
      default:
        throw .invalidHeader("unexpected character at \(index)")
      }
    }

    mutating func integer() throws(NpyError) -> Int {
      let start = index
      if index < chars.count, chars[index] == "-" { index += 1 }
      while index < chars.count, ("0"..."9").contains(chars[index]) { index += 1 }
      guard let v = Int(String(String.UnicodeScalarView(chars[start..<index]))) else {
        throw .invalidHeader("expected an integer at character \(start)")
      }
      return v
    }
  }
}
