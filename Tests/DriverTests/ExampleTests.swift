import Foundation
import GraphIR
import Runtime
import Testing

@testable import Driver

/// The repository's `examples/` folder.
let examplesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().appendingPathComponent("examples").path

@Suite struct ExampleTests {
  /// The hand-written example runs and matches the output NumPy computed for it with its
  /// own implementation of each op (examples/make-tiny-residual.py).
  @Test func tinyResidualMatchesNumPy() throws {
    let dir = try temporaryDirectory()
    let run = resnetc(
      "run", examplesDirectory + "/tiny-residual.gir", "--input", examplesDirectory + "/tiny-residual.input.npy",
      "--output", dir + "/y.npy")
    #expect(run.status == 0, "\(run.err)")
    let y = try Npy.read([UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/y.npy"))))
    let expected = try Npy.read(
      [UInt8](try Data(contentsOf: URL(fileURLWithPath: examplesDirectory + "/tiny-residual.expected.npy"))))
    #expect(y.type == expected.type)
    let scale = expected.data.map(abs).max()!
    let error = zip(y.data, expected.data).map { abs($0 - $1) }.max()!
    #expect(error <= 1e-5 * scale)
  }

  @Test func tinyResidualRoundTrips() throws {
    let dir = try temporaryDirectory()
    #expect(resnetc("dump-ir", examplesDirectory + "/tiny-residual.gir", "-O0", "-o", dir + "/copy").status == 0)
    let original = try ModelFile.load(irPath: examplesDirectory + "/tiny-residual.gir")
    #expect(try ModelFile.load(irPath: dir + "/copy.gir") == original)
  }
}
