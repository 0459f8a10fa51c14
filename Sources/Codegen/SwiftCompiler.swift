import Foundation

/// The Swift compiler for the Swift backend: `$SWIFTC` when set, else `swiftc` on PATH. It is
/// run with an argument list, never through a shell.
public struct SwiftCompiler: Sendable {
  /// The compiler's path.
  public let path: String
  /// The module the generated sources are compiled as (not the class's name, which a module
  /// of the same name would shadow).
  public static let moduleName = "ResnetcCompiled"
  /// Flags for every compilation: optimized with the run-time checks kept (`-O`, not
  /// `-Ounchecked`), every warning an error, and one optimizing job per file with as many
  /// at once as there are processors (not `-wmo`, which optimizes the whole module in one
  /// thread: generated kernels take several times longer that way).
  public static var flags: [String] {
    [
      "-O", "-parse-as-library", "-warnings-as-errors", "-module-name", moduleName, "-disable-batch-mode", "-j",
      "\(ProcessInfo.processInfo.activeProcessorCount)",
    ]
  }

  /// Flags for a program (not a library): the Swift runtime linked in, so that the program
  /// needs only the C library where it runs. A library links it dynamically, since a Swift
  /// process that loads it has the runtime already and must not get a second one.
  public static let programFlags = ["-static-stdlib"]

  /// Finds the compiler in `environment` (its `SWIFTC` and `PATH`).
  public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) throws(CompilerError)
    -> SwiftCompiler
  {
    if let swiftc = environment["SWIFTC"], !swiftc.isEmpty {
      guard let path = CompilerError.find(swiftc, environment: environment) else {
        throw .notFound("SWIFTC is '\(swiftc)', which is not an executable on PATH")
      }
      return SwiftCompiler(path: path)
    }
    guard let path = CompilerError.find("swiftc", environment: environment) else {
      throw .notFound("no Swift compiler found: install the Swift toolchain, or set SWIFTC")
    }
    return SwiftCompiler(path: path)
  }

  /// The flags that let the optimizer use `target`'s instructions (the same features as
  /// the C flags of `Target.flags`, passed through to code generation).
  public static func flags(for target: Target) -> [String] {
    switch target {
    case .generic: []
    case .avx2: ["-Xcc", "-mavx2", "-Xcc", "-mfma"]
    case .avx512: ["-Xcc", "-mavx512f", "-Xcc", "-mavx512vl", "-Xcc", "-mavx512bw", "-Xcc", "-mfma"]
    case .avx512vnni:
      ["-Xcc", "-mavx512f", "-Xcc", "-mavx512vl", "-Xcc", "-mavx512bw", "-Xcc", "-mavx512vnni", "-Xcc", "-mfma"]
    }
  }

  /// Compiles `sources` into `output`: a program, or a shared library when `shared`.
  public func compile(sources: [String], output: String, shared: Bool, extra: [String] = []) throws(CompilerError) {
    var arguments = SwiftCompiler.flags + extra
    if shared { arguments += ["-emit-library"] }
    arguments += sources + ["-o", output]
    try CompilerError.run(path, arguments, language: "Swift")
  }
}
