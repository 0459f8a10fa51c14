import Foundation
import GraphIR
import Models
import ONNX
import Runtime
import Testing

@testable import Passes

/// The default pipeline applied to a copy of `graph`, verified after every pass.
func optimized(_ graph: Graph) throws -> Graph {
  var g = graph
  try PassManager(passes: Pipeline.default, verifyAfterEachPass: true).run(&g)
  return g
}

/// max|after − before| / max|before| over every output, on a seeded input.
func pipelineError(_ graph: Graph) throws -> Float {
  let after = try optimized(graph)
  var random = SeededRandom(seed: 11)
  let inputs = graph.inputs.map { Tensor(type: $0.type, data: random.normal(count: $0.type.elementCount)) }
  let want = try Interpreter(graph: graph).run(inputs)
  let got = try Interpreter(graph: after).run(inputs)
  var worst: Float = 0
  #expect(got.count == want.count, "the optimized graph has \(got.count) outputs, not \(want.count)")
  for (y, reference) in zip(got, want) {
    #expect(y.type == reference.type)
    let scale = reference.data.map(abs).max() ?? 0
    worst = max(worst, (zip(y.data, reference.data).map { abs($0 - $1) }.max() ?? 0) / scale)
  }
  return worst
}

/// Op counts of a graph.
func opCounts(_ graph: Graph) -> [String: Int] {
  graph.nodes.reduce(into: [:]) { $0[$1.op.name, default: 0] += 1 }
}

@Suite struct PipelineNumericsTests {
  /// Every built-in up to resnet50, with each shortcut option, computes the same numbers
  /// after the default pipeline (ImageNet models at 64x64 to keep the suite quick: every
  /// layer is still there).
  @Test(
    arguments: [
      "resnet18", "resnet34", "resnet50", "resnet50-v1.5", "resnet20", "resnet32", "resnet56", "resnet110", "plain18",
      "plain20",
    ], ShortcutOption.allCases)
  func builtinModelsKeepTheirNumbers(name: String, option: ShortcutOption) throws {
    var spec = try ResNetSpec(name: name)
    if spec.plain && option != .b { return }
    spec.shortcut = spec.plain ? nil : option
    if spec.isImageNet { spec.resolution = 64 }
    #expect(try pipelineError(try ResNet.build(spec)) <= 1e-5)
  }

  @Test func resnet50AtFullResolution() throws {
    #expect(try pipelineError(try ResNet.build(try ResNetSpec(name: "resnet50"))) <= 1e-5)
  }

  /// The imported fixtures, too.
  @Test(arguments: [
    "torch_tiny_resnet_opset13", "torch_tiny_resnext_d_opset17", "torch_tiny_resnet_dynamo_opset18", "batchnorm_opset9",
    "batchnorm_opset15", "relu_add", "sum3", "gap_flatten_gemm", "gemm_row_bias", "matmul_add", "pad_opset9",
    "pad_channels", "reshape_constant_node", "constant_identity_dropout", "conv_groups_dilation",
  ])
  func importedModelsKeepTheirNumbers(name: String) throws {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("ONNXTests/Fixtures").path
    #expect(try pipelineError(try ONNXImporter.load(path: fixtures + "/" + name + ".onnx")) <= 1e-5)
  }

  @Test func resnet50IsOnlyConvolutionsAfterFusion() throws {
    let counts = opCounts(try optimized(try ResNet.build(try ResNetSpec(name: "resnet50"))))
    #expect(counts["conv2d"] == 53)
    #expect(
      counts["batch_norm"] == nil && counts["relu"] == nil && counts["add"] == nil && counts["scale_shift"] == nil)
  }

  @Test func resnet20OptionAHasNoAddOrBatchNormLeft() throws {
    let counts = opCounts(try optimized(try ResNet.build(try ResNetSpec(name: "resnet20"))))
    #expect(counts["add"] == nil && counts["batch_norm"] == nil && counts["relu"] == nil)
    #expect(counts["conv2d"] == 19)
  }

  @Test func everyShortcutOptionFuses() throws {
    for option in ShortcutOption.allCases {
      var spec = try ResNetSpec(name: "resnet34")
      spec.shortcut = option
      spec.resolution = 32
      let counts = opCounts(try optimized(try ResNet.build(spec)))
      #expect(counts["add"] == nil && counts["relu"] == nil && counts["batch_norm"] == nil, "option \(option)")
    }
  }

  @Test func exportedResNetFusesFully() throws {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("ONNXTests/Fixtures").path
    let counts = opCounts(try optimized(try ONNXImporter.load(path: fixtures + "/torch_tiny_resnext_d_opset17.onnx")))
    #expect(counts["add"] == nil && counts["relu"] == nil)
  }
}
