import Formats
import Foundation
import GraphIR
import Passes
import Runtime
import Testing

@testable import ONNX

/// The QDQ models of scripts/make-quantized-fixtures.py (ONNX Runtime's quantize_static of
/// small torchvision-layout ResNet-18 and ResNet-50), run by the reference interpreter on
/// the 200 seeded inputs whose ONNX Runtime int8 outputs are committed.
@Suite struct QuantizedFixtureTests {
  static func directory() throws -> String {
    try #require(Bundle.module.url(forResource: "Quantized", withExtension: nil)).path
  }

  /// `resnetc run --input-seed (1000 + i)`'s input for the fixtures' [1,3,64,64].
  static func input(_ i: Int) -> Tensor {
    var generator = ResnetcSplitMix(seed: UInt64(1000 + i))
    var data = [Float](repeating: 0, count: 3 * 64 * 64)
    data.withUnsafeMutableBufferPointer { generator.fillNormal($0.baseAddress!, count: $0.count) }
    return Tensor(type: TensorType([1, 3, 64, 64]), data: data)
  }

  @Test func theSeededInputsAreTheScriptsInputs() throws {
    #expect(Self.input(0) == (try npy(try Self.directory() + "/input0.npy")))
  }

  /// As imported (every op in f32 between dequantize and quantize), and after `-O1`, whose
  /// fuse-quantized makes each conv an integer qconv2d as ONNX Runtime does.
  @Test(arguments: ["resnet18", "resnet50"], [false, true])
  func top1MatchesONNXRuntimeInt8(name: String, optimized: Bool) throws {
    let base = try Self.directory() + "/" + name
    var graph = try ONNXImporter.load(path: base + ".qdq.onnx")
    if optimized { try PassManager.pipeline(.o1).run(&graph) }
    let counts = graph.nodes.reduce(into: [String: Int]()) { $0[$1.op.name, default: 0] += 1 }
    if optimized {
      let convs = name == "resnet18" ? 20 : 53
      #expect(counts["qconv2d"] == convs && counts["conv2d"] == nil, "\(counts)")
    } else {
      #expect((counts["quantize"] ?? 0) > 20 && (counts["dequantize"] ?? 0) > 40, "\(counts)")
    }
    let interpreter = try Interpreter(graph: graph)
    let reference = try npy(base + ".ort-int8.npy")
    let classes = reference.type.shape[1]
    var agree = 0
    var worst: Float = 0
    for i in 0..<200 {
      let y = try interpreter.run([Self.input(i)])[0].data
      let row = Array(reference.data[(i * classes)..<((i + 1) * classes)])
      if y.indices.max(by: { y[$0] < y[$1] }) == row.indices.max(by: { row[$0] < row[$1] }) { agree += 1 }
      let scale = row.map(abs).max() ?? 1
      worst = max(worst, zip(y, row).map { abs($0 - $1) }.max()! / scale)
    }
    // The interpreter dequantizes, computes in floats and quantizes; ONNX Runtime fuses into
    // integer kernels. Both round to the same quantization steps but for rare ties.
    #expect(agree >= 198, "top-1 equal to ONNX Runtime's int8 on \(agree) of 200")
    #expect(worst < 0.05, "largest error against ONNX Runtime's int8 output: \(worst) of the row's largest value")
    print(
      "\(name)\(optimized ? " -O1" : ""): top-1 equal to ONNX Runtime int8 on \(agree)/200, largest relative error \(worst)"
    )
  }

  /// QuantizeLinear → QLinearConv → DequantizeLinear: the interpreter's integer convolution
  /// and requantization give ONNX Runtime's integers exactly.
  @Test(arguments: ["qlinearconv_per_channel", "qlinearconv_grouped_stride2"])
  func qlinearConvEqualsONNXRuntime(name: String) throws {
    let base = try Self.directory() + "/" + name
    let graph = try ONNXImporter.load(path: base + ".onnx")
    #expect(graph.nodes.map(\.op.name) == ["quantize", "qconv2d", "dequantize"])
    let y = try Interpreter(graph: graph).run([try npy(base + ".input.npy")])[0]
    let reference = try npy(base + ".ort.npy")
    #expect(y.type == reference.type)
    let differing = zip(y.data, reference.data).filter { $0 != $1 }.count
    #expect(differing == 0, "\(differing) of \(y.data.count) outputs differ from ONNX Runtime's")
  }

  /// QLinearMatMul with per-column scales: `qdense` gives ONNX Runtime's integers exactly.
  @Test func qlinearMatMulEqualsONNXRuntime() throws {
    let base = try Self.directory() + "/qlinearmatmul_per_column"
    let graph = try ONNXImporter.load(path: base + ".onnx")
    #expect(graph.nodes.map(\.op.name) == ["quantize", "qdense", "dequantize"])
    let y = try Interpreter(graph: graph).run([try npy(base + ".input.npy")])[0]
    let reference = try npy(base + ".ort.npy")
    #expect(y.type == reference.type)
    let differing = zip(y.data, reference.data).filter { $0 != $1 }.count
    #expect(differing == 0, "\(differing) of \(y.data.count) outputs differ from ONNX Runtime's")
  }

  /// com.microsoft QLinearAdd of two tensors quantized with different scales, imported as
  /// dequantize, add, quantize: ONNX Runtime's kernel rounds a sum of rescaled integers, so
  /// an output may be one step (0.06) apart where the sum lies halfway between steps, which
  /// is frequent here as B's scale is half of C's (10 of 288 outputs).
  @Test func qlinearAddIsWithinOneStepOfONNXRuntime() throws {
    let base = try Self.directory() + "/qlinearadd"
    let graph = try ONNXImporter.load(path: base + ".onnx")
    #expect(graph.nodes.filter { $0.op == .add }.count == 1)
    let y = try Interpreter(graph: graph).run([try npy(base + ".input.npy")])[0]
    let reference = try npy(base + ".ort.npy")
    #expect(y.type == reference.type)
    let steps = zip(y.data, reference.data).map { (abs($0 - $1) / 0.06).rounded() }
    let differing = steps.filter { $0 != 0 }.count
    #expect(steps.allSatisfy { $0 <= 1 }, "outputs more than one step from ONNX Runtime's")
    #expect(differing * 20 <= y.data.count, "\(differing) of \(y.data.count) outputs differ from ONNX Runtime's")
    print("qlinearadd: \(differing) of \(y.data.count) outputs one step from ONNX Runtime's")
  }
}
