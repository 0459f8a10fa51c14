import Foundation
import GraphIR
import ONNX
import Passes
import Quantization
import Runtime
import Testing

@testable import Codegen
@testable import DiffTest

/// Generated graphs (fan-out, shared weights, odd shapes, hostile names) quantized by
/// `resnetc quantize`'s library, then run as QDQ graphs as written (`-O0`: every op in f32
/// between dequantize and quantize), through the textual IR and ONNX, after `-O1`
/// (fuse-quantized makes integer qconv2d and qdense) and after random pass lists.
@Suite struct QuantizedDifferentialTests {
  static let seeds: ClosedRange<UInt64> = 1...150

  /// The largest difference between `a` and `b` over the largest magnitude of `b` (or 1).
  static func relativeError(_ a: [Tensor], _ b: [Tensor]) -> Float {
    zip(a, b).map { x, y in
      let scale = max(y.data.map(abs).max() ?? 0, 1)
      return zip(x.data, y.data).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0
    }.max() ?? 0
  }

  /// Case `c` quantized by the library: BatchNorm folded, calibrated on its inputs and three
  /// more drawn from `dice`, by min-max for even seeds and percentile for odd ones; the
  /// weights of every third seed within ±64 (`--reduce-range`: byte pairs without VNNI).
  static func quantized(_ c: DiffCase, _ dice: inout Dice) throws -> Graph {
    let float = try Quantizer.prepare(c.graph)
    let calibration =
      [c.inputs]
      + (0..<3).map { _ in
        c.graph.inputs.map { Tensor(type: $0.type, data: dice.floats($0.type.elementCount, -2, 2)) }
      }
    let ranges = try Calibration.ranges(
      float, values: Quantizer.activations(float), inputs: calibration,
      method: c.seed % 2 == 0 ? .minMax : .percentile(99.9))
    let weightRange = c.seed % 3 == 0 ? Quantizer.reducedRange : Quantizer.fullRange
    return try Quantizer.quantize(float, ranges: ranges, weightRange: weightRange).graph
  }

  /// Seeds whose quantized graphs have convs the integer Winograd kernel runs without VNNI
  /// (3×3, stride 1, channels in blocks, maps of at least 12×12): few generated graphs have
  /// one (two of the first 400 seeds in AVX2's blocks of 8; 806 first in AVX-512's of 16).
  static let winogradSeeds: [UInt64] = [352, 372, 806]

  static let builds: [String] =
    Target.runnable().map { "c \($0.rawValue)" } + ["swift \(Target.runnable().last!.rawValue)"]

