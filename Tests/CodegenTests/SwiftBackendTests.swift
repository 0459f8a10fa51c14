import Foundation
import GraphIR
import Models
import Runtime
import Testing

@testable import Codegen

/// The Swift backend: every kernel of the C backend's tests against the interpreter and
/// against the C backend, built-in models end to end, and the program's command line
/// against the C program's.
@Suite struct SwiftBackendTests {
  /// One output of the combined graph: what it tests and the error it may have.
  struct Check {
    let name: String
    let tolerance: Float
  }

  /// Every kernel case of `NativeKernelTests` (each op and epilogue, the blocked chains, the
  /// residual epilogues, Winograd) side by side in one graph, so one compilation per target
  /// covers them: each case reads its own inputs and writes its own output.
  static func everyKernel() throws -> (Graph, [Check]) {
    var b = GraphBuilder(name: "every-kernel")
    var outputs: [Operand] = []
    var checks: [Check] = []
    func constant(_ name: String, _ shape: [Int], seed: UInt64) throws -> Operand {
      try b.constant(name, TensorType(shape), values(shape.reduce(1, *), seed: seed))
    }
    for (k, c) in NativeKernelTests.cases.enumerated() {
      var operands = [try b.input("k\(k).x", TensorType(c.input))]
      for (i, shape) in c.constants.enumerated() {
        operands.append(try constant("k\(k).c\(i)", shape, seed: UInt64(i + 1)))
      }
      for (i, shape) in c.inputs.enumerated() { operands.append(try b.input("k\(k).r\(i)", TensorType(shape))) }
      outputs.append(try b.node("k\(k).y", c.op, operands))
      checks.append(Check(name: c.description, tolerance: 1e-5))
    }
    for (k, (name, input, ops)) in NativeKernelTests.blockedCases.enumerated() {
      var v = try b.input("b\(k).x", TensorType(input))
      for (i, (op, shapes)) in ops.enumerated() {
        let constants = try shapes.enumerated().map { j, shape in
          try constant("b\(k).c\(i).\(j)", shape, seed: UInt64(10 * i + j))
        }
        v = try b.node("b\(k).n\(i)", op, [v] + constants)
      }
      outputs.append(v)
      checks.append(Check(name: name, tolerance: 1e-5))
    }
    for (k, epilogue) in [Epilogue.add, .addReLU].enumerated() {
      let x = try b.input("e\(k).x", TensorType([1, 16, 7, 9]))
      let w1 = try constant("e\(k).w1", [16, 16, 3, 3], seed: 1)
      let shortcut = try b.node("e\(k).s", .conv2d(Conv2dAttributes(padding: .uniform(1), epilogue: .relu)), [x, w1])
      let w2 = try constant("e\(k).w2", [16, 16, 3, 3], seed: 2)
      let bias = try constant("e\(k).b2", [16], seed: 3)
      let y = try b.node(
        "e\(k).y", .conv2d(Conv2dAttributes(padding: .uniform(1), epilogue: epilogue)), [shortcut, w2, bias, shortcut])
      let sum = try b.node("e\(k).z", .add, [y, shortcut])
      outputs.append(try b.node("e\(k).r", .relu, [sum]))
      checks.append(Check(name: "blocked residual \(epilogue)", tolerance: 1e-5))
    }
    for (k, (shape, epilogue)) in [
      ([1, 64, 13, 15], Epilogue.none), ([2, 64, 14, 14], .relu), ([1, 64, 29, 12], .addReLU),
      ([1, 128, 12, 13], .add), ([2, 64, 30, 30], .addReLU), ([1, 64, 46, 47], .relu),
    ].enumerated() {
      let x = try b.input("w\(k).x", TensorType(shape))
      var operands = [
        x, try constant("w\(k).w", [64, shape[1], 3, 3], seed: 4), try constant("w\(k).b", [64], seed: 5),
      ]
      if epilogue.addsResidual {
        operands.append(try b.input("w\(k).r", TensorType([shape[0], 64, shape[2], shape[3]])))
      }
      outputs.append(
        try b.node("w\(k).y", .conv2d(Conv2dAttributes(padding: .uniform(1), epilogue: epilogue)), operands))
      checks.append(Check(name: "Winograd \(shape) \(epilogue)", tolerance: 1e-4))
    }
    return (try b.finish(outputs: outputs), checks)
  }

