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
  @Test(arguments: runnableTargets)
  func hostileNamesCompileAndRunCorrectly(target: Target) throws {
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
    let graph = try b.finish(outputs: [output])
    let source = CProgram(graph: graph, headerName: "m.h", target: target).source
    // In comments the name is defused; in the profile table it is an escaped string literal.
    #expect(source.contains("* / int x; / *") && source.contains("\"*/ int x; /*'\""))
    #expect(try nativeError(graph, target: target) <= 1e-5)
  }
}
