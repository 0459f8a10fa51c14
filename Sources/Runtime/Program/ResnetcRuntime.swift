// ---- runtime: weights loading, instances, the worker pool, the C API ----

/// A kernel's operands (unused ones point at its output) and output.
struct ResnetcKernelArgs {
  var in0, in1, in2, in3: UnsafePointer<Float>
  /// Operands past the fourth (a conv's bias, shortcut and pre-activation; a quantized
  /// op's scales and zero points), where there are.
  var in4: UnsafePointer<Float>? = nil
  var in5: UnsafePointer<Float>? = nil
  var in6: UnsafePointer<Float>? = nil
  var in7: UnsafePointer<Float>? = nil
  var in8: UnsafePointer<Float>? = nil
  var in9: UnsafePointer<Float>? = nil
  var in10: UnsafePointer<Float>? = nil
  var in11: UnsafePointer<Float>? = nil
  var out: UnsafeMutablePointer<Float>
}

private typealias Kernel = (ResnetcKernelArgs, Int, Int) -> Void

@inline(__always) private func arenaFloats(_ arena: UnsafeMutableRawPointer, _ offset: Int) -> UnsafeMutablePointer<
  Float
> {
  (arena + offset).assumingMemoryBound(to: Float.self)
}

@inline(__always) private func arenaReadOnly(_ arena: UnsafeMutableRawPointer, _ offset: Int) -> UnsafePointer<Float> {
  UnsafePointer((arena + offset).assumingMemoryBound(to: Float.self))
}

/// Monotonic time in milliseconds (also the program's clock).
func resnetcMilliseconds() -> Double {
  var t = timespec()
  clock_gettime(CLOCK_MONOTONIC, &t)
  return Double(t.tv_sec) * 1e3 + Double(t.tv_nsec) / 1e6
}

private let maxThreads = 256

/// printf-style formatting of numbers (through vsnprintf, so the digits are C's; also the
/// program's).
func resnetcFormat(_ format: String, _ arguments: CVarArg...) -> String {
  withVaList(arguments) { list in
    var buffer = [CChar](repeating: 0, count: 256)
    let count = buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress, $0.count, format, list) }
    let bytes = buffer.prefix(max(0, min(Int(count), buffer.count - 1))).map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
  }
}

/// `text` cut to `width` bytes and padded with spaces to it, as `%-Ns` with a precision.
private func column(_ text: String, _ width: Int) -> String {
  let bytes = Array(text.utf8.prefix(width))
  return String(decoding: bytes + Array(repeating: UInt8(ascii: " "), count: width - bytes.count), as: UTF8.self)
}

/// Threads that run shares of a kernel's work: the caller is share 0, `threads - 1` workers
/// the others. Workers spin briefly after each share (longer than the gap between two
/// steps, so a running network never sleeps), then wait on a condition variable.
private final class WorkerPool: @unchecked Sendable {
  private(set) var threads = 1
  private var handles: [pthread_t] = []
  private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
  private let done = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
  private let generation = Atomic<Int>(0)
  private let pending = Atomic<Int>(0)
  private let stopping = Atomic<Bool>(false)
  private var kernel: Kernel?
  private var args: ResnetcKernelArgs?
  private var total = 0
  /// Atomic loads a waiting thread spins for before it sleeps: about a tenth of a millisecond.
  private let spinLimit = 100_000

  private final class Start {
    let pool: WorkerPool
    let index: Int
    let generation: Int
    init(pool: WorkerPool, index: Int, generation: Int) {
      self.pool = pool
      self.index = index
      self.generation = generation
    }
  }

  init() {
    pthread_mutex_init(lock, nil)
    pthread_cond_init(wake, nil)
    pthread_cond_init(done, nil)
  }

  deinit {
    stop()
    pthread_mutex_destroy(lock)
    pthread_cond_destroy(wake)
    pthread_cond_destroy(done)
    lock.deallocate()
    wake.deallocate()
    done.deallocate()
  }

  private func runShare(_ index: Int) {
    guard let kernel, let args else { return }
    let begin = total * index / threads, end = total * (index + 1) / threads
    if begin < end { kernel(args, begin, end) }
  }

  private func idle(_ seen: Int) -> Bool {
    generation.load(ordering: .acquiring) == seen && !stopping.load(ordering: .acquiring)
  }

