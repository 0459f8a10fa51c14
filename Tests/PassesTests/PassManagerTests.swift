import GraphIR
import Testing

@testable import Passes

/// `x -> relu -> relu`, for passes to rewrite.
func twoRelus() throws -> Graph {
  var b = GraphBuilder(name: "g")
  let x = try b.input("x", TensorType([1, 4]))
  let r1 = try b.node("r1", .relu, [x])
  let r2 = try b.node("r2", .relu, [r1])
  return try b.finish(outputs: [r2])
}

@Suite struct PassManagerTests {
  /// `relu(relu(x)) -> relu(x)`: a small real rewrite to drive the manager with.
  let dropDoubleRelu = Pass(name: "drop-double-relu") { graph in
    guard
      let index = graph.nodes.firstIndex(where: { node in
        guard node.op == .relu, case .value(let input) = node.operands[0] else { return false }
        return graph.nodes.contains { $0.name == input && $0.op == .relu }
      })
    else { return false }
    let node = graph.nodes.remove(at: index)
    let replacement = node.operands[0]
    for i in graph.nodes.indices {
      graph.nodes[i].operands = graph.nodes[i].operands.map { $0 == .value(node.name) ? replacement : $0 }
    }
    graph.outputs = graph.outputs.map { $0 == node.name ? replacement.name : $0 }
    return true
  }

  /// Leaves a dangling reference: the verifier must catch it.
  let broken = Pass(name: "broken") { graph in
    graph.nodes.removeFirst()
    return true
  }

  @Test func runsPassesAndReportsWhichChanged() throws {
    var g = try twoRelus()
    let changed = try PassManager(passes: [dropDoubleRelu, dropDoubleRelu], verifyAfterEachPass: true).run(&g)
    #expect(changed == ["drop-double-relu"])
    #expect(g.nodes.map(\.name) == ["r1"])
    #expect(g.outputs == ["r1"])
  }

  @Test func verifierNamesThePassThatBrokeTheGraph() throws {
    var g = try twoRelus()
    #expect(throws: PassError.brokeGraph(pass: "broken", .undefinedValue(node: "r2", operand: "r1"))) {
      try PassManager(passes: [broken], verifyAfterEachPass: true).run(&g)
    }
  }

  @Test func verificationCanBeOff() throws {
    var g = try twoRelus()
    try PassManager(passes: [broken], verifyAfterEachPass: false).run(&g)
    #expect(g.nodes.count == 1)
  }

  @Test func verifiesByDefaultInDebugBuilds() {
    #if DEBUG
      #expect(PassManager.verifiesByDefault)
    #else
      #expect(!PassManager.verifiesByDefault)
    #endif
  }

  @Test(arguments: OptimizationLevel.allCases)
  func pipelinesKeepGraphsValid(level: OptimizationLevel) throws {
    var g = try twoRelus()
    let before = g
    try PassManager.pipeline(level).run(&g)
    try Verifier.verify(g)
    // No pass is registered yet: both levels leave the graph as it was.
    #expect(g == before)
  }
}
