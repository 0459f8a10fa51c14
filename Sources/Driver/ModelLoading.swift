import Foundation
import GraphIR
import Models
import ONNX
import Passes
import ResnetCompiler

/// The options every command that takes MODEL accepts.
let modelOptions: [OptionSpec] = [
  OptionSpec(names: ["-O0"], value: nil, help: "run no passes"),
  OptionSpec(names: ["-O1"], value: nil, help: "run the default pass pipeline (the default)"),
  OptionSpec(
    names: ["--passes"], value: "A,B,...", help: "run these passes in this order instead (see 'resnetc explain --help')"
  ),
  OptionSpec(names: ["--print-after-all"], value: nil, help: "print the IR after every pass (on stderr)"),
  OptionSpec(names: ["--print-after"], value: "PASS", help: "print the IR after this pass (on stderr; repeatable)"),
  OptionSpec(names: ["--stats"], value: nil, help: "print one line per pass saying what it changed (on stderr)"),
  OptionSpec(
    names: ["--shortcut"], value: "A|B|C",
    help: "built-in models: shortcut option (default B for ImageNet, A for CIFAR)"),
  OptionSpec(
    names: ["--variant"], value: "v1|v1.5",
    help: "built-in models: bottleneck stride on the 1x1 (v1, the paper) or the 3x3 (v1.5)"),
  OptionSpec(names: ["--batch"], value: "N", help: "built-in models: images per batch (default 1)"),
  OptionSpec(
    names: ["--resolution"], value: "R",
    help: "built-in models: input height and width (default 224 ImageNet, 32 CIFAR)"),
  OptionSpec(names: ["--seed"], value: "S", help: "built-in models: seed for the weights (default 0)"),
  OptionSpec(
    names: ["--input-shape"], value: "[NAME=]DIMS",
    help: "ONNX models: pin an input's symbolic dimensions, e.g. 1x3x224x224 (repeat for several inputs)"),
  OptionSpec(
    names: ["--feed"], value: "NAME",
    help:
      "ONNX models: keep graph input NAME, which an initializer also defines, an input given by --input (repeatable)"
  ),
]

/// Help text describing MODEL.
let modelHelp = """
  MODEL is a built-in name, an ONNX file (.onnx), or a .gir file (with its .safetensors
  beside it).
  Built-in: resnet18 resnet34 resnet50 resnet101 resnet152 (ImageNet, 224x224),
            resnet50-v1.5 resnet101-v1.5 resnet152-v1.5 (torchvision's stride placement),
            resnet20 resnet32 resnet44 resnet56 resnet110 resnet1202 (CIFAR-10, 32x32;
            any depth 6n+2 works), plain18 plain20 ... (the same without shortcuts);
            'resnetc list' shows each with its input, parameters and multiply-adds.
  """

/// Loads MODEL (built-in, `.onnx` or `.gir`) with the command line's options, then runs
/// the passes the command line asks for, printing what `--print-after` and `--stats` ask.
func loadModel(_ model: String, _ arguments: ParsedArguments, console: Console) throws -> Graph {
  try loadModelReporting(model, arguments, console: console).graph
}

/// `loadModel`, with the passes' reports; `phases` times the import and the passes.
func loadModelReporting(
  _ model: String, _ arguments: ParsedArguments, console: Console, phases: Phases? = nil
) throws -> (graph: Graph, reports: [PassReport]) {
  phases?.begin("import")
  var graph = try loadUnoptimized(model, arguments)
  let manager = try passManager(arguments)
  phases?.begin("passes")
  let reports = try manager.run(&graph) { pass, graph in
    if arguments.flags.contains("--print-after-all") || (arguments.values["--print-after"] ?? []).contains(pass) {
      console.err("// IR after \(pass)\n" + IRPrinter.print(graph))
    }
  }
  if arguments.flags.contains("--stats") { console.err(reports.map { $0.summary + "\n" }.joined()) }
  return (graph, reports)
}

/// MODEL as built or imported, before any pass.
func loadUnoptimized(_ model: String, _ arguments: ParsedArguments) throws -> Graph {
  try isFilePath(model) ? loadFile(model, arguments) : buildBuiltin(model, arguments)
}