  /// `seen` is the generation when the worker was started: one started after earlier runs
  /// must wait for the next job, not run the last one again with its dead arguments.
  private func work(_ index: Int, from seen: Int) {
    var seen = seen
    while true {
      var spins = 0
      while spins < spinLimit && idle(seen) { spins &+= 1 }
      if idle(seen) {
        pthread_mutex_lock(lock)
        while idle(seen) { pthread_cond_wait(wake, lock) }
        pthread_mutex_unlock(lock)
      }
      if stopping.load(ordering: .acquiring) { return }
      seen = generation.load(ordering: .acquiring)
      runShare(index)
      if pending.wrappingSubtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
        pthread_mutex_lock(lock)
        pthread_cond_signal(done)
        pthread_mutex_unlock(lock)
      }
    }
  }

  /// Runs `kernel` over `[0, total)` split into one contiguous share per thread; returns
  /// when every share is done.
  func parallelFor(_ total: Int, _ kernel: @escaping Kernel, _ args: ResnetcKernelArgs) {
    if threads <= 1 || total < 2 {
      kernel(args, 0, total)
      return
    }
    self.kernel = kernel
    self.args = args
    self.total = total
    pending.store(threads - 1, ordering: .releasing)
    pthread_mutex_lock(lock)
    generation.wrappingAdd(1, ordering: .releasing)
    pthread_cond_broadcast(wake)
    pthread_mutex_unlock(lock)
    runShare(0)
    var spins = 0
    while spins < spinLimit && pending.load(ordering: .acquiring) > 0 { spins &+= 1 }
    if pending.load(ordering: .acquiring) > 0 {
      pthread_mutex_lock(lock)
      while pending.load(ordering: .acquiring) > 0 { pthread_cond_wait(done, lock) }
      pthread_mutex_unlock(lock)
    }
  }

  func stop() {
    pthread_mutex_lock(lock)
    stopping.store(true, ordering: .releasing)
    pthread_cond_broadcast(wake)
    pthread_mutex_unlock(lock)
    for handle in handles { pthread_join(handle, nil) }
    handles = []
    stopping.store(false, ordering: .releasing)
    threads = 1
  }

  /// Stops the workers and starts `count - 1` new ones; false if a thread cannot start.
  func start(_ count: Int) -> Bool {
    stop()
    for index in 1..<max(count, 1) {
      var handle = pthread_t()
      let start = Unmanaged.passRetained(
        Start(pool: self, index: index, generation: generation.load(ordering: .acquiring))
      ).toOpaque()
      let status = pthread_create(
        &handle, nil,
        { raw in
          guard let raw else { return nil }
          let start = Unmanaged<Start>.fromOpaque(raw).takeRetainedValue()
          start.pool.work(start.index, from: start.generation)
          return nil
        }, start)
      if status != 0 {
        Unmanaged<Start>.fromOpaque(start).release()
        stop()
        return false
      }
      handles.append(handle)
      threads = index + 1
    }
    return true
  }
}

/// The compiled model: weights loaded and checked, an arena for intermediate values, and a
/// pool of threads. `run` may be called from any thread; calls on one instance are
/// serialized. Distinct instances share nothing.
public final class ResnetcModel: @unchecked Sendable {
  /// Why a model cannot be created; `code` is the C API's error number.
  public enum LoadError: Error, CustomStringConvertible {
    /// The weights file cannot be opened or read.
    case open
    /// It is not a resnetc weights file.
    case format
    /// Its size is not this model's.
    case size
    /// Its data is not this model's.
    case checksum
    /// Out of memory.
    case memory

    /// The C API's error code.
    public var code: Int32 {
      switch self {
      case .open: 1
      case .format: 2
      case .size: 3
      case .checksum: 4
      case .memory: 5
      }
    }

    /// The C API's sentence for it (`resnetc_error_string`).
    public var description: String {
      switch self {
      case .open: "the weights file cannot be opened or read"
      case .format: "the file is not a resnetc weights file"
      case .size: "the weights file's size does not match this model"
      case .checksum: "the weights file's checksum does not match this model"
      case .memory: "out of memory"
      }
    }
  }

  /// The model's inputs, in order: names and shapes (float32, row-major).
  public static var inputs: [(name: String, shape: [Int])] { modelInputs }
  /// The model's outputs, in order.
  public static var outputs: [(name: String, shape: [Int])] { modelOutputs }
  /// Bytes of intermediate values (the static memory plan's peak).
  public static var arenaBytes: Int { modelArenaBytes }

