import Codegen
import Formats
import Foundation
import GraphIR
import Models
import ResnetCompiler
import Runtime

let runCommand = Command(
  name: "run",
  summary: "Run the model with the reference interpreter, or compiled by the C or Swift backend.",
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
      names: ["--image"], value: "FILE",
      help: "the input from a PNG or binary PPM/PGM image, for a model whose one input is [1,3,H,W]"),
    OptionSpec(
      names: ["--preprocess"], value: "imagenet|none",
      help:
        "with --image: resize the shorter side to 256, crop 224 and normalize as torchvision does (the default for 224x224 inputs), or take the image as it is, x/255 (the default otherwise)"
    ),
    OptionSpec(
      names: ["--labels"], value: "FILE",
      help: "class names, one per line, printed beside the top-5 (as many as the classes)"),
    OptionSpec(
      names: ["--engine"], value: "interpreter|c|swift",
      help: "run with the reference interpreter (default), or compiled by the C or Swift backend (cached between runs)"),
    OptionSpec(
      names: ["--target"], value: "native|avx512vnni|avx512|avx2|generic",
      help: "with --engine c|swift: the kernels compiled, as for 'resnetc compile' (default native)"),
  ] + modelOptions
) { arguments, console in
  let outputPaths = arguments.values["--output"] ?? []
  for path in outputPaths { try checkOutputFolder(path) }
  let graph = try loadModel(try modelArgument(arguments), arguments, console: console)
  guard outputPaths.isEmpty || outputPaths.count == graph.outputs.count else {
    throw UsageError("the model has \(graph.outputs.count) outputs but \(outputPaths.count) --output paths were given")
  }
  let engine = arguments.value("--engine") ?? "interpreter"
  let backend = Backend(rawValue: engine)
  guard engine == "interpreter" || backend != nil else {
    throw UsageError("--engine expects interpreter, c or swift, got '\(engine)'")
  }
  if arguments.value("--target") != nil, backend == nil {
    throw UsageError("--target applies to --engine c or swift; the interpreter has no target")
  }
  let (target, caches) = try parseTarget(arguments.value("--target"))
  guard Target.runnable().contains(target) else {
    throw UsageError(
      "this CPU cannot run --target \(target.rawValue) code (it runs \(Target.runnable().map(\.rawValue).joined(separator: ", ")))"
    )
  }
  let model = try ResnetCompiler.Model(graph: graph)
  let available = Int(clamping: ProcessInfo.processInfo.physicalMemory)
  let peak = try model.interpreterPeakBytes
  guard peak <= available / 2 else {
    throw DriverError.tooLarge(
      "running \(graph.name) needs \(peak >> 20) MiB for its activations; "
        + "this machine has \(available >> 20) MiB of memory")
  }
  let labels = try arguments.value("--labels").map { path throws(DriverError) in
    try readLabels(path, outputs: graph.outputs.map { ($0, graph.valueTypes[$0]!.shape) })
  }
  let inputs = try runInputs(graph, arguments)
  let outputs =
    if let backend {
      try NativeCache.model(for: graph, backend: backend, target: target, caches: caches, console: console).run(inputs)
    } else {
      try model.interpret(inputs)
    }
  if outputPaths.isEmpty {
    for (name, tensor) in zip(graph.outputs, outputs) { console.out(summary(name: name, tensor, labels: labels)) }
  }
  for (path, tensor) in zip(outputPaths, outputs) {
    try ModelFile.writeFile(path, Npy.write(tensor))
  }
}

/// The model's inputs: read from `--input` files, or seeded random ones.
private func runInputs(_ graph: Graph, _ arguments: ParsedArguments) throws -> [Tensor] {
  let paths = arguments.values["--input"] ?? []
  if let path = arguments.value("--image") {
    guard paths.isEmpty, arguments.value("--input-seed") == nil else {
      throw UsageError("--image replaces --input and --input-seed; give one or the other")
    }
    guard let input = graph.inputs.first, graph.inputs.count == 1 else {
      throw UsageError("--image fills a model's one input; this model has \(graph.inputs.count)")
    }
    return [
      try readImageInput(path, name: input.name, type: input.type, mode: try preprocessMode(arguments, input.type))
    ]
  }
  if arguments.value("--preprocess") != nil { throw UsageError("--preprocess goes with --image") }
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
  return try zip(paths, graph.inputs).map { path, input in try readInput(path, name: input.name, type: input.type) }
}

/// `--preprocess`'s value, or the default for an input of `type`.
func preprocessMode(_ arguments: ParsedArguments, _ type: TensorType) throws(UsageError)
  -> ResnetcPreprocess.Mode
{
  guard let text = arguments.value("--preprocess") else { return ResnetcPreprocess.defaultMode(shape: type.shape) }
  guard let mode = ResnetcPreprocess.Mode(rawValue: text) else {
    throw UsageError("--preprocess expects imagenet or none, got '\(text)'")
  }
  return mode
}

/// The image at `path` as input `name` of `type`, with the compiled programs' words for every
/// bad file.
func readImageInput(
  _ path: String, name: String, type: TensorType, mode: ResnetcPreprocess.Mode
) throws(DriverError) -> Tensor {
  let bytes = try readWholeFile(path, limit: ResnetcImage.maxFileBytes, kind: "an image file")
  do {
    let image = try ResnetcImage.decode(bytes)
    return Tensor(type: type, data: try ResnetcPreprocess.input(image, mode: mode, name: name, shape: type.shape))
  } catch {
    throw DriverError.tensorFile(path: path, reason: error.description)
  }
}

