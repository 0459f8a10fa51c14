import Codegen
import Foundation
import GraphIR
import Models
import Runtime
import Testing

@testable import Driver

@Suite struct QuantizeCommandTests {
  /// resnet20 (option-A shortcuts, a softmax at the end) quantized on seeded inputs: the QDQ
  /// model is written, reads back, and runs with every conv an integer qconv2d.
  @Test func quantizesOnRandomInputsAndTheResultRuns() throws {
    let dir = try temporaryDirectory()
    let run = resnetc("quantize", "resnet20", "-o", dir + "/q", "--calibrate-random", "4", "--report-inputs", "2")
    #expect(run.status == 0, "\(run.err)")
    #expect(run.out.contains("quantized ") && run.out.contains("(min-max, 4 calibration inputs)"))
    #expect(run.out.contains("top-1 equal to the float model on 2 of 2 inputs"), "\(run.out)")
    #expect(run.err.contains("calibrating: 4/4 inputs"))
    let graph = try ModelFile.load(irPath: dir + "/q.gir")
    #expect(graph.nodes.contains { if case .quantize = $0.op { true } else { false } })
    let info = resnetc("info", dir + "/q.gir")
    #expect(info.status == 0 && info.out.contains("19 qconv2d") && !info.out.contains(" conv2d"), "\(info.out)")
    let again = resnetc("run", dir + "/q.gir")
    #expect(again.status == 0 && again.out.contains("top-5"), "\(again.err)")
  }

  @Test func calibratesOnAFolderOfNpyFilesWithPercentiles() throws {
    let dir = try temporaryDirectory()
    try FileManager.default.createDirectory(atPath: dir + "/calibration", withIntermediateDirectories: true)
    for i in 0..<3 {
      var random = SeededRandom(seed: UInt64(i))
      let x = Tensor(type: TensorType([1, 3, 32, 32]), data: random.normal(count: 3 * 32 * 32))
      try Data(Npy.write(x)).write(to: URL(fileURLWithPath: dir + "/calibration/x\(i).npy"))
    }
    try Data("not an input".utf8).write(to: URL(fileURLWithPath: dir + "/calibration/README.txt"))
    let run = resnetc(
      "quantize", "resnet20", "-o", dir + "/q", "--calibrate", dir + "/calibration", "--method", "percentile",
      "--percentile", "99.9", "--report-inputs", "0")
    #expect(run.status == 0, "\(run.err)")
    #expect(run.out.contains("(percentile 99.9, 3 calibration inputs)") && !run.out.contains("top-1"), "\(run.out)")
  }

  /// --reduce-range writes weights within ±64, and every conv of the result compiles to the
  /// byte kernel on this CPU's vector target (VNNI quads, else vpmaddubsw pairs).
  @Test func reducedRangeWeightsRunAsBytes() throws {
    let dir = try temporaryDirectory()
    let run = resnetc(
      "quantize", "resnet20", "-o", dir + "/q", "--calibrate-random", "2", "--reduce-range", "--report-inputs", "0")
    #expect(run.status == 0, "\(run.err)")
    #expect(run.out.contains("weights within ±64"), "\(run.out)")
    let graph = try ModelFile.load(irPath: dir + "/q.gir")
    let weights = graph.constants.names.compactMap { graph.constants[$0] }.filter {
      $0.type.dtype == .i8 && $0.type.shape.count == 4
    }
    #expect(weights.count == 19 && weights.allSatisfy { $0.integers.allSatisfy { abs($0) <= 64 } })
    #expect(weights.allSatisfy { $0.integers.contains { abs($0) == 64 } })
    let info = resnetc("info", dir + "/q.gir", "--json")
    #expect(info.status == 0, "\(info.err)")
    let target = Target.native()
    let kernels = try JSON.parse(Array(info.out.utf8))["layers"].map { layers -> [String] in
      guard case .array(let rows) = layers else { return [] }
      return rows.compactMap { row in
        guard row["op"] == .string("qconv2d"), case .string(let kernel)? = row["kernel"] else { return nil }
        return kernel
      }
    }
    let bytes = target == .avx512vnni ? "int8 vnni" : target == .generic ? "plain" : "int8 byte pairs"
    #expect(kernels?.count == 19 && kernels?.allSatisfy { $0.hasPrefix(bytes) } == true, "\(kernels ?? [])")
  }