  @Test(arguments: runnableTargets)
  func everyKernelMatchesInterpreterAndC(target: Target) throws {
    let (graph, checks) = try Self.everyKernel()
    if target != .generic {
      #expect(try SwiftProgram(graph: graph, target: target).modelSources.contains { $0.text.contains("as Winograd") })
    }
    let inputs = seededInputs(graph)
    let want = try Interpreter(graph: graph).run(inputs)
    let swift = try compiled(graph, target: target, backend: .swift).run(inputs)
    let c = try compiled(graph, target: target, backend: .c).run(inputs)
    for (check, (againstInterpreter, againstC)) in zip(
      checks, zip(relativeErrors(swift, want), relativeErrors(swift, c)))
    {
      #expect(
        againstInterpreter <= check.tolerance, "\(target) \(check.name): \(againstInterpreter) from the interpreter")
      #expect(againstC <= check.tolerance, "\(target) \(check.name): \(againstC) from the C backend")
    }
  }

  @Test(arguments: runnableTargets)
  func resnet20EndToEnd(target: Target) throws {
    let graph = try optimized(try ResNet.build(try ResNetSpec(name: "resnet20")))
    #expect(try nativeError(graph, target: target, backend: .swift) <= 1e-5)
  }

  /// resnet18 at 64×64 (its first stage runs as Winograd, the others as direct convolution):
  /// the two backends give the same numbers, and the interpreter's.
  @Test func backendsAgreeOnResNet18() throws {
    var spec = try ResNetSpec(name: "resnet18")
    spec.resolution = 64
    spec.batch = 2
    let graph = try optimized(try ResNet.build(spec))
    let target = runnableTargets.last!
    let inputs = seededInputs(graph)
    let swift = try compiled(graph, target: target, backend: .swift).run(inputs)
    let c = try compiled(graph, target: target, backend: .c).run(inputs)
    let want = try Interpreter(graph: graph).run(inputs)
    #expect(relativeErrors(swift, c).max()! <= 1e-5)
    #expect(relativeErrors(swift, want).max()! <= 1e-5)
  }

  /// The Swift program and the C program of resnet20, run with the same arguments: the same
  /// exit status and the same output, errors included (after each program's own path).
  @Test func programBehavesAsTheCProgram() throws {
    let dir = try scratchDirectory()
    let graph = try optimized(try ResNet.build(try ResNetSpec(name: "resnet20")))
    try Artifacts.build(graph, kind: .exe, output: dir + "/c20", compiler: try compiler(), target: .generic)
    try Artifacts.buildSwift(graph, kind: .exe, output: dir + "/s20", compiler: try swiftCompiler(), target: .generic)
    var random = SeededRandom(seed: 3)
    let x = Tensor(type: graph.inputs[0].type, data: random.normal(count: graph.inputs[0].type.elementCount))
    let good = Npy.write(x)
    var f64 = good
    f64.replaceSubrange(21..<24, with: Array("f8'".utf8))
    var bigEndian = good
    bigEndian.replaceSubrange(21..<22, with: Array(">".utf8))
    let small = Npy.write(Tensor(type: TensorType([1, 3, 8, 8]), data: Array(repeating: 0, count: 192)))
    let files: [(String, [UInt8])] = [
      ("x", good), ("f64", f64), ("be", bigEndian), ("small", small), ("short", Array(good.dropLast(4))),
      ("long", good + [0, 0, 0, 0]), ("header", Array(good.prefix(40))), ("magic", Array("not npy at all".utf8)),
    ]
    for (name, bytes) in files { try Data(bytes).write(to: URL(fileURLWithPath: "\(dir)/\(name).npy")) }
    var runs: [[String]] = [
      [], ["--input-seed", "7"], ["--help"], ["--bogus", "1"], ["--threads", "0"], ["--bench", "x"], ["--json"],
      ["--input"], ["--weights", dir + "/nothing.weights"], ["--input", dir + "/none.npy"],
      ["--weights", dir + "/x.npy"],
    ]
    runs += files.map { ["--input", "\(dir)/\($0.0).npy"] }
    for arguments in runs {
      let c = try runProgram(dir + "/c20", arguments)
      let swift = try runProgram(dir + "/s20", arguments)
      #expect(swift.0 == c.0, "\(arguments): exit \(swift.0), the C program's \(c.0)")
      #expect(swift.1.replacingOccurrences(of: "s20", with: "c20") == c.1, "\(arguments): \(swift.1)")
      #expect(swift.2.replacingOccurrences(of: dir + "/s20", with: dir + "/c20") == c.2, "\(arguments): \(swift.2)")
    }
    // .npy out: the numbers of the C program, and a file NumPy's reader takes.
    for program in ["c20", "s20"] {
      let (status, _, errors) = try runProgram(
        "\(dir)/\(program)", ["--input", dir + "/x.npy", "--output", "\(dir)/\(program).npy", "--threads", "2"])
      #expect(status == 0, "\(errors)")
    }
    let fromC = try Npy.read([UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/c20.npy"))))
    let fromSwift = try Npy.read([UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/s20.npy"))))
    #expect(relativeErrors([fromSwift], [fromC])[0] <= 1e-5)
    // The program carries the Swift runtime (it runs where no toolchain is installed).
    let binary = try Data(contentsOf: URL(fileURLWithPath: dir + "/s20"))
    #expect(binary.range(of: Data("libswiftCore.so".utf8)) == nil, "the program links libswiftCore.so dynamically")
    // --bench with --json, and --profile's table.
    let bench = try runProgram(dir + "/s20", ["--bench", "3", "--json"])
    let json = try JSON.parse(Array(bench.1.utf8))
    #expect(bench.0 == 0 && json["runs"] == .int(3))
    // Both programs' profiles: the peak measured on 2 threads, then a row per step with its
    // kernel (resnet20 for `generic` runs every layer as plain loops).
    let steps = try SwiftProgram(graph: graph, target: .generic).stepCount
    for program in ["c20", "s20"] {
      let profile = try runProgram(dir + "/" + program, ["--profile", "--bench", "2", "--threads", "2"])
      let lines = profile.1.split(separator: "\n")
      #expect(profile.0 == 0 && lines.count == 3 + steps, "\(program): \(profile.1)")
      #expect(lines.first?.hasSuffix(" GFLOP/s: the generic multiply-add loop on 2 threads, measured now") == true)
      #expect((Double(lines.first?.dropFirst(5).prefix { $0 != " " } ?? "") ?? 0) > 0, "\(program): \(profile.1)")
      #expect(lines.dropFirst().first?.hasPrefix("layer ") == true && lines.last?.hasPrefix("total ") == true)
      #expect(lines.dropFirst(2).dropLast().allSatisfy { $0.contains(" plain ") }, "\(program): \(profile.1)")
    }
  }

  /// The sources of `--emit swift` built into another program that uses the Swift API
  /// (`ResnetcModel`), as in a user's own package: the interpreter's numbers, and a typed
  /// error for a weights file of another model.
  @Test func swiftAPIInAnotherProgram() throws {
    let dir = try scratchDirectory()
    let graph = try optimized(try ResNet.build(try ResNetSpec(name: "resnet20")))
    let written = try Artifacts.buildSwift(graph, kind: .swift, output: dir + "/m", compiler: nil, target: .generic)
    let user = """
      @main enum User {
        static func main() {
          do {
            _ = try ResnetcModel(weightsPath: CommandLine.arguments[2])
            print("loaded a wrong weights file")
          } catch {
            print("error \\(error.code): \\(error)")
          }
          guard let model = try? ResnetcModel(weightsPath: CommandLine.arguments[1]), model.setThreads(2) else { return }
          let shape = ResnetcModel.inputs[0].shape, count = shape.reduce(1, *)
          let x = UnsafeMutablePointer<Float>.allocate(capacity: count)
          for i in 0..<count { x[i] = Float(i % 7) / 7 - 0.5 }
          let y = UnsafeMutablePointer<Float>.allocate(capacity: ResnetcModel.outputs[0].shape.reduce(1, *))
          model.run(inputs: [UnsafePointer(x)], outputs: [y])
          print((0..<10).map { "\\(y[$0])" }.joined(separator: " "))
        }
      }
      """
    try user.write(toFile: dir + "/user.swift", atomically: false, encoding: .utf8)
    let sources = written.filter { $0.hasSuffix(".swift") && !$0.hasSuffix("_main.swift") } + [dir + "/user.swift"]
    try CompilerError.run(
      try swiftCompiler().path, ["-O", "-parse-as-library"] + sources + ["-o", dir + "/user"], language: "Swift")
    let other = WeightsBlob(
      entries: [
        WeightsEntry(buffer: .constant("w"), source: Tensor(type: TensorType([3]), data: [1, 2, 3]), packing: nil)
      ])
    try Data(other.fileBytes(tensorCount: 1)).write(to: URL(fileURLWithPath: dir + "/other.weights"))
    let (status, out, errors) = try runProgram(dir + "/user", [dir + "/m.weights", dir + "/other.weights"])
    #expect(status == 0, "\(errors)")
    let lines = out.split(separator: "\n")
    #expect(lines.first == "error 3: the weights file's size does not match this model")
    let x = Tensor(
      type: graph.inputs[0].type, data: (0..<graph.inputs[0].type.elementCount).map { Float($0 % 7) / 7 - 0.5 })
    let want = try Interpreter(graph: graph).run([x])[0]
    let got = try #require(lines.last).split(separator: " ").compactMap { Float(String($0)) }
    #expect(got.count == 10)
    #expect(relativeErrors([Tensor(type: want.type, data: got)], [want])[0] <= 1e-5)
  }

  /// The Swift program built with AddressSanitizer runs every kernel clean.
  @Test func addressSanitizerFindsNothing() throws {
    let dir = try scratchDirectory()
    let (graph, _) = try Self.everyKernel()
    try Artifacts.buildSwift(
      graph, kind: .exe, output: dir + "/every", compiler: try swiftCompiler(), target: runnableTargets.last!,
      extraFlags: ["-sanitize=address"])
    let (status, _, errors) = try runProgram(dir + "/every", ["--bench", "2", "--threads", "2"])
    #expect(status == 0, "\(errors)")
    #expect(!errors.contains("AddressSanitizer"), "\(errors)")
  }

  @Test func compilerIsFoundOrNamed() throws {
    #expect(
      try SwiftCompiler.locate(environment: ["PATH": "/nonexistent", "SWIFTC": try swiftCompiler().path]).path
        == (try swiftCompiler().path))
    #expect(throws: CompilerError.notFound("no Swift compiler found: install the Swift toolchain, or set SWIFTC")) {
      try SwiftCompiler.locate(environment: ["PATH": "/nonexistent"])
    }
    #expect(throws: CompilerError.notFound("SWIFTC is 'no-such-swiftc', which is not an executable on PATH")) {
      try SwiftCompiler.locate(environment: ["PATH": "/usr/bin", "SWIFTC": "no-such-swiftc"])
    }
  }

  /// Big models' kernels are spread over several files of about equal size (ResNet-50's 29
  /// distinct kernels over 7).
  @Test func kernelsAreSpreadEvenly() throws {
    #expect(SwiftProgram.partition([50, 10, 40, 30, 20, 60], files: 3) == [[1, 5], [0, 4], [2, 3]])
    #expect(SwiftProgram.partition([5, 5], files: 4) == [[0], [1]])
    let graph = try optimized(try ResNet.build(try ResNetSpec(name: "resnet50")))
    let sources = try SwiftProgram(graph: graph, target: .avx512).modelSources
    let kernels = sources.filter { $0.suffix.hasPrefix("_kernels") }.map(\.text.count)
    #expect(kernels.count >= 4)
    #expect(Double(kernels.max()!) <= 1.5 * Double(kernels.min()!))
  }
}