  /// 63 quantized graphs after `-O1`, compiled side by side as one library by each backend
  /// for each target: the interpreter's outputs. Integer ops are exact; f32 ops after the
  /// last dequantize (a softmax, a float conv) round as the target's kernels do, so outputs
  /// are compared within 1e-4 of their largest magnitude, far below one quantization step
  /// (measured: at most 7e-7; a quantize moved by one step would show as 1e-2 or more).
  @Test(arguments: builds)
  func compiledQuantizedGraphsAgreeWithTheInterpreter(_ build: String) throws {
    try requireCompilers()
    let words = build.split(separator: " ").map(String.init)
    let (backend, target) = (Backend(rawValue: words[0])!, Target(rawValue: words[1])!)
    var cases: [DiffCase] = []
    for seed in Array(UInt64(1)...60) + Self.winogradSeeds {
      let c = try DiffCase(seed: seed)
      var dice = Dice(seed: seed ^ 0x51AB_D1CE)
      var model = try Self.quantized(c, &dice)
      try PassManager(passes: Pipeline.default, verifyAfterEachPass: true).run(&model)
      cases.append(try DiffCase(graph: model, seed: seed))
    }
    let union = GraphUnion(cases.map(\.graph), name: "quantized")
    let kernels = try LoweredProgram(graph: union.graph, target: target).stepKernels
    let counts = ["int16 pairs", "int8 byte pairs", "int8 split pairs", "int8 vnni", "int16 winograd"].map { kind in
      "\(kernels.filter { $0.hasPrefix(kind) }.count) \(kind)"
    }
    // Without VNNI, int16 pairs (convs over plain inputs), split byte pairs (8-bit weights over
    // blocked inputs), byte pairs (the reduced-range graphs') and the integer Winograd kernel
    // (the `winogradSeeds` graphs') are all checked.
    if target == .avx2 || target == .avx512 {
      let kinds = ["int16 pairs", "int8 split pairs", "int8 byte pairs", "int16 winograd"]
      #expect(kinds.allSatisfy { kind in kernels.contains { $0.hasPrefix(kind) } }, "\(counts)")
    }
    let folder = NSTemporaryDirectory() + "resnetc-qdifftest-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    switch backend {
    case .c:
      try Artifacts.build(
        union.graph, kind: .lib, output: folder + "/q", compiler: try CCompiler.locate(), target: target)
    case .swift:
      try Artifacts.buildSwift(
        union.graph, kind: .lib, output: folder + "/q", compiler: try SwiftCompiler.locate(), target: target)
    }
    let model = try NativeModel(libraryPath: folder + "/libq.so", weightsPath: folder + "/q.weights")
    let outputs = GraphUnion.split(try model.run(cases.flatMap(\.inputs)), counts: union.outputCounts)
    var exact = 0
    var worst: Float = 0
    for (c, got) in zip(cases, outputs) {
      if DifferentialRunner.compare(got, c.reference, tolerance: 0) == nil { exact += 1 }
      worst = max(worst, Self.relativeError(got, c.reference))
    }
    print(
      "quantized compiled \(build): \(exact) of \(cases.count) graphs exact, largest difference \(worst); convs: \(counts.joined(separator: ", "))"
    )
    #expect(worst <= 1e-4, "a compiled quantized graph is \(worst) from the interpreter")
  }

  @Test func quantizedGraphsAgreeAcrossPassesAndStayNearTheFloatGraph() throws {
    var failures: [String] = []
    var fused = 0
    var worstFusion: Float = 0
    var worstQuantization: Float = 0
    for seed in Self.seeds {
      let c = try DiffCase(seed: seed)
      do {
        var dice = Dice(seed: seed ^ 0x51AB_D1CE)
        let model = try Self.quantized(c, &dice)

        // The textual IR and safetensors carry the integer constants.
        let weights = SafeTensors.write(model.constants.entries)
        let constants = Dictionary(
          uniqueKeysWithValues: try SafeTensors.readConstants(weights).map { ($0.name, $0.constant) })
        let parsed = try IRParser.parse(IRPrinter.print(model)) { name, type in
          constants[name] ?? Tensor(type: type, data: [])
        }
        if parsed != model { failures.append("seed \(seed): parse(print(quantized)) differs") }

        let written = try Interpreter(graph: model).run(c.inputs)
        // Written as ONNX QuantizeLinear/DequantizeLinear and imported: the same numbers.
        let imported = try ONNXImporter.importModel(ONNXWriter.model(model), name: "g", directory: nil)
        let importedResult = try Interpreter(graph: imported).run(c.inputs)
        if Self.relativeError(importedResult, written) != 0 {
          failures.append("seed \(seed): the ONNX round trip is \(Self.relativeError(importedResult, written)) apart")
        }
        var optimized = model
        try PassManager(passes: Pipeline.default, verifyAfterEachPass: true).run(&optimized)
        fused += optimized.nodes.filter { if case .qconv2d = $0.op { true } else { false } }.count
        let fusedResult = try Interpreter(graph: optimized).run(c.inputs)
        worstFusion = max(worstFusion, Self.relativeError(fusedResult, written))
        worstQuantization = max(worstQuantization, Self.relativeError(written, c.reference))
        if Self.relativeError(fusedResult, written) > 0.02 {
          failures.append("seed \(seed): -O1 is \(Self.relativeError(fusedResult, written)) from the QDQ graph")
        }
        for _ in 0..<2 {
          var other = model
          let passes = (0..<dice.int(1...6)).map { _ in dice.pick(Pipeline.all) }
          try PassManager(passes: passes, verifyAfterEachPass: true).run(&other)
          let result = try Interpreter(graph: other).run(c.inputs)
          if Self.relativeError(result, written) > 0.02 {
            failures.append(
              "seed \(seed): passes \(passes.map(\.name)) give \(Self.relativeError(result, written)) from the QDQ graph"
            )
          }
        }
      } catch {
        failures.append("seed \(seed): \(error)")
      }
    }
    print(
      "quantized difftest: \(fused) qconv2d fused; -O1 within \(worstFusion) of the QDQ graph; QDQ within \(worstQuantization) of float"
    )
    #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    #expect(fused > 100, "only \(fused) convs became qconv2d in \(Self.seeds.count) graphs")
  }
}
