import Codegen
import Foundation
import GraphIR
import Models
import ONNX
import Passes
import Runtime

/// The instruction sets resnetc compiles for (`native`, the best this machine runs, is
/// `Target.native()`).
public typealias Target = Codegen.Target
/// What `compile` produces: a program, a shared library, C or Swift sources.
public typealias ArtifactKind = Codegen.ArtifactKind
/// The language of the generated code.
public typealias Backend = Codegen.Backend
/// A tensor of known values: its type and float32 data in row-major order.
public typealias Tensor = GraphIR.Tensor
/// The cache sizes the kernel plans are sized for.
public typealias CacheSizes = Codegen.CacheSizes
/// The typed graph IR a model is held in.
public typealias Graph = GraphIR.Graph
/// A shape pinned for an ONNX model's input: `InputShape(input: "x", shape: [1, 3, 224, 224])`.
public typealias InputShape = ONNX.InputShape
/// A pass's account of what it changed.
public typealias PassReport = Passes.PassReport
/// The shortcut options of the ResNet paper (A: zero-padding, B: projections where the shape
/// changes, C: projections everywhere).
public typealias ShortcutOption = Models.ShortcutOption
/// Where a bottleneck's stride sits: `.v1` (the paper, on the first 1x1) or `.v1_5` (on the 3x3).
public typealias StridePlacement = Models.StridePlacement

/// A model as resnetc holds it: built in, imported from ONNX or read from a `.gir` file, then
/// optimized by passes, interpreted, or compiled to native code. The command-line tool is a
/// client of this type.
///
///     var model = try Model(builtin: "resnet50")
///     try model.optimize()
///     let files = try model.compile(to: "out/r50")       // out/r50 and out/r50.weights
///     let outputs = try model.interpret([input])
public struct Model: Sendable {
  /// The graph, verified.
  public private(set) var graph: Graph

  /// Options of a built-in model; nil fields keep the model's defaults.
  public struct BuiltinOptions: Sendable, Equatable {
    /// Images per batch (default 1).
    public var batch: Int?
    /// Input height and width (default 224 for ImageNet models, 32 for CIFAR ones).
    public var resolution: Int?
    /// The shortcut option (default B for ImageNet, A for CIFAR).
    public var shortcut: ShortcutOption?
    /// Where bottlenecks put their stride (default v1, the paper's).
    public var stride: StridePlacement?
    /// The seed of the He-initialized weights (default 0).
    public var seed: UInt64?

    /// Options; every one defaults to the model's own.
    public init(
      batch: Int? = nil, resolution: Int? = nil, shortcut: ShortcutOption? = nil, stride: StridePlacement? = nil,
      seed: UInt64? = nil
    ) {
      self.batch = batch
      self.resolution = resolution
      self.shortcut = shortcut
      self.stride = stride
      self.seed = seed
    }
  }

  /// A model of the built-in family: `resnet18` ... `resnet152`, `resnet50-v1.5`, the CIFAR
  /// networks `resnet20` ... (any depth 6n+2), `plain18`, `plain20`, ...
  public init(builtin name: String, options: BuiltinOptions = BuiltinOptions()) throws(CompilerError) {
    var spec: ResNetSpec
    do {
      spec = try ResNetSpec(name: name)
    } catch .unknownModel {
      throw .unknownModel(name)
    } catch {
      throw .invalidOption(error.description)
    }
    if let batch = options.batch { spec.batch = batch }
    if let resolution = options.resolution { spec.resolution = resolution }
    if let shortcut = options.shortcut { spec.shortcut = shortcut }
    if let stride = options.stride { spec.stride = stride }
    if let seed = options.seed { spec.seed = seed }
    guard (1...4096).contains(spec.batch) else { throw .invalidOption("batch must be in 1...4096, got \(spec.batch)") }
    if let resolution = spec.resolution, !(1...8192).contains(resolution) {
      throw .invalidOption("resolution must be in 1...8192, got \(resolution)")
    }
    do {
      graph = try ResNet.build(spec)
    } catch let error as ModelSpecError {
      throw .invalidOption(error.description)
    } catch {
      throw .invalidModel(name: spec.name, reason: "\(error)")
    }
  }

