import Foundation
import GraphIR
import Models
import ONNX
import Passes
import Runtime
import Testing

@testable import Codegen

/// The ONNX fixtures of the ONNX module's tests.
let onnxFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .appendingPathComponent("ONNXTests/Fixtures").path

/// `graph` after the default pipeline, as `resnetc compile` lowers it.
func optimized(_ graph: Graph) throws -> Graph {
  var g = graph
  try PassManager(passes: Pipeline.default, verifyAfterEachPass: true).run(&g)
  return g
}

@Suite struct NativeModelTests {
  @Test(arguments: ["resnet20", "resnet18"], runnableTargets)
  func builtinModelsEndToEnd(name: String, target: Target) throws {
    let graph = try optimized(try ResNet.build(try ResNetSpec(name: name)))
    #expect(try nativeError(graph, target: target) <= 1e-5)
  }

  @Test(arguments: runnableTargets)
  func resnet50EndToEnd(target: Target) throws {
    var spec = try ResNetSpec(name: "resnet50")
    spec.resolution = 96
    #expect(try nativeError(try optimized(try ResNet.build(spec)), target: target) <= 1e-5)
  }

  @Test func optionCShortcutsAndUnoptimizedGraphs() throws {
    var spec = try ResNetSpec(name: "resnet20")
    spec.shortcut = .c
    spec.batch = 2
    #expect(try nativeError(try optimized(try ResNet.build(spec))) <= 1e-5)
    // Without passes: batch_norm, relu and add kernels run as themselves.
    #expect(try nativeError(try ResNet.build(try ResNetSpec(name: "resnet20"))) <= 1e-5)
  }

  @Test(arguments: [
    "torch_tiny_resnet_opset13", "torch_tiny_resnext_d_opset17", "torch_tiny_resnet_dynamo_opset18", "maxpool_ceil",
    "avgpool_include_pad", "avgpool_exclude_pad_ceil", "gemm_row_bias", "matmul_add", "pad_opset13_value",
    "pad_channels",
    "softmax_opset13", "reshape_constant_node", "conv_auto_pad_same_lower", "batchnorm_opset9",
  ])
  func importedModelsAgainstONNXRuntime(name: String) throws {
    let graph = try optimized(try ONNXImporter.load(path: onnxFixtures + "/" + name + ".onnx"))
    let base = onnxFixtures + "/" + name
    let input = try Npy.read([UInt8](try Data(contentsOf: URL(fileURLWithPath: base + ".input.npy"))))
    let reference = try Npy.read([UInt8](try Data(contentsOf: URL(fileURLWithPath: base + ".ort.npy"))))
    for target in runnableTargets {
      let y = try compiled(graph, target: target).run([input])[0]
      #expect(y.type == reference.type)
      let scale = reference.data.map(abs).max()!
      #expect(zip(y.data, reference.data).map { abs($0 - $1) }.max()! <= 1e-5 * scale, "\(target)")
      #expect(try nativeError(graph, target: target) <= 1e-5, "\(target)")
    }
  }

  @Test func weightsAreCheckedWhenLoaded() throws {
    let dir = try scratchDirectory()
    let graph = try optimized(try ResNet.build(try ResNetSpec(name: "resnet20")))
    try Artifacts.build(graph, kind: .lib, output: dir + "/m", compiler: try compiler())
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/m.weights")))
    bytes[bytes.count - 1] ^= 1
    try Data(bytes).write(to: URL(fileURLWithPath: dir + "/flipped.weights"))
    #expect(
      throws: NativeModelError.create(dir + "/flipped.weights", "the weights file's checksum does not match this model")
    ) {
      try NativeModel(libraryPath: dir + "/libm.so", weightsPath: dir + "/flipped.weights")
    }
    try Data(bytes.dropLast(4)).write(to: URL(fileURLWithPath: dir + "/short.weights"))
    #expect(
      throws: NativeModelError.create(dir + "/short.weights", "the weights file's size does not match this model")
    ) {
      try NativeModel(libraryPath: dir + "/libm.so", weightsPath: dir + "/short.weights")
    }
    #expect(throws: NativeModelError.create(dir + "/none.weights", "the weights file cannot be opened or read")) {
      try NativeModel(libraryPath: dir + "/libm.so", weightsPath: dir + "/none.weights")
    }
    // The header states the arena and the API.
    let header = try String(contentsOfFile: dir + "/m.h", encoding: .utf8)
    #expect(header.contains("#define RESNETC_ARENA_BYTES \(MemoryPlan(graph: graph).arenaBytes)ULL"))
    #expect(header.contains("resnetc_model *resnetc_create(const char *weights_path, int *error);"))
  }
}

/// Runs `path` with `arguments`; returns status, stdout and stderr.
func runProgram(_ path: String, _ arguments: [String], environment: [String: String]? = nil) throws -> (
  Int32, String, String
) {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: path)
  process.arguments = arguments
  if let environment { process.environment = environment }
  let out = Pipe(), err = Pipe()
  process.standardOutput = out
  process.standardError = err
  try process.run()
  let outText = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
  let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
  process.waitUntilExit()
  return (process.terminationStatus, outText, errText)
}

@Suite struct ProgramTests {
  @Test func programReadsWritesBenchesAndRefusesBadInput() throws {
    let dir = try scratchDirectory()
    let graph = try optimized(try ResNet.build(try ResNetSpec(name: "resnet20")))
    try Artifacts.build(graph, kind: .exe, output: dir + "/r20", compiler: try compiler())
    let exe = dir + "/r20"

    // A seeded input gives the interpreter's numbers.
    let (status, out, _) = try runProgram(exe, [])
    #expect(status == 0)
    var random = SeededRandom(seed: 0)
    let x = Tensor(type: graph.inputs[0].type, data: random.normal(count: graph.inputs[0].type.elementCount))
    let want = try Interpreter(graph: graph).run([x])[0]
    #expect(
      out.hasPrefix(
        "output %softmax: f32[1,10]\n  row 0 top-5: \(want.data.indices.max { want.data[$0] < want.data[$1] }!) ("))

