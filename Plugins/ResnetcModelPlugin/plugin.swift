import Foundation
import PackagePlugin

/// Compiles the model file of a target into it at build time: a `.onnx` file, a `.gir` file
/// with its `.safetensors` beside it, or a `NAME.resnetc.json` naming a built-in model
/// (`{"model": "resnet20", "seed": 0, "batch": 1, "resolution": 32, "shortcut": "A",
/// "variant": "v1", "target": "native"}`; all but `model` optional). `resnetc compile
/// --emit swift-package` writes the model as one Swift source of the target, with a public
/// class named after the file (`resnet50.onnx` -> `ResNet50Model`), and its weights as the
/// target's resource; the app writes `let model = try ResNet50Model()`. One model a target.
@main struct ResnetcModelPlugin: BuildToolPlugin {
  struct Failure: Error, CustomStringConvertible {
    let description: String
  }

  func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
    guard let module = target.sourceModule else { return [] }
    let models = module.sourceFiles.map(\.url).filter { url in
      let name = url.lastPathComponent
      return name.hasSuffix(".onnx") || name.hasSuffix(".gir") || name.hasSuffix(".resnetc.json")
    }.sorted { $0.path < $1.path }
    guard let model = models.first else { return [] }
    guard models.count == 1 else {
      throw Failure(
        description:
          "target \(target.name) holds \(models.count) model files (\(models.map(\.lastPathComponent).joined(separator: ", "))); "
          + "resnetc compiles one model a target: put each in a target of its own")
    }
    let file = model.lastPathComponent
    let stem =
      file.hasSuffix(".resnetc.json")
      ? String(file.dropLast(".resnetc.json".count)) : model.deletingPathExtension().lastPathComponent
    let className = Self.className(stem)
    var arguments: [String]
    var inputs = [model]
    if file.hasSuffix(".resnetc.json") {
      arguments = try Self.builtinArguments(model)
    } else {
      arguments = [model.path]
      if file.hasSuffix(".gir") { inputs.append(model.deletingPathExtension().appendingPathExtension("safetensors")) }
    }
    let work = context.pluginWorkDirectoryURL
    let output = work.appending(path: className)
    arguments = ["compile"] + arguments + ["-o", output.path, "--emit", "swift-package"]
    return [
      .buildCommand(
        displayName: "Compiling \(file) into \(className) with resnetc",
        executable: try context.tool(named: "resnetc").url, arguments: arguments, inputFiles: inputs,
        outputFiles: [work.appending(path: className + ".swift"), work.appending(path: className + ".weights")])
    ]
  }

  /// `resnet50` -> `ResNet50Model`, `tiny-residual` -> `TinyResidualModel`.
  static func className(_ stem: String) -> String {
    let parts = stem.split { !($0.isASCII && ($0.isLetter || $0.isNumber)) }
    var name = parts.map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    if name.hasPrefix("Resnet") { name = "ResNet" + name.dropFirst("Resnet".count) }
    if name.first.map({ !$0.isLetter }) ?? true { name = "Model" + name }
    return name + "Model"
  }

  /// The command-line arguments for a `NAME.resnetc.json` built-in model.
  static func builtinArguments(_ url: URL) throws -> [String] {
    let data = try Data(contentsOf: url)
    guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
      throw Failure(description: "\(url.path): expected a JSON object such as {\"model\": \"resnet20\"}")
    }
    guard let name = object["model"] as? String else {
      throw Failure(description: "\(url.path): needs \"model\": the name of a built-in model, such as \"resnet50\"")
    }
    var arguments = [name]
    let options = [
      "seed": "--seed", "batch": "--batch", "resolution": "--resolution", "shortcut": "--shortcut",
      "variant": "--variant", "target": "--target",
    ]
    for (key, value) in object.sorted(by: { $0.key < $1.key }) where key != "model" {
      guard let option = options[key] else {
        throw Failure(
          description:
            "\(url.path): unknown key \"\(key)\" (keys: model, \(options.keys.sorted().joined(separator: ", ")))")
      }
      arguments += [option, "\(value)"]
    }
    return arguments
  }
}
