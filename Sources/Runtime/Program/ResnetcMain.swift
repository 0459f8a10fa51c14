/// The command-line program: `.npy` in and out, a seeded random input when none is given,
/// `--bench N` timing, `--threads N`, `--profile`; the same options, numbers and messages
/// as the C backend's program.
@main
enum ResnetcProgram {
  nonisolated(unsafe) static var program = "model"

  /// A failure with its exit status; the message is printed as `PROGRAM: error: MESSAGE`.
  struct Failure: Error {
    let status: Int32
    let message: String
    init(_ status: Int32, _ message: String) {
      self.status = status
      self.message = message
    }
  }

  static let usage = """
    USAGE: \(program) [--input x.npy ...] [--output y.npy ...] [--bench N [--json]] [--threads N]
              [--profile [--json]] [--weights PATH] [--input-seed S] [--labels FILE]
              [--image FILE [--preprocess imagenet|none]]

    Runs the compiled model. Inputs and outputs are NumPy .npy files of float32 in C order, one
    --input per model input and one --output per model output, in order. Without --input, a
    seeded standard-normal input is used (--input-seed, default 0); without --output, each
    output's shape and top-5 entries per row are printed.

      --bench N      run N times after a warm-up and print the min and median latency
      --json         with --bench, print {"median_ms", "min_ms", "runs"} instead; with --profile,
                     the layer table as one object (resnetc view --profile reads it)
      --threads N    threads to use (default: the processors online)
      --profile      time every layer over the --bench runs (10 without --bench) and print a table:
                     each layer's kernel, ms, GFLOP/s and % of this machine's peak, measured first
      --weights PATH the weights file (default: this program's path + .weights)
      --labels FILE  class names, one per line, printed beside the top-5 (as many as the classes)
      --image FILE   the input from a PNG or binary PPM/PGM image (a model whose one input is [1,3,H,W])
      --preprocess imagenet|none
                     imagenet: the shorter side to 256, a centre crop of 224, ImageNet's mean and std
                     (the default for 224x224 inputs); none: the image as it is, x/255 (otherwise)

    """

  static func main() {
    let arguments = CommandLine.arguments
    program = arguments.first ?? "model"
    do {
      try run(Array(arguments.dropFirst()))
    } catch {
      fputs("\(program): error: \(error.message)\n", stderr)
      exit(error.status)
    }
  }

  static func count(_ option: String, _ text: String, _ low: Int, _ high: Int) throws(Failure) -> Int {
    guard let value = Int(text), (low...high).contains(value) else {
      throw Failure(2, "\(option) expects a whole number in \(low)...\(high), got '\(text)'")
    }
    return value
  }

