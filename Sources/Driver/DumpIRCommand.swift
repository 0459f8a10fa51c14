import Foundation
import GraphIR

let dumpIRCommand = Command(
  name: "dump-ir",
  summary: "Print the model's textual IR, or write it with its weights.",
  usage: "MODEL [-o PATH] [options]",
  details: modelHelp + """

    With -o PATH, writes PATH.gir (the IR) and PATH.safetensors (the weights), a model
    every command reads back.
    """,
  options: [OptionSpec(names: ["--output", "-o"], value: "PATH", help: "write PATH.gir and PATH.safetensors")]
    + modelOptions
) { arguments, console in
  if let path = arguments.value("--output") { try checkOutputFolder(path) }
  let graph = try loadModel(try modelArgument(arguments), arguments, console: console)
  guard let path = arguments.value("--output") else {
    console.out(IRPrinter.print(graph))
    return
  }
  let written = try ModelFile.save(graph, base: path.hasSuffix(".gir") ? String(path.dropLast(4)) : path)
  console.out("wrote \(written.ir) and \(written.weights)\n")
}
