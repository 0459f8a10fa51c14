import Codegen
import Foundation
import GraphIR
import ResnetCompiler

let compileCommand = Command(
  name: "compile",
  summary: "Compile the model to a native program, a shared library, or C or Swift sources.",
  usage: "MODEL -o OUT [--backend c|swift] [--emit exe|lib|c|swift|swift-package] [options]",
  details: modelHelp + """

    --emit exe (the default) writes the program OUT and its weights OUT.weights; run
    './OUT --help' for its options (.npy input and output, --bench N, --threads N).
    --emit lib writes libOUT.so, OUT.h (the C API) and OUT.weights.
    --emit c writes OUT.c, OUT_main.c, OUT.h and OUT.weights for your own build and prints
    the command that builds them (the target's flags included).
    On stderr each phase says how long it took (import, passes, lowering, writing, the
    compiler) and, on a terminal, a bar shows the running one.
    The C compiler is $CC when set, else clang, else cc.

    --backend swift writes the same program in Swift (the same kernels, memory plan, weights
    file, command-line options and C API) and builds it with swiftc -O ($SWIFTC when set);
    --emit swift writes OUT.swift (the model, its public class ResnetcModel and the C API),
    OUT_kernels1.swift ... (its kernels), OUT_main.swift (the program), OUT.h and OUT.weights,
    and prints the command that builds them.
    --emit swift-package writes OUT.swift, one file holding the model and a public class
    named OUT (a Swift identifier) that loads OUT.weights from its target's resources, as
    resnetc's SwiftPM build plugin does (see examples/swiftpm-app).
    """,
  options: [
    OptionSpec(names: ["--output", "-o"], value: "OUT", help: "the output path, without extension"),
    OptionSpec(names: ["--emit"], value: "exe|lib|c|swift|swift-package", help: "what to produce (default exe)"),
    OptionSpec(
      names: ["--backend"], value: "c|swift",
      help: "the language the program is written in (default c; --emit swift implies swift)"),
    OptionSpec(
      names: ["--target"], value: "native|avx512vnni|avx512|avx2|generic",
      help:
        "kernels for this instruction set (default native: the best this machine runs, planned for the caches it reads from the CPU; a named one is planned for a table's; generic: no vectors)"
    ),
  ] + modelOptions
) { arguments, console in
  guard let output = arguments.value("--output") else { throw UsageError("missing -o OUT") }
  let base = URL(fileURLWithPath: output).lastPathComponent
  guard !base.isEmpty, base.unicodeScalars.allSatisfy({ IRName.isBareName($0) }) else {
    throw UsageError("the name of OUT must be made of letters, digits, '_', '.' and '-'; got '\(base)'")
  }
  let kindText = arguments.value("--emit") ?? "exe"
  guard let kind = ArtifactKind(rawValue: kindText) else {
    throw UsageError("--emit expects exe, lib, c, swift or swift-package, got '\(kindText)'")
  }
  if kind == .swiftPackage {
    let scalars = Array(base.unicodeScalars)
    guard let first = scalars.first, first == "_" || first.properties.isAlphabetic, first.isASCII,
      scalars.allSatisfy({ $0.isASCII && ($0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0)) })
    else {
      throw UsageError(
        "--emit swift-package names its class after OUT, which must be a Swift identifier; got '\(base)'")
    }
  }
  let backendText = arguments.value("--backend") ?? (kind == .swift || kind == .swiftPackage ? "swift" : "c")
  guard let backend = Backend(rawValue: backendText) else {
    throw UsageError("--backend expects c or swift, got '\(backendText)'")
  }
  if (kind == .c && backend == .swift) || ((kind == .swift || kind == .swiftPackage) && backend == .c) {
    throw UsageError(
      "--emit \(kind.rawValue) writes \(kind == .c ? "C" : "Swift") sources; it cannot go with --backend \(backend.rawValue)"
    )
  }
  let (target, caches) = try parseTarget(arguments.value("--target"))
  let model = try modelArgument(arguments)
  try checkOutputFolder(output)
  let phases = Phases(console: console, expected: kind == .c || kind == .swift || kind == .swiftPackage ? 4 : 5)
  defer { phases.stop() }
  let graph = try loadModelReporting(model, arguments, console: console, phases: phases).graph
  let progress = phases.note
  if target != .generic { progress("planning for \(target.rawValue), caches \(caches.description)") }
  let paths = try ResnetCompiler.Model(graph: graph).compile(
    to: output, artifact: kind, backend: backend, target: target, caches: caches, progress: progress,
    phase: phases.begin)
  phases.end()
  console.out(paths.map { "wrote \($0)\n" }.joined())
  if kind == .c {
    let flags = (CCompiler.flags + target.flags).joined(separator: " ")
    console.out("build with: cc \(flags) \(output).c \(output)_main.c -pthread -lm -o \(output)\n")
  }
  if kind == .swift {
    let flags = (SwiftCompiler.flags + SwiftCompiler.flags(for: target) + SwiftCompiler.programFlags).joined(
      separator: " ")
    let sources = paths.filter { $0.hasSuffix(".swift") }.joined(separator: " ")
    console.out("build with: swiftc \(flags) \(sources) -o \(output)\n")
  }
}

/// `--target`'s value, native (the default) or a named instruction set, and the caches its
/// plans are sized for: for native this machine's, read from the CPU (the table's where they
/// cannot be read), for a named target the table's.
func parseTarget(_ text: String?) throws(UsageError) -> (target: Target, caches: CacheSizes) {
  guard let text, text != "native" else {
    let target = Target.native()
    return (target, CacheSizes.native() ?? CacheSizes.table(for: target))
  }
  guard let target = Target(rawValue: text) else {
    throw UsageError("--target expects native, avx512vnni, avx512, avx2 or generic, got '\(text)'")
  }
  return (target, CacheSizes.table(for: target))
}
