import Codegen
import Foundation
import GraphIR
import Runtime
import Testing

@testable import Driver

@Suite struct InfoCommandTests {
  @Test func jsonHasThePaperCounts() throws {
    let run = resnetc("info", "resnet50", "-O0", "--json")
    #expect(run.status == 0)
    let json = try JSON.parse(Array(run.out.utf8))
    #expect(json["parameters"] == .int(25_557_032))
    #expect(json["multiplyAdds"] == .int(3_857_973_248))
    #expect(json["ops"]?["conv2d"] == .int(53))
    guard case .array(let layers) = json["layers"] else {
      Issue.record("no layers array")
      return
    }
    #expect(layers.count == 176)
    // After the default pipeline: BatchNorm's scale and shift became conv biases.
    let fused = try JSON.parse(Array(resnetc("info", "resnet50", "--json").out.utf8))
    #expect(
      fused["ops"]
        == .object([
          ("conv2d", .int(53)), ("dense", .int(1)), ("flatten", .int(1)), ("global_avg_pool", .int(1)),
          ("max_pool2d", .int(1)), ("softmax", .int(1)),
        ]))
    #expect(fused["multiplyAdds"] == .int(3_857_973_248))
    #expect(layers[0]["name"] == .string("conv1") && layers[0]["op"] == .string("conv2d"))
    #expect(layers[0]["shape"] == .array([.int(1), .int(64), .int(112), .int(112)]))
    #expect(layers[0]["parameters"] == .int(9408) && layers[0]["multiplyAdds"] == .int(118_013_952))
    #expect(layers[0]["epilogue"] == .string("none") && layers[0]["fused"] == .array([]))
    // After the passes the conv holds its BatchNorm and ReLU, and says which kernel runs it.
    guard case .array(let after) = fused["layers"] else {
      Issue.record("no layers array")
      return
    }
    #expect(after[0]["epilogue"] == .string("bias+relu"))
    #expect(after[0]["fused"] == .array([.string("bn1"), .string("relu")]))
    let native = Target.native()
    #expect(after[0]["layout"] == .string(native.block.map { "NCHW\($0)c" } ?? "NCHW"))
    guard case .string(let kernel) = after[0]["kernel"] else {
      Issue.record("no kernel for conv1")
      return
    }
    switch native {
    case .generic: #expect(kernel == "plain")
    case .avx2: #expect(kernel == "direct 6px x2")
    case .avx512, .avx512vnni: #expect(kernel.hasPrefix("direct "), "\(kernel)")
    }
    let shortcut = try #require(after.first { $0["name"] == .string("layer1.0.downsample.0") })
    #expect(shortcut["epilogue"] == .string("bias+add+relu"))
    #expect(
      shortcut["fused"]
        == .array([.string("layer1.0.downsample.1"), .string("layer1.0.add"), .string("layer1.0.relu")]))
  }

  @Test func tableShowsKernelsEpiloguesAndFusedNodes() {
    let run = resnetc("info", "resnet20")
    #expect(run.status == 0)
    let lines = run.out.split(separator: "\n")
    let header = lines.first { $0.hasPrefix("layer ") } ?? ""
    #expect(["kernel", "layout", "epilogue"].allSatisfy(header.contains) && header.hasSuffix("fused"), "\(header)")
    let conv = lines.first { $0.hasPrefix("layer1.0.conv2 ") }
    #expect(
      conv?.contains("bias+add+relu") == true && conv?.hasSuffix("layer1.0.bn2,layer1.0.add,layer1.0.relu") == true,
      "\(conv ?? "")")
  }

  @Test func variantAndShortcutOptions() throws {
    let v15 = try JSON.parse(Array(resnetc("info", "resnet50", "--variant", "v1.5", "--json").out.utf8))
    #expect(v15["multiplyAdds"] == .int(4_089_184_256))
    let named = try JSON.parse(Array(resnetc("info", "resnet50-v1.5", "--json").out.utf8))
    #expect(named["multiplyAdds"] == .int(4_089_184_256))
    #expect(named["model"] == .string("resnet50-v1.5"))
    let c = try JSON.parse(Array(resnetc("info", "resnet20", "--shortcut", "C", "--json").out.utf8))
    #expect(c["ops"]?["pad_channels"] == nil)
    #expect(c["ops"]?["conv2d"] == .int(28))
    let batch = try JSON.parse(Array(resnetc("info", "resnet18", "--batch=2", "--resolution", "64", "--json").out.utf8))
    #expect(
      batch["inputs"]
        == .array([.object([("name", .string("input")), ("shape", .array([.int(2), .int(3), .int(64), .int(64)]))])]))
  }

  @Test func tableShowsLayersAndTotals() {
    let run = resnetc("info", "resnet18", "-O0")
    #expect(run.status == 0)
    #expect(run.out.contains("parameters     11,689,512"))
    #expect(run.out.contains("multiply-adds  1,814,073,344 (1.81 G)"))
    #expect(run.out.contains("layer4.1.conv2"))
    #expect(
      run.out.contains("\nconv1                  conv2d           f32[1,64,112,112]       9,408    118,013,952  "))
  }

  @Test func optimizationLevelsComputeTheSameNumbers() {
    #expect(resnetc("info", "resnet20", "-O0", "--json").out != resnetc("info", "resnet20", "--json").out)
    #expect(resnetc("run", "resnet20", "-O0").out == resnetc("run", "resnet20").out)
  }
}

