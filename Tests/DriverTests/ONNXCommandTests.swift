import Foundation
import GraphIR
import Runtime
import Testing

@testable import Driver

/// The ONNX fixtures of the ONNX module's tests.
let onnxFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .appendingPathComponent("ONNXTests/Fixtures").path

@Suite struct ONNXCommandTests {
  @Test func infoOnAnExportedResNet() throws {
    let run = resnetc("info", onnxFixtures + "/torch_tiny_resnet_opset13.onnx", "--json")
    #expect(run.status == 0, "\(run.err)")
    let json = try JSON.parse(Array(run.out.utf8))
    #expect(json["ops"]?["conv2d"] == .int(12))
    #expect(
      json["outputs"] == .array([.object([("name", .string("logits")), ("shape", .array([.int(1), .int(10)]))])]))
  }

  @Test func runMatchesONNXRuntimeThroughTheTool() throws {
    let dir = try temporaryDirectory()
    let base = onnxFixtures + "/torch_tiny_resnet_dynamic_batch"
    let run = resnetc(
      "run", base + ".onnx", "--input-shape", "2x3x32x32", "--input", base + ".input.npy", "--output", dir + "/y.npy")
    #expect(run.status == 0, "\(run.err)")
    let y = try Npy.read([UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/y.npy"))))
    let reference = try Npy.read([UInt8](try Data(contentsOf: URL(fileURLWithPath: base + ".ort.npy"))))
    #expect(y.type == reference.type)
    let scale = reference.data.map(abs).max()!
    #expect(zip(y.data, reference.data).map { abs($0 - $1) }.max()! <= 1e-5 * scale)
  }

  @Test func importedModelsRoundTripThroughTextualIR() throws {
    let dir = try temporaryDirectory()
    let model = onnxFixtures + "/torch_tiny_resnext_d_opset17.onnx"
    #expect(resnetc("dump-ir", model, "-o", dir + "/m").status == 0)
    #expect(resnetc("run", dir + "/m.gir").out == resnetc("run", model).out)
  }

  /// An IR-3 file lists its weights as inputs: they are constants, unless `--feed` names
  /// one, which `run` then reads from its own `--input`.
  @Test func feedMakesAnInitializerAnInput() throws {
    let dir = try temporaryDirectory()
    let legacy = URL(fileURLWithPath: onnxFixtures).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("DiffTestTests/Legacy").path
    let model = legacy + "/resnet_opset7_ir3.onnx"
    let info = resnetc("info", model, "--json")
    #expect(info.status == 0, "\(info.err)")
    func inputCount(_ text: String) throws -> Int? {
      guard case .array(let inputs) = try JSON.parse(Array(text.utf8))["inputs"] else { return nil }
      return inputs.count
    }
    #expect(try inputCount(info.out) == 1)
    let fedInfo = resnetc("info", model, "--json", "--feed", "t_4")
    #expect(try inputCount(fedInfo.out) == 2)
    let shift = Tensor(type: TensorType([8]), data: Array(repeating: 0.25, count: 8))
    try Data(Npy.write(shift)).write(to: URL(fileURLWithPath: dir + "/t.npy"))
    let run = resnetc(
      "run", model, "--feed", "t_4", "--input", legacy + "/resnet_opset7_ir3.input0.npy", "--input", dir + "/t.npy")
    #expect(run.status == 0, "\(run.err)")
    expectFailure(
      resnetc("info", model, "--feed", "data"), status: 1,
      mentioning: "input 'data': is named by --feed but is no graph input that an initializer defines")
    expectFailure(
      resnetc("info", "resnet18", "--feed", "x"), status: 2, mentioning: "--feed applies to ONNX models only")
  }

  @Test func errors() throws {
    let dir = try temporaryDirectory()
    try Data([0x0f, 1, 2]).write(to: URL(fileURLWithPath: dir + "/junk.onnx"))
    expectFailure(
      resnetc("info", dir + "/junk.onnx"), status: 1,
      mentioning: "junk.onnx: not a valid ONNX file: invalid wire type 7")
    expectFailure(
      resnetc("info", onnxFixtures + "/torch_tiny_resnet_dynamic_batch.onnx"), status: 1,
      mentioning: "input 'input' has symbolic dimension 0 ('batch'); pin it with --input-shape")
    expectFailure(
      resnetc("info", "resnet18", "--input-shape", "1x3x8x8"), status: 2,
      mentioning: "--input-shape applies to ONNX models only")
    expectFailure(
      resnetc("info", onnxFixtures + "/conv_bias.onnx", "--input-shape", "1x3xx7"), status: 2,
      mentioning: "--input-shape expects DIMS or NAME=DIMS")
  }
}