  /// A model file: `.onnx` (with `inputShapes` pinning symbolic dimensions, and `feeding`
  /// graph inputs that an initializer also defines kept as inputs) or `.gir` (with its
  /// `.safetensors` beside it).
  public init(file path: String, inputShapes: [InputShape] = [], feeding: Set<String> = []) throws(CompilerError) {
    if path.hasSuffix(".onnx") {
      do {
        graph = try ONNXImporter.load(path: path, inputShapes: inputShapes, feeding: feeding)
      } catch let error as ONNXError {
        throw .unreadableFile(path: path, reason: error.description)
      } catch {
        throw .fileError("\(error)")
      }
      return
    }
    guard inputShapes.isEmpty, feeding.isEmpty else {
      throw .invalidOption("input shapes and fed inputs apply to ONNX models only, not to \(path)")
    }
    guard path.hasSuffix(".gir") else {
      throw .unreadableFile(path: path, reason: "expected a .onnx or .gir file, or a built-in model name")
    }
    do {
      graph = try ModelFile.load(irPath: path)
    } catch {
      throw .fileError(error.description)
    }
  }

  /// A model of an existing graph, verified.
  public init(graph: Graph) throws(CompilerError) {
    do {
      try Verifier.verify(graph)
    } catch {
      throw .invalidModel(name: graph.name, reason: "\(error)")
    }
    self.graph = graph
  }

  /// Runs `passes` (default: the default pipeline, `-O1`; names as `resnetc explain --help`
  /// lists them) and returns what each changed.
  @discardableResult
  public mutating func optimize(passes: [String]? = nil) throws(CompilerError) -> [PassReport] {
    let manager: PassManager
    if let passes {
      do {
        manager = try PassManager.named(passes)
      } catch {
        throw .invalidOption(error.description)
      }
    } else {
      manager = PassManager.pipeline(.o1)
    }
    do {
      return try manager.run(&graph)
    } catch {
      throw .invalidModel(name: graph.name, reason: "a pass failed: \(error)")
    }
  }

  /// The inputs: names and types.
  public var inputs: [(name: String, shape: [Int])] { graph.inputs.map { ($0.name, $0.type.shape) } }
  /// The outputs: names and shapes.
  public var outputs: [(name: String, shape: [Int])] {
    let types = graph.valueTypes
    return graph.outputs.map { ($0, types[$0]?.shape ?? []) }
  }
  /// Parameters: conv and dense weights and biases, BatchNorm scales and shifts.
  public var parameterCount: Int { graph.parameterCount }
  /// Multiply-adds of convolutions and dense layers, the paper's measure.
  public var multiplyAdds: Int { graph.multiplyAdds }

  /// Runs the reference interpreter (sums in double precision) on one tensor per input.
  public func interpret(_ inputs: [Tensor]) throws(CompilerError) -> [Tensor] {
    do {
      return try Interpreter(graph: graph).run(inputs)
    } catch {
      throw .run("\(error)")
    }
  }

  /// The bytes of activations the reference interpreter holds at its peak.
  public var interpreterPeakBytes: Int {
    get throws(CompilerError) {
      do {
        return try Interpreter(graph: graph).peakValueBytes
      } catch {
        throw .invalidModel(name: graph.name, reason: "\(error)")
      }
    }
  }

  /// The arena of the program compiled for `target`: the peak bytes of intermediate values
  /// in its static memory plan (`RESNETC_ARENA_BYTES` in its header).
  public func arenaBytes(target: Target = .native()) throws(CompilerError) -> Int {
    do {
      return try CProgram.arenaBytes(graph: graph, target: target)
    } catch {
      throw .compile("\(error)")
    }
  }

