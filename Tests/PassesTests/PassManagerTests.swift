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
  /// Leaves a dangling reference: the verifier must catch it.
  let broken = Pass(name: "broken", summary: "") { graph, report in
    graph.nodes.removeFirst()
    report.count("nodes broken")
  }

  @Test func verifierNamesThePassThatBrokeTheGraph() throws {
    var g = try twoRelus()
    #expect(throws: PassError.brokeGraph(pass: "broken", .undefinedValue(node: "r2", operand: "r1"))) {
      try PassManager(passes: [broken], verifyAfterEachPass: true).run(&g)
    }
  }

  @Test func verificationCanBeOff() throws {
    var g = try twoRelus()
    let reports = try PassManager(passes: [broken], verifyAfterEachPass: false).run(&g)
    #expect(g.nodes.count == 1)
    #expect(reports.map(\.summary) == ["broken: 1 nodes broken"])
  }

  @Test func verifiesByDefaultInDebugBuilds() {
    #if DEBUG
      #expect(PassManager.verifiesByDefault)
    #else
      #expect(!PassManager.verifiesByDefault)
    #endif
  }

  @Test func levelsAndNamedSelections() throws {
    #expect(PassManager.pipeline(.o0).passes.isEmpty)
    #expect(
      PassManager.pipeline(.o1).passes.map(\.name) == [
        "fuse-quantized", "fold-constants", "remove-identities", "fold-pad", "fold-batchnorm", "fold-input-scale",
        "fuse-shortcut-add",
        "fuse-relu", "eliminate-dead-nodes",
      ])
    #expect(
      try PassManager.named(["fuse-relu", "fold-batchnorm"]).passes.map(\.name) == ["fuse-relu", "fold-batchnorm"])
    #expect(throws: PassSelectionError.unknownPass("fuse-gelu", known: Pipeline.all.map(\.name))) {
      try PassManager.named(["fuse-gelu"])
    }
  }

  @Test func afterHookSeesEachPassInOrder() throws {
    var g = try twoRelus()
    var seen: [String] = []
    try PassManager(passes: Pipeline.default, verifyAfterEachPass: true).run(&g) { name, _ in seen.append(name) }
    #expect(seen == Pipeline.default.map(\.name))
  }

  @Test func reportsSummarize() {
    var report = PassReport(pass: "p")
    #expect(report.summary == "p: no change" && !report.changed)
    report.count("folded")
    report.count("folded")
    report.count("kept")
    report.remark("n", "why")
    #expect(report.summary == "p: 2 folded, 1 kept" && report.changed)
    #expect(report.remarks.map(\.text) == ["why"])
  }
}
