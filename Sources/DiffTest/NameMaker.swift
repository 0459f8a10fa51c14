/// Names for generated values and constants: plain ones, and hostile ones that every stage
/// must carry as opaque text.
///
/// Hostile names use the characters that identifiers, comments, string literals, the textual
/// IR and the lowering's old text markers treat specially (`@ % . - /`, spaces, quotes,
/// backslashes, newlines, tabs, NUL, non-ASCII), run past 1,000 characters, spell an
/// existing name with one of the lowering's former suffixes (`x@blocked`, `w@packed8`), or
/// come in families that are equal once sanitized to C identifiers (`v.a`, `v_a`, `v-a`).
/// Every name is unique in its graph (values and constants together, as ONNX needs) and
/// never empty (ONNX reads an empty input name as "absent").
struct NameMaker {
  /// How hostile the names are: 0 all plain, 1 all hostile.
  let hostility: Double
  private var used: Set<String> = []
  private var family: [String] = []
  private var count = 0

  static let alphabet: [String] = [
    "@", "%", ".", "-", "/", " ", "\"", "\\", "\n", "\t", "'", "*", "#", "{", "}", "(", "é", "ß", "日本", "\u{0}",
    "*/", "/*", "\\(", "\"\"\"", "??/", "a", "b", "x",
  ]
  static let markers = ["@blocked", "@packed8", "@packed16", "@stem8", "@winograd8", "@dense16", "@padded8"]

  init(hostility: Double) {
    self.hostility = hostility
  }

  /// A fresh name; `plain` is the readable base used when the dice say "not hostile".
  mutating func make(_ plain: String, _ dice: inout Dice) -> String {
    count += 1
    var name = plain
    if dice.chance(hostility) { name = hostile(&dice) }
    while name.isEmpty || used.contains(name) { name += "\(count)" }
    used.insert(name)
    return name
  }

  private mutating func hostile(_ dice: inout Dice) -> String {
    if !family.isEmpty { return family.removeLast() }
    switch dice.int(0...9) {
    case 0:
      let base = "v\(count)"
      family = [".", "_", "-", " ", "/", "@", "$"].map { base + $0 + "a" }
      return family.removeLast()
    case 1:
      return String(repeating: dice.pick(["n", "é", "@", "\\"]), count: dice.int(1000...1100))
    case 2 where !used.isEmpty:
      return used.sorted()[dice.int(0...(used.count - 1))] + dice.pick(Self.markers)
    default:
      return (0..<dice.int(1...8)).map { _ in dice.pick(Self.alphabet) }.joined()
    }
  }
}
