import Foundation
import GraphIR

/// What `resnetc compile` produces.
public enum ArtifactKind: String, Sendable, CaseIterable {
  /// A standalone program `OUT` with `OUT.weights` beside it.
  case exe
  /// `libOUT.so`, `OUT.h` and `OUT.weights`.
  case lib
  /// `OUT.c`, `OUT_main.c`, `OUT.h` and `OUT.weights`, for one's own build.
  case c
  /// `OUT.swift`, `OUT_main.swift`, `OUT.h` and `OUT.weights` (the Swift backend's sources).
  case swift
  /// `OUT.swift` (one file: the model, its readers and a public class named OUT) and
  /// `OUT.weights`, for a target of a Swift package (what the build plugin writes).
  case swiftPackage = "swift-package"
}

/// The language the kernels and runtime are written in before native compilation.
public enum Backend: String, Sendable, CaseIterable {
  /// C11, compiled by `$CC`, clang or cc.
  case c
  /// Swift, compiled by `swiftc -O`.
  case swift
}

/// Writes a compiled model's files.
public enum Artifacts {
  /// Builds `graph` as `kind` at `output` (a path without extension) and returns the paths
  /// written. Sources are written and compiled in a private temporary directory; only the
  /// finished files are moved into place. `progress` receives one line per step.
  @discardableResult
  public static func build(
    _ graph: Graph, kind: ArtifactKind, output: String, compiler: CCompiler?, target: Target = .generic,
    caches: CacheSizes? = nil, extraFlags: [String] = [], progress: (String) -> Void = { _ in }
  ) throws -> [String] {
    let base = URL(fileURLWithPath: output).lastPathComponent
    return try build(
      try CProgram(graph: graph, headerName: base + ".h", target: target, caches: caches), kind: kind,
      output: output,
      compiler: compiler,
      extraFlags: extraFlags, progress: progress)
  }

  /// Builds an already lowered `program`, whose header name must be `OUT.h`. `phase` is told
  /// as each phase begins: `writing` (sources and weights), then `C compiler`.
  @discardableResult
  public static func build(
    _ program: CProgram, kind: ArtifactKind, output: String, compiler: CCompiler?, extraFlags: [String] = [],
    progress: (String) -> Void = { _ in }, phase: (String) -> Void = { _ in }
  ) throws -> [String] {
    let graph = program.graph
    let destination = URL(fileURLWithPath: output)
    let base = destination.lastPathComponent
    let directory = destination.deletingLastPathComponent().path
    precondition(program.headerName == base + ".h", "the program includes its header by the output's name")
    let scratch = try privateDirectory()
    defer { Interruption.remove(folder: scratch) }
    phase("writing")
    try write(program.source, to: scratch + "/\(base).c")
    try write(program.header, to: scratch + "/\(base).h")
    try write(program.mainSource, to: scratch + "/\(base)_main.c")
    try program.writeWeights(toFile: scratch + "/\(base).weights")
    var produced: [String] = []
    switch kind {
    case .c:
      produced = ["\(base).c", "\(base)_main.c", "\(base).h", "\(base).weights"]
    case .swift, .swiftPackage:
      preconditionFailure("a C program is not written as Swift sources")
    case .exe, .lib:
      guard let compiler else { throw CompilerError.notFound("no C compiler found: install clang or cc, or set CC") }
      let target = kind == .exe ? base : "lib\(base).so"
      let sources = kind == .exe ? ["\(base).c", "\(base)_main.c"] : ["\(base).c"]
      progress("compiling \(graph.nodes.count) nodes for \(program.target.rawValue) with \(compiler.path)")
      phase("C compiler")
      try compiler.compile(
        sources: sources.map { scratch + "/" + $0 }, output: scratch + "/" + target, shared: kind == .lib,
        extra: program.target.flags + extraFlags)
      produced = kind == .exe ? [target, "\(base).weights"] : [target, "\(base).h", "\(base).weights"]
    }
    return try moveIntoPlace(produced, from: scratch, to: directory)
  }

