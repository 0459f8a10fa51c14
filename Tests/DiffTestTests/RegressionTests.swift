import DiffTest
import Foundation
import GraphIR
import Runtime
import Testing

/// Graphs a differential run once computed wrongly or failed on, minimized and kept in
/// Regressions/ as NAME.gir with its NAME.safetensors (or, for a case written by hand,
/// without: its constants are then seeded values in [0.5, 1.5)): every path must agree with
/// the interpreter at -O0 on seeded inputs.
@Suite struct RegressionTests {
  static func cases() throws -> [Checked] {
    let dir = try resourceDirectory("Regressions")
    let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".gir") }.sorted()
    return try files.map { file in
      let path = dir + "/" + file
      let graph =
        FileManager.default.fileExists(atPath: ModelFile.weightsPath(forIRPath: path))
        ? try ModelFile.load(irPath: path)
        : try IRParser.parse(String(contentsOfFile: path, encoding: .utf8)) { name, type in
          var hash: UInt64 = 0xcbf2_9ce4_8422_2325
          for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
          return (0..<type.elementCount).map { _ in
            hash = hash &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return 0.5 + Float(hash >> 40) / Float(1 << 24)
          }
        }
      var seed: UInt64 = 99
      let inputs = graph.inputs.map { input in
        Tensor(
          type: input.type,
          data: (0..<input.type.elementCount).map { _ in
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: seed >> 1) % 2001 - 1000) / 500
          })
      }
      return Checked(
        name: file, graph: graph, inputs: inputs, reference: try Interpreter(graph: graph).run(inputs), tolerance: 1e-5)
    }
  }

  @Test func everyRegressionAgreesOnEveryPath() throws {
    try requireCompilers()
    let cases = try Self.cases()
    #expect(cases.count >= 2, "the regression cases are missing")
    try checkEveryPath(cases)
  }
}
