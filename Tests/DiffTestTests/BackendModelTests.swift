import DiffTest
import Foundation
import GraphIR
import ONNX
import Runtime
import Testing

/// The ONNX project's own backend test models (from the `onnx` wheel, copied by
/// scripts/make-onnx-backend-fixtures.py into Backend/): legacy opsets 6 to 12, PyTorch-converted layers,
/// operators, simple models and the `light` networks with generated weights.
///
/// `expected.tsv` says for each model whether it matches its stored outputs or which op it is
/// refused for; the test holds every model to its line, so a model that starts to import must
/// also match, and a refusal must name the op.
@Suite struct BackendModelTests {
  static func folder() throws -> String { try resourceDirectory("Backend") }

  /// Model name -> "matches" or "refused OP", from expected.tsv.
  static func expectations() throws -> [(name: String, status: String)] {
    let text = try String(contentsOfFile: try folder() + "/expected.tsv", encoding: .utf8)
    return text.split(separator: "\n").map { line in
      let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
      return (parts[0], parts.count > 1 ? parts[1] : "")
    }
  }

  /// The inputs or outputs stored for a model, in order.
  static func tensors(_ directory: String, _ prefix: String) throws -> [Tensor] {
    var result: [Tensor] = []
    while FileManager.default.fileExists(atPath: "\(directory)/\(prefix)_\(result.count).npy") {
      let path = "\(directory)/\(prefix)_\(result.count).npy"
      result.append(try Npy.read([UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))))
    }
    return result
  }

  @Test func everyModelIsListed() throws {
    let listed = Set(try Self.expectations().map(\.name))
    let present = try FileManager.default.contentsOfDirectory(atPath: try Self.folder()).filter { !$0.contains(".") }
    #expect(Set(present) == listed)
    #expect(listed.count == 125)
  }

  /// 48 models match their outputs within 1e-4 of their largest magnitude (the stored
  /// outputs are PyTorch's or ONNX Runtime's); the other 77 are refused by an error that names
  /// the op, and none crashes.
  @Test func eachModelMatchesOrIsRefusedNamingTheOp() throws {
    var matched = 0, refused = 0
    for (name, status) in try Self.expectations() {
      let directory = try Self.folder() + "/" + name
      do {
        let graph = try ONNXImporter.load(path: directory + "/model.onnx")
        let outputs = try Self.tensors(directory, "output")
        #expect(status == "matches", "\(name) imports, but expected.tsv says '\(status)'")
        try #require(!outputs.isEmpty, "\(name) imports but has no stored outputs to check")
        let results = try Interpreter(graph: graph).run(try Self.tensors(directory, "input"))
        let problem = DifferentialRunner.compare(results, outputs, tolerance: 1e-4)
        #expect(problem == nil, "\(name): \(problem ?? "")")
        matched += 1
      } catch let error as ONNXError {
        let op = String(status.dropFirst("refused ".count))
        #expect(status.hasPrefix("refused "), "\(name) is refused (\(error)) but expected.tsv says '\(status)'")
        #expect(error.description.contains(op), "\(name): '\(error)' does not name \(op)")
        refused += 1
      }
    }
    #expect(matched == 48)
    #expect(refused == 77)
  }
}
