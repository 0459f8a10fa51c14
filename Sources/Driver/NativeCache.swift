import Codegen
import Foundation
import GraphIR
import Runtime

/// Compiled libraries for `resnetc run --engine c|swift`, kept in `$RESNETC_CACHE`, else
/// `$XDG_CACHE_HOME/resnetc`, else `~/.cache/resnetc`, one folder per (generated source,
/// weights, target and the caches it is planned for, compiler: its path, size and date, and
/// flags); a later run of the same model reuses it.
enum NativeCache {
  static var root: String {
    let environment = ProcessInfo.processInfo.environment
    if let path = environment["RESNETC_CACHE"], !path.isEmpty { return path }
    if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/resnetc" }
    return NSHomeDirectory() + "/.cache/resnetc"
  }

  /// The loaded model for `graph` built by `backend`, compiling it first unless the cache
  /// has it (saying how long lowering, writing and the compiler took, as `compile` does).
  static func model(
    for graph: Graph, backend: Backend = .c, target: Target = .generic, caches: CacheSizes? = nil, console: Console
  ) throws -> NativeModel {
    var identity: String
    let weights: WeightsBlob
    let build: (String) throws -> Void
    let phases = Phases(console: console, expected: 3)
    defer { phases.stop() }
    let progress = phases.note
    phases.begin("lowering")
    switch backend {
    case .c:
      let compiler = try CCompiler.locate()
      let program = try CProgram(graph: graph, headerName: "model.h", target: target, caches: caches)
      identity =
        program.source + program.header + compilerStamp(compiler.path)
        + (CCompiler.flags + target.flags).joined(separator: " ")
      weights = program.weights
      build = {
        try Artifacts.build(
          program, kind: .lib, output: $0, compiler: compiler, progress: progress, phase: phases.begin)
      }
    case .swift:
      let compiler = try SwiftCompiler.locate()
      let program = try SwiftProgram(graph: graph, target: target, caches: caches)
      identity =
        "swift " + program.modelSources.map(\.text).joined() + compilerStamp(compiler.path)
        + (SwiftCompiler.flags + SwiftCompiler.flags(for: target)).joined(separator: " ")
      weights = program.weights
      build = {
        try Artifacts.buildSwift(
          program, kind: .lib, output: $0, compiler: compiler, progress: progress, phase: phases.begin)
      }
    }
    identity += " target \(target.rawValue) caches \(caches?.description ?? "table")"
    let key = WeightsBlob.fnv1a(paddedBytes(identity)) ^ weights.checksum
    let folder = root + "/" + String(key, radix: 16)
    let library = folder + "/libmodel.so", weightsPath = folder + "/model.weights"
    if !FileManager.default.fileExists(atPath: library) || !FileManager.default.fileExists(atPath: weightsPath) {
      try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
      let staging = root + "/.staging-" + UUID().uuidString
      Interruption.hold(folder: staging)
      defer { Interruption.remove(folder: staging) }
      try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: false)
      progress("compiling \(graph.name) into \(folder)")
      try build(staging + "/model")
      phases.end()
      try? FileManager.default.removeItem(atPath: folder)
      try FileManager.default.moveItem(atPath: staging, toPath: folder)
    }
    return try NativeModel(libraryPath: library, weightsPath: weightsPath)
  }

  /// The compiler at `path` as the cache tells one from another: its path, size and
  /// modification time (a compiler upgraded in place is a new one).
  static func compilerStamp(_ path: String) -> String {
    var status = stat()
    guard stat(path, &status) == 0 else { return path }
    return "\(path) \(status.st_size) \(status.st_mtim.tv_sec)"
  }

  /// UTF-8 bytes padded with zeros to whole 64-bit words, for the checksum.
  static func paddedBytes(_ text: String) -> [UInt8] {
    var bytes = Array(text.utf8)
    bytes += Array(repeating: 0, count: (8 - bytes.count % 8) % 8)
    return bytes
  }
}
