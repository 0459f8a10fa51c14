import Codegen
import Foundation
import GraphIR
import ONNX
import Passes
import Runtime

/// One generated graph that some path computed differently from the reference, or failed on.
public struct DiffFailure: Error, Sendable, CustomStringConvertible {
  /// The generator's seed: `GraphGenerator(seed:)` remakes the graph.
  public let seed: UInt64
  /// The path: `-O1`, `passes a,b,c`, `onnx`, `text`, `c avx2 (passes …)`, `swift generic …`.
  public let path: String
  /// What went wrong.
  public let detail: String

  /// A failure of graph `seed` on `path`.
  public init(seed: UInt64, path: String, detail: String) {
    self.seed = seed
    self.path = path
    self.detail = detail
  }

  /// One line.
  public var description: String { "seed \(seed), \(path): \(detail)" }
}

/// A generated graph with its seeded inputs and the reference outputs (the interpreter on
/// the graph as generated, `-O0`).
public struct DiffCase: Sendable {
  public let seed: UInt64
  public let graph: Graph
  public let inputs: [Tensor]
  public let reference: [Tensor]

  /// The case for `seed`.
  public init(seed: UInt64) throws {
    var generator = GraphGenerator(seed: seed)
    try self.init(graph: generator.graph(), seed: seed)
  }

  /// `graph` (verified) with inputs drawn from `seed`.
  public init(graph: Graph, seed: UInt64) throws {
    self.graph = graph
    self.seed = seed
    var dice = Dice(seed: seed ^ 0x5EED)
    inputs = graph.inputs.map { Tensor(type: $0.type, data: dice.floats($0.type.elementCount, -2, 2)) }
    reference = try Interpreter(graph: graph).run(inputs)
  }
}

/// Runs generated graphs through every path of the compiler and compares each with the
/// reference interpreter at `-O0`: within 1e-5 of the largest reference magnitude per output,
/// or of 0.1 when that is smaller (1e-4 for outputs of a graph that a compiled program runs with Winograd), with the number,
/// order and types of the outputs equal.
public enum DifferentialRunner {
  /// The bound for direct computation.
  public static let tolerance: Float = 1e-5
  /// The bound where Winograd F(2x2,3x3) runs.
  public static let winogradTolerance: Float = 1e-4

  /// The interpreter paths of one case: the textual IR and safetensors round trip, `-O1`,
  /// `orders` random pass lists (subsets, repeats, any order; verified after every pass),
  /// and the graph written as ONNX and imported.
  public static func interpreterPaths(_ c: DiffCase, orders: Int = 2) -> [DiffFailure] {
    var failures: [DiffFailure] = []
    func check(_ path: String, _ body: () throws -> [Tensor]) {
      do {
        if let problem = compare(try body(), c.reference, tolerance: tolerance) {
          failures.append(DiffFailure(seed: c.seed, path: path, detail: problem))
        }
      } catch {
        failures.append(DiffFailure(seed: c.seed, path: path, detail: "\(error)"))
      }
    }
    check("text") {
      let weights = SafeTensors.write(c.graph.constants.entries)
      let constants = Dictionary(
        uniqueKeysWithValues: try SafeTensors.readConstants(weights).map { ($0.name, $0.constant) })
      let parsed = try IRParser.parse(IRPrinter.print(c.graph)) { name, _ in constants[name]?.data ?? [] }
      guard parsed == c.graph else { throw DiffFailure(seed: c.seed, path: "text", detail: "parse(print(g)) != g") }
      return try Interpreter(graph: parsed).run(c.inputs)
    }
    check("-O1") { try Interpreter(graph: optimized(c.graph, passes: Pipeline.default)).run(c.inputs) }
    var dice = Dice(seed: c.seed ^ 0x0DE5)
    for _ in 0..<orders {
      let passes = randomPasses(&dice)
      check("passes " + passes.map(\.name).joined(separator: ",")) {
        try Interpreter(graph: optimized(c.graph, passes: passes)).run(c.inputs)
      }
    }
    check("onnx") {
      let imported = try ONNXImporter.importModel(ONNXWriter.model(c.graph), name: "g", directory: nil)
      guard imported.inputs.map(\.name) == c.graph.inputs.map(\.name) else {
        throw DiffFailure(seed: c.seed, path: "onnx", detail: "the imported inputs are named differently")
      }
      return try Interpreter(graph: imported).run(c.inputs)
    }
    return failures
  }

  /// A random list of passes: a subset of every pass, in any order, some twice; now and
  /// then the default pipeline or nothing.
  static func randomPasses(_ dice: inout Dice) -> [Pass] {
    switch dice.int(0...9) {
    case 0: return []
    case 1...2: return Pipeline.default
    default: return (0..<dice.int(1...8)).map { _ in dice.pick(Pipeline.all) }
    }
  }

