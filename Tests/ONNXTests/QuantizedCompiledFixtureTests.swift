@testable import Codegen
import Foundation
import GraphIR
import Passes
import Runtime
import Testing

@testable import ONNX

/// The QDQ ResNet-18 and ResNet-50 fixtures after `-O1` (every conv an integer qconv2d),
/// compiled by the C backend for each target this CPU runs and by the Swift backend for the
/// best: the same outputs as the reference interpreter, bit for bit.
@Suite struct QuantizedCompiledFixtureTests {
  static let targets: [Target] = Target.runnable()
  static let builds: [String] = ["resnet18", "resnet50"].flatMap { model in
    targets.map { "\(model) c \($0.rawValue)" } + ["\(model) swift \(targets.last!.rawValue)"]
  }

  @Test(arguments: builds)
  func compiledEqualsTheInterpreter(_ build: String) throws {
    let words = build.split(separator: " ").map(String.init)
    let (backend, target) = (try #require(Backend(rawValue: words[1])), try #require(Target(rawValue: words[2])))
    var graph = try ONNXImporter.load(path: try QuantizedFixtureTests.directory() + "/\(words[0]).qdq.onnx")
    try PassManager.pipeline(.o1).run(&graph)
    let folder = try Artifacts.privateDirectory()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let output = folder + "/model"
    let (cc, swiftc): (CCompiler, SwiftCompiler)
    do {
      (cc, swiftc) = (try CCompiler.locate(), try SwiftCompiler.locate())
    } catch {
      Issue.record("compiling needs clang (or cc) and swiftc, which CI has: \(error)")
      throw error
    }
    switch backend {
    case .c: try Artifacts.build(graph, kind: .lib, output: output, compiler: cc, target: target)
    case .swift: try Artifacts.buildSwift(graph, kind: .lib, output: output, compiler: swiftc, target: target)
    }
    let model = try NativeModel(libraryPath: folder + "/libmodel.so", weightsPath: output + ".weights")
    let interpreter = try Interpreter(graph: graph)
    for i in [0, 1, 7] {
      let x = QuantizedFixtureTests.input(i)
      let want = try interpreter.run([x])[0]
      let got = try model.run([x])[0]
      let differing = zip(got.data, want.data).filter { $0 != $1 }.count
      #expect(got.type == want.type && differing == 0, "input \(i): \(differing) of \(want.data.count) outputs differ")
    }
  }
}
