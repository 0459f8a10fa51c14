import Foundation
import PackagePlugin

/// Embeds the runtime of compiled programs (`Sources/Runtime/Program`: the C API header, runtime and
/// command-line program as `.h` and `.c` files, the Swift runtime and program as `.swift` files) into
/// the target as string constants (`enum EmbeddedRuntime`), so that the `resnetc` binary
/// writes them verbatim and works on its own.
@main struct EmbedRuntime: BuildToolPlugin {
  func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
    let folder = context.package.directoryURL.appending(path: "Sources/Runtime/Program")
    let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter {
      $0.hasSuffix(".c") || $0.hasSuffix(".h") || $0.hasSuffix(".swift")
    }.sorted()
    let inputs = names.map { folder.appending(path: $0) }
    let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedRuntime.swift")
    return [
      .buildCommand(
        displayName: "Embedding the runtime of compiled programs",
        executable: try context.tool(named: "resnetc-embed").url,
        arguments: [output.path, "EmbeddedRuntime"] + inputs.map(\.path), inputFiles: inputs, outputFiles: [output])
    ]
  }
}