  /// A quantized program's profile measures its integer layers against the target's byte
  /// multiply-add loop (a second peak line, `peak_int8_gops` in the JSON), and its float
  /// peak stays the first line; with C and Swift programs for AVX2.
  @Test(arguments: ["c", "swift"])
  func integerLayersArePercentagesOfTheInt8Peak(_ backend: String) throws {
    let dir = try temporaryDirectory()
    let quantize = resnetc(
      "quantize", "resnet20", "-o", dir + "/q", "--calibrate-random", "2", "--reduce-range", "--report-inputs", "0")
    #expect(quantize.status == 0, "\(quantize.err)")
    let compile = resnetc("compile", dir + "/q.gir", "-o", dir + "/p", "--target", "avx2", "--backend", backend)
    #expect(compile.status == 0, "\(compile.err)")
    let (status, text, err) = try execute(dir + "/p", ["--profile", "--bench", "2", "--threads", "1"])
    #expect(status == 0, "\(err)")
    let lines = text.split(separator: "\n").map(String.init)
    #expect(lines.first?.hasSuffix(" GFLOP/s: the avx2 multiply-add loop on 1 thread, measured now") == true, "\(text)")
    let int8Line = lines.first { $0.hasPrefix("int8 peak ") } ?? ""
    #expect(int8Line.contains(" GOP/s: the avx2 byte multiply-add loop on 1 thread"), "\(text)")
    let int8Peak = Double(int8Line.dropFirst(10).prefix { $0 != " " }) ?? 0
    #expect(int8Peak > 0, "\(text)")
    // Every qconv2d row's percentage is its rate over the int8 peak (both rounded to 0.1).
    let rows = lines.map { $0.split(separator: " ", omittingEmptySubsequences: true) }.filter {
      $0.count >= 6 && $0[1] == "qconv2d"
    }
    #expect(rows.count == 19, "\(text)")
    for row in rows {
      guard let rate = Double(row[row.count - 2]), let percent = Double(row[row.count - 1]) else {
        Issue.record("no rate in \(row)")
        continue
      }
      #expect(abs(percent - rate / int8Peak * 100) <= 0.1 + percent * 0.02, "\(row) against \(int8Peak)")
    }
    let (_, json, _) = try execute(dir + "/p", ["--profile", "--json", "--bench", "1", "--threads", "1"])
    if case .double(let gops)? = try JSON.parse(Array(json.utf8))["peak_int8_gops"] {
      #expect(gops > 0)
    } else {
      Issue.record("no peak_int8_gops in \(json.prefix(200))")
    }
  }

  @Test func badCalibrationOptionsAreUsageErrors() throws {
    let dir = try temporaryDirectory()
    expectFailure(
      resnetc("quantize", "resnet20", "-o", dir + "/q"), status: 2,
      mentioning: "--calibrate DIR or --calibrate-random N")
    expectFailure(
      resnetc("quantize", "resnet20", "--calibrate-random", "2"), status: 2, mentioning: "quantize needs -o PATH")
    expectFailure(
      resnetc("quantize", "resnet20", "-o", dir + "/q", "--calibrate-random", "2", "--calibrate", dir), status: 2,
      mentioning: "give one")
    expectFailure(
      resnetc("quantize", "resnet20", "-o", dir + "/q", "--calibrate-random", "2", "--method", "entropy"), status: 2,
      mentioning: "--method expects minmax or percentile, got 'entropy'")
    expectFailure(
      resnetc("quantize", "resnet20", "-o", dir + "/q", "--calibrate-random", "2", "--percentile", "99"), status: 2,
      mentioning: "--percentile goes with --method percentile")
    expectFailure(
      resnetc("quantize", "resnet20", "-o", dir + "/q", "--calibrate", dir), status: 1,
      mentioning: "no .npy, .png, .ppm or .pgm files to calibrate on")
  }

  @Test func aQuantizedModelIsNotQuantizedAgain() throws {
    let dir = try temporaryDirectory()
    #expect(
      resnetc("quantize", "resnet20", "-o", dir + "/q", "--calibrate-random", "1", "--report-inputs", "0").status == 0)
    expectFailure(
      resnetc("quantize", dir + "/q.gir", "-o", dir + "/qq", "--calibrate-random", "1"), status: 1,
      mentioning: "the model is already quantized: node %")
  }
}
