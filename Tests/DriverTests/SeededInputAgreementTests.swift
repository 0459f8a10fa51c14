import Foundation
import GraphIR
import Runtime
import Testing

@testable import Driver

/// `--input-seed` means the same numbers everywhere (`ResnetcSplitMix`, which the Swift programs
/// hold verbatim and the C programs' `fill_normal` follows): a compiled program run on its own
/// gives the output of `resnetc run` (the interpreter) with the same seed, and another seed gives
/// other numbers.
@Suite(.serialized) struct SeededInputAgreementTests {
  @Test(arguments: ["c", "swift"])
  func programsUseResnetcRunsSeededInput(backend: String) throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    // Batch 3: 3*3*32*32 inputs, an odd count, so the last Box–Muller pair is cut in two.
    let compile = resnetc("compile", "resnet20", "--batch", "3", "-o", dir + "/r20", "--backend", backend)
    try #require(compile.status == 0, "compile failed: \(compile.err)")
    func output(_ path: String) throws -> [Float] {
      try Npy.read([UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))).data
    }
    var previous: [Float] = []
    for seed in ["0", "5", "2147483647"] {
      let run = resnetc("run", "resnet20", "--batch", "3", "--input-seed", seed, "--output", dir + "/run.npy")
      try #require(run.status == 0, "\(run.err)")
      let (status, _, errors) = try execute(dir + "/r20", ["--input-seed", seed, "--output", dir + "/program.npy"])
      try #require(status == 0, "\(errors)")
      let (expected, got) = (try output(dir + "/run.npy"), try output(dir + "/program.npy"))
      #expect(expected.count == 30 && got.count == 30)
      let error = zip(expected, got).map { abs($0 - $1) }.max() ?? .infinity
      #expect(error < 1e-5, "seed \(seed): outputs differ by \(error)")
      #expect(got != previous, "seed \(seed) gives the previous seed's numbers")
      previous = got
    }
  }
}
