import Foundation
import PackagePlugin

/// Embeds the runtime of compiled programs (`Sources/Runtime/Program`: the C API header, runtime and
/// command-line program as `.h` and `.c` files, the Swift runtime and program as `.swift` files;
/// `Sources/Formats`: the `.npy` format and seeded numbers that the Swift programs share) into
/// the target as string constants (`enum EmbeddedRuntime`), so that the `resnetc` binary
/// writes them verbatim and works on its own.
@main struct EmbedRuntime: BuildToolPlugin {
  func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
    var inputs: [URL] = []
    for path in ["Sources/Runtime/Program", "Sources/Formats"] {
      let folder = context.package.directoryURL.appending(path: path)
      let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter {
        $0.hasSuffix(".c") || $0.hasSuffix(".h") || $0.hasSuffix(".swift")
      }.sorted()
      inputs += names.map { folder.appending(path: $0) }
    }
    let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedRuntime.swift")
    return [
      .buildCommand(
        displayName: "Embedding the runtime of compiled programs",
        executable: try context.tool(named: "resnetc-embed").url,
        arguments: [output.path, "EmbeddedRuntime"] + inputs.map(\.path), inputFiles: inputs, outputFiles: [output])
    ]
  }
}
