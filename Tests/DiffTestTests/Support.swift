import Codegen
import DiffTest
import Foundation
import GraphIR
import Passes
import Runtime
import Testing

/// The targets this machine runs: generic always, then AVX2 and AVX-512 as its CPU has them.
let runnableTargets: [Target] = {
  switch Target.native() {
  case .generic: [.generic]
  case .avx2: [.generic, .avx2]
  // avx512vnni runs the avx512 float kernels; the quantized tests run it too (Target.runnable()).
  case .avx512, .avx512vnni: [.generic, .avx2, .avx512]
  }
}()

/// A folder of this test target's resources.
func resourceDirectory(_ name: String) throws -> String {
  try #require(Bundle.module.url(forResource: name, withExtension: nil)).path
}

/// The C compiler, or a test failure saying none was found (CI has clang from the toolchain).
func requireCompilers() throws {
  do {
    _ = try CCompiler.locate()
    _ = try SwiftCompiler.locate()
  } catch {
    Issue.record("these tests compile C and Swift and need clang (or cc) and swiftc: \(error)")
    throw error
  }
}

/// `graph` after the default pipeline, verified after every pass.
func optimized(_ graph: Graph) throws -> Graph {
  var g = graph
  try PassManager(passes: Pipeline.default, verifyAfterEachPass: true).run(&g)
  return g
}

/// A graph, its inputs, the outputs it must give, and how close each path must come.
struct Checked {
  let name: String
  let graph: Graph
  let inputs: [Tensor]
  let reference: [Tensor]
  let tolerance: Float
}

/// Runs every case through the interpreter at -O0 and -O1, the C backend after -O1 on each
/// target this CPU runs and after -O0 on generic, and the Swift backend after -O1 on the
/// native target; the compiled paths build all cases side by side in one library (a case
/// that a program runs with Winograd may differ by 1e-4 there). Records each disagreement
/// with the case's name and the path; returns how many comparisons ran.
@discardableResult
func checkEveryPath(_ cases: [Checked]) throws -> Int {
  var comparisons = 0
  func expectClose(_ got: [Tensor], _ c: Checked, tolerance: Float, _ path: String) {
    comparisons += 1
    let problem = DifferentialRunner.compare(got, c.reference, tolerance: tolerance)
    #expect(problem == nil, "\(c.name), \(path): \(problem ?? "")")
  }
  for c in cases {
    expectClose(try Interpreter(graph: c.graph).run(c.inputs), c, tolerance: c.tolerance, "interpreter -O0")
    expectClose(try Interpreter(graph: try optimized(c.graph)).run(c.inputs), c, tolerance: c.tolerance, "-O1")
  }
  let union = GraphUnion(cases.map(\.graph))
  let builds: [(Backend, Target, Bool)] =
    runnableTargets.map { (.c, $0, true) } + [(.c, .generic, false), (.swift, runnableTargets.last!, true)]
  for (backend, target, optimize) in builds {
    let graph = optimize ? try optimized(union.graph) : union.graph
    let dir = NSTemporaryDirectory() + "resnetc-difftest-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    switch backend {
    case .c:
      try Artifacts.build(graph, kind: .lib, output: dir + "/m", compiler: try CCompiler.locate(), target: target)
    case .swift:
      try Artifacts.buildSwift(
        graph, kind: .lib, output: dir + "/m", compiler: try SwiftCompiler.locate(), target: target)
    }
    let model = try NativeModel(libraryPath: dir + "/libm.so", weightsPath: dir + "/m.weights")
    let outputs = GraphUnion.split(try model.run(cases.flatMap(\.inputs)), counts: union.outputCounts)
    let winograd = try CProgram.winogradNodes(graph: graph, target: target)
    for (k, (c, got)) in zip(cases, outputs).enumerated() {
      let usesWinograd = winograd.contains { $0.hasPrefix(GraphUnion.prefix(k)) }
      expectClose(
        got, c, tolerance: max(c.tolerance, usesWinograd ? DifferentialRunner.winogradTolerance : 0),
        "\(backend.rawValue) \(target.rawValue) \(optimize ? "-O1" : "-O0")")
    }
  }
  return comparisons
}
