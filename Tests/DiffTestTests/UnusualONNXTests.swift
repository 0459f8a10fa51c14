import Codegen
import DiffTest
import Foundation
import GraphIR
import ONNX
import Runtime
import Testing

/// Valid but unusual ONNX graphs (scripts/make-unusual-onnx.py) through every path against
/// ONNX Runtime's outputs: the two that broke resnetc (a BatchNorm feeding a BatchNorm and a
/// ReLU; names such as x@blocked and b@x), outputs read inside the graph, shared weights,
/// fusable chains, odd shapes, hostile names, pools, Winograd-sized layers, padding and
/// reshapes, two inputs, a graph of no node, outputs that are a constant, the input or one
/// value listed twice.
@Suite struct UnusualONNXTests {
  static let names = [
    "bn_fan_out", "at_names", "outputs_read_inside", "shared_weights", "fusable_chains", "odd_shapes", "one_by_one",
    "hostile_names", "pools", "wide_residual", "pads_and_shapes", "two_stem_resnet", "identity_only", "odd_outputs",
  ]

  static func load(_ name: String) throws -> Checked {
    let base = try resourceDirectory("Unusual") + "/" + name
    let graph = try ONNXImporter.load(path: base + ".onnx")
    func npy(_ path: String) throws -> Tensor {
      try Npy.read([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
    }
    let inputs = try graph.inputs.indices.map { try npy(base + ".input\($0).npy") }
    let fm = FileManager.default
    let reference = try (0..<graph.outputs.count).map { j in
      #expect(fm.fileExists(atPath: base + ".ort\(j).npy"), "\(name) has an output \(j) that ONNX Runtime did not give")
      return try npy(base + ".ort\(j).npy")
    }
    #expect(!fm.fileExists(atPath: base + ".ort\(graph.outputs.count).npy"), "\(name) lost an output in import")
    return Checked(name: name, graph: graph, inputs: inputs, reference: reference, tolerance: 1e-5)
  }

  @Test func everyPathAgreesWithONNXRuntime() throws {
    try requireCompilers()
    let cases = try Self.names.map(Self.load)
    let count = try checkEveryPath(cases)
    #expect(count == cases.count * (2 + runnableTargets.count + 2))
  }

  /// The model of the first report: before the fix the default pipeline folded both
  /// BatchNorms into the conv and every optimized path was 34% off.
  @Test func bothBatchNormsDoNotFoldIntoOneConv() throws {
    let c = try Self.load("bn_fan_out")
    let graph = try optimized(c.graph)
    #expect(graph.nodes.map(\.op.name).sorted() == ["add", "conv2d", "relu", "scale_shift"])
  }

  /// An output that is the input under another name (Identity) is a copy: importing it once
  /// renamed the graph's input after the output (graph 5664 of the differential run, through a
  /// zero Pad).
  @Test func inputsKeepTheirNames() throws {
    let graph = try Self.load("identity_only").graph
    #expect(graph.inputs.map(\.name) == ["x"])
    #expect(graph.outputs == ["y"])
  }
}
