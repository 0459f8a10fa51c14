import Codegen
import Foundation
import GraphIR
import Testing

@testable import Driver

/// Runs a program; returns status, stdout and stderr.
func execute(_ path: String, _ arguments: [String]) throws -> (Int32, String, String) {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: path)
  process.arguments = arguments
  let out = Pipe(), err = Pipe()
  process.standardOutput = out
  process.standardError = err
  try process.run()
  // Stderr is read on its own thread so that neither pipe can fill and stall the program.
  let errors = Capture(), reading = DispatchGroup()
  DispatchQueue.global().async(group: reading) {
    errors.append(String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
  }
  let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
  process.waitUntilExit()
  reading.wait()
  return (process.terminationStatus, text, errors.value)
}

@Suite struct CompileCommandTests {
  @Test func exeLibAndSources() throws {
    let dir = try temporaryDirectory()
    let exe = resnetc("compile", "resnet20", "-o", dir + "/r20")
    #expect(exe.status == 0, "\(exe.err)")
    #expect(exe.out == "wrote \(dir)/r20\nwrote \(dir)/r20.weights\n")
    #expect(exe.err.contains("compiling 27 nodes for "))
    // The program computes what the interpreter prints.
    #expect(try execute(dir + "/r20", []).1 == resnetc("run", "resnet20").out)

    let lib = resnetc("compile", "resnet20", "-o", dir + "/r20", "--emit", "lib")
    #expect(lib.out == "wrote \(dir)/libr20.so\nwrote \(dir)/r20.h\nwrote \(dir)/r20.weights\n")

    // A named target plans for the table's caches and says so; native for the ones it
    // reads from the CPU, or the table's where it cannot.
    let named = resnetc("compile", "resnet20", "-o", dir + "/avx2", "--emit", "c", "--target", "avx2")
    #expect(
      named.err.contains("planning for avx2, caches L1d 32 KB, L2 256 KB, L3 8 MB (table for avx2)"), "\(named.err)")
    let native = resnetc("compile", "resnet20", "-o", dir + "/native", "--emit", "c")
    let target = Target.native()
    let caches = CacheSizes.native() ?? CacheSizes.table(for: target)
    #expect(
      native.err.contains("planning for") == (target != .generic)
        && (target == .generic || native.err.contains("planning for \(target.rawValue), caches \(caches.description)")),
      "\(native.err)")
    let c = resnetc("compile", "resnet20", "-o", dir + "/src", "--emit", "c")
    #expect(
      c.out.hasPrefix(
        "wrote \(dir)/src.c\nwrote \(dir)/src_main.c\nwrote \(dir)/src.h\nwrote \(dir)/src.weights\nbuild with: cc "))
    // The sources build with the command it prints.
    let line = try #require(c.out.split(separator: "\n").last)
    let command = line.dropFirst("build with: cc ".count).split(separator: " ").map(String.init)
    let cc = try #require(
      ["/usr/bin/cc", "/opt/swift/usr/bin/clang"].first { FileManager.default.isExecutableFile(atPath: $0) })
    let build = try execute(cc, command)
    #expect(build.0 == 0)
    #expect(try execute(dir + "/src", []).1 == resnetc("run", "resnet20").out)
  }

  @Test func engineCRunsTheCompiledModel() throws {
    setenv("RESNETC_CACHE", try temporaryDirectory(), 1)
    let first = resnetc("run", "resnet20", "--engine", "c")
    #expect(first.status == 0 && first.err.contains("compiling resnet20 into "))
    #expect(first.out == resnetc("run", "resnet20").out)
    let again = resnetc("run", "resnet20", "--engine", "c")
    #expect(again.out == first.out && again.err.isEmpty, "the second run reuses the cache")
    expectFailure(
      resnetc("run", "resnet20", "--engine", "gpu"), status: 2, mentioning: "--engine expects interpreter, c or swift")
    let swift = resnetc("run", "resnet20", "--engine", "swift")
    #expect(swift.status == 0 && swift.err.contains("compiling resnet20 into "), "\(swift.err)")
    #expect(swift.out == first.out)
    #expect(resnetc("run", "resnet20", "--engine", "swift").err.isEmpty, "the second run reuses the cache")
    // It compiles what `compile` ships: native by default, another target on request, each
    // cached apart.
    #expect(first.err.contains("nodes for \(Target.native().rawValue) with "), "\(first.err)")
    let generic = resnetc("run", "resnet20", "--engine", "c", "--target", "generic")
    #expect(generic.err.contains("nodes for generic with ") && generic.out == first.out, "\(generic.err)")
    #expect(resnetc("run", "resnet20", "--engine", "c", "--target", "generic").err.isEmpty)
    expectFailure(
      resnetc("run", "resnet20", "--target", "generic"), status: 2,
      mentioning: "--target applies to --engine c or swift")
    if !Target.runnable().contains(.avx512) {
      expectFailure(
        resnetc("run", "resnet20", "--engine", "c", "--target", "avx512"), status: 2,
        mentioning: "this CPU cannot run --target avx512 code")
    }
  }

  @Test func usageErrors() {
    expectFailure(resnetc("compile", "resnet20"), status: 2, mentioning: "missing -o OUT")
    for emit in ["exe", "c"] {
      let missing = resnetc("compile", "resnet20", "-o", "/nonexistent-folder/x", "--emit", emit)
      #expect(
        missing.status == 1
          && missing.err == "resnetc compile: error: /nonexistent-folder/x: no such directory /nonexistent-folder\n",
        "\(missing.err)")
    }
    expectFailure(
      resnetc("compile", "resnet20", "-o", "/tmp/a b"), status: 2, mentioning: "the name of OUT must be made of")
    expectFailure(
      resnetc("compile", "resnet20", "-o", "/tmp/x", "--emit", "wasm"), status: 2,
      mentioning: "--emit expects exe, lib, c, swift or swift-package")
    expectFailure(
      resnetc("compile", "resnet20", "-o", "/tmp/x", "--backend", "rust"), status: 2,
      mentioning: "--backend expects c or swift, got 'rust'")
    expectFailure(
      resnetc("compile", "resnet20", "-o", "/tmp/x", "--backend", "swift", "--emit", "c"), status: 2,
      mentioning: "--emit c writes C sources; it cannot go with --backend swift")
    expectFailure(
      resnetc("compile", "resnet20", "-o", "/tmp/x", "--backend", "c", "--emit", "swift"), status: 2,
      mentioning: "--emit swift writes Swift sources; it cannot go with --backend c")
  }

  /// `--backend swift` builds the same program from Swift; `--emit swift` writes sources that
  /// build with the command it prints.
  @Test func swiftBackendExeAndSources() throws {
    let dir = try temporaryDirectory()
    let exe = resnetc("compile", "resnet20", "-o", dir + "/s20", "--backend", "swift", "--target", "avx2")
    #expect(exe.status == 0, "\(exe.err)")
    #expect(exe.out == "wrote \(dir)/s20\nwrote \(dir)/s20.weights\n")
    #expect(exe.err.contains("compiling 27 nodes as Swift for avx2 with "))
    #expect(try execute(dir + "/s20", []).1 == resnetc("run", "resnet20").out)

    // --profile --json: one object with the same layers, ops and kernels as the C program's.
    #expect(resnetc("compile", "resnet20", "-o", dir + "/c20", "--target", "avx2").status == 0)
    let layers = { (program: String) throws -> [String] in
      let (status, text, err) = try execute(program, ["--profile", "--json", "--bench", "2"])
      #expect(status == 0, "\(err)")
      let json = try JSON.parse(Array(text.utf8))
      #expect(json["total_ms"] != nil && json["peak_gflops"] != nil && json["target"] == .string("avx2"))
      guard case .array(let rows)? = json["layers"] else { return [] }
      return rows.map { row in ["layer", "op", "kernel"].map { row[$0]?.serialized ?? "-" }.joined(separator: " ") }
    }
    let swiftLayers = try layers(dir + "/s20"), cLayers = try layers(dir + "/c20")
    #expect(swiftLayers.count > 20 && swiftLayers == cLayers)

    let sources = resnetc("compile", "resnet20", "-o", dir + "/src", "--emit", "swift", "--target", "generic")
    #expect(sources.status == 0, "\(sources.err)")
    let lines = sources.out.split(separator: "\n").map(String.init)
    #expect(lines.first == "wrote \(dir)/src.swift")
    #expect(lines.contains("wrote \(dir)/src_kernels1.swift") && lines.contains("wrote \(dir)/src_main.swift"))
    #expect(lines.contains("wrote \(dir)/src.h") && lines.contains("wrote \(dir)/src.weights"))
    let command = try #require(lines.last { $0.hasPrefix("build with: swiftc ") })
    let arguments = command.dropFirst("build with: swiftc ".count).split(separator: " ").map(String.init)
    let swiftc = try #require(
      (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { $0 + "/swiftc" }.first {
        FileManager.default.isExecutableFile(atPath: $0)
      })
    #expect(try execute(swiftc, arguments).0 == 0)
    #expect(try execute(dir + "/src", []).1 == resnetc("run", "resnet20").out)
  }

  /// `resnetc info` shows the arena of the program compiled for this machine, the same
  /// number as RESNETC_ARENA_BYTES in its header.
  @Test(arguments: ["resnet50", "resnet20", "resnet50-v1.5"])
  func infoShowsTheArenaOfTheCompiledProgram(model: String) throws {
    let json = try JSON.parse(Array(resnetc("info", model, "--json").out.utf8))
    guard case .int(let arena)? = json["arenaBytes"] else {
      Issue.record("no arenaBytes")
      return
    }
    let dir = try temporaryDirectory()
    #expect(resnetc("compile", model, "-o", dir + "/m", "--emit", "c").status == 0)
    let header = try String(contentsOfFile: dir + "/m.h", encoding: .utf8)
    #expect(header.contains("#define RESNETC_ARENA_BYTES \(arena)ULL"))
    if model == "resnet50" { #expect(arena == 10_436_608) }
  }
}

