import Codegen
import Foundation
import GraphIR

/// A subcommand of `resnetc`.
struct Command: Sendable {
  /// Its name on the command line.
  var name: String
  /// One line for the command list.
  var summary: String
  /// The usage line's arguments.
  var usage: String
  /// Extra help after the usage line.
  var details: String
  /// The options it accepts, besides `--help`.
  var options: [OptionSpec]
  /// Does the work; throws usage errors or input errors.
  var run: @Sendable (ParsedArguments, Console) throws -> Void

  /// The full `--help` text.
  var help: String {
    var text = "USAGE: resnetc \(name) \(usage)\n\n\(summary)\n"
    if !details.isEmpty { text += "\n\(details)\n" }
    text += "\nOPTIONS:\n" + optionHelp(options + [helpOption]) + "\n"
    return text
  }
}

let helpOption = OptionSpec(names: ["--help", "-h"], value: nil, help: "show this help")

/// The `resnetc` command-line tool.
public enum Driver {
  static let commands: [Command] = [
    infoCommand, listCommand, dumpIRCommand, runCommand, compileCommand, quantizeCommand, explainCommand, viewCommand,
  ]

  /// This release of resnetc.
  public static let version = "0.9.0"

  /// What `--version` prints: the release, the targets it compiles for and the one this
  /// machine runs best.
  static var versionText: String {
    "resnetc \(version)\ntargets: \(Target.allCases.map(\.rawValue).joined(separator: ", ")) "
      + "(native here: \(Target.native().rawValue))\n"
  }

  static let overview = """
    OVERVIEW: resnetc compiles residual networks to fast native programs.

    USAGE: resnetc <command> [options]

    COMMANDS:
    \(commands.map { "  " + $0.name.padding(toLength: 9, withPad: " ", startingAt: 0) + $0.summary }.joined(separator: "\n"))

    Run 'resnetc <command> --help' for a command's options, 'resnetc --version' for the
    release and its targets.

    """

  /// Makes SIGINT, SIGTERM and SIGHUP remove the temporary folders and stop the compilers of
  /// a command under way before the process ends (for the command-line tool).
  public static func installSignalHandlers() { Interruption.installHandlers() }

  /// Runs the tool on `arguments` (without the program name); returns the exit status:
  /// 0 success, 1 bad input or a failed run, 2 a command line that does not parse.
  public static func run(_ arguments: [String], console: Console = .standard) -> Int32 {
    guard let first = arguments.first else {
      console.err(overview)
      return 2
    }
    if first == "--help" || first == "-h" || first == "help" {
      if arguments.count > 1, let command = commands.first(where: { $0.name == arguments[1] }) {
        console.out(command.help)
      } else {
        console.out(overview)
      }
      return 0
    }
    if first == "--version" || first == "version" {
      console.out(versionText)
      return 0
    }
    guard let command = commands.first(where: { $0.name == first }) else {
      let names = commands.map(\.name)
      let hint = didYouMean(first, among: names + ["--help", "--version"])
      console.err(
        "resnetc: error: unknown \(first.hasPrefix("-") ? "option" : "command") '\(first)'\(hint) "
          + "(commands: \(names.joined(separator: ", ")))\n")
      return 2
    }
    do {
      let parsed = try parseArguments(Array(arguments.dropFirst()), options: command.options + [helpOption])
      if parsed.flags.contains("--help") {
        console.out(command.help)
        return 0
      }
      try command.run(parsed, console)
      return 0
    } catch let error as UsageError {
      console.err("resnetc \(command.name): error: \(error.message)\nRun 'resnetc \(command.name) --help' for usage.\n")
      return 2
    } catch {
      console.err("resnetc \(command.name): error: \(error)\n")
      return 1
    }
  }
}

/// The single MODEL positional of a command.
func modelArgument(_ arguments: ParsedArguments) throws(UsageError) -> String {
  guard let model = arguments.positionals.first else { throw UsageError("missing MODEL") }
  guard arguments.positionals.count == 1 else {
    throw UsageError("unexpected argument '\(arguments.positionals[1])'")
  }
  return model
}
