import GraphIR
import Testing

@testable import Codegen

@Suite struct HostileNameTests {
  static let names = [
    "*/ int x; /*", "quote\"d", "back\\slash", "new\nline", "#include <stdlib.h>", "int", "main", "return", "??/",
    "a b", "ünïcödé", "", "forward", "resnetc_run", "step0_x",
  ]

  /// A valid model whose graph, input, output, node and constant names are all hostile
  /// compiles warning-free (-Wall -Wextra -Werror) on every target and computes the
  /// interpreter's numbers.
  /// The model of `hostileNamesCompileAndRunCorrectly`.
  static func hostileGraph() throws -> Graph {
    var b = GraphBuilder(name: "*/ main \"model\" \\")
    var v = try b.input("int main(void) { return 1; }", TensorType([1, 16, 6, 6]))
    for (i, name) in Self.names.enumerated() {
      let w = try b.constant(name + "\(i).w\n*/", TensorType([16, 16, 3, 3]), values(2304, seed: UInt64(i)))
      let bias = try b.constant("\"" + name + "\(i).b", TensorType([16]), values(16, seed: UInt64(100 + i)))
      v = try b.node(
        name + String(repeating: "'", count: i + 1), .conv2d(Conv2dAttributes(padding: .uniform(1), epilogue: .relu)),
        [v, w, bias])
    }
    let pooled = try b.node("#define x */", .globalAvgPool, [v])
    let output = try b.node("\" ; exit(1); \"", .flatten(axis: 1), [pooled])
    return try b.finish(outputs: [output])
  }

  @Test(arguments: runnableTargets)
  func hostileNamesCompileAndRunCorrectly(target: Target) throws {
    let graph = try Self.hostileGraph()
    let source = try CProgram(graph: graph, headerName: "m.h", target: target).source
    // In comments the name is defused; in the profile table it is an escaped string literal.
    #expect(source.contains("* / int x; / *") && source.contains("\"*/ int x; /*'\""))
    #expect(try nativeError(graph, target: target) <= 1e-5)
  }

  /// The same model through the Swift backend (warning-free under -warnings-as-errors, the
  /// interpreter's numbers), with names that could end a Swift literal or start an
  /// interpolation or a nested comment; the C API returns the names unchanged.
  @Test func hostileNamesInSwift() throws {
    var b = GraphBuilder(name: "/* \\(exit(1)) \"\"\"")
    let x = try b.input("\\(fatalError()) \"\"\"#", TensorType([1, 16, 5, 5]))
    let w = try b.constant("/*", TensorType([16, 16, 3, 3]), values(2304, seed: 1))
    let y = try b.node("#\"\\u{0}\n/* ü", .conv2d(Conv2dAttributes(padding: .uniform(1), epilogue: .relu)), [x, w])
    let graph = try b.finish(outputs: [y])
    let sources = try SwiftProgram(graph: graph, target: .avx512).modelSources.map(\.text).joined()
    let inputName = graph.inputs[0].name
    #expect(sources.contains(SwiftProgram.stringLiteral(inputName)) && !sources.contains("\"\(inputName)\""))
    #expect(SwiftProgram.stringLiteral("a\"\\\n\u{0}ü") == #""a\"\\\u{a}\u{0}\u{fc}""#)
    for target in runnableTargets {
      #expect(try nativeError(graph, target: target, backend: .swift) <= 1e-5, "\(target)")
      #expect(try nativeError(try Self.hostileGraph(), target: target, backend: .swift) <= 1e-5, "\(target)")
    }
  }

  /// Names that spell the lowering's own buffers as text once did (`x@blocked`, `w@packed8`,
  /// `b@x`): buffers are typed, so these are ordinary names. The lowering used to give `x`'s
  /// blocked copy the user's value `x@blocked`, the packed `w` the user's `w@packed8`, and to
  /// crash on `b@x`, looking up a value `b`.
  static func markerGraph() throws -> Graph {
    var b = GraphBuilder(name: "m@blocked")
    let x = try b.input("x", TensorType([1, 16, 6, 6]))
    let conv = Conv2dAttributes(padding: .uniform(1))
    func weight(_ name: String, _ seed: UInt64) throws -> Operand {
      try b.constant(name, TensorType([16, 16, 3, 3]), values(2304, seed: seed))
    }
    let xb = try b.node("x@blocked", .conv2d(conv), [x, try weight("w@packed8", 1)])
    let a = try b.node("a", .conv2d(conv), [x, try weight("w", 2)])
    let ab = try b.node("a@blocked", .conv2d(conv), [xb, try weight("w@packed16", 3)])
    let sum = try b.node("b@x", .add, [a, ab])
    let dense = try b.node(
      "d@dense8", .dense,
      [
        try b.node("f", .flatten(axis: 1), [try b.node("g@winograd8", .globalAvgPool, [sum])]),
        try b.constant("v", TensorType([10, 16]), values(160, seed: 4)),
        try b.constant("v@padded8", TensorType([10]), values(10, seed: 5)),
      ])
    return try b.finish(outputs: [sum, xb, dense])
  }

  @Test(arguments: runnableTargets)
  func namesThatSpellInternalBuffersAreOrdinary(target: Target) throws {
    #expect(try nativeError(try Self.markerGraph(), target: target) <= 1e-5)
  }

  @Test func namesThatSpellInternalBuffersAreOrdinaryInSwift() throws {
    #expect(try nativeError(try Self.markerGraph(), target: runnableTargets.last!, backend: .swift) <= 1e-5)
  }
}