/// `--emit swift-package`: one Swift file with a class named after OUT and its weights, as
/// the build plugin writes them into a target (examples/swiftpm-app builds one in CI).
@Suite struct SwiftPackageEmitTests {
  @Test func writesOneSourceAndTheWeights() throws {
    let dir = try temporaryDirectory()
    let run = resnetc("compile", "resnet20", "-o", dir + "/ResNet20Model", "--emit", "swift-package")
    #expect(run.status == 0, "\(run.err)")
    #expect(run.out == "wrote \(dir)/ResNet20Model.swift\nwrote \(dir)/ResNet20Model.weights\n")
    let source = try String(contentsOfFile: dir + "/ResNet20Model.swift", encoding: .utf8)
    #expect(source.contains("public final class ResNet20Model"))
    #expect(source.contains("Bundle.module.path(forResource: \"ResNet20Model\", ofType: \"weights\")"))
    // No C API (two models in one program would define its symbols twice) and no @main.
    #expect(!source.contains("@_cdecl") && !source.contains("@main"))
    expectFailure(
      resnetc("compile", "resnet20", "-o", dir + "/resnet-20", "--emit", "swift-package"), status: 2,
      mentioning: "--emit swift-package names its class after OUT, which must be a Swift identifier; got 'resnet-20'")
    expectFailure(
      resnetc("compile", "resnet20", "-o", dir + "/M", "--emit", "swift-package", "--backend", "c"), status: 2,
      mentioning: "--emit swift-package writes Swift sources; it cannot go with --backend c")
  }
}
