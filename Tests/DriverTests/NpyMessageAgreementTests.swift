import Foundation
import Testing

@testable import Driver

/// The compiled programs (C and Swift) read `.npy` inputs with the runtime's own reader, and
/// `resnetc run` with `Npy`: for every bad file of the corpus, and for a directory, all three
/// give the same message after their own name.
@Suite(.serialized) struct NpyMessageAgreementTests {
  /// `stderr` without its leading `NAME: error: `.
  static func message(_ err: String) -> String {
    guard let range = err.range(of: ": error: ") else { return err }
    return String(err[range.upperBound...]).trimmingCharacters(in: .newlines)
  }

  @Test(arguments: ["c", "swift"])
  func programsAndRunGiveTheSameMessage(backend: String) throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let program = dir + "/r20"
    let compile = resnetc("compile", "resnet20", "-o", program, "--backend", backend)
    try #require(compile.status == 0, "compile failed: \(compile.err)")
    let files = try FileManager.default.contentsOfDirectory(atPath: malformedDirectory)
      .filter { $0.hasSuffix(".npy") }.sorted()
    #expect(files.count >= 7)
    for file in files {
      let path = malformedDirectory + "/" + file
      let run = resnetc("run", "resnet20", "--input", path)
      let (status, _, errors) = try execute(program, ["--input", path])
      #expect(run.status == 1 && status == 1, "\(file)")
      #expect(Self.message(errors) == Self.message(run.err), "\(file)")
    }
  }
}