  private let weights: UnsafeMutableRawPointer
  private let arena: UnsafeMutableRawPointer
  private let pool = WorkerPool()
  private let runLock: UnsafeMutablePointer<pthread_mutex_t>
  private var profiling = false
  private var profiledRuns = 0
  private var stepMilliseconds = [Double](repeating: 0, count: stepLabels.count)
  fileprivate var report: UnsafeMutablePointer<CChar>?

  /// Loads and checks the weights file at `weightsPath`; starts one thread per processor.
  public init(weightsPath: String) throws(LoadError) {
    weights = try ResnetcModel.load(weightsPath)
    arena = UnsafeMutableRawPointer.allocate(byteCount: max(modelArenaBytes, 64), alignment: 64)
    runLock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    pthread_mutex_init(runLock, nil)
    _ = pool.start(min(max(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 1), maxThreads))
  }

  /// The weights file's data, checked by magic, size and checksum, in 64-byte-aligned memory.
  private static func load(_ path: String) throws(LoadError) -> UnsafeMutableRawPointer {
    guard let file = fopen(path, "rb") else { throw .open }
    defer { fclose(file) }
    var header = [UInt8](repeating: 0, count: 64)
    guard fread(&header, 1, 64, file) == 64, header.prefix(8).elementsEqual(modelWeightsMagic.utf8) else {
      throw .format
    }
    let word = { (at: Int) -> UInt64 in header[at..<at + 8].reversed().reduce(0) { $0 << 8 | UInt64($1) } }
    guard word(8) == UInt64(modelWeightsBytes) else { throw .size }
    guard fseek(file, 0, SEEK_END) == 0 else { throw .open }
    guard ftell(file) == 64 + modelWeightsBytes else { throw .size }
    guard fseek(file, 64, SEEK_SET) == 0 else { throw .open }
    let data = UnsafeMutableRawPointer.allocate(byteCount: max(modelWeightsBytes, 64), alignment: 64)
    guard fread(data, 1, modelWeightsBytes, file) == modelWeightsBytes else {
      data.deallocate()
      throw .open
    }
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for offset in stride(from: 0, to: modelWeightsBytes, by: 8) {
      hash =
        (hash ^ UInt64(littleEndian: data.loadUnaligned(fromByteOffset: offset, as: UInt64.self))) &* 0x100_0000_01b3
    }
    guard word(16) == modelWeightsChecksum, hash == modelWeightsChecksum else {
      data.deallocate()
      throw .checksum
    }
    return data
  }

  deinit {
    pool.stop()
    pthread_mutex_destroy(runLock)
    runLock.deallocate()
    weights.deallocate()
    arena.deallocate()
    report?.deallocate()
  }

  /// Runs the model: `inputs[i]` and `outputs[i]` point to buffers of the shapes of
  /// `ResnetcModel.inputs` and `.outputs`.
  public func run(inputs: [UnsafePointer<Float>], outputs: [UnsafeMutablePointer<Float>]) {
    precondition(
      inputs.count == modelInputs.count && outputs.count == modelOutputs.count, "one buffer per input and output")
    pthread_mutex_lock(runLock)
    forward(self, UnsafePointer(weights.assumingMemoryBound(to: Float.self)), arena, inputs, outputs)
    if profiling { profiledRuns += 1 }
    pthread_mutex_unlock(runLock)
  }

  /// Threads this instance uses.
  public var threads: Int { pool.threads }

  /// Uses `count` threads (1...256); false if that many cannot start.
  public func setThreads(_ count: Int) -> Bool {
    guard (1...maxThreads).contains(count) else { return false }
    pthread_mutex_lock(runLock)
    defer { pthread_mutex_unlock(runLock) }
    return pool.start(count)
  }

  /// With profiling on, `run` times every step; turning it on or off clears the times.
  public func setProfiling(_ on: Bool) {
    pthread_mutex_lock(runLock)
    profiling = on
    profiledRuns = 0
    stepMilliseconds = stepMilliseconds.map { _ in 0 }
    pthread_mutex_unlock(runLock)
  }

