import Codegen
import Foundation
import GraphIR

let compileCommand = Command(
  name: "compile",
  summary: "Compile the model to a native program, a shared library, or C sources.",
  usage: "MODEL -o OUT [--emit exe|lib|c] [options]",
  details: modelHelp + """

    --emit exe (the default) writes the program OUT and its weights OUT.weights; run
    './OUT --help' for its options (.npy input and output, --bench N, --threads N).
    --emit lib writes libOUT.so, OUT.h (the C API) and OUT.weights.
    --emit c writes OUT.c, OUT_main.c, OUT.h and OUT.weights for your own build and prints
    the command that builds them (the target's flags included).
    The C compiler is $CC when set, else clang, else cc.
    """,
  options: [
    OptionSpec(names: ["--output", "-o"], value: "OUT", help: "the output path, without extension"),
    OptionSpec(names: ["--emit"], value: "exe|lib|c", help: "what to produce (default exe)"),
    OptionSpec(
      names: ["--target"], value: "native|avx512|avx2|generic",
      help: "kernels for this instruction set (default native: the best this machine runs; generic is portable C)"),
  ] + modelOptions
) { arguments, console in
  guard let output = arguments.value("--output") else { throw UsageError("missing -o OUT") }
  let base = URL(fileURLWithPath: output).lastPathComponent
  guard !base.isEmpty, base.unicodeScalars.allSatisfy({ IRName.isBareName($0) }) else {
    throw UsageError("the name of OUT must be made of letters, digits, '_', '.' and '-'; got '\(base)'")
  }
  let kindText = arguments.value("--emit") ?? "exe"
  guard let kind = ArtifactKind(rawValue: kindText) else {
    throw UsageError("--emit expects exe, lib or c, got '\(kindText)'")
  }
  let model = try modelArgument(arguments)
  let graph = try loadModel(model, arguments, console: console)
  let compiler = kind == .c ? nil : try CCompiler.locate()
  let target = try parseTarget(arguments.value("--target"))
  let paths = try Artifacts.build(graph, kind: kind, output: output, compiler: compiler, target: target) {
    console.err($0 + "\n")
  }
  console.out(paths.map { "wrote \($0)\n" }.joined())
  if kind == .c {
    let flags = (CCompiler.flags + target.flags).joined(separator: " ")
    console.out("build with: cc \(flags) \(output).c \(output)_main.c -pthread -lm -o \(output)\n")
  }
}

/// `--target`'s value: native (the default) or a named instruction set.
func parseTarget(_ text: String?) throws(UsageError) -> Target {
  guard let text, text != "native" else { return Target.native() }
  guard let target = Target(rawValue: text) else {
    throw UsageError("--target expects native, avx512, avx2 or generic, got '\(text)'")
  }
  return target
}
