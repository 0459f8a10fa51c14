import Formats
import Foundation
import GraphIR
import ONNX
import Passes
import Runtime
import Testing

@testable import Quantization

/// `resnetc quantize`'s library on the float models of scripts/make-quantized-fixtures.py
/// (torchvision-layout ResNet-18 and ResNet-50 at widths 8-64), calibrated on the same 32
/// seeded inputs that ONNX Runtime's quantize_static was given there.
@Suite struct QuantizerTests {
  static func directory() throws -> String {
    try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil)).path
  }

  /// `resnetc run --input-seed S`'s input for the fixtures' [1,3,64,64].
  static func input(seed: Int) -> Tensor {
    var generator = ResnetcSplitMix(seed: UInt64(seed))
    var data = [Float](repeating: 0, count: 3 * 64 * 64)
    data.withUnsafeMutableBufferPointer { generator.fillNormal($0.baseAddress!, count: $0.count) }
    return Tensor(type: TensorType([1, 3, 64, 64]), data: data)
  }

  static func npy(_ path: String) throws -> Tensor {
    try Npy.read([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
  }

  /// The position of the largest element, counted from the slice's start.
  static func top1(_ row: ArraySlice<Float>) -> Int { row.indices.max { row[$0] < row[$1] }! - row.startIndex }

  /// Each fixture quantized with each method, its weights in the full range and within ±64
  /// (`--reduce-range`), against ONNX Runtime's quantize_static of the full range.
  @Test(arguments: ["resnet18-w8", "resnet50-w8"], [CalibrationMethod.minMax, .percentile(99.999)])
  func top1AgreementWithFloatReachesONNXRuntimes(name: String, method: CalibrationMethod) throws {
    for weightRange in [Quantizer.fullRange, Quantizer.reducedRange] {
      try expectAgreement(name: name, method: method, weightRange: weightRange)
    }
  }

  func expectAgreement(name: String, method: CalibrationMethod, weightRange: Int32) throws {
    let base = try Self.directory() + "/" + name
    let float = try Quantizer.prepare(try ONNXImporter.load(path: base + ".fp32.onnx"))
    #expect(!float.nodes.contains { $0.op == .batchNorm(epsilon: 1e-5) })
    let calibration = (0..<32).map { [Self.input(seed: 5000 + $0)] }
    let values = Quantizer.activations(float)
    let ranges = try Calibration.ranges(float, values: values, inputs: calibration, method: method)
    let model = try Quantizer.quantize(float, ranges: ranges, weightRange: weightRange)
    var compiled = model.graph
    try PassManager.pipeline(.o1).run(&compiled)
    let convs = float.nodes.filter { if case .conv2d = $0.op { true } else { false } }.count
    #expect(compiled.nodes.filter { if case .qconv2d = $0.op { true } else { false } }.count == convs)

    let reference = try Self.npy(base + ".fp32.npy")
    let ort = try Self.npy(base + ".ort-int8.npy")
    let classes = reference.type.shape[1]
    let interpreter = try Interpreter(graph: compiled)
    var ours = 0
    var theirs = 0
    var worst: Float = 0
    var ortWorst: Float = 0
    for i in 0..<200 {
      let y = try interpreter.run([Self.input(seed: 1000 + i)])[0].data
      let row = reference.data[(i * classes)..<((i + 1) * classes)]
      let ortRow = ort.data[(i * classes)..<((i + 1) * classes)]
      if Self.top1(y[...]) == Self.top1(row) { ours += 1 }
      if Self.top1(ortRow) == Self.top1(row) { theirs += 1 }
      let scale = row.map(abs).max() ?? 1
      worst = max(worst, zip(y, row).map { abs($0 - $1) }.max()! / scale)
      ortWorst = max(ortWorst, zip(ortRow, row).map { abs($0 - $1) }.max()! / scale)
    }
    print(
      "\(name) \(method), weights within ±\(weightRange): top-1 equal to fp32 on \(ours)/200 (ONNX Runtime: \(theirs)/200), largest error \(worst) (ONNX Runtime: \(ortWorst))"
    )
    #expect(ours >= theirs, "top-1 equal to fp32 on \(ours) of 200; ONNX Runtime's quantize_static: \(theirs)")
    #expect(worst < 0.1, "largest error against fp32: \(worst) of the row's largest value")
  }

  @Test func theReportMeasuresEachQuantizedActivation() throws {
    let float = try Quantizer.prepare(try ONNXImporter.load(path: try Self.directory() + "/resnet18-w8.fp32.onnx"))
    let inputs = (0..<4).map { [Self.input(seed: 5000 + $0)] }
    let values = Quantizer.activations(float)
    let model = try Quantizer.quantize(
      float, ranges: try Calibration.ranges(float, values: values, inputs: inputs, method: .minMax))
    let report = try QuantizationReport.measure(float: float, quantized: model, inputs: inputs)
    #expect(report.layers.count == values.count && report.layers.count > 20)
    #expect(report.layers.allSatisfy { $0.relativeError > 0 && $0.relativeError < 0.2 })
    #expect(report.top1Agreement == 4 && report.outputErrors[0] < 0.1)
    #expect(report.text.contains("top-1 equal to the float model on 4 of 4 inputs"))
  }

  @Test func activationParametersCoverTheRangeExactly() {
    let (scale, zero) = Quantizer.activationParameters(ActivationRange(lower: -1, upper: 3))
    #expect(scale == Float(4.0 / 255) && zero == 64)
    #expect(Quantizer.activationParameters(ActivationRange(lower: 0, upper: 0)) == (1, 0))
    #expect(Quantizer.activationParameters(ActivationRange(lower: 0, upper: 2.55)).zero == 0)
  }

  @Test func weightsAreSymmetricPerOutputChannel() {
    var graph = Graph(name: "w")
    let weight = Tensor(type: TensorType([2, 3]), data: [0.5, -1, 0.25, 0, 0, 0])
    let node = Quantizer.quantizeWeight("w", weight, range: Quantizer.fullRange, graph: &graph)
    let q = graph.constants[node.operands[0].name]!
    #expect(q.type.dtype == .i8 && q.integers == [64, -127, 32, 0, 0, 0])
    #expect(graph.constants[node.operands[1].name]!.data == [1 / 127, 1])
    #expect(graph.constants[node.operands[2].name]!.integers == [0, 0])
    // The reduced range: the largest magnitude becomes 64 (1 is exactly 64 steps of 1/64).
    let reduced = Quantizer.quantizeWeight("w", weight, range: Quantizer.reducedRange, graph: &graph)
    #expect(graph.constants[reduced.operands[0].name]!.integers == [32, -64, 16, 0, 0, 0])
    #expect(graph.constants[reduced.operands[1].name]!.data == [1 / 64, 1])
  }

  /// A model whose outputs read no activation (a generated graph whose outputs come from
  /// constants only) observes nothing and quantizes its weights; calibration used to build a
  /// probe graph without outputs and fail with 'the graph has no outputs'.
  @Test func aModelWithoutActivationsQuantizesItsWeightsOnly() throws {
    var b = GraphBuilder(name: "constants")
    _ = try b.input("x", TensorType([1, 4]))
    let c = try b.constant("c", TensorType([1, 4]), [1, -2, 3, -4])
    let f = try b.node("f", .flatten(axis: 1), [c])
    let y = try b.node("y", .dense, [f, try b.constant("w", TensorType([2, 4]), [0.5, 0.25, -1, 2, 1, 1, 1, 1])])
    let graph = try b.finish(outputs: [y])
    let float = try Quantizer.prepare(graph)
    let values = Quantizer.activations(float)
    #expect(values.isEmpty, "\(values)")
    let inputs = [[Tensor(type: TensorType([1, 4]), data: [1, 2, 3, 4])]]
    let ranges = try Calibration.ranges(float, values: values, inputs: inputs, method: .minMax)
    #expect(ranges.isEmpty)
    let model = try Quantizer.quantize(float, ranges: ranges)
    #expect(model.points.isEmpty)
    #expect(model.graph.nodes.contains { $0.op == .dequantize(axis: 0) })
    let out = try Interpreter(graph: model.graph).run(inputs[0])[0].data
    let want = try Interpreter(graph: float).run(inputs[0])[0].data
    #expect(zip(out, want).allSatisfy { abs($0 - $1) <= 0.05 * max(abs($1), 1) }, "\(out) vs \(want)")
  }

  @Test func percentileLeavesOutOutliers() {
    var histogram = [Int](repeating: 10, count: 100)
    histogram[99] = 1
    let (lower, upper) = Calibration.clipped(histogram, low: 0, high: 100, percent: 99.8)
    #expect(lower == 0 && upper == 99)
    #expect(Calibration.clipped(histogram, low: 0, high: 100, percent: 100) == (0, 100))
  }

  /// Calibration inputs with a rare outlier: min-max stretches the input's range to hold it,
  /// so typical inputs get a coarse step; the percentile range leaves it out and the
  /// quantized model is closer to the float one on typical inputs.
  @Test func percentileBeatsMinMaxWhenCalibrationHasOutliers() throws {
    let text = """
      graph @outliers(%x: f32[1,4,12,12]) -> (f32[1,6,12,12]) {
        const @w1: f32[8,4,3,3]
        const @b1: f32[8]
        const @w2: f32[6,8,1,1]
        %c1 = conv2d(%x, @w1, @b1) {pad=[1,1,1,1]} : f32[1,8,12,12]
        %r1 = relu(%c1) : f32[1,8,12,12]
        %c2 = conv2d(%r1, @w2) : f32[1,6,12,12]
        return %c2
      }
      """
    var generator = ResnetcSplitMix(seed: 77)
    let graph = try IRParser.parse(text) { _, type in
      var data = [Float](repeating: 0, count: type.elementCount)
      data.withUnsafeMutableBufferPointer { generator.fillNormal($0.baseAddress!, count: $0.count) }
      return Tensor(type: type, data: data.map { $0 * 0.3 })
    }
    func inputs(_ seeds: Range<Int>) -> [[Tensor]] {
      seeds.map { seed in
        var g = ResnetcSplitMix(seed: UInt64(seed))
        var data = [Float](repeating: 0, count: 4 * 12 * 12)
        data.withUnsafeMutableBufferPointer { g.fillNormal($0.baseAddress!, count: $0.count) }
        return [Tensor(type: TensorType([1, 4, 12, 12]), data: data)]
      }
    }
    var calibration = inputs(0..<8)
    calibration[3][0].data[100] = 150
    let typical = inputs(100..<108)
    let float = try Quantizer.prepare(graph)
    var errors: [Double] = []
    for method in [CalibrationMethod.minMax, .percentile(99.9)] {
      let ranges = try Calibration.ranges(
        float, values: Quantizer.activations(float), inputs: calibration, method: method)
      let model = try Quantizer.quantize(float, ranges: ranges)
      errors.append(try QuantizationReport.measure(float: float, quantized: model, inputs: typical).outputErrors[0])
    }
    print("outliers: error min-max \(errors[0]), percentile 99.9 \(errors[1])")
    #expect(errors[1] * 2 < errors[0], "percentile \(errors[1]) against min-max \(errors[0])")
  }

  @Test func aQuantizedModelIsRefused() throws {
    let text = """
      graph @q(%x: f32[1,2]) -> (u8[1,2]) {
        const @s: f32[]
        const @z: u8[]
        %y = quantize(%x, @s, @z) : u8[1,2]
        return %y
      }
      """
    let graph = try IRParser.parse(text) { name, type in
      name == "s" ? Tensor(type: type, data: [1]) : Tensor(type: type, integers: [0])
    }
    #expect(throws: QuantizationError.alreadyQuantized(node: "y", op: "quantize")) { try Quantizer.prepare(graph) }
  }
}
