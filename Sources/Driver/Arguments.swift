import Foundation

/// A command-line option a command accepts.
struct OptionSpec: Sendable {
  /// Spellings, the first being canonical: `["--output", "-o"]`.
  var names: [String]
  /// The value's placeholder in help (`PATH`), or nil for a flag.
  var value: String?
  /// One line of help.
  var help: String

  /// The canonical spelling.
  var name: String { names[0] }
}

/// Command-line arguments split into positionals, option values and flags.
struct ParsedArguments {
  /// Arguments that are not options, in order.
  var positionals: [String] = []
  /// Values by canonical option name, in order given.
  var values: [String: [String]] = [:]
  /// Flags given, by canonical name.
  var flags: Set<String> = []

  /// The last value given for `option`.
  func value(_ option: String) -> String? { values[option]?.last }

  /// The value of `option` as an integer in `range`, or nil when absent.
  func integer(_ option: String, in range: ClosedRange<Int>) throws(UsageError) -> Int? {
    guard let text = value(option) else { return nil }
    guard let v = Int(text), range.contains(v) else {
      throw UsageError("\(option) expects a whole number in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
    }
    return v
  }
}

/// A command line that does not fit the command: shown with a pointer to `--help`, exit 2.
struct UsageError: Error, Equatable, CustomStringConvertible {
  var message: String

  init(_ message: String) {
    self.message = message
  }

  var description: String { message }
}

/// Splits `arguments` by `options`. Accepts `--name value`, `--name=value`, and `--` to end
/// options; anything else starting with `-` is an unknown option.
func parseArguments(_ arguments: [String], options: [OptionSpec]) throws(UsageError) -> ParsedArguments {
  var parsed = ParsedArguments()
  var index = 0
  while index < arguments.count {
    let argument = arguments[index]
    index += 1
    if argument == "--" {
      parsed.positionals += arguments[index...]
      break
    }
    guard argument.hasPrefix("-"), argument != "-" else {
      parsed.positionals.append(argument)
      continue
    }
    var name = argument
    var inlineValue: String?
    if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
      name = String(argument[..<equals])
      inlineValue = String(argument[argument.index(after: equals)...])
    }
    guard let spec = options.first(where: { $0.names.contains(name) }) else {
      throw UsageError("unknown option '\(name)'" + didYouMean(name, among: options.flatMap(\.names)))
    }
    if spec.value == nil {
      guard inlineValue == nil else { throw UsageError("\(spec.name) takes no value") }
      parsed.flags.insert(spec.name)
      continue
    }
    if inlineValue == nil {
      guard index < arguments.count else { throw UsageError("\(spec.name) needs a value (\(spec.value!))") }
      inlineValue = arguments[index]
      index += 1
    }
    parsed.values[spec.name, default: []].append(inlineValue!)
  }
  return parsed
}

/// Help lines for `options`, aligned.
func optionHelp(_ options: [OptionSpec]) -> String {
  let left = options.map { spec in spec.names.joined(separator: ", ") + (spec.value.map { " " + $0 } ?? "") }
  let width = left.map(\.count).max() ?? 0
  return zip(left, options).map { text, spec in
    "  " + text.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + spec.help
  }.joined(separator: "\n")
}
