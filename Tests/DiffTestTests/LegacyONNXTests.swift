import Codegen
import DiffTest
import Foundation
import GraphIR
import ONNX
import Passes
import Runtime
import Testing

/// ResNets and layers as files from outside PyTorch's current exporter write them
/// (scripts/make-legacy-onnx.py): opsets 7 and 8 with initializers listed as graph inputs
/// (IR 3, as the ONNX Model Zoo's ResNets are), an NHWC input with normalization baked in,
/// 1-D convolutions, and the opset-1 and opset-6 forms that ONNX Runtime no longer runs
/// (checked against NumPy); and the Caffe2 ResNet-50 of the ONNX backend tests
/// (`light_resnet50`, weights made by ConstantOfShape). Every path must agree with the
/// reference within 1e-5 (1e-4 where a compiled program uses Winograd).
@Suite struct LegacyONNXTests {
  static let names = [
    "resnet_opset7_ir3", "resnet_opset8_ir3", "normalized_nhwc", "conv1d_signal", "legacy_opset6", "legacy_opset1",
  ]

  static func npy(_ path: String) throws -> Tensor {
    try Npy.read([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
  }

  static func load(_ name: String) throws -> Checked {
    let base = try resourceDirectory("Legacy") + "/" + name
    let graph = try ONNXImporter.load(path: base + ".onnx")
    return Checked(
      name: name, graph: graph, inputs: [try npy(base + ".input0.npy")], reference: [try npy(base + ".ref0.npy")],
      tolerance: 1e-5)
  }

  static func lightResNet50() throws -> Checked {
    let base = try resourceDirectory("Backend") + "/light_resnet50/"
    return Checked(
      name: "light_resnet50", graph: try ONNXImporter.load(path: base + "model.onnx"),
      inputs: [try npy(base + "input_0.npy")], reference: [try npy(base + "output_0.npy")], tolerance: 1e-5)
  }

  @Test func everyPathAgreesWithTheReference() throws {
    try requireCompilers()
    let cases = try Self.names.map(Self.load) + [try Self.lightResNet50()]
    let count = try checkEveryPath(cases)
    #expect(count == cases.count * (2 + runnableTargets.count + 2))
  }

  /// Initializers listed as inputs are constants, not inputs: the model has one input.
  @Test func initializersListedAsInputsAreConstants() throws {
    for name in ["resnet_opset7_ir3", "resnet_opset8_ir3"] {
      let graph = try Self.load(name).graph
      #expect(graph.inputs.map(\.name) == ["data"])
      #expect(graph.inputs[0].type == TensorType([1, 3, 64, 64]))
    }
  }

  /// `--feed` keeps such an input an input: a BatchNorm's shift is then given at run time
  /// (and the BatchNorm no longer folds); fed the initializer's own value the model gives the
  /// reference, fed zeros it does not.
  @Test func aFedInitializerIsAnInput() throws {
    let base = try resourceDirectory("Legacy") + "/resnet_opset7_ir3"
    let plain = try ONNXImporter.load(path: base + ".onnx")
    let shiftName = try #require(plain.constants.names.filter { $0.hasPrefix("t_") }.sorted().first)
    let shift = try #require(plain.constants[shiftName])
    let fed = try ONNXImporter.load(path: base + ".onnx", feeding: [shiftName])
    #expect(fed.inputs.map(\.name) == ["data", shiftName])
    #expect(fed.constants[shiftName] == nil)
    let x = try Self.npy(base + ".input0.npy")
    let reference = try Self.npy(base + ".ref0.npy")
    let same = try Interpreter(graph: try optimized(fed)).run([x, shift])
    #expect(DifferentialRunner.compare(same, [reference], tolerance: 1e-5) == nil)
    let zero = Tensor(type: shift.type, data: Array(repeating: 0, count: shift.data.count))
    let other = try Interpreter(graph: try optimized(fed)).run([x, zero])
    #expect(DifferentialRunner.compare(other, [reference], tolerance: 1e-3) != nil)
    #expect(throws: ONNXError.self) { try ONNXImporter.load(path: base + ".onnx", feeding: ["data"]) }
  }

  /// After -O1 the normalization and ReLU6 model keeps the normalization as one
  /// `scale_shift` on the input (the stem conv pads, so the shift cannot fold into it), folds
  /// the explicit Pad into the stem conv's padding and the Mul + Add BatchNorm into its
  /// weights, and keeps the transpose and the clip.
  @Test func normalizationFoldsWhereTheMathAllows() throws {
    let graph = try optimized(try Self.load("normalized_nhwc").graph)
    let ops = graph.nodes.map(\.op.name)
    #expect(
      ops == ["transpose", "scale_shift", "conv2d", "clip", "conv2d", "conv2d", "global_avg_pool", "flatten", "dense"])
    guard case .conv2d(let stem) = graph.nodes[2].op else { return }
    #expect(stem.padding == .uniform(1))
  }
}