  /// GFLOP/s (or GOP/s) of loop `kernel`, which does `perItem` operations on every thread at
  /// once reading `input`, measured now: after a first round that wakes the cores, the best of
  /// three.
  private func measureLoop(_ kernel: @escaping Kernel, input: Float, perItem: Double) -> Double {
    let factor = UnsafeMutablePointer<Float>.allocate(capacity: 64)
    let sums = UnsafeMutablePointer<Float>.allocate(capacity: maxThreads * 64)
    defer {
      factor.deallocate()
      sums.deallocate()
    }
    factor.initialize(repeating: input, count: 64)
    let args = ResnetcKernelArgs(
      in0: UnsafePointer(factor), in1: UnsafePointer(factor), in2: UnsafePointer(factor), in3: UnsafePointer(factor),
      out: sums)
    var best = 0.0
    for round in 0..<4 {
      let start = resnetcMilliseconds()
      pool.parallelFor(pool.threads, kernel, args)
      let ms = resnetcMilliseconds() - start
      let rate = ms > 0 ? Double(pool.threads) * perItem / ms / 1e6 : 0
      if round > 0 && rate > best { best = rate }
    }
    return best
  }

  /// The peaks of the target's multiply-add loop (`resnetcPeakKernel`) and, where the model
  /// has integer layers, of its byte multiply-add loop (`resnetcPeakInt8Kernel`, on zero
  /// bytes; else 0).
  private func measurePeaks() -> (peak: Double, int8: Double) {
    let peak = measureLoop(resnetcPeakKernel, input: 1e-7, perItem: modelPeakFlopsPerItem)
    let int8 =
      modelInt8PeakOpsPerItem > 0 ? measureLoop(resnetcPeakInt8Kernel, input: 0, perItem: modelInt8PeakOpsPerItem) : 0
    return (peak, int8)
  }

  /// A table of mean times per layer, the kernel each runs, GFLOP/s and percent of the peak
  /// measured now (integer layers: of the int8 peak).
  public func profileReport() -> String {
    pthread_mutex_lock(runLock)
    defer { pthread_mutex_unlock(runLock) }
    let runs = Double(max(profiledRuns, 1))
    let measured = measurePeaks()
    let peak = measured.peak > 0 ? measured.peak : 1
    let threads = pool.threads
    let plural = threads == 1 ? "" : "s"
    var text =
      resnetcFormat("peak %.1f GFLOP/s: the ", peak) + modelTarget
      + " multiply-add loop on \(threads) thread\(plural), measured now\n"
    if measured.int8 > 0 {
      text +=
        resnetcFormat("int8 peak %.1f GOP/s: the ", measured.int8) + modelTarget
        + " byte multiply-add loop on \(threads) thread\(plural), measured now; integer layers' % peak is of it\n"
    }
    text +=
      column("layer", 40) + " " + column("op", 16) + " " + column("kernel", 26) + " "
      + String(repeating: " ", count: 7) + "ms" + String(repeating: " ", count: 3) + "GFLOP/s  % peak\n"
    var total = 0.0, flops = 0.0, atPeak = 0.0
    for (i, (label, op)) in stepLabels.enumerated() {
      let ms = stepMilliseconds[i] / runs, rate = ms > 0 ? stepFlops[i] / ms / 1e6 : 0
      let stepPeak = stepIntegers[i] && measured.int8 > 0 ? measured.int8 : peak
      total += ms
      flops += stepFlops[i]
      atPeak += stepFlops[i] / stepPeak / 1e6
      text +=
        column(label, 40) + " " + column(op, 16) + " " + column(stepKernels[i], 26)
        + resnetcFormat(" %9.3f %9.1f %7.1f\n", ms, rate, rate / stepPeak * 100)
    }
    // The total's percentage: the time every step would take at its peak, over the time taken.
    let rate = total > 0 ? flops / total / 1e6 : 0
    return text + column("total", 40) + " " + column("", 16) + " " + column("", 26)
      + resnetcFormat(" %9.3f %9.1f %7.1f\n", total, rate, total > 0 ? atPeak / total * 100 : 0)
  }