  /// `graph` after `passes`, verified after each.
  static func optimized(_ graph: Graph, passes: [Pass]) throws -> Graph {
    var g = graph
    try PassManager(passes: passes, verifyAfterEachPass: true).run(&g)
    return g
  }

  /// Compiles the cases side by side (`GraphUnion`) as one library for `backend` and
  /// `target`, after a pass list drawn from `passSeed` (the default pipeline most often),
  /// runs it and compares each case's outputs. When the batch cannot be built, each case
  /// is built alone to find the ones at fault.
  public static func compiledPaths(
    _ cases: [DiffCase], backend: Backend, target: Target, passSeed: UInt64, directory: String
  ) -> [DiffFailure] {
    var dice = Dice(seed: passSeed)
    let passes = dice.chance(0.6) ? Pipeline.default : randomPasses(&dice)
    let path = "\(backend.rawValue) \(target.rawValue) (passes \(passes.map(\.name).joined(separator: ",")))"
    do {
      return try compiled(cases, backend: backend, target: target, passes: passes, path: path, directory: directory)
    } catch {
      guard cases.count > 1 else { return [DiffFailure(seed: cases[0].seed, path: path, detail: "\(error)")] }
      return cases.flatMap { c in
        compiledPaths([c], backend: backend, target: target, passSeed: passSeed, directory: directory)
      }
    }
  }

  private static func compiled(
    _ cases: [DiffCase], backend: Backend, target: Target, passes: [Pass], path: String, directory: String
  ) throws -> [DiffFailure] {
    let union = GraphUnion(cases.map(\.graph), name: "difftest")
    let graph = try optimized(union.graph, passes: passes)
    let winograd = try CProgram.winogradNodes(graph: graph, target: target)
    // A fresh folder each time: dlopen hands back a library already loaded from the same path.
    let folder = directory + "/" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let output = folder + "/batch"
    switch backend {
    case .c:
      try Artifacts.build(graph, kind: .lib, output: output, compiler: try CCompiler.locate(), target: target)
    case .swift:
      try Artifacts.buildSwift(graph, kind: .lib, output: output, compiler: try SwiftCompiler.locate(), target: target)
    }
    let model = try NativeModel(libraryPath: folder + "/libbatch.so", weightsPath: output + ".weights")
    let outputs = GraphUnion.split(try model.run(cases.flatMap(\.inputs)), counts: union.outputCounts)
    var failures: [DiffFailure] = []
    for (k, (c, got)) in zip(cases, outputs).enumerated() {
      let prefix = GraphUnion.prefix(k)
      let usesWinograd = winograd.contains { $0.hasPrefix(prefix) }
      if let problem = compare(got, c.reference, tolerance: usesWinograd ? winogradTolerance : tolerance) {
        failures.append(DiffFailure(seed: c.seed, path: path, detail: problem))
      }
    }
    return failures
  }

  /// The smallest magnitude a comparison scales by. Values in generated graphs are of order
  /// 1, so an output of all smaller values comes from cancellation, and its rounding error is
  /// relative to the terms that cancelled: such outputs are compared at `tolerance` × 0.1.
  public static let magnitudeFloor: Float = 0.1

  /// Why `got` is not `want` within `tolerance` (relative to the larger of each output's
  /// largest magnitude and `magnitudeFloor`), or nil. Counts and types are compared first; equal values (infinities
  /// too) differ by nothing, and a NaN anywhere else is a difference.
  public static func compare(_ got: [Tensor], _ want: [Tensor], tolerance: Float) -> String? {
    guard got.count == want.count else { return "\(got.count) outputs, expected \(want.count)" }
    for (i, (y, reference)) in zip(got, want).enumerated() {
      guard y.type == reference.type, y.data.count == reference.data.count else {
        return "output \(i) is \(y.type), expected \(reference.type)"
      }
      let scale = max(reference.data.lazy.filter(\.isFinite).map(abs).max() ?? 0, magnitudeFloor)
      var worst: Float = 0
      var at = 0
      for (j, (a, b)) in zip(y.data, reference.data).enumerated() where a != b {
        let d = abs(a - b)
        if !(d <= worst) {
          worst = d.isNaN ? .infinity : d
          at = j
        }
      }
      if !(worst <= tolerance * scale) {
        return
          "output \(i): |y - ref| = \(worst) at element \(at) (\(y.data[at]) vs \(reference.data[at])), \(worst / scale) of max|ref|, bound \(tolerance)"
      }
    }
    return nil
  }
}