  /// Builds `graph` with the Swift backend as `kind` (exe, lib or swift) at `output`.
  @discardableResult
  public static func buildSwift(
    _ graph: Graph, kind: ArtifactKind, output: String, compiler: SwiftCompiler?, target: Target = .generic,
    caches: CacheSizes? = nil, extraFlags: [String] = [], progress: (String) -> Void = { _ in }
  ) throws -> [String] {
    try buildSwift(
      try SwiftProgram(graph: graph, target: target, caches: caches), kind: kind, output: output, compiler: compiler,
      extraFlags: extraFlags, progress: progress)
  }

  /// Builds an already lowered Swift `program` as `kind` (exe, lib or swift) at `output`;
  /// `phase` is told as each phase begins: `writing`, then `swiftc`.
  @discardableResult
  public static func buildSwift(
    _ program: SwiftProgram, kind: ArtifactKind, output: String, compiler: SwiftCompiler?, extraFlags: [String] = [],
    progress: (String) -> Void = { _ in }, phase: (String) -> Void = { _ in }
  ) throws -> [String] {
    precondition(kind != .c, "a Swift program is not written as C sources")
    let (graph, target) = (program.graph, program.target)
    let destination = URL(fileURLWithPath: output)
    let base = destination.lastPathComponent
    let scratch = try privateDirectory()
    defer { Interruption.remove(folder: scratch) }
    phase("writing")
    if kind == .swiftPackage {
      try write(program.packageSource(className: base), to: scratch + "/\(base).swift")
      try program.writeWeights(toFile: scratch + "/\(base).weights")
      return try moveIntoPlace(
        ["\(base).swift", "\(base).weights"], from: scratch, to: destination.deletingLastPathComponent().path)
    }
    let model = program.modelSources.map { (base + $0.suffix + ".swift", $0.text) }
    let main = (base + program.mainSource.suffix + ".swift", program.mainSource.text)
    for (name, text) in model + [main] { try write(text, to: scratch + "/" + name) }
    try write(program.header, to: scratch + "/\(base).h")
    try program.writeWeights(toFile: scratch + "/\(base).weights")
    var produced = (model + [main]).map(\.0) + ["\(base).h", "\(base).weights"]
    if kind != .swift {
      guard let compiler else {
        throw CompilerError.notFound("no Swift compiler found: install the Swift toolchain, or set SWIFTC")
      }
      let product = kind == .exe ? base : "lib\(base).so"
      let sources = (kind == .exe ? model + [main] : model).map(\.0)
      progress("compiling \(graph.nodes.count) nodes as Swift for \(target.rawValue) with \(compiler.path)")
      phase("swiftc")
      try compiler.compile(
        sources: sources.map { scratch + "/" + $0 }, output: scratch + "/" + product, shared: kind == .lib,
        extra: SwiftCompiler.flags(for: target) + (kind == .exe ? SwiftCompiler.programFlags : []) + extraFlags)
      produced = kind == .exe ? [product, "\(base).weights"] : [product, "\(base).h", "\(base).weights"]
    }
    return try moveIntoPlace(produced, from: scratch, to: destination.deletingLastPathComponent().path)
  }

  /// Moves the finished files `names` from `scratch` into `directory`, replacing old ones.
  private static func moveIntoPlace(_ names: [String], from scratch: String, to directory: String) throws -> [String] {
    var paths: [String] = []
    for name in names {
      let to = directory + "/" + name
      try? FileManager.default.removeItem(atPath: to)
      try FileManager.default.moveItem(atPath: scratch + "/" + name, toPath: to)
      paths.append(to)
    }
    return paths
  }

  /// A new directory only this user can read, removed if the process is interrupted.
  static func privateDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "resnetc-" + UUID().uuidString
    Interruption.hold(folder: path)
    try FileManager.default.createDirectory(
      atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    return path
  }

  static func write(_ text: String, to path: String) throws {
    try text.write(toFile: path, atomically: false, encoding: .utf8)
  }
}