  /// The profile as one JSON object, the C runtime's `resnetc_profile_json`: target, threads,
  /// runs, peak_gflops, peak_int8_gops (0 without integer layers), layers (layer, op, kernel,
  /// ms, gflops), total_ms, gflops.
  public func profileJSON() -> String {
    pthread_mutex_lock(runLock)
    defer { pthread_mutex_unlock(runLock) }
    let runs = max(profiledRuns, 1)
    let peaks = measurePeaks()
    var text =
      "{\"target\": \"\(modelTarget)\", \"threads\": \(pool.threads), \"runs\": \(runs), "
      + resnetcFormat("\"peak_gflops\": %.3f, \"peak_int8_gops\": %.3f, \"layers\": [", peaks.peak, peaks.int8)
    var total = 0.0, flops = 0.0
    for (i, (label, op)) in stepLabels.enumerated() {
      let ms = stepMilliseconds[i] / Double(runs), rate = ms > 0 ? stepFlops[i] / ms / 1e6 : 0
      total += ms
      flops += stepFlops[i]
      text +=
        (i > 0 ? "," : "") + "\n  {\"layer\": \(jsonString(label)), \"op\": \(jsonString(op)), "
        + "\"kernel\": \(jsonString(stepKernels[i])), " + resnetcFormat("\"ms\": %.6f, \"gflops\": %.3f}", ms, rate)
    }
    return text
      + resnetcFormat("],\n \"total_ms\": %.6f, \"gflops\": %.3f}\n", total, total > 0 ? flops / total / 1e6 : 0)
  }

  fileprivate func parallelFor(_ total: Int, _ kernel: @escaping Kernel, _ args: ResnetcKernelArgs) {
    pool.parallelFor(total, kernel, args)
  }

  @inline(__always) fileprivate func profileStep(_ step: Int, since start: Double) {
    if profiling { stepMilliseconds[step] += resnetcMilliseconds() - start }
  }
}

/// `text` as a JSON string: quotes, backslashes and control characters escaped.
private func jsonString(_ text: String) -> String {
  var out = "\""
  for scalar in text.unicodeScalars {
    switch scalar {
    case "\"": out += "\\\""
    case "\\": out += "\\\\"
    case _ where scalar.value < 0x20:
      let hex = String(scalar.value, radix: 16)
      out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
    default: out.unicodeScalars.append(scalar)
    }
  }
  return out + "\""
}

// The C API (resnetc.h), for programs in other languages and dlopen.

private let errorStrings: [StaticString] = [
  "no error", "the weights file cannot be opened or read", "the file is not a resnetc weights file",
  "the weights file's size does not match this model", "the weights file's checksum does not match this model",
  "out of memory", "a null pointer or an index out of range", "unknown error",
]

/// A C string that lives as long as the program.
private func permanentCString(_ text: String) -> UnsafePointer<CChar> {
  let bytes = Array(text.utf8)
  let memory = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
  for (i, byte) in bytes.enumerated() { memory[i] = CChar(bitPattern: byte) }
  memory[bytes.count] = 0
  return UnsafePointer(memory)
}

/// A copy of `values` that lives as long as the program.
private func permanentDims(_ values: [Int]) -> UnsafePointer<Int64> {
  let memory = UnsafeMutablePointer<Int64>.allocate(capacity: max(values.count, 1))
  for (i, value) in values.enumerated() { memory[i] = Int64(value) }
  return UnsafePointer(memory)
}

private let inputNamesC = modelInputs.map { permanentCString($0.name) }
private let inputDimsC = modelInputs.map { permanentDims($0.shape) }
private let outputNamesC = modelOutputs.map { permanentCString($0.name) }
private let outputDimsC = modelOutputs.map { permanentDims($0.shape) }
private let errorStringsC = errorStrings.map { permanentCString($0.description) }
private let emptyCString = permanentCString("")

private let statusArgument: Int32 = 6

private func instance(_ pointer: OpaquePointer?) -> ResnetcModel? {
  guard let pointer else { return nil }
  return Unmanaged<ResnetcModel>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
}

@_cdecl("resnetc_create")
public func resnetcCreate(_ path: UnsafePointer<CChar>?, _ status: UnsafeMutablePointer<Int32>?) -> OpaquePointer? {
  status?.pointee = 0
  guard let path else {
    status?.pointee = statusArgument
    return nil
  }
  do {
    let model = try ResnetcModel(weightsPath: String(cString: path))
    return OpaquePointer(Unmanaged.passRetained(model).toOpaque())
  } catch {
    status?.pointee = error.code
    return nil
  }
}

