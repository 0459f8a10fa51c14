/// A JSON value, as read from a safetensors header or written by `resnetc info --json`.
///
/// Objects keep their keys in file order; a key given twice is an error when parsing.
public enum JSON: Equatable, Sendable {
  case null
  case bool(Bool)
  /// A number without fraction or exponent that fits in `Int`.
  case int(Int)
  /// Any other number.
  case double(Double)
  case string(String)
  case array([JSON])
  case object([(key: String, value: JSON)])

  /// The value under `key` when this is an object.
  public subscript(key: String) -> JSON? {
    guard case .object(let members) = self else { return nil }
    return members.first { $0.key == key }?.value
  }

  public static func == (a: JSON, b: JSON) -> Bool {
    switch (a, b) {
    case (.null, .null): true
    case (.bool(let x), .bool(let y)): x == y
    case (.int(let x), .int(let y)): x == y
    case (.double(let x), .double(let y)): x == y
    case (.string(let x), .string(let y)): x == y
    case (.array(let x), .array(let y)): x == y
    case (.object(let x), .object(let y)):
      x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    default: false
    }
  }
}

/// Text that is not JSON, with the byte offset where reading stopped.
public struct JSONError: Error, Equatable, Sendable, CustomStringConvertible {
  /// What is wrong.
  public var message: String
  /// Byte offset into the text.
  public var offset: Int

  /// `message at byte N`.
  public var description: String { "\(message) at byte \(offset)" }
}

extension JSON {
  /// Deepest nesting of arrays and objects accepted.
  public static let maxDepth = 64

  /// Parses UTF-8 bytes holding exactly one JSON value (white space around it allowed).
  public static func parse(_ bytes: [UInt8]) throws(JSONError) -> JSON {
    var reader = JSONReader(bytes: bytes)
    reader.skipSpace()
    let value = try reader.value(depth: 0)
    reader.skipSpace()
    guard reader.index == bytes.count else { throw reader.error("unexpected text after the value") }
    return value
  }

  /// Compact text with keys in stored order.
  public var serialized: String {
    switch self {
    case .null: return "null"
    case .bool(let b): return b ? "true" : "false"
    case .int(let i): return String(i)
    case .double(let d): return d.isFinite ? "\(d)" : "null"
    case .string(let s): return JSON.quote(s)
    case .array(let items): return "[" + items.map(\.serialized).joined(separator: ",") + "]"
    case .object(let members):
      return "{" + members.map { JSON.quote($0.key) + ":" + $0.value.serialized }.joined(separator: ",") + "}"
    }
  }

  /// A JSON string literal for `s`.
  public static func quote(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where scalar.value < 0x20:
        let hex = String(scalar.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }
}

private struct JSONReader {
  let bytes: [UInt8]
  var index = 0

  func error(_ message: String) -> JSONError { JSONError(message: message, offset: index) }

  var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

  mutating func skipSpace() {
    while let b = peek, b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { index += 1 }
  }

  mutating func expect(_ byte: UInt8, _ what: String) throws(JSONError) {
    guard peek == byte else { throw error("expected \(what)") }
    index += 1
  }

  mutating func literal(_ text: String, _ value: JSON) throws(JSONError) -> JSON {
    let utf8 = Array(text.utf8)
    guard index + utf8.count <= bytes.count, Array(bytes[index..<index + utf8.count]) == utf8 else {
      throw error("invalid literal")
    }
    index += utf8.count
    return value
  }

  mutating func value(depth: Int) throws(JSONError) -> JSON {
    guard depth <= JSON.maxDepth else { throw error("nesting deeper than \(JSON.maxDepth)") }
    guard let b = peek else { throw error("unexpected end of text") }
    switch b {
    case UInt8(ascii: "{"): return try object(depth: depth)
    case UInt8(ascii: "["): return try array(depth: depth)
    case UInt8(ascii: "\""): return .string(try string())
    case UInt8(ascii: "t"): return try literal("true", .bool(true))
    case UInt8(ascii: "f"): return try literal("false", .bool(false))
    case UInt8(ascii: "n"): return try literal("null", .null)
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
    default: throw error("unexpected character")
    }
  }

