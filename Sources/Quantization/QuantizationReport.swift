import Foundation
import GraphIR
import Passes
import Runtime

/// How far a quantized model is from its float model, layer by layer, on some inputs.
public struct QuantizationReport: Sendable {
  /// One quantized activation's error.
  public struct Layer: Sendable {
    public let point: QuantizationPoint
    /// The op that computes the value in the float graph (`input` for a graph input).
    public let op: String
    /// `‖dequantized − float‖ / ‖float‖` over all the inputs.
    public let relativeError: Double
  }

  public let layers: [Layer]
  /// The same measure for each graph output.
  public let outputErrors: [Double]
  /// On how many inputs the first output's largest element is the same one (top-1).
  public let top1Agreement: Int
  public let inputCount: Int

  /// Runs the prepared float graph and the quantized one (after the default passes, as the
  /// compiler runs it) on `inputs` and compares them.
  public static func measure(float: Graph, quantized: QuantizedModel, inputs: [[Tensor]]) throws -> QuantizationReport {
    var reference = float
    reference.outputs = float.outputs + quantized.points.map(\.value)
    var candidate = quantized.graph
    candidate.outputs = quantized.graph.outputs + quantized.points.map(\.quantized)
    try PassManager.pipeline(.o1).run(&candidate)
    let floatRun = try Interpreter(graph: reference)
    let quantizedRun = try Interpreter(graph: candidate)
    let outputs = float.outputs.count
    var squaredError = [Double](repeating: 0, count: reference.outputs.count)
    var squaredNorm = [Double](repeating: 0, count: reference.outputs.count)
    var agree = 0
    for input in inputs {
      let want = try floatRun.run(input)
      let got = try quantizedRun.run(input)
      for i in want.indices {
        let values: [Float]
        if i < outputs {
          values = got[i].data
        } else {
          let point = quantized.points[i - outputs]
          values = got[i].integers.map { Float($0 - point.zero) * point.scale }
        }
        for (a, b) in zip(values, want[i].data) {
          squaredError[i] += Double(a - b) * Double(a - b)
          squaredNorm[i] += Double(b) * Double(b)
        }
      }
      if outputs > 0, argmax(got[0].data) == argmax(want[0].data) { agree += 1 }
    }
    let relative = zip(squaredError, squaredNorm).map { $1 > 0 ? ($0 / $1).squareRoot() : $0.squareRoot() }
    let producers = Dictionary(uniqueKeysWithValues: float.nodes.map { ($0.name, $0.op.name) })
    let layers = quantized.points.enumerated().map { i, point in
      Layer(point: point, op: producers[point.value] ?? "input", relativeError: relative[outputs + i])
    }
    return QuantizationReport(
      layers: layers, outputErrors: Array(relative.prefix(outputs)), top1Agreement: agree, inputCount: inputs.count)
  }

  /// A table: one row per quantized activation, then the outputs' errors and top-1 agreement.
  public var text: String {
    func cell(_ s: String, _ width: Int) -> String {
      s.padding(toLength: max(width, s.count), withPad: " ", startingAt: 0)
    }
    let names = layers.map { IRName.spelling(of: $0.point.value) }
    let width = min(max(names.map(\.count).max() ?? 0, 5), 60)
    var lines = [cell("value", width) + "  " + cell("op", 14) + "  " + cell("range", 22) + "  scale       zero  error"]
    for (layer, name) in zip(layers, names) {
      let range = "[\(short(layer.point.range.lower)), \(short(layer.point.range.upper))]"
      lines.append(
        cell(name, width) + "  " + cell(layer.op, 14) + "  " + cell(range, 22) + "  "
          + cell(short(layer.point.scale), 10) + "  " + cell("\(layer.point.zero)", 4) + "  "
          + percent(layer.relativeError))
    }
    for (i, error) in outputErrors.enumerated() {
      lines.append("output \(i): error \(percent(error)) of the float output's norm")
    }
    lines.append("top-1 equal to the float model on \(top1Agreement) of \(inputCount) inputs")
    return lines.joined(separator: "\n") + "\n"
  }

  private func short(_ v: Float) -> String { String(format: "%.4g", Double(v)) }

  private func percent(_ v: Double) -> String { String(format: "%.2f%%", v * 100) }
}

func argmax(_ values: [Float]) -> Int? {
  values.indices.max { values[$0] < values[$1] }
}