@Suite struct DumpAndRunTests {
  @Test func dumpRoundTripsThroughFiles() throws {
    let dir = try temporaryDirectory()
    let dump = resnetc("dump-ir", "resnet20", "-o", dir + "/r20")
    #expect(dump.status == 0)
    #expect(dump.out == "wrote \(dir)/r20.gir and \(dir)/r20.safetensors\n")
    let text = try String(contentsOfFile: dir + "/r20.gir", encoding: .utf8)
    #expect(resnetc("dump-ir", "resnet20").out == text)
    #expect(resnetc("dump-ir", dir + "/r20.gir").out == text)
    // The file model and the built-in compute the same numbers.
    #expect(resnetc("run", dir + "/r20.gir").out == resnetc("run", "resnet20").out)
  }

  @Test func runPrintsTheResultShapeAndTopClasses() {
    let run = resnetc("run", "resnet20")
    #expect(run.status == 0)
    #expect(run.out.hasPrefix("output %softmax: f32[1,10]\n  row 0 top-5: "))
  }

  @Test func runReadsAndWritesNpy() throws {
    let dir = try temporaryDirectory()
    let input = Tensor(type: TensorType([2, 3, 32, 32]), data: (0..<6144).map { Float($0 % 17) / 17 - 0.5 })
    try Data(Npy.write(input)).write(to: URL(fileURLWithPath: dir + "/x.npy"))
    let run = resnetc("run", "resnet20", "--batch", "2", "--input", dir + "/x.npy", "--output", dir + "/y.npy")
    #expect(run.status == 0 && run.out.isEmpty)
    let y = try Npy.read([UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/y.npy"))))
    #expect(y.type.shape == [2, 10])
    for row in 0..<2 { #expect(abs(y.data[(row * 10)..<(row * 10 + 10)].reduce(0, +) - 1) < 1e-5) }
  }

  @Test func inputSeedChangesTheInput() {
    #expect(resnetc("run", "resnet20", "--input-seed", "1").out != resnetc("run", "resnet20").out)
    #expect(resnetc("run", "resnet20", "--input-seed", "1").out == resnetc("run", "resnet20", "--input-seed=1").out)
  }
}

@Suite struct ErrorTests {
  @Test func usageErrorsExitTwo() {
    expectFailure(resnetc("frobnicate"), status: 2, mentioning: "unknown command 'frobnicate'")
    expectFailure(resnetc("info", "resnet20", "--bogus"), status: 2, mentioning: "unknown option '--bogus'")
    expectFailure(resnetc("info"), status: 2, mentioning: "missing MODEL")
    expectFailure(resnetc("info", "resnet20", "extra"), status: 2, mentioning: "unexpected argument 'extra'")
    expectFailure(resnetc("info", "resnet20", "--batch"), status: 2, mentioning: "--batch needs a value (N)")
    expectFailure(
      resnetc("info", "resnet20", "--batch", "0"), status: 2,
      mentioning: "--batch expects a whole number in 1...4096, got '0'")
    expectFailure(resnetc("info", "resnet20", "--shortcut", "D"), status: 2, mentioning: "--shortcut expects A, B or C")
    expectFailure(resnetc("info", "resnet20", "--json=yes"), status: 2, mentioning: "--json takes no value")
    expectFailure(
      resnetc("run", "resnet20", "--output", "a.npy", "--output", "b.npy"), status: 2,
      mentioning: "1 outputs but 2 --output")
    #expect(resnetc().status == 2)
  }

  @Test func badModelsExitOne() throws {
    expectFailure(resnetc("info", "resnet19"), status: 1, mentioning: "unknown model 'resnet19'")
    expectFailure(resnetc("info", "plain18", "--shortcut", "A"), status: 1, mentioning: "plain network")
    expectFailure(resnetc("info", "/nonexistent/m.gir"), status: 1, mentioning: "/nonexistent/m.gir: no such file")
    expectFailure(resnetc("info", "model.onnx"), status: 1, mentioning: "model.onnx: no such file")
    expectFailure(resnetc("info", "weights.bin"), status: 1, mentioning: "unknown model 'weights.bin'")
    expectFailure(
      resnetc("info", "m.gir", "--batch", "2"), status: 2, mentioning: "--batch applies to built-in models only")
    let dir = try temporaryDirectory()
    try "graph @g(%x: f32[1]) -> (f32[1]) {\n  %y = gelu(%x) : f32[1]\n  return %y\n}\n".write(
      toFile: dir + "/bad.gir", atomically: true, encoding: .utf8)
    try Data(SafeTensors.write([])).write(to: URL(fileURLWithPath: dir + "/bad.safetensors"))
    expectFailure(resnetc("info", dir + "/bad.gir"), status: 1, mentioning: "bad.gir:2:8: unknown op 'gelu'")
    try Data([0]).write(to: URL(fileURLWithPath: dir + "/weights.bin"))
    expectFailure(
      resnetc("info", dir + "/weights.bin"), status: 1,
      mentioning: "weights.bin: expected a .onnx or .gir file, or a built-in model name")
  }

  @Test func badInputsExitOne() throws {
    let dir = try temporaryDirectory()
    try Data(Npy.write(Tensor(type: TensorType([1, 3, 8, 8]), data: Array(repeating: 0, count: 192)))).write(
      to: URL(fileURLWithPath: dir + "/small.npy"))
    expectFailure(
      resnetc("run", "resnet20", "--input", dir + "/small.npy"), status: 1,
      mentioning: "holds f32[1,3,8,8] but input 'input' is f32[1,3,32,32]")
    try Data([1, 2, 3]).write(to: URL(fileURLWithPath: dir + "/junk.npy"))
    expectFailure(
      resnetc("run", "resnet20", "--input", dir + "/junk.npy"), status: 1, mentioning: "junk.npy: file is truncated")
    expectFailure(
      resnetc("run", "resnet20", "--input", dir + "/none.npy"), status: 1, mentioning: "none.npy: no such file")
    expectFailure(resnetc("run", "resnet20", "--input", dir), status: 1, mentioning: ": is a directory")
  }

  @Test func modelsTooLargeToRunAreRefusedBeforeAllocating() throws {
    let dir = try temporaryDirectory()
    let text =
      "graph @huge(%x: f32[100000,100000,100]) -> (f32[100000,100000,100]) {\n  %y = relu(%x) : f32[100000,100000,100]\n  return %y\n}\n"
    try text.write(toFile: dir + "/huge.gir", atomically: true, encoding: .utf8)
    try Data(SafeTensors.write([])).write(to: URL(fileURLWithPath: dir + "/huge.safetensors"))
    #expect(resnetc("info", dir + "/huge.gir").status == 0)
    expectFailure(
      resnetc("run", dir + "/huge.gir"), status: 1, mentioning: "running huge needs 7629394 MiB for its activations")
    expectFailure(
      resnetc("run", "resnet152", "--batch", "4096", "--resolution", "8192"), status: 1,
      mentioning:
        "resnet152 cannot be built with these options: node %conv1 (conv2d): shape [4096,64,4096,4096] has more than")
  }

  @Test func everyErrorIsOneLinePlusHint() {
    for run in [resnetc("info", "resnet19"), resnetc("info", "resnet20", "--bogus")] {
      #expect(run.err.split(separator: "\n").count <= 2)
    }
  }
}

@Suite struct HelpTests {
  @Test func topLevelHelpListsCommands() {
    let run = resnetc("--help")
    #expect(run.status == 0)
    for command in Driver.commands.map(\.name) { #expect(run.out.contains("  \(command) ")) }
  }

  @Test(arguments: ["info", "list", "dump-ir", "run", "compile", "explain"])
  func commandHelpListsEveryOptionItAccepts(command: String) throws {
    let run = resnetc(command, "--help")
    #expect(run.status == 0)
    #expect(run.out.hasPrefix("USAGE: resnetc \(command) "))
    let spec = try #require(Driver.commands.first { $0.name == command })
    for option in spec.options { #expect(run.out.contains(option.name), "\(option.name)") }
    #expect(resnetc("help", command).out == run.out)
  }
}