  mutating func object(depth: Int) throws(JSONError) -> JSON {
    index += 1
    var members: [(key: String, value: JSON)] = []
    var keys = Set<String>()
    skipSpace()
    if peek == UInt8(ascii: "}") {
      index += 1
      return .object(members)
    }
    while true {
      skipSpace()
      guard peek == UInt8(ascii: "\"") else { throw error("expected a string key") }
      let keyAt = index
      let key = try string()
      guard keys.insert(key).inserted else {
        throw JSONError(message: "duplicate key \(JSON.quote(key))", offset: keyAt)
      }
      skipSpace()
      try expect(UInt8(ascii: ":"), "':'")
      skipSpace()
      members.append((key, try value(depth: depth + 1)))
      skipSpace()
      if peek == UInt8(ascii: ",") {
        index += 1
        continue
      }
      try expect(UInt8(ascii: "}"), "',' or '}'")
      return .object(members)
    }
  }

  mutating func array(depth: Int) throws(JSONError) -> JSON {
    index += 1
    var items: [JSON] = []
    skipSpace()
    if peek == UInt8(ascii: "]") {
      index += 1
      return .array(items)
    }
    while true {
      skipSpace()
      items.append(try value(depth: depth + 1))
      skipSpace()
      if peek == UInt8(ascii: ",") {
        index += 1
        continue
      }
      try expect(UInt8(ascii: "]"), "',' or ']'")
      return .array(items)
    }
  }

  mutating func string() throws(JSONError) -> String {
    index += 1
    var scalars = String.UnicodeScalarView()
    var raw: [UInt8] = []
    func flush() throws(JSONError) {
      guard !raw.isEmpty else { return }
      guard let text = String(validating: raw, as: UTF8.self) else { throw error("invalid UTF-8 in a string") }
      scalars.append(contentsOf: text.unicodeScalars)
      raw.removeAll(keepingCapacity: true)
    }
    while true {
      guard let b = peek else { throw error("unterminated string") }
      index += 1
      switch b {
      case UInt8(ascii: "\""):
        try flush()
        return String(scalars)
      case UInt8(ascii: "\\"):
        try flush()
        guard let e = peek else { throw error("unterminated string") }
        index += 1
        switch e {
        case UInt8(ascii: "\""): scalars.append("\"")
        case UInt8(ascii: "\\"): scalars.append("\\")
        case UInt8(ascii: "/"): scalars.append("/")
        case UInt8(ascii: "b"): scalars.append("\u{08}")
        case UInt8(ascii: "f"): scalars.append("\u{0C}")
        case UInt8(ascii: "n"): scalars.append("\n")
        case UInt8(ascii: "r"): scalars.append("\r")
        case UInt8(ascii: "t"): scalars.append("\t")
        case UInt8(ascii: "u"): scalars.append(try unicodeEscape())
        default: throw error("invalid escape")
        }
      case 0..<0x20:
        throw error("control character in a string")
      default:
        raw.append(b)
      }
    }
  }

  mutating func hex4() throws(JSONError) -> UInt32 {
    guard index + 4 <= bytes.count,
      let text = String(validating: bytes[index..<index + 4], as: UTF8.self),
      let v = UInt32(text, radix: 16)
    else { throw error("invalid \\u escape") }
    index += 4
    return v
  }

  mutating func unicodeEscape() throws(JSONError) -> Unicode.Scalar {
    let high = try hex4()
    if (0xD800..<0xDC00).contains(high) {
      guard peek == UInt8(ascii: "\\") else { throw error("unpaired surrogate") }
      index += 1
      guard peek == UInt8(ascii: "u") else { throw error("unpaired surrogate") }
      index += 1
      let low = try hex4()
      guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate") }
      return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))!
    }
    guard let scalar = Unicode.Scalar(high) else { throw error("unpaired surrogate") }
    return scalar
  }

  mutating func number() throws(JSONError) -> JSON {
    let start = index
    var isInteger = true
    while let b = peek {
      switch b {
      case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"): break
      case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): isInteger = false
      default:
        return try finishNumber(from: start, isInteger: isInteger)
      }
      index += 1
    }
    return try finishNumber(from: start, isInteger: isInteger)
  }

  func finishNumber(from start: Int, isInteger: Bool) throws(JSONError) -> JSON {
    let text = String(decoding: bytes[start..<index], as: UTF8.self)
    if isInteger, let i = Int(text) { return .int(i) }
    guard let d = Double(text), d.isFinite else { throw JSONError(message: "invalid number '\(text)'", offset: start) }
    return .double(d)
  }
}
