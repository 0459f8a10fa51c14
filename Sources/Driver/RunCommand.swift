import Codegen
import Foundation
import GraphIR
import Models
import Runtime

let runCommand = Command(
  name: "run",
  summary: "Run the model with the reference interpreter or as compiled C.",
  usage: "MODEL [--input x.npy ...] [--output y.npy ...] [options]",
  details: modelHelp + """

    Inputs and outputs are NumPy .npy files of float32 in C order, one --input per model
    input and one --output per model output, in the model's order. Without --input, a
    seeded standard-normal input of the model's input shape is used. Without --output, a
    summary of each output is printed (shape, and the top-5 classes of each row).
    """,
  options: [
    OptionSpec(names: ["--input", "-i"], value: "PATH", help: "an input tensor (.npy), once per model input"),
    OptionSpec(
      names: ["--output", "-o"], value: "PATH", help: "where to write an output (.npy), once per model output"),
    OptionSpec(
      names: ["--input-seed"], value: "S", help: "seed of the random input when no --input is given (default 0)"),
    OptionSpec(
      names: ["--engine"], value: "interpreter|c|swift",
      help: "run with the reference interpreter (default), or compiled by the C or Swift backend (cached between runs)"),
  ] + modelOptions
) { arguments, console in
  let graph = try loadModel(try modelArgument(arguments), arguments, console: console)
  let outputPaths = arguments.values["--output"] ?? []
  guard outputPaths.isEmpty || outputPaths.count == graph.outputs.count else {
    throw UsageError("the model has \(graph.outputs.count) outputs but \(outputPaths.count) --output paths were given")
  }
  let engine = arguments.value("--engine") ?? "interpreter"
  let backend = Backend(rawValue: engine)
  guard engine == "interpreter" || backend != nil else {
    throw UsageError("--engine expects interpreter, c or swift, got '\(engine)'")
  }
  let interpreter = try Interpreter(graph: graph)
  let available = Int(clamping: ProcessInfo.processInfo.physicalMemory)
  guard interpreter.peakValueBytes <= available / 2 else {
    throw DriverError.tooLarge(
      "running \(graph.name) needs \(interpreter.peakValueBytes >> 20) MiB for its activations; "
        + "this machine has \(available >> 20) MiB of memory")
  }
  let inputs = try runInputs(graph, arguments)
  let outputs =
    if let backend {
      try NativeCache.model(for: graph, backend: backend, console: console).run(inputs)
    } else {
      try interpreter.run(inputs)
    }
  if outputPaths.isEmpty {
    for (name, tensor) in zip(graph.outputs, outputs) { console.out(summary(name: name, tensor)) }
  }
  for (path, tensor) in zip(outputPaths, outputs) {
    try ModelFile.writeFile(path, Npy.write(tensor))
  }
}

/// The model's inputs: read from `--input` files, or seeded random ones.
private func runInputs(_ graph: Graph, _ arguments: ParsedArguments) throws -> [Tensor] {
  let paths = arguments.values["--input"] ?? []
  if paths.isEmpty {
    let seed = UInt64(try arguments.integer("--input-seed", in: 0...Int.max) ?? 0)
    var random = SeededRandom(seed: seed)
    return graph.inputs.map { Tensor(type: $0.type, data: random.normal(count: $0.type.elementCount)) }
  }
  guard arguments.value("--input-seed") == nil else {
    throw UsageError("--input-seed applies only when no --input is given")
  }
  guard paths.count == graph.inputs.count else {
    throw UsageError("the model has \(graph.inputs.count) inputs but \(paths.count) --input files were given")
  }
  return try zip(paths, graph.inputs).map { path, input in
    let bytes = try ModelFile.readFile(path, limit: Npy.byteLimit(elements: input.type.elementCount))
    let tensor: Tensor
    do {
      tensor = try Npy.read(bytes)
    } catch {
      throw DriverError.tensorFile(path: path, reason: "\(error)")
    }
    guard tensor.type == input.type else {
      throw DriverError.tensorFile(
        path: path, reason: "holds \(tensor.type) but input '\(input.name)' is \(input.type)")
    }
    return tensor
  }
}

/// `%softmax: f32[1,10]` and, for each row of a matrix, its five largest entries.
func summary(name: String, _ tensor: Tensor) -> String {
  var text = "output %\(IRName.spelling(of: name)): \(tensor.type)\n"
  let shape = tensor.type.shape
  let columns = shape.last ?? 1
  let rows = shape.count == 2 ? shape[0] : 0
  for row in 0..<rows {
    let values = tensor.data[(row * columns)..<((row + 1) * columns)]
    let top = values.indices.sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }.prefix(5)
    text +=
      "  row \(row) top-5: " + top.map { "\($0 - row * columns) (\(formatted(values[$0])))" }.joined(separator: ", ")
      + "\n"
  }
  if rows == 0, let low = tensor.data.min(), let high = tensor.data.max() {
    let mean = tensor.data.reduce(0.0) { $0 + Double($1) } / Double(tensor.data.count)
    text += "  min \(formatted(low)), max \(formatted(high)), mean \(formatted(Float(mean)))\n"
  }
  return text
}

/// Four significant digits.
func formatted(_ v: Float) -> String {
  String(format: "%.4g", Double(v))
}
