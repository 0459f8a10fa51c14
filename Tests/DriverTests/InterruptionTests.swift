import Foundation
import Testing

/// The `resnetc` program this test run built, beside the test bundle.
func resnetcExecutable() throws -> String {
  let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
  let candidates = [folder.path + "/resnetc", folder.deletingLastPathComponent().path + "/resnetc"]
  return try #require(
    candidates.first { FileManager.default.isExecutableFile(atPath: $0) },
    "the resnetc program is not built beside the tests (looked at \(candidates)); run 'swift build' first")
}

/// A compile stopped by a signal, or failing, leaves no temporary folder and no partial output.
@Suite(.serialized) struct InterruptionTests {
  /// Starts `resnetc arguments` with its temporaries in `tmp`.
  static func start(_ arguments: [String], tmp: String, environment extra: [String: String] = [:]) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try resnetcExecutable())
    process.arguments = arguments
    var environment = ProcessInfo.processInfo.environment
    environment["TMPDIR"] = tmp + "/"
    for (key, value) in extra { environment[key] = value }
    process.environment = environment
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
  }

  /// The bytes under `folder`.
  static func bytes(under folder: String) -> Int {
    let files = FileManager.default.enumerator(atPath: folder)?.compactMap { $0 as? String } ?? []
    return files.reduce(0) { total, name in
      let size = (try? FileManager.default.attributesOfItem(atPath: folder + "/" + name)[.size] as? Int) ?? 0
      return total + (size ?? 0)
    }
  }

  @Test(arguments: [SIGTERM, SIGINT])
  func aSignalDuringACompileRemovesTheTemporaries(signal: Int32) throws {
    let dir = try temporaryDirectory(), tmp = try temporaryDirectory()
    defer {
      try? FileManager.default.removeItem(atPath: dir)
      try? FileManager.default.removeItem(atPath: tmp)
    }
    let process = try Self.start(["compile", "resnet50", "-o", dir + "/r50"], tmp: tmp)
    // Wait until most of the weights (about 100 MB) are written.
    let deadline = Date().addingTimeInterval(120)
    while Self.bytes(under: tmp) < 50_000_000 && process.isRunning && Date() < deadline { usleep(50_000) }
    #expect(process.isRunning, "the compile ended before it could be interrupted")
    #expect(Self.bytes(under: tmp) >= 50_000_000, "the temporary folder never filled")
    kill(process.processIdentifier, signal)
    process.waitUntilExit()
    #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == signal)
    #expect(try FileManager.default.contentsOfDirectory(atPath: tmp).isEmpty, "temporaries left in \(tmp)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty, "a partial output in \(dir)")
  }

  @Test func aFailedCompileRemovesTheTemporaries() throws {
    let dir = try temporaryDirectory(), tmp = try temporaryDirectory()
    defer {
      try? FileManager.default.removeItem(atPath: dir)
      try? FileManager.default.removeItem(atPath: tmp)
    }
    let process = try Self.start(
      ["compile", "resnet20", "-o", dir + "/r20"], tmp: tmp, environment: ["CC": "/bin/false"])
    process.waitUntilExit()
    #expect(process.terminationReason == .exit && process.terminationStatus == 1)
    #expect(try FileManager.default.contentsOfDirectory(atPath: tmp).isEmpty, "temporaries left in \(tmp)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
  }
}