@_cdecl("resnetc_run")
public func resnetcRun(
  _ pointer: OpaquePointer?, _ inputs: UnsafePointer<UnsafePointer<Float>?>?,
  _ outputs: UnsafePointer<UnsafeMutablePointer<Float>?>?
) -> Int32 {
  guard let model = instance(pointer), let inputs, let outputs else { return statusArgument }
  var ins: [UnsafePointer<Float>] = []
  var outs: [UnsafeMutablePointer<Float>] = []
  for i in modelInputs.indices {
    guard let buffer = inputs[i] else { return statusArgument }
    ins.append(buffer)
  }
  for i in modelOutputs.indices {
    guard let buffer = outputs[i] else { return statusArgument }
    outs.append(buffer)
  }
  model.run(inputs: ins, outputs: outs)
  return 0
}

@_cdecl("resnetc_set_threads")
public func resnetcSetThreads(_ pointer: OpaquePointer?, _ threads: Int32) -> Int32 {
  guard let model = instance(pointer), (1...Int32(maxThreads)).contains(threads) else { return statusArgument }
  return model.setThreads(Int(threads)) ? 0 : 5
}

@_cdecl("resnetc_set_profiling")
public func resnetcSetProfiling(_ pointer: OpaquePointer?, _ on: Int32) {
  instance(pointer)?.setProfiling(on != 0)
}

@_cdecl("resnetc_profile_report")
public func resnetcProfileReport(_ pointer: OpaquePointer?) -> UnsafePointer<CChar>? {
  guard let model = instance(pointer) else { return emptyCString }
  let text = model.profileReport()
  model.report?.deallocate()
  let copy = permanentCString(text)
  model.report = UnsafeMutablePointer(mutating: copy)
  return copy
}

@_cdecl("resnetc_profile_json")
public func resnetcProfileJSON(_ pointer: OpaquePointer?) -> UnsafePointer<CChar>? {
  guard let model = instance(pointer) else { return emptyCString }
  let text = model.profileJSON()
  model.report?.deallocate()
  let copy = permanentCString(text)
  model.report = UnsafeMutablePointer(mutating: copy)
  return copy
}

@_cdecl("resnetc_destroy")
public func resnetcDestroy(_ pointer: OpaquePointer?) {
  guard let pointer else { return }
  Unmanaged<ResnetcModel>.fromOpaque(UnsafeRawPointer(pointer)).release()
}

@_cdecl("resnetc_error_string")
public func resnetcErrorString(_ error: Int32) -> UnsafePointer<CChar> {
  errorStringsC[Int(error >= 0 && error < 7 ? error : 7)]
}

@_cdecl("resnetc_input_count")
public func resnetcInputCount() -> Int32 { Int32(modelInputs.count) }

@_cdecl("resnetc_output_count")
public func resnetcOutputCount() -> Int32 { Int32(modelOutputs.count) }

@_cdecl("resnetc_input_name")
public func resnetcInputName(_ i: Int32) -> UnsafePointer<CChar>? {
  modelInputs.indices.contains(Int(i)) ? inputNamesC[Int(i)] : nil
}

@_cdecl("resnetc_input_rank")
public func resnetcInputRank(_ i: Int32) -> Int32 {
  modelInputs.indices.contains(Int(i)) ? Int32(modelInputs[Int(i)].shape.count) : -1
}

@_cdecl("resnetc_input_dims")
public func resnetcInputDims(_ i: Int32) -> UnsafePointer<Int64>? {
  modelInputs.indices.contains(Int(i)) ? inputDimsC[Int(i)] : nil
}

@_cdecl("resnetc_input_elements")
public func resnetcInputElements(_ i: Int32) -> Int64 {
  modelInputs.indices.contains(Int(i)) ? Int64(modelInputs[Int(i)].shape.reduce(1, *)) : -1
}

@_cdecl("resnetc_output_name")
public func resnetcOutputName(_ i: Int32) -> UnsafePointer<CChar>? {
  modelOutputs.indices.contains(Int(i)) ? outputNamesC[Int(i)] : nil
}

@_cdecl("resnetc_output_rank")
public func resnetcOutputRank(_ i: Int32) -> Int32 {
  modelOutputs.indices.contains(Int(i)) ? Int32(modelOutputs[Int(i)].shape.count) : -1
}

@_cdecl("resnetc_output_dims")
public func resnetcOutputDims(_ i: Int32) -> UnsafePointer<Int64>? {
  modelOutputs.indices.contains(Int(i)) ? outputDimsC[Int(i)] : nil
}

@_cdecl("resnetc_output_elements")
public func resnetcOutputElements(_ i: Int32) -> Int64 {
  modelOutputs.indices.contains(Int(i)) ? Int64(modelOutputs[Int(i)].shape.reduce(1, *)) : -1
}
