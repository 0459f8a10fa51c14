import Codegen
import DiffTest
import Foundation
import GraphIR
import Runtime
import Testing

/// Generated graphs through every path against the interpreter at -O0 (scripts/difftest.sh
/// runs any number of them; these are the ones every `swift test` runs).
@Suite struct DifferentialTests {
  /// Graphs every compiled path builds, in libraries of `batch` graphs.
  static let compiledSeeds: [UInt64] = Array(1...300)
  static let batch = 60

  static let cases: [DiffCase] = compiledSeeds.map { seed in
    do {
      return try DiffCase(seed: seed)
    } catch {
      preconditionFailure("generated graph \(seed) does not run in the interpreter: \(error)")
    }
  }

  /// The textual IR round trip, -O1, two random pass lists and ONNX import, on 600 graphs.
  @Test func interpreterPathsAgree() throws {
    var failures: [DiffFailure] = []
    for seed: UInt64 in 1...600 {
      failures += DifferentialRunner.interpreterPaths(try DiffCase(seed: seed))
    }
    #expect(failures.isEmpty, "\(failures.map(\.description).joined(separator: "\n"))")
  }

  static let builds: [String] = runnableTargets.map { "c \($0.rawValue)" } + ["swift \(runnableTargets.last!.rawValue)"]

  /// 300 graphs compiled by the C backend on each target this CPU runs and by the Swift
  /// backend on the best one, after the default pipeline or a random pass list.
  @Test(arguments: builds)
  func compiledPathsAgree(_ build: String) throws {
    try requireCompilers()
    let words = build.split(separator: " ").map(String.init)
    let (backend, target) = (Backend(rawValue: words[0])!, Target(rawValue: words[1])!)
    let dir = NSTemporaryDirectory() + "resnetc-difftest-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var failures: [DiffFailure] = []
    for first in stride(from: 0, to: Self.cases.count, by: Self.batch) {
      let batch = Array(Self.cases[first..<min(first + Self.batch, Self.cases.count)])
      failures += DifferentialRunner.compiledPaths(
        batch, backend: backend, target: target, passSeed: batch[0].seed, directory: dir)
    }
    #expect(failures.isEmpty, "\(failures.map(\.description).joined(separator: "\n"))")
  }

  @Test func comparisonChecksCountsTypesAndNaNs() {
    let a = Tensor(type: TensorType([2]), data: [1, 2])
    #expect(DifferentialRunner.compare([a], [a, a], tolerance: 1e-5) == "1 outputs, expected 2")
    #expect(DifferentialRunner.compare([a], [Tensor(type: TensorType([1, 2]), data: [1, 2])], tolerance: 1e-5) != nil)
    #expect(DifferentialRunner.compare([Tensor(type: TensorType([2]), data: [1, .nan])], [a], tolerance: 1e-5) != nil)
    #expect(
      DifferentialRunner.compare([Tensor(type: TensorType([2]), data: [1, 2.0001])], [a], tolerance: 1e-5) != nil)
    #expect(
      DifferentialRunner.compare([Tensor(type: TensorType([2]), data: [1, 2.00001])], [a], tolerance: 1e-5) == nil)
    let infinite = Tensor(type: TensorType([2]), data: [-.infinity, 2])
    #expect(DifferentialRunner.compare([infinite], [infinite], tolerance: 1e-5) == nil)
  }

  /// A union of graphs computes what each of them does.
  @Test func unionKeepsEachGraph() throws {
    let parts = Array(Self.cases.prefix(5))
    let union = GraphUnion(parts.map(\.graph))
    try Verifier.verify(union.graph)
    let outputs = GraphUnion.split(
      try Interpreter(graph: union.graph).run(parts.flatMap(\.inputs)), counts: union.outputCounts)
    for (part, got) in zip(parts, outputs) {
      #expect(DifferentialRunner.compare(got, part.reference, tolerance: 0) == nil)
    }
  }
}