  /// What the program compiled for `target` (planned for `caches`, the table's unless given)
  /// runs for each node with a step of its own, by node name: the kernel as `--profile` names
  /// it (`direct 6px x2`, `winograd F(2,3)`, `blocked`, `plain`) and its output's layout.
  public func kernelChoices(
    target: Target = .native(), caches: CacheSizes? = nil
  ) throws(CompilerError) -> [String: (kernel: String, layout: String)] {
    do {
      return try CProgram.kernelChoices(graph: graph, target: target, caches: caches)
    } catch {
      throw .compile("\(error)")
    }
  }

  /// Compiles the model to `output` (a path without extension) and returns the files
  /// written: `artifact` (default a program), in `backend`'s language, for `target` (default
  /// the best this machine runs), its plans sized for `caches` (default: this machine's for
  /// the native target, read from the CPU, else the target's table). C is compiled by `$CC`,
  /// clang or cc; Swift by swiftc. `progress` receives a line per step, `phase` the name of
  /// each phase as it begins (`lowering`, `writing`, `C compiler` or `swiftc`).
  @discardableResult
  public func compile(
    to output: String, artifact: ArtifactKind = .exe, backend: Backend = .c, target: Target = .native(),
    caches: CacheSizes? = nil, progress: (String) -> Void = { _ in }, phase: (String) -> Void = { _ in }
  ) throws(CompilerError) -> [String] {
    let sizes = caches ?? (target == .native() ? CacheSizes.native() : nil) ?? CacheSizes.table(for: target)
    let header = URL(fileURLWithPath: output).lastPathComponent + ".h"
    do {
      switch backend {
      case .c:
        guard artifact != .swift && artifact != .swiftPackage else {
          throw CompilerError.invalidOption(
            "--emit \(artifact.rawValue) writes Swift sources; it cannot go with the C backend")
        }
        let compiler = artifact == .c ? nil : try CCompiler.locate()
        phase("lowering")
        let program = try CProgram(graph: graph, headerName: header, target: target, caches: sizes)
        return try Artifacts.build(
          program, kind: artifact, output: output, compiler: compiler, progress: progress, phase: phase)
      case .swift:
        guard artifact != .c else {
          throw CompilerError.invalidOption("--emit c writes C sources; it cannot go with the Swift backend")
        }
        let compiler = artifact == .swift || artifact == .swiftPackage ? nil : try SwiftCompiler.locate()
        phase("lowering")
        let program = try SwiftProgram(graph: graph, target: target, caches: sizes)
        return try Artifacts.buildSwift(
          program, kind: artifact, output: output, compiler: compiler, progress: progress, phase: phase)
      }
    } catch let error as CompilerError {
      throw error
    } catch {
      throw .compile("\(error)")
    }
  }
}

/// Why the compiler refused or failed: one sentence that names what was given and what was
/// expected.
public enum CompilerError: Error, Equatable, CustomStringConvertible {
  /// No built-in model by this name.
  case unknownModel(String)
  /// A model file that cannot be imported: what is wrong with it.
  case unreadableFile(path: String, reason: String)
  /// A model file (or a file it names) that cannot be read or parsed, in words that name it.
  case fileError(String)
  /// A model that is not valid (an option makes an invalid graph, a pass failed).
  case invalidModel(name: String, reason: String)
  /// An option out of range or of the wrong kind.
  case invalidOption(String)
  /// The interpreter could not run the inputs given (its words).
  case run(String)
  /// Code generation or the native compiler failed.
  case compile(String)

  /// The sentence, naming the file or model and what was expected.
  public var description: String {
    switch self {
    case .unknownModel(let name): "unknown model '\(name)' ('resnetc list' shows the built-in ones)"
    case .unreadableFile(let path, let reason): "\(path): \(reason)"
    case .fileError(let why): why
    case .invalidModel(let name, let reason): "\(name): \(reason)"
    case .invalidOption(let why): why
    case .run(let why): why
    case .compile(let why): why
    }
  }
}
