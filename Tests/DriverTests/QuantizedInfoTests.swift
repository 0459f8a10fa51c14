import Codegen
import Foundation
import GraphIR
import Testing

@testable import Driver

/// `info` on a QDQ model that compiles: each integer conv's kernel, as this CPU's best
/// target runs it.
@Suite struct QuantizedInfoTests {
  static let model = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("ONNXTests/Quantized/resnet50.qdq.onnx").path

  @Test func integerConvsShowTheirKernels() throws {
    let target = Target.native()
    let run = resnetc("info", Self.model, "--json")
    #expect(run.status == 0, "\(run.err)")
    let info = try JSON.parse(Array(run.out.utf8))
    guard case .array(let layers)? = info["layers"] else {
      Issue.record("no layers in \(run.out.prefix(200))")
      return
    }
    let kernels = layers.compactMap { layer -> String? in
      guard layer["op"] == .string("qconv2d"), case .string(let kernel)? = layer["kernel"] else { return nil }
      return kernel
    }
    #expect(kernels.count == 53, "\(kernels.count) qconv2d layers with a kernel")
    // The fixture's narrow early convs (8 channels) run the plain kernel where blocks are 16.
    let vector = target == .avx512vnni ? "int8 vnni" : "int16 pairs"
    let fast = kernels.filter { $0.hasPrefix(vector) }.count
    switch target {
    case .generic: #expect(Set(kernels) == ["plain"], "\(Set(kernels))")
    case .avx2, .avx512, .avx512vnni: #expect(fast > 20, "\(fast) of 53 run \(vector): \(Set(kernels))")
    }
    if case .int(let arena)? = info["arenaBytes"] { #expect(arena > 0) } else { Issue.record("no arena") }
  }

  /// Without VNNI the table says why convs run as int16 pairs and which weights run as byte
  /// pairs; with VNNI (or none of them) it says nothing.
  @Test func int16PairsAreExplainedWithoutVNNI() throws {
    let kernels = ["int16 pairs 6px x2", "int8 byte pairs 4px x2", "int16 pairs 6px x2 +residual", "plain"]
    let note = try #require(int16PairsNote(kernels, target: .avx2))
    #expect(note.hasPrefix("note           2 integer convs run as int16 pairs (vpmaddwd): this CPU has no VNNI"))
    #expect(note.contains("weights within ±64 are ('resnetc quantize --reduce-range'"))
    #expect(int16PairsNote(Array(kernels.prefix(1)), target: .avx512)?.contains("1 integer conv runs as") == true)
    #expect(int16PairsNote(kernels, target: .avx512vnni) == nil)
    #expect(int16PairsNote(["int8 byte pairs 4px x2"], target: .avx2) == nil)
    // The fixture's 8-bit weights run as int16 pairs on AVX2 and AVX-512: the table says so.
    let table = resnetc("info", Self.model)
    #expect(table.status == 0, "\(table.err)")
    switch Target.native() {
    case .avx2, .avx512: #expect(table.out.contains(" as int16 pairs (vpmaddwd): this CPU has no VNNI"), "\(table.out)")
    case .generic, .avx512vnni: #expect(!table.out.contains("note "), "\(table.out)")
    }
  }

  /// A quantized model the compiler refuses (its output an integer tensor) still gets its
  /// table, with no kernels and no arena, and says why there is none.
  @Test func aQuantizedModelThatDoesNotCompileHasNoArena() throws {
    var b = GraphBuilder(name: "q")
    let x = try b.input("x", TensorType([1, 16]))
    let s = try b.constant("s", TensorType([]), [0.1])
    let z = try b.constant("z", Tensor(type: TensorType([], dtype: .u8), integers: [3]))
    let q = try b.node("q", .quantize(axis: 1), [x, s, z])
    let graph = try b.finish(outputs: [q])
    let table = try infoTable(graph)
    #expect(table.contains("arena          none: this quantized model does not compile"), "\(table)")
    #expect(try infoJSON(graph)["arenaBytes"] == JSON.null)
  }
}