    // .npy in and out.
    try Data(Npy.write(x)).write(to: URL(fileURLWithPath: dir + "/x.npy"))
    #expect(try runProgram(exe, ["--input", dir + "/x.npy", "--output", dir + "/y.npy", "--threads", "2"]).0 == 0)
    let y = try Npy.read([UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/y.npy"))))
    #expect(zip(y.data, want.data).map { abs($0 - $1) }.max()! <= 1e-5 * want.data.max()!)

    // --bench with --json.
    let (benchStatus, bench, _) = try runProgram(exe, ["--bench", "3", "--json"])
    #expect(benchStatus == 0)
    let json = try JSON.parse(Array(bench.utf8))
    #expect(json["runs"] == .int(3))
    if case .double(let median)? = json["median_ms"], case .double(let minimum)? = json["min_ms"] {
      #expect(minimum > 0 && minimum <= median)
    } else {
      Issue.record("bench JSON lacks median_ms or min_ms: \(bench)")
    }

    // A wrong shape, a wrong dtype, a missing file: one line, exit 1.
    try Data(Npy.write(Tensor(type: TensorType([1, 3, 8, 8]), data: Array(repeating: 0, count: 192)))).write(
      to: URL(fileURLWithPath: dir + "/small.npy"))
    let wrong = try runProgram(exe, ["--input", dir + "/small.npy"])
    #expect(
      wrong.0 == 1
        && wrong.2 == "\(exe): error: \(dir)/small.npy: holds f32[1,3,8,8] but input 'input' is f32[1,3,32,32]\n")
    var f64 = Npy.write(x)
    f64.replaceSubrange(21..<24, with: Array("<f8".utf8))
    try Data(f64).write(to: URL(fileURLWithPath: dir + "/f64.npy"))
    let dtype = try runProgram(exe, ["--input", dir + "/f64.npy"])
    // The same words as `resnetc run` gives for this file (Npy's error).
    #expect(throws: NpyError.unsupportedDType("<f8")) { try Npy.read(f64) }
    #expect(dtype.0 == 1 && dtype.2.hasSuffix(": \(NpyError.unsupportedDType("<f8"))\n"))
    var bigEndian = Npy.write(x)
    bigEndian.replaceSubrange(21..<22, with: Array(">".utf8))
    try Data(bigEndian).write(to: URL(fileURLWithPath: dir + "/be.npy"))
    let byteOrder = try runProgram(exe, ["--input", dir + "/be.npy"])
    #expect(throws: NpyError.bigEndian) { try Npy.read(bigEndian) }
    #expect(byteOrder.0 == 1 && byteOrder.2.hasSuffix(": \(NpyError.bigEndian)\n"))
    let good = Npy.write(x)
    for (name, bytes) in [
      ("short", Array(good.dropLast(4))), ("long", good + [0, 0, 0, 0]), ("header", Array(good.prefix(40))),
    ] {
      try Data(bytes).write(to: URL(fileURLWithPath: dir + "/\(name).npy"))
      let result = try runProgram(exe, ["--input", dir + "/\(name).npy"])
      #expect(result.0 == 1 && result.2.split(separator: "\n").count == 1, "\(name): \(result.2)")
    }
    let missing = try runProgram(exe, ["--input", dir + "/none.npy"])
    #expect(missing.0 == 1 && missing.2.split(separator: "\n").count == 1)
    #expect(try runProgram(exe, ["--bogus", "1"]).0 == 2)
    #expect(try runProgram(exe, ["--threads", "0"]).0 == 2)
    let help = try runProgram(exe, ["--help"])
    #expect(help.0 == 0 && help.1.contains("--bench N"))
    let noWeights = try runProgram(exe, ["--weights", dir + "/nothing.weights"])
    #expect(noWeights.0 == 1 && noWeights.2.contains("the weights file cannot be opened or read"))
  }

  /// The generated C compiled with AddressSanitizer and UndefinedBehaviorSanitizer runs
  /// clean on models that use every kernel family.
  @Test func sanitizersFindNothing() throws {
    let dir = try scratchDirectory()
    let graphs = [
      ("r20", try optimized(try ResNet.build(try ResNetSpec(name: "resnet20")))),
      ("r20raw", try ResNet.build(try ResNetSpec(name: "resnet20"))),
      ("resnextd", try optimized(try ONNXImporter.load(path: onnxFixtures + "/torch_tiny_resnext_d_opset17.onnx"))),
      ("pad", try ONNXImporter.load(path: onnxFixtures + "/pad_opset13_value.onnx")),
      ("pool", try ONNXImporter.load(path: onnxFixtures + "/avgpool_include_pad.onnx")),
    ]
    for (name, graph) in graphs {
      try Artifacts.build(
        graph, kind: .exe, output: dir + "/" + name, compiler: try compiler(), target: runnableTargets.last!,
        extraFlags: ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer", "-g"])
      var environment = ProcessInfo.processInfo.environment
      environment["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0"
      let (status, _, errors) = try runProgram(dir + "/" + name, ["--bench", "2"], environment: environment)
      #expect(status == 0, "\(name): \(errors)")
      #expect(!errors.contains("runtime error") && !errors.contains("AddressSanitizer"), "\(name): \(errors)")
    }
  }
}