  static func run(_ arguments: [String]) throws(Failure) {
    let inputCount = ResnetcModel.inputs.count, outputCount = ResnetcModel.outputs.count
    var inputPaths: [String] = [], outputPaths: [String] = []
    var json = false, profile = false
    var bench = 0, threads = 0, seed = 0
    var seedGiven = false
    var weightsPath: String?
    var labelsPath: String?
    var imagePath: String?, preprocess: String?
    var index = 0
    while index < arguments.count {
      let argument = arguments[index]
      index += 1
      switch argument {
      case "--help", "-h":
        print(usage, terminator: "")
        return
      case "--json": json = true
      case "--profile": profile = true
      default:
        guard index < arguments.count else {
          throw Failure(2, "unknown option or missing value: '\(argument)' (see --help)")
        }
        let value = arguments[index]
        index += 1
        switch argument {
        case "--input":
          guard inputPaths.count < inputCount else { throw Failure(2, "the model takes \(inputCount) inputs") }
          inputPaths.append(value)
        case "--output":
          guard outputPaths.count < outputCount else { throw Failure(2, "the model has \(outputCount) outputs") }
          outputPaths.append(value)
        case "--weights": weightsPath = value
        case "--labels": labelsPath = value
        case "--image": imagePath = value
        case "--preprocess": preprocess = value
        case "--threads": threads = try count("--threads", value, 1, 1024)
        case "--bench": bench = try count("--bench", value, 1, 1_000_000)
        case "--input-seed":
          seed = try count("--input-seed", value, 0, 2_147_483_647)
          seedGiven = true
        default: throw Failure(2, "unknown option '\(argument)' (see --help)")
        }
      }
    }
    if !inputPaths.isEmpty && inputPaths.count != inputCount {
      throw Failure(2, "the model takes \(inputCount) inputs but \(inputPaths.count) --input files were given")
    }
    if !outputPaths.isEmpty && outputPaths.count != outputCount {
      throw Failure(2, "the model has \(outputCount) outputs but \(outputPaths.count) --output paths were given")
    }
    if json && bench == 0 && !profile { throw Failure(2, "--json goes with --bench or --profile") }
    if profile && bench == 0 { bench = 10 }
    let labels = try labelsPath.map { path throws(Failure) in try readLabels(path) }
    var mode: ResnetcPreprocess.Mode?
    if let preprocess {
      guard imagePath != nil else { throw Failure(2, "--preprocess goes with --image") }
      guard let chosen = ResnetcPreprocess.Mode(rawValue: preprocess) else {
        throw Failure(2, "--preprocess expects imagenet or none, got '\(preprocess)'")
      }
      mode = chosen
    }
    if imagePath != nil {
      guard inputPaths.isEmpty, !seedGiven else {
        throw Failure(2, "--image replaces --input and --input-seed; give one or the other")
      }
      guard inputCount == 1 else { throw Failure(2, "--image fills a model's one input; this model has \(inputCount)") }
    }

    let weights = weightsPath ?? (executablePath() ?? program) + ".weights"
    let model: ResnetcModel
    do {
      model = try ResnetcModel(weightsPath: weights)
    } catch {
      throw Failure(1, "\(weights): \(error)")
    }
    if threads > 0 && !model.setThreads(threads) { throw Failure(1, "cannot start \(threads) threads") }

    var random = ResnetcSplitMix(seed: UInt64(seed))
    let inputs = ResnetcModel.inputs.map {
      UnsafeMutablePointer<Float>.allocate(capacity: max($0.shape.reduce(1, *), 1))
    }
    let outputs = ResnetcModel.outputs.map {
      UnsafeMutablePointer<Float>.allocate(capacity: max($0.shape.reduce(1, *), 1))
    }
    defer {
      inputs.forEach { $0.deallocate() }
      outputs.forEach { $0.deallocate() }
    }
    for (i, input) in ResnetcModel.inputs.enumerated() {
      if let imagePath {
        try readImage(
          imagePath, name: input.name, shape: input.shape,
          mode: mode ?? ResnetcPreprocess.defaultMode(shape: input.shape),
          into: inputs[i])
      } else if inputPaths.isEmpty {
        random.fillNormal(inputs[i], count: input.shape.reduce(1, *))
      } else {
        try readNpy(inputPaths[i], name: input.name, shape: input.shape, into: inputs[i])
      }
    }
    let readOnly = inputs.map { UnsafePointer($0) }
    model.run(inputs: readOnly, outputs: outputs)
    if bench > 0 {
      // Warm up for at least 3 runs and 0.1 s: the first runs after start wake idle cores and threads.
      let until = resnetcMilliseconds() + 100
      var warmups = 0
      while warmups < 3 || resnetcMilliseconds() < until {
        model.run(inputs: readOnly, outputs: outputs)
        warmups += 1
      }
      var times: [Double] = []
      for _ in 0..<bench {
        let start = resnetcMilliseconds()
        model.run(inputs: readOnly, outputs: outputs)
        times.append(resnetcMilliseconds() - start)
      }
      if profile {
        model.setProfiling(true)
        for _ in 0..<bench { model.run(inputs: readOnly, outputs: outputs) }
        print(json ? model.profileJSON() : model.profileReport(), terminator: "")
      }
      times.sort()
      let median = bench % 2 == 1 ? times[bench / 2] : (times[bench / 2 - 1] + times[bench / 2]) / 2
      if json && !profile {
        print(resnetcFormat("{\"median_ms\": %.6f, \"min_ms\": %.6f, \"runs\": %ld}", median, times[0], bench))
      } else if !profile {
        print(
          resnetcFormat("latency over %ld runs after a warm-up: min %.3f ms, median %.3f ms", bench, times[0], median))
      }
    }
    for (i, output) in ResnetcModel.outputs.enumerated() {
      if !outputPaths.isEmpty {
        try writeNpy(outputPaths[i], shape: output.shape, from: outputs[i])
      } else if bench == 0 {
        summarize(output.name, output.shape, outputs[i], labels: labels)
      }
    }
  }

