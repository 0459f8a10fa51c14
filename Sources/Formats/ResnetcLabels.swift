/// Class names for `--labels FILE` and the top-5 lines that use them: the one definition that
/// `resnetc run` and every compiled Swift program use (this file is compiled into resnetc and
/// copied verbatim into each program); the C programs (`Runtime/Program/resnetc_main.c`)
/// follow it with the same words, and a test holds the three to the same output and messages.
///
/// A labels file is UTF-8 text, one name per line (`\n` or `\r\n`; a last line without a
/// newline counts, an empty one after the last newline does not), at most `byteLimit` bytes,
/// with exactly one name per class of every `[rows, classes]` output.
public enum ResnetcLabels {
  /// The largest labels file read.
  public static let byteLimit = 16 << 20

  /// Why a file's bytes are no labels file (a NUL byte, or a line that is not UTF-8), or nil.
  public static func problem(_ bytes: [UInt8]) -> String? {
    var line = 1, start = 0
    for i in 0...bytes.count {
      guard i == bytes.count || bytes[i] == 0x0A else {
        if bytes[i] == 0 { return "line \(line) holds a NUL byte" }
        continue
      }
      if !isUTF8(bytes[start..<i]) { return "line \(line) is not UTF-8 text" }
      line += 1
      start = i + 1
    }
    return nil
  }

  /// Whether `bytes` are well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF).
  static func isUTF8(_ bytes: ArraySlice<UInt8>) -> Bool {
    var i = bytes.startIndex
    while i < bytes.endIndex {
      let lead = bytes[i]
      let (length, low, high): (Int, UInt8, UInt8) =
        switch lead {
        case 0x00...0x7F: (1, 0x80, 0xBF)
        case 0xC2...0xDF: (2, 0x80, 0xBF)
        case 0xE0: (3, 0xA0, 0xBF)
        case 0xED: (3, 0x80, 0x9F)
        case 0xE1...0xEF: (3, 0x80, 0xBF)
        case 0xF0: (4, 0x90, 0xBF)
        case 0xF4: (4, 0x80, 0x8F)
        case 0xF1...0xF3: (4, 0x80, 0xBF)
        default: (0, 0, 0)
        }
      guard length > 0, bytes.endIndex - i >= length else { return false }
      for k in 1..<length {
        let byte = bytes[i + k]
        guard byte >= (k == 1 ? low : 0x80), byte <= (k == 1 ? high : 0xBF) else { return false }
      }
      i += length
    }
    return true
  }

  /// The names in a file's bytes (checked by `problem` first).
  public static func names(_ bytes: [UInt8]) -> [String] {
    var names: [String] = []
    var start = 0
    for (i, byte) in bytes.enumerated() where byte == 0x0A {
      names.append(line(bytes[start..<i]))
      start = i + 1
    }
    if start < bytes.count { names.append(line(bytes[start...])) }
    return names
  }

  private static func line(_ bytes: ArraySlice<UInt8>) -> String {
    String(decoding: bytes.last == 0x0D ? bytes.dropLast() : bytes, as: UTF8.self)
  }

  /// Why `count` names do not fit an output named `output` of shape `dims`, or nil when they do.
  public static func mismatch(count: Int, output: String, dims: [Int]) -> String? {
    guard dims.count == 2, count != dims[1] else { return nil }
    return "holds \(count) names but output '\(output)' has \(dims[1]) classes"
  }

  /// The message when no output has classes: `--labels` needs a `[rows, classes]` output.
  public static func noClassesMessage(output: String, dims: [Int]) -> String {
    "names the classes of a [rows, classes] output, but output '\(output)' is f32["
      + dims.map(String.init).joined(separator: ",") + "]"
  }

  /// The five largest entries of `row` (fewer if it is shorter), the first of equal ones first.
  public static func top5(_ row: UnsafeBufferPointer<Float>) -> [Int] {
    var chosen: [Int] = []
    while chosen.count < 5 && chosen.count < row.count {
      var best = -1
      for j in 0..<row.count where !chosen.contains(j) && (best < 0 || row[j] > row[best]) { best = j }
      chosen.append(best)
    }
    return chosen
  }

  /// The lines for one row: `  row 0 top-5: 6 (0.2529), 1 (0.2029), ...` without names; with
  /// them, the header line and one line per class, `    281 (0.4123) tabby, tabby cat`.
  /// `format` spells a value with four significant digits (`%.4g`).
  public static func rowLines(
    row: Int, top: [Int], values: UnsafeBufferPointer<Float>, names: [String]?, format: (Float) -> String
  ) -> String {
    guard let names else {
      return "  row \(row) top-5: " + top.map { "\($0) (\(format(values[$0])))" }.joined(separator: ", ") + "\n"
    }
    return "  row \(row) top-5:\n" + top.map { "    \($0) (\(format(values[$0]))) \(names[$0])\n" }.joined()
  }
}