/// The first bytes of the regular file at `path`, as many as `count` says for its size (which
/// may refuse it), and that size; refused in the compiled programs' words when it is missing,
/// a directory or not a regular file.
func readFilePrefix(
  _ path: String, count: (Int) throws(DriverError) -> Int
) throws(DriverError) -> (bytes: [UInt8], size: Int) {
  let fail = { (reason: String) in DriverError.tensorFile(path: path, reason: reason) }
  guard let file = fopen(path, "rb") else { throw fail(errno == ENOENT ? "no such file" : "cannot be opened") }
  defer { fclose(file) }
  var status = stat()
  guard fstat(fileno(file), &status) == 0 else { throw fail("cannot be read") }
  guard (status.st_mode & S_IFMT) != S_IFDIR else { throw fail("is a directory") }
  guard (status.st_mode & S_IFMT) == S_IFREG else { throw fail("not a regular file") }
  let size = Int(status.st_size)
  let held = try count(size)
  var bytes = [UInt8](repeating: 0, count: held)
  guard fread(&bytes, 1, held, file) == held else { throw fail("cannot be read") }
  return (bytes, size)
}

/// The bytes of the regular file at `path`, refused (in the compiled programs' words) when it
/// is missing, a directory or larger than `limit`, `kind`'s limit ("a labels file").
func readWholeFile(_ path: String, limit: Int, kind: String) throws(DriverError) -> [UInt8] {
  try readFilePrefix(path) { size throws(DriverError) in
    guard size <= limit else {
      throw .tensorFile(path: path, reason: "is \(size) bytes, more than \(kind)'s limit of \(limit)")
    }
    return size
  }.bytes
}

/// The `.npy` file at `path` as input `name` of `type`, refused with the words the compiled
/// programs use for the same file: a file too large for the input is read only as far as its
/// header, to say what it holds.
func readInput(_ path: String, name: String, type: TensorType) throws(DriverError) -> Tensor {
  let fail = { (reason: String) in DriverError.tensorFile(path: path, reason: reason) }
  let limit = Npy.byteLimit(elements: type.elementCount)
  let (bytes, size) = try readFilePrefix(path) { size in size > limit ? min(size, ResnetcNpy.prefixLength) : size }
  let held = bytes.count
  let layout: ResnetcNpy.Layout
  do {
    layout = try ResnetcNpy.layout(bytes, fileSize: size)
  } catch {
    throw fail("\(error)")
  }
  guard layout.shape == type.shape else {
    throw fail("holds \(TensorType(layout.shape)) but input '\(name)' is \(type)")
  }
  guard held == size else { throw fail("is \(size) bytes, more than the limit of \(limit)") }
  do {
    return try Npy.read(bytes)
  } catch {
    throw fail("\(error)")
  }
}

/// `%softmax: f32[1,10]` and, for each row of a matrix, its five largest entries, named by
/// `labels` when given.
func summary(name: String, _ tensor: Tensor, labels: [String]? = nil) -> String {
  var text = "output %\(IRName.spelling(of: name)): \(tensor.type)\n"
  let shape = tensor.type.shape
  let columns = shape.last ?? 1
  let rows = shape.count == 2 ? shape[0] : 0
  tensor.data.withUnsafeBufferPointer { data in
    for row in 0..<rows {
      let values = UnsafeBufferPointer(rebasing: data[(row * columns)..<((row + 1) * columns)])
      text += ResnetcLabels.rowLines(
        row: row, top: ResnetcLabels.top5(values), values: values, names: labels, format: formatted)
    }
  }
  if rows == 0, let low = tensor.data.min(), let high = tensor.data.max() {
    let mean = tensor.data.reduce(0.0) { $0 + Double($1) } / Double(tensor.data.count)
    text += "  min \(formatted(low)), max \(formatted(high)), mean \(formatted(Float(mean)))\n"
  }
  return text
}

/// The class names in the labels file at `path`, checked against `outputs` (name, shape),
/// refused with the words the compiled programs use for the same file.
func readLabels(_ path: String, outputs: [(name: String, shape: [Int])]) throws(DriverError) -> [String] {
  let fail = { (reason: String) in DriverError.tensorFile(path: path, reason: reason) }
  let bytes = try readWholeFile(path, limit: ResnetcLabels.byteLimit, kind: "a labels file")
  if let why = ResnetcLabels.problem(bytes) { throw fail(why) }
  let names = ResnetcLabels.names(bytes)
  let matrices = outputs.filter { $0.shape.count == 2 }
  if matrices.isEmpty, let first = outputs.first {
    throw fail(ResnetcLabels.noClassesMessage(output: first.name, dims: first.shape))
  }
  for output in matrices {
    if let why = ResnetcLabels.mismatch(count: names.count, output: output.name, dims: output.shape) { throw fail(why) }
  }
  return names
}

/// Four significant digits.
func formatted(_ v: Float) -> String {
  String(format: "%.4g", Double(v))
}