  static func executablePath() -> String? {
    var buffer = [CChar](repeating: 0, count: 4096)
    let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard count > 0 else { return nil }
    return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  // ---- .npy, read with the shared definition (ResnetcNpy) ----

  static func dimsText(_ dims: [Int]) -> String { ResnetcNpy.shapeText(dims) }

  /// Reads a float32 C-order array of `shape` from `path` into `buffer`, with `resnetc run`'s
  /// words for every bad file.
  static func readNpy(_ path: String, name: String, shape: [Int], into buffer: UnsafeMutablePointer<Float>)
    throws(Failure)
  {
    let count = shape.reduce(1, *)
    let limit = ResnetcNpy.byteLimit(elements: count)
    // A file too large for the input is read as far as its header, to name what it holds.
    let (bytes, size) = try readFilePrefix(path) { size in size > limit ? min(size, ResnetcNpy.prefixLength) : size }
    let held = bytes.count
    let layout: ResnetcNpy.Layout
    do {
      layout = try ResnetcNpy.layout(bytes, fileSize: size)
    } catch {
      throw Failure(1, "\(path): \(error)")
    }
    guard layout.shape == shape else {
      throw Failure(1, "\(path): holds f32\(dimsText(layout.shape)) but input '\(name)' is f32\(dimsText(shape))")
    }
    if held < size { throw Failure(1, "\(path): is \(size) bytes, more than the limit of \(limit)") }
    bytes.withUnsafeBytes { raw in
      UnsafeMutableRawPointer(buffer).copyMemory(from: raw.baseAddress! + layout.dataStart, byteCount: count * 4)
    }
  }

  /// The first bytes of the regular file at `path`, as many as `count` says for its size
  /// (which may refuse it), and that size; refused in `resnetc run`'s words when it is
  /// missing, a directory or not a regular file.
  static func readFilePrefix(
    _ path: String, count: (Int) throws(Failure) -> Int
  ) throws(Failure) -> (bytes: [UInt8], size: Int) {
    guard let file = fopen(path, "rb") else {
      throw Failure(1, "\(path): \(errno == ENOENT ? "no such file" : "cannot be opened")")
    }
    defer { fclose(file) }
    var status = stat()
    guard fstat(fileno(file), &status) == 0 else { throw Failure(1, "\(path): cannot be read") }
    guard (status.st_mode & S_IFMT) != S_IFDIR else { throw Failure(1, "\(path): is a directory") }
    guard (status.st_mode & S_IFMT) == S_IFREG else { throw Failure(1, "\(path): not a regular file") }
    let size = Int(status.st_size)
    let held = try count(size)
    var bytes = [UInt8](repeating: 0, count: held)
    guard fread(&bytes, 1, held, file) == held else { throw Failure(1, "\(path): cannot be read") }
    return (bytes, size)
  }

  /// The bytes of the regular file at `path`, refused in `resnetc run`'s words when it is
  /// missing, a directory or larger than `limit`, `kind`'s limit ("a labels file").
  static func readWholeFile(_ path: String, limit: Int, kind: String) throws(Failure) -> [UInt8] {
    try readFilePrefix(path) { size throws(Failure) in
      guard size <= limit else { throw Failure(1, "\(path): is \(size) bytes, more than \(kind)'s limit of \(limit)") }
      return size
    }.bytes
  }

  /// The image at `path` as input `name` of `shape`, with `resnetc run`'s words for every bad file.
  static func readImage(
    _ path: String, name: String, shape: [Int], mode: ResnetcPreprocess.Mode, into buffer: UnsafeMutablePointer<Float>
  ) throws(Failure) {
    let bytes = try readWholeFile(path, limit: ResnetcImage.maxFileBytes, kind: "an image file")
    do {
      let values = try ResnetcPreprocess.input(try ResnetcImage.decode(bytes), mode: mode, name: name, shape: shape)
      for (i, value) in values.enumerated() { buffer[i] = value }
    } catch {
      throw Failure(1, "\(path): \(error.description)")
    }
  }

  /// The class names in the labels file at `path`, checked against the outputs, with
  /// `resnetc run`'s words for every bad file.
  static func readLabels(_ path: String) throws(Failure) -> [String] {
    let bytes = try readWholeFile(path, limit: ResnetcLabels.byteLimit, kind: "a labels file")
    if let why = ResnetcLabels.problem(bytes) { throw Failure(1, "\(path): \(why)") }
    let names = ResnetcLabels.names(bytes)
    let matrices = ResnetcModel.outputs.filter { $0.shape.count == 2 }
    if matrices.isEmpty, let first = ResnetcModel.outputs.first {
      throw Failure(1, "\(path): " + ResnetcLabels.noClassesMessage(output: first.name, dims: first.shape))
    }
    for output in matrices {
      if let why = ResnetcLabels.mismatch(count: names.count, output: output.name, dims: output.shape) {
        throw Failure(1, "\(path): \(why)")
      }
    }
    return names
  }

  static func writeNpy(_ path: String, shape: [Int], from data: UnsafePointer<Float>) throws(Failure) {
    let header = ResnetcNpy.header(shape: shape)
    guard let file = fopen(path, "wb") else {
      let why = errno
      if why == EISDIR { throw Failure(1, "\(path): is a directory") }
      if why == ENOENT || why == ENOTDIR {
        // The folder part of the path, as resnetc names it: "." for none, "/" for the root.
        let folder = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        throw Failure(
          1, why == ENOENT ? "\(path): no such directory \(folder)" : "\(path): \(folder) is not a directory")
      }
      throw Failure(1, "\(path): cannot write: \(String(cString: strerror(why)))")
    }
    let count = shape.reduce(1, *)
    var ok = fwrite(header, 1, header.count, file) == header.count
    ok = ok && fwrite(data, 4, count, file) == count
    ok = fclose(file) == 0 && ok
    if !ok { throw Failure(1, "\(path): cannot write") }
  }

  // ---- summary ----

  static func summarize(_ name: String, _ dims: [Int], _ data: UnsafePointer<Float>, labels: [String]?) {
    print("output %\(name): f32\(dimsText(dims))")
    let count = dims.reduce(1, *)
    if dims.count == 2 {
      for row in 0..<dims[0] {
        let values = UnsafeBufferPointer(start: data + row * dims[1], count: dims[1])
        let lines = ResnetcLabels.rowLines(
          row: row, top: ResnetcLabels.top5(values), values: values, names: labels,
          format: { resnetcFormat("%.4g", Double($0)) })
        print(lines, terminator: "")
      }
    } else {
      var low = data[0], high = data[0]
      var sum = 0.0
      for j in 0..<count {
        if data[j] < low { low = data[j] }
        if data[j] > high { high = data[j] }
        sum += Double(data[j])
      }
      print(
        resnetcFormat("  min %.4g, max %.4g, mean %.4g", Double(low), Double(high), Double(Float(sum / Double(count)))))
    }
  }
}
