import Foundation

/// The system's C compiler: `$CC` when set, else `clang` (which ships with the Swift
/// toolchain), else `cc`. It is run with an argument list, never through a shell.
public struct CCompiler: Sendable {
  /// The compiler's path.
  public let path: String
  /// Flags for every compilation: C11, optimized, every warning an error.
  public static let flags = ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror"]

  /// Finds the compiler in `environment` (its `CC` and `PATH`).
  public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) throws(CCompilerError)
    -> CCompiler
  {
    let find = { (name: String) in CompilerError.find(name, environment: environment) }
    if let cc = environment["CC"], !cc.isEmpty {
      guard let path = find(cc) else { throw .notFound("CC is '\(cc)', which is not an executable on PATH") }
      return CCompiler(path: path)
    }
    for name in ["clang", "cc"] {
      if let path = find(name) { return CCompiler(path: path) }
    }
    throw .notFound("no C compiler found: install clang or cc, or set CC")
  }

  /// Compiles `sources` into `output` (a shared library when `shared`), with `extra` flags
  /// after the standard ones.
  public func compile(sources: [String], output: String, shared: Bool, extra: [String] = []) throws(CCompilerError) {
    var arguments = CCompiler.flags + extra
    if shared { arguments += ["-shared", "-fPIC"] }
    arguments += sources + ["-o", output, "-pthread", "-lm"]
    // The compiler's own temporaries go beside the output, in the folder removed after (and on
    // an interruption).
    let folder = URL(fileURLWithPath: output).deletingLastPathComponent().path
    try CompilerError.run(path, arguments, language: "C", temporaries: folder)
  }
}

/// A compiler that is missing or that failed.
public enum CompilerError: Error, Equatable, CustomStringConvertible {
  /// No compiler could be found.
  case notFound(String)
  /// The compiler could not be started.
  case cannotRun(String, String, language: String = "C")
  /// The compiler exited with an error; `output` is what it printed.
  case failed(command: String, status: Int32, output: String, language: String = "C")

  /// The problem, with the compiler's own messages when it failed.
  public var description: String {
    switch self {
    case .notFound(let why): why
    case .cannotRun(let path, let why, let language): "cannot run the \(language) compiler \(path): \(why)"
    case .failed(let command, let status, let output, let language):
      "the \(language) compiler failed (exit status \(status)): \(command)\n\(output.trimmingCharacters(in: .whitespacesAndNewlines))"
    }
  }

  /// Runs the compiler at `path` with `arguments` (no shell) and waits for it; with
  /// `temporaries`, its TMPDIR is that folder.
  static func run(_ path: String, _ arguments: [String], language: String, temporaries: String? = nil)
    throws(CompilerError)
  {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if let temporaries {
      var environment = ProcessInfo.processInfo.environment
      environment["TMPDIR"] = temporaries
      process.environment = environment
    }
    let errors = Pipe()
    process.standardError = errors
    process.standardOutput = errors
    do {
      try process.run()
    } catch {
      throw .cannotRun(path, error.localizedDescription, language: language)
    }
    Interruption.hold(child: process.processIdentifier)
    defer { Interruption.release(child: process.processIdentifier) }
    let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    Interruption.waitIfInterrupted()
    guard process.terminationStatus == 0 else {
      throw .failed(
        command: ([path] + arguments).joined(separator: " "), status: process.terminationStatus, output: text,
        language: language)
    }
  }

  /// The executable `name` (a path, or a name looked up on `environment`'s PATH), or nil.
  static func find(_ name: String, environment: [String: String]) -> String? {
    if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
    let searchPath = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
    return searchPath.map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
  }
}

/// The name this error had when only C was compiled.
public typealias CCompilerError = CompilerError
