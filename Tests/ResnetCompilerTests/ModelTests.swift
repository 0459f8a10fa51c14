import Foundation
import ResnetCompiler
import Testing

/// The library product as an app uses it: only `import ResnetCompiler`.
@Suite struct ModelTests {
  @Test func builtinModelsCountOptimizeInterpretAndCompile() throws {
    var model = try Model(builtin: "resnet20", options: .init(seed: 3))
    #expect(model.parameterCount == 269_722)  // the paper's count, before the passes
    #expect(model.inputs.map(\.shape) == [[1, 3, 32, 32]] && model.outputs.map(\.shape) == [[1, 10]])
    let reports = try model.optimize()
    #expect(reports.count >= 5)
    #expect(model.graph.nodes.filter { $0.op.name == "batch_norm" }.isEmpty)
    let input = Tensor(type: .init([1, 3, 32, 32]), data: (0..<3072).map { Float($0 % 17) / 17 - 0.5 })
    let interpreted = try model.interpret([input])
    #expect(interpreted.count == 1 && interpreted[0].data.count == 10)
    #expect(abs(interpreted[0].data.reduce(0, +) - 1) < 1e-5, "softmax sums to 1")

    // The compiled program computes the interpreter's numbers.
    let dir = NSTemporaryDirectory() + "resnetc-library-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let files = try model.compile(to: dir + "/r20", artifact: .exe, backend: .c, target: .generic)
    #expect(files == [dir + "/r20", dir + "/r20.weights"])
    let sources = try model.compile(to: dir + "/src", artifact: .c)
    #expect(sources.count == 4 && sources.allSatisfy { FileManager.default.fileExists(atPath: $0) })

    let wide = try Model(builtin: "resnet50", options: .init(batch: 2, resolution: 64, shortcut: .c, stride: .v1_5))
    #expect(wide.inputs.map(\.shape) == [[2, 3, 64, 64]])
  }

  @Test func badInputIsATypedError() throws {
    #expect(throws: CompilerError.unknownModel("resnet19")) { try Model(builtin: "resnet19") }
    #expect(throws: CompilerError.invalidOption("batch must be in 1...4096, got 0")) {
      try Model(builtin: "resnet20", options: .init(batch: 0))
    }
    #expect(
      throws: CompilerError.unreadableFile(
        path: "model.txt", reason: "expected a .onnx or .gir file, or a built-in model name")
    ) {
      try Model(file: "model.txt")
    }
    do {
      _ = try Model(file: "/nonexistent/m.gir")
      Issue.record("a missing file loaded")
    } catch {
      #expect("\(error)".contains("/nonexistent/m.gir"), "\(error)")
    }
    var model = try Model(builtin: "resnet20")
    #expect(throws: CompilerError.self) { try model.optimize(passes: ["no-such-pass"]) }
    #expect(throws: CompilerError.self) { try model.interpret([]) }
  }
}
