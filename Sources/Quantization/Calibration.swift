import GraphIR
import Runtime

/// How the range of each activation is chosen from the values seen on the calibration inputs.
public enum CalibrationMethod: Sendable, Equatable, CustomStringConvertible {
  /// The smallest and largest value seen.
  case minMax
  /// The values at `percent` and `100 - percent` percent of all values seen, which leaves
  /// out rare outliers that would otherwise widen every step.
  case percentile(Double)

  public var description: String {
    switch self {
    case .minMax: "min-max"
    case .percentile(let p): "percentile \(p)"
    }
  }
}

/// The range `[lower, upper]` chosen for one activation; it always holds 0.
public struct ActivationRange: Sendable, Equatable {
  public var lower: Float
  public var upper: Float
}

/// Runs the float graph on calibration inputs and records the range of every activation that
/// the quantizer will quantize.
public enum Calibration {
  /// Bins of the histograms the percentile method counts in.
  static let bins = 2048

  /// The range of each of `values` over `inputs` (each one set of the graph's inputs).
  /// `progress` is called after each input with the number done and the number of passes
  /// over the inputs (1 for min-max, 2 for percentile).
  public static func ranges(
    _ graph: Graph, values: [String], inputs: [[Tensor]], method: CalibrationMethod,
    progress: (_ done: Int, _ pass: Int, _ passes: Int) -> Void = { _, _, _ in }
  ) throws -> [String: ActivationRange] {
    // A model whose outputs read no activation (all of them computed from constants) has
    // nothing to observe.
    guard !values.isEmpty else { return [:] }
    var probe = graph
    probe.outputs = values
    let interpreter = try Interpreter(graph: probe)
    var low = [Float](repeating: .infinity, count: values.count)
    var high = [Float](repeating: -.infinity, count: values.count)
    let passes = method == .minMax ? 1 : 2
    for (n, input) in inputs.enumerated() {
      for (i, tensor) in try interpreter.run(input).enumerated() {
        for v in tensor.data where v.isFinite {
          low[i] = min(low[i], v)
          high[i] = max(high[i], v)
        }
      }
      progress(n + 1, 1, passes)
    }
    var ranges: [String: ActivationRange] = [:]
    for (i, name) in values.enumerated() {
      let seen = low[i] <= high[i]
      ranges[name] = ActivationRange(lower: seen ? min(low[i], 0) : 0, upper: seen ? max(high[i], 0) : 0)
    }
    guard case .percentile(let percent) = method else { return ranges }
    var histograms = [[Int]](repeating: [Int](repeating: 0, count: bins), count: values.count)
    for (n, input) in inputs.enumerated() {
      for (i, tensor) in try interpreter.run(input).enumerated() where low[i] < high[i] {
        let width = Double(high[i]) - Double(low[i])
        for v in tensor.data where v.isFinite {
          let bin = Int((Double(v) - Double(low[i])) / width * Double(bins))
          histograms[i][min(max(bin, 0), bins - 1)] += 1
        }
      }
      progress(n + 1, 2, passes)
    }
    for (i, name) in values.enumerated() where low[i] < high[i] {
      let (lower, upper) = clipped(histograms[i], low: low[i], high: high[i], percent: percent)
      ranges[name] = ActivationRange(lower: min(lower, 0), upper: max(upper, 0))
    }
    return ranges
  }

  /// The values below which `100 - percent` and `percent` percent of the counts lie.
  static func clipped(_ histogram: [Int], low: Float, high: Float, percent: Double) -> (Float, Float) {
    let total = Double(histogram.reduce(0, +))
    let width = (Double(high) - Double(low)) / Double(histogram.count)
    let cut = total * (100 - percent) / 100
    var below = 0.0
    var lower = low
    for (bin, count) in histogram.enumerated() {
      below += Double(count)
      if below > cut {
        lower = Float(Double(low) + Double(bin) * width)
        break
      }
    }
    var above = 0.0
    var upper = high
    for (bin, count) in histogram.enumerated().reversed() {
      above += Double(count)
      if above > cut {
        upper = Float(Double(low) + Double(bin + 1) * width)
        break
      }
    }
    return (max(lower, low), min(upper, high))
  }
}
