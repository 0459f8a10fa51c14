/// How names are spelled in the textual IR.
///
/// A name made only of ASCII letters, digits, `_`, `.` and `-` is written bare (`%conv1.w`);
/// any other name, the empty one included, is written quoted (`%"a b"`) with `\\`, `\"`,
/// `\n`, `\r`, `\t` and `\u{HEX}` escapes for control characters, so that every name a model
/// file can hold survives printing and parsing.
public enum IRName {
  /// Whether `scalar` may appear in a bare name.
  static func isBare(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar {
    case "a"..."z", "A"..."Z", "0"..."9", "_", ".", "-": true
    default: false
    }
  }

  /// Whether `scalar` may appear in a bare name: ASCII letters, digits, `_`, `.`, `-`.
  public static func isBareName(_ scalar: Unicode.Scalar) -> Bool { isBare(scalar) }

  /// The name as the textual IR writes it (without its sigil).
  public static func spelling(of name: String) -> String {
    if !name.isEmpty, name.unicodeScalars.allSatisfy(isBare) { return name }
    var out = "\""
    for scalar in name.unicodeScalars {
      switch scalar {
      case "\\": out += "\\\\"
      case "\"": out += "\\\""
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where scalar.value < 0x20 || scalar.value == 0x7f:
        out += "\\u{" + String(scalar.value, radix: 16) + "}"
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }
}
