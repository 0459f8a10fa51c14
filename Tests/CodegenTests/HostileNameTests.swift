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
    let source = CProgram(graph: graph, headerName: "m.h", target: target).source
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
    let sources = SwiftProgram(graph: graph, target: .avx512).modelSources.map(\.text).joined()
    let inputName = graph.inputs[0].name
    #expect(sources.contains(SwiftProgram.stringLiteral(inputName)) && !sources.contains("\"\(inputName)\""))
    #expect(SwiftProgram.stringLiteral("a\"\\\n\u{0}ü") == #""a\"\\\u{a}\u{0}\u{fc}""#)
    for target in runnableTargets {
      #expect(try nativeError(graph, target: target, backend: .swift) <= 1e-5, "\(target)")
      #expect(try nativeError(try Self.hostileGraph(), target: target, backend: .swift) <= 1e-5, "\(target)")
    }
  }
}
