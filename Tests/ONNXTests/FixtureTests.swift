import Foundation
import GraphIR
import Runtime
import Testing

@testable import ONNX

/// The folder of fixtures written by scripts/make-onnx-fixtures.py.
func fixturesDirectory() throws -> String {
  try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil)).path
}

/// Reads a `.npy` fixture.
func npy(_ path: String) throws -> Tensor {
  try Npy.read([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
}

/// max|y − ref| / max|ref|.
func relativeError(_ y: Tensor, _ reference: Tensor) -> Float {
  #expect(y.data.count == reference.data.count, "\(y.data.count) elements, expected \(reference.data.count)")
  let scale = reference.data.map(abs).max() ?? 0
  let error = zip(y.data, reference.data).map { abs($0 - $1) }.max() ?? 0
  return scale == 0 ? error : error / scale
}

/// Imports `name` (path relative to the fixtures), runs it on its input and returns the
/// error against ONNX Runtime's output.
func errorAgainstONNXRuntime(_ name: String, pins: [InputShape] = []) throws -> Float {
  let base = try fixturesDirectory() + "/" + name
  let graph = try ONNXImporter.load(path: base + ".onnx", inputShapes: pins)
  let y = try Interpreter(graph: graph).run([try npy(base + ".input.npy")])[0]
  let reference = try npy(base + ".ort.npy")
  #expect(y.type.shape == reference.type.shape)
  return relativeError(y, reference)
}

@Suite struct FixtureTests {
  static let perOp = [
    "conv_bias", "conv_stride_asym_pads", "conv_groups_dilation", "conv_depthwise", "conv_auto_pad_same_upper",
    "conv_auto_pad_same_lower", "conv_auto_pad_valid", "batchnorm_opset9", "batchnorm_opset15", "relu_add",
    "add_broadcast_constant", "sum3", "maxpool_ceil", "maxpool_dilation", "maxpool_same_upper", "avgpool_include_pad",
    "avgpool_exclude_pad_ceil", "avgpool_resnet_d", "gap_flatten_gemm", "gemm_alpha_beta", "gemm_row_bias",
    "matmul_add", "flatten_axis2", "flatten_axis_negative", "reshape_zero_minus_one", "reshape_constant_node",
    "constant_identity_dropout", "pad_opset9", "pad_opset13_value", "pad_channels", "softmax_opset11",
    "softmax_opset13", "external/external_conv",
  ]

  /// Each op and attribute variant matches ONNX Runtime: max|y − ref| ≤ 1e-5 · max|ref|.
  @Test(arguments: perOp)
  func opMatchesONNXRuntime(name: String) throws {
    #expect(try errorAgainstONNXRuntime(name) <= 1e-5)
  }

  /// Small ResNets exported by PyTorch (legacy and dynamo exporters; ResNeXt groups,
  /// ResNet-D stem and average-pool shortcuts, wide bottlenecks) match ONNX Runtime.
  @Test(arguments: ["torch_tiny_resnet_opset13", "torch_tiny_resnext_d_opset17", "torch_tiny_resnet_dynamo_opset18"])
  func exportedResNetMatchesONNXRuntime(name: String) throws {
    #expect(try errorAgainstONNXRuntime(name) <= 1e-5)
  }

  @Test func symbolicBatchNeedsAPin() throws {
    let path = try fixturesDirectory() + "/torch_tiny_resnet_dynamic_batch.onnx"
    #expect(throws: ONNXError.symbolicDimension(input: "input", index: 0, name: "batch")) {
      try ONNXImporter.load(path: path)
    }
    #expect(
      try errorAgainstONNXRuntime(
        "torch_tiny_resnet_dynamic_batch", pins: [InputShape(input: nil, shape: [2, 3, 32, 32])]) <= 1e-5)
    #expect(
      try errorAgainstONNXRuntime(
        "torch_tiny_resnet_dynamic_batch", pins: [InputShape(input: "input", shape: [2, 3, 32, 32])]) <= 1e-5)
  }

  /// Imported nodes are named after the exporter's ONNX nodes (`/conv1/Conv`), not their
  /// output tensors; the graph's inputs and outputs keep their ONNX names.
  @Test func nodesKeepTheirONNXNames() throws {
    let path = try fixturesDirectory() + "/torch_tiny_resnet_dynamic_batch.onnx"
    let graph = try ONNXImporter.load(path: path, inputShapes: [InputShape(input: nil, shape: [2, 3, 32, 32])])
    let names = graph.nodes.map(\.name)
    #expect(names.first == "/conv1/Conv" && names.contains("/layers/layers.0/Add"), "\(names.prefix(8))")
    #expect(!names.contains { $0.hasSuffix("_output_0") }, "\(names)")
    #expect(graph.inputs.map(\.name) == ["input"] && graph.outputs == ["logits"])
  }

  @Test func pinsAreChecked() throws {
    let path = try fixturesDirectory() + "/torch_tiny_resnet_dynamic_batch.onnx"
    #expect(throws: ONNXError.invalidInput(input: "input", reason: "dimension 1 is 3 but --input-shape gives 4")) {
      try ONNXImporter.load(path: path, inputShapes: [InputShape(input: nil, shape: [2, 4, 32, 32])])
    }
    #expect(throws: ONNXError.invalidInput(input: "input", reason: "has rank 4 but --input-shape gives 2 dimensions")) {
      try ONNXImporter.load(path: path, inputShapes: [InputShape(input: nil, shape: [2, 3])])
    }
    #expect(throws: ONNXError.unknownInputShape("image")) {
      try ONNXImporter.load(path: path, inputShapes: [InputShape(input: "image", shape: [2, 3, 32, 32])])
    }
  }

  @Test func importedNamesFollowTheModel() throws {
    let graph = try ONNXImporter.load(path: try fixturesDirectory() + "/torch_tiny_resnet_opset13.onnx")
    #expect(graph.inputs.map(\.name) == ["input"])
    #expect(graph.outputs == ["logits"])
    #expect(graph.nodes.filter { if case .conv2d = $0.op { true } else { false } }.count == 12)
  }

  @Test func inputShapeParsing() {
    #expect(InputShape(parsing: "1x3x224x224") == InputShape(input: nil, shape: [1, 3, 224, 224]))
    #expect(InputShape(parsing: "image=2x3x8x8") == InputShape(input: "image", shape: [2, 3, 8, 8]))
    for bad in ["", "1x", "x3", "1x0x2", "ax3", "1x-3", "image="] { #expect(InputShape(parsing: bad) == nil, "\(bad)") }
  }
}