/// The passes the command line selects: `--passes`, else `-O0` or the default `-O1`.
func passManager(_ arguments: ParsedArguments) throws -> PassManager {
  if let list = arguments.value("--passes") {
    guard !arguments.flags.contains("-O0"), !arguments.flags.contains("-O1") else {
      throw UsageError("--passes replaces -O0/-O1; give one or the other")
    }
    do {
      return try PassManager.named(list.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
    } catch {
      throw UsageError(error.description)
    }
  }
  let manager = PassManager.pipeline(arguments.flags.contains("-O0") && !arguments.flags.contains("-O1") ? .o0 : .o1)
  for name in arguments.values["--print-after"] ?? [] where !Pipeline.all.contains(where: { $0.name == name }) {
    throw UsageError(
      "--print-after: unknown pass '\(name)' (passes: \(Pipeline.all.map(\.name).joined(separator: ", ")))")
  }
  return manager
}

/// Whether MODEL names a file rather than a built-in model: it has a folder or a model
/// file's extension, or it is no built-in name but a file by that name exists.
private func isFilePath(_ model: String) -> Bool {
  if model.contains("/") || [".gir", ".onnx", ".safetensors"].contains(where: model.hasSuffix) { return true }
  if (try? ResNetSpec(name: model)) != nil { return false }
  return FileManager.default.fileExists(atPath: model)
}

private func loadFile(_ path: String, _ arguments: ParsedArguments) throws -> Graph {
  let builtinOnly = ["--shortcut", "--variant", "--batch", "--resolution", "--seed"].filter {
    arguments.values[$0] != nil
  }
  if let option = builtinOnly.first { throw UsageError("\(option) applies to built-in models only, not to \(path)") }
  let pins = try (arguments.values["--input-shape"] ?? []).map { text throws(UsageError) -> InputShape in
    guard let pin = InputShape(parsing: text) else {
      throw UsageError(
        "--input-shape expects DIMS or NAME=DIMS with positive dimensions, such as 1x3x224x224; got '\(text)'")
    }
    return pin
  }
  if !path.hasSuffix(".onnx") {
    if !pins.isEmpty { throw UsageError("--input-shape applies to ONNX models only") }
    if arguments.values["--feed"] != nil { throw UsageError("--feed applies to ONNX models only") }
  }
  do {
    return try ResnetCompiler.Model(
      file: path, inputShapes: path.hasSuffix(".onnx") ? pins : [],
      feeding: path.hasSuffix(".onnx") ? Set(arguments.values["--feed"] ?? []) : []
    ).graph
  } catch .unreadableFile(_, let reason) {
    throw DriverError.unsupportedFile(path: path, reason: reason)
  } catch .fileError(let why) {
    throw DriverError.message(why)
  } catch {
    throw DriverError.message(error.description)
  }
}

private func buildBuiltin(_ name: String, _ arguments: ParsedArguments) throws -> Graph {
  if arguments.values["--input-shape"] != nil { throw UsageError("--input-shape applies to ONNX models only") }
  if arguments.values["--feed"] != nil { throw UsageError("--feed applies to ONNX models only") }
  var options = ResnetCompiler.Model.BuiltinOptions()
  if let text = arguments.value("--shortcut") {
    guard let option = ShortcutOption(rawValue: text.uppercased()) else {
      throw UsageError("--shortcut expects A, B or C, got '\(text)'")
    }
    options.shortcut = option
  }
  if let text = arguments.value("--variant") {
    guard let placement = StridePlacement(rawValue: text) else {
      throw UsageError("--variant expects v1 or v1.5, got '\(text)'")
    }
    options.stride = placement
  }
  options.batch = try arguments.integer("--batch", in: 1...4096)
  options.resolution = try arguments.integer("--resolution", in: 1...8192)
  if let text = arguments.value("--seed") {
    guard let seed = UInt64(text) else { throw UsageError("--seed expects a whole number ≥ 0, got '\(text)'") }
    options.seed = seed
  }
  do {
    return try ResnetCompiler.Model(builtin: name, options: options).graph
  } catch .unknownModel {
    throw DriverError.unknownModel(name: name, suggestion: suggestion(for: name, among: builtinNames))
  } catch .invalidModel(let built, let reason) {
    throw DriverError.builtinModel(name: built, reason: reason)
  } catch {
    throw DriverError.message(error.description)
  }
}

/// Problems the driver itself reports.
enum DriverError: Error, CustomStringConvertible {
  /// A file of a kind resnetc does not read.
  case unsupportedFile(path: String, reason: String)
  /// A built-in model whose options make an invalid graph (an input too small, say).
  case builtinModel(name: String, reason: String)
  /// A file given to `run` that does not fit the model, or an output path that cannot be
  /// written.
  case tensorFile(path: String, reason: String)
  /// Work that needs more memory than the machine has.
  case tooLarge(String)
  /// A message that names its file already.
  case message(String)
  /// No built-in model and no model file by this name.
  case unknownModel(name: String, suggestion: String?)

  var description: String {
    switch self {
    case .unsupportedFile(let path, let reason): "\(path): \(reason)"
    case .builtinModel(let name, let reason): "\(name) cannot be built with these options: \(reason)"
    case .tensorFile(let path, let reason): "\(path): \(reason)"
    case .tooLarge(let why): why
    case .message(let why): why
    case .unknownModel(let name, let suggestion):
      "unknown model '\(name)'" + (suggestion.map { "; did you mean '\($0)'?" } ?? "")
        + " (a .onnx or .gir file, or a built-in name: 'resnetc list' shows them)"
    }
  }
}

/// Refuses an output path whose folder does not exist or is no folder, or that is a folder,
/// before any work is done, in the compiled programs' words for such an `--output`:
/// `/missing/x: no such directory /missing`.
func checkOutputFolder(_ path: String) throws(DriverError) {
  var status = stat()
  if stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR {
    throw .tensorFile(path: path, reason: "is a directory")
  }
  let folder = outputFolder(path)
  guard stat(folder, &status) == 0 else {
    throw .tensorFile(
      path: path, reason: errno == ENOTDIR ? "\(folder) is not a directory" : "no such directory \(folder)")
  }
  guard (status.st_mode & S_IFMT) == S_IFDIR else {
    throw .tensorFile(path: path, reason: "\(folder) is not a directory")
  }
}

/// The folder part of `path` as written: `.` for none, `/` for the root.
func outputFolder(_ path: String) -> String {
  guard let slash = path.lastIndex(of: "/") else { return "." }
  return slash == path.startIndex ? "/" : String(path[..<slash])
}
