import Foundation
import GraphIR
import Models
import Quantization

let quantizeCommand = Command(
  name: "quantize",
  summary: "Quantize a float model to int8 (post-training, static) and write it as a QDQ model.",
  usage: "MODEL -o PATH (--calibrate DIR | --calibrate-random N) [options]",
  details: modelHelp + """

    BatchNorm is folded first. Weights become int8 with one symmetric scale per output
    channel; biases int32; every activation a node reads becomes uint8 with one asymmetric
    scale and zero point, from its range on the calibration inputs. Writes PATH.gir and
    PATH.safetensors: quantize/dequantize pairs around the float ops, as ONNX Runtime's
    quantizer writes them. Every command reads the result, and its default passes make each
    conv and dense layer one integer qconv2d or qdense.
    Then prints a table with one row per quantized activation: its range, scale and zero
    point, and its error against the float model (the norm of the difference over the
    float value's norm) on the first --report-inputs calibration inputs.
    --reduce-range quantizes weights within ±64 (as ONNX Runtime's reduce_range does): on CPUs
    without VNNI (AVX2, AVX-512 without it) compiled convs then multiply bytes, exactly, with
    no split of the input's byte pairs (8-bit weights split the pairs whose sums could pass
    int16, and a stem takes int16 pairs); the model is a little less accurate.
    Calibration inputs: --calibrate DIR takes every .npy file in DIR (one input each, for a
    model with one input), or PNG/PPM/PGM images (preprocessed as 'resnetc run --image'
    does, see --preprocess); --calibrate-random N takes the seeded normal inputs of
    'resnetc run --input-seed S' for S = --calibrate-seed ... --calibrate-seed + N - 1.
    """,
  options: [
    OptionSpec(names: ["--output", "-o"], value: "PATH", help: "write PATH.gir and PATH.safetensors"),
    OptionSpec(names: ["--calibrate"], value: "DIR", help: "calibrate on the .npy files or images in DIR"),
    OptionSpec(names: ["--calibrate-random"], value: "N", help: "calibrate on N seeded random inputs"),
    OptionSpec(
      names: ["--calibrate-seed"], value: "S", help: "with --calibrate-random: the first input's seed (default 0)"),
    OptionSpec(
      names: ["--method"], value: "minmax|percentile",
      help: "each activation's range: its smallest and largest values (the default), or a percentile of them"),
    OptionSpec(
      names: ["--percentile"], value: "P",
      help: "with --method percentile: keep P percent of each activation's values (default 99.999)"),
    OptionSpec(
      names: ["--reduce-range"], value: nil,
      help: "weights within ±64: faster exact int8 on CPUs without VNNI, a little less accurate"),
    OptionSpec(
      names: ["--report-inputs"], value: "N",
      help: "measure each layer's error on this many calibration inputs (default 8; 0: no report)"),
    OptionSpec(
      names: ["--preprocess"], value: "imagenet|none", help: "with --calibrate and images: as 'resnetc run --image'"),
  ] + modelOptions
) { arguments, console in
  guard let output = arguments.value("--output") else { throw UsageError("quantize needs -o PATH") }
  try checkOutputFolder(output)
  let method = try calibrationMethod(arguments)
  let reportCount = try arguments.integer("--report-inputs", in: 0...100_000) ?? 8
  let model = try modelArgument(arguments)
  let float = try Quantizer.prepare(try loadUnoptimized(model, arguments))
  let inputs = try calibrationInputs(float, arguments)
  let values = Quantizer.activations(float)
  let start = Date()
  let ranges = try Calibration.ranges(float, values: values, inputs: inputs, method: method) { done, pass, passes in
    let step = passes > 1 ? " (pass \(pass) of \(passes))" : ""
    let line =
      "calibrating\(step): \(done)/\(inputs.count) inputs, \(String(format: "%.1f", -start.timeIntervalSinceNow)) s"
    if console.isTerminal {
      console.err("\r" + line + (done == inputs.count && pass == passes ? "\n" : ""))
    } else if done == inputs.count || done % 10 == 0 {
      console.err(line + "\n")
    }
  }
  let reduced = arguments.flags.contains("--reduce-range")
  let quantized = try Quantizer.quantize(
    float, ranges: ranges, weightRange: reduced ? Quantizer.reducedRange : Quantizer.fullRange)
  let written = try ModelFile.save(
    quantized.graph, base: output.hasSuffix(".gir") ? String(output.dropLast(4)) : output)
  console.out(
    "quantized \(values.count) activations (\(method), \(inputs.count) calibration inputs), weights within ±\(reduced ? Quantizer.reducedRange : Quantizer.fullRange); wrote \(written.ir) and \(written.weights)\n"
  )
  guard reportCount > 0 else { return }
  let report = try QuantizationReport.measure(
    float: float, quantized: quantized, inputs: Array(inputs.prefix(reportCount)))
  console.out(report.text)
}

private func calibrationMethod(_ arguments: ParsedArguments) throws(UsageError) -> CalibrationMethod {
  let percentText = arguments.value("--percentile")
  switch arguments.value("--method") ?? "minmax" {
  case "minmax":
    guard percentText == nil else { throw UsageError("--percentile goes with --method percentile") }
    return .minMax
  case "percentile":
    guard let text = percentText else { return .percentile(99.999) }
    guard let p = Double(text), p > 50, p <= 100 else {
      throw UsageError("--percentile expects a number above 50 and at most 100, got '\(text)'")
    }
    return .percentile(p)
  case let other: throw UsageError("--method expects minmax or percentile, got '\(other)'")
  }
}

/// The calibration inputs that `--calibrate` or `--calibrate-random` name.
private func calibrationInputs(_ graph: Graph, _ arguments: ParsedArguments) throws -> [[Tensor]] {
  switch (arguments.value("--calibrate"), try arguments.integer("--calibrate-random", in: 1...1_000_000)) {
  case (nil, nil): throw UsageError("give the calibration inputs: --calibrate DIR or --calibrate-random N")
  case (.some, .some): throw UsageError("--calibrate and --calibrate-random are two ways to give the inputs; give one")
  case (nil, .some(let count)):
    let first = try arguments.integer("--calibrate-seed", in: 0...Int.max - 1_000_000) ?? 0
    return (0..<count).map { i in
      var random = SeededRandom(seed: UInt64(first + i))
      return graph.inputs.map { Tensor(type: $0.type, data: random.normal(count: $0.type.elementCount)) }
    }
  case (.some(let directory), nil):
    if arguments.value("--calibrate-seed") != nil { throw UsageError("--calibrate-seed goes with --calibrate-random") }
    guard let input = graph.inputs.first, graph.inputs.count == 1 else {
      throw UsageError("--calibrate DIR fills a model's one input; this model has \(graph.inputs.count)")
    }
    let names: [String]
    do {
      names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    } catch {
      throw DriverError.message("\(directory): cannot list the folder (\(error.localizedDescription))")
    }
    let images = ["png", "ppm", "pgm"]
    let files = names.filter { name in
      let ext = (name as NSString).pathExtension.lowercased()
      return ext == "npy" || images.contains(ext)
    }
    guard !files.isEmpty else {
      throw DriverError.message("\(directory): no .npy, .png, .ppm or .pgm files to calibrate on")
    }
    return try files.map { name in
      let path = directory + "/" + name
      if (name as NSString).pathExtension.lowercased() == "npy" {
        return [try readInput(path, name: input.name, type: input.type)]
      }
      return [
        try readImageInput(path, name: input.name, type: input.type, mode: try preprocessMode(arguments, input.type))
      ]
    }
  }
}
