import Testing

@testable import GraphIR

/// Parses text whose constants get deterministic made-up data.
func parseWithFakeData(_ text: String) throws -> Graph {
  try IRParser.parse(text) { _, type in (0..<type.elementCount).map { Float($0 % 7) * 0.25 } }
}

@Suite struct IRTextTests {
  @Test func printsTheDocumentedForm() {
    let text = IRPrinter.print(smallGraph())
    #expect(
      text == """
        graph @small(%x: f32[1,4,8,8]) -> (f32[1,8,8,8]) {
          const @w: f32[8,4,3,3]
          const @b: f32[8]
          %c = conv2d(%x, @w, @b) {stride=[1,1], pad=[1,1,1,1], dilation=[1,1], groups=1, epilogue=none} : f32[1,8,8,8]
          %r = relu(%c) : f32[1,8,8,8]
          return %r
        }

        """)
  }

  @Test func roundTripsWithData() throws {
    let g = smallGraph()
    let parsed = try IRParser.parse(IRPrinter.print(g)) { name, _ in g.constants[name]!.data }
    #expect(parsed == g)
  }

  @Test func everyOpAndAttributeRoundTrips() throws {
    var b = GraphBuilder(name: "all-ops")
    let x = try b.input("x", TensorType([2, 4, 9, 9]))
    let w = try b.constant("w", TensorType([4, 2, 3, 3]), Array(repeating: 0.1, count: 72))
    let c = try b.node(
      "c",
      .conv2d(
        Conv2dAttributes(
          stride: Size2d(1, 2), padding: Padding2d(top: 1, left: 2, bottom: 0, right: 1), dilation: Size2d(1, 1),
          groups: 2, epilogue: .relu)), [x, w])
    let bias = try b.constant("bias", TensorType([4]), [0.5, -0.5, 1, 2])
    let r = try b.node(
      "res", .conv2d(Conv2dAttributes(padding: .uniform(1), epilogue: .addReLU)),
      [x, try b.constant("w2", TensorType([4, 4, 3, 3]), Array(repeating: 0.01, count: 144)), bias, x])
    let stats = try (0..<4).map { i in try b.constant("bn\(i)", TensorType([4]), [1, 2, 3, 4]) }
    let n = try b.node("bn", .batchNorm(epsilon: 1.0e-3), [r] + stats)
    let m = try b.node(
      "mp",
      .maxPool2d(
        Pool2dAttributes(
          kernel: .square(3), stride: .square(2), padding: .uniform(1), dilation: .square(1), ceilMode: true)), [n])
    let a = try b.node(
      "ap", .avgPool2d(Pool2dAttributes(kernel: Size2d(2, 3), stride: .square(1)), countIncludePad: true), [m])
    let s = try b.node("ss", .subsample2d(stride: .square(2)), [a])
    let p = try b.node("pc", .padChannels(before: 2, after: 1), [s])
    let gp = try b.node("gap", .globalAvgPool, [p])
    let f = try b.node("flat", .flatten(axis: 1), [gp])
    let d = try b.node("fc", .dense, [f, try b.constant("fcw", TensorType([3, 7]), Array(repeating: 1, count: 21))])
    let sm = try b.node("sm", .softmax(axis: 1), [d])
    let sum = try b.node("sum", .add, [c, c])
    let g = try b.finish(outputs: [sm, sum])
    let text = IRPrinter.print(g)
    let parsed = try IRParser.parse(text) { name, _ in g.constants[name]!.data }
    #expect(parsed == g)
    #expect(IRPrinter.print(parsed) == text)
  }

  @Test func hostileNamesRoundTrip() throws {
    let names = [
      "*/ evil", "quote\"d", "back\\slash", "new\nline", "#include <stdio.h>", "int", "main", "", "ünï-cödé",
      "tab\there", "nul\u{0}x", "%@{}",
    ]
    var b = GraphBuilder(name: "weird \"model\"")
    var x = try b.input(names[0], TensorType([1, 2]))
    for name in names.dropFirst() { x = try b.node(name, .relu, [x]) }
    let g = try b.finish(outputs: [x])
    let text = IRPrinter.print(g)
    #expect(!text.contains("\n  %new\nline"))
    #expect(try parseWithFakeData(text) == g)
  }

  @Test func epsilonSurvivesExactly() throws {
    for epsilon: Float in [1e-5, 0.001, 1.0000001e-5, 3.4e-38] {
      let text = """
        graph @g(%x: f32[1,2]) -> (f32[1,2]) {
          const @s: f32[2]
          %y = batch_norm(%x, @s, @s, @s, @s) {epsilon=\(epsilon)} : f32[1,2]
          return %y
        }
        """
      let g = try parseWithFakeData(text)
      #expect(g.nodes[0].op == .batchNorm(epsilon: epsilon))
    }
  }

  @Test func defaultsApplyToOmittedAttributes() throws {
    let g = try parseWithFakeData(
      """
      // a comment
      graph @g(%x: f32[1,1,4,4]) -> (f32[1,1,4,4]) {
        const @w: f32[1,1,3,3]
        %y = conv2d(%x, @w) {pad=[1,1,1,1]} : f32[1,1,4,4]  // trailing comment
        return %y
      }
      """)
    #expect(g.nodes[0].op == .conv2d(Conv2dAttributes(padding: .uniform(1))))
  }

  /// Parses `body` inside a one-input graph and returns the error.
  func parseError(_ body: String, header: String = "graph @g(%x: f32[1,1,4,4]) -> (f32[1,1,4,4]) {") -> IRParseError? {
    do {
      _ = try parseWithFakeData(header + "\n" + body + "\n}\n")
      return nil
    } catch {
      return error as? IRParseError
    }
  }

  @Test func syntaxErrorsCarryLocation() {
    let e = parseError("  %y = relu(%x) : f32[1,1,4,4]\n  return %y,")
    #expect(e?.location == SourceLocation(line: 4, column: 1))
    #expect(e?.kind == .expected("a value (%name)", found: "'}'"))
  }

  @Test func unknownOp() {
    #expect(parseError("  %y = gelu(%x) : f32[1,1,4,4]\n  return %y")?.kind == .unknownOp("gelu"))
  }

  @Test func unknownAttribute() {
    let e = parseError("  %y = relu(%x) {alpha=1} : f32[1,1,4,4]\n  return %y")
    #expect(e?.kind == .unknownAttribute(op: "relu", name: "alpha"))
    #expect(e?.location == SourceLocation(line: 2, column: 8))
  }

  @Test func duplicateAttribute() {
    let e = parseError("  %y = flatten(%x) {axis=1, axis=2} : f32[1,16]\n  return %y")
    #expect(e?.kind == .duplicateAttribute(op: "flatten", name: "axis"))
  }

  @Test func missingRequiredAttribute() {
    let e = parseError("  %y = max_pool2d(%x) {stride=[1,1]} : f32[1,1,4,4]\n  return %y")
    #expect(e?.kind == .missingAttribute(op: "max_pool2d", name: "kernel"))
  }

  @Test func badAttributeValue() {
    let e = parseError("  %y = subsample2d(%x) {stride=[2]} : f32[1,1,2,2]\n  return %y")
    #expect(e?.kind == .badAttribute(op: "subsample2d", name: "stride", expected: "a list of 2 integers", found: "[2]"))
    let f = parseError("  const @w: f32[1,1,1,1]\n  %y = conv2d(%x, @w) {epilogue=gelu} : f32[1,1,4,4]\n  return %y")
    #expect(
      f?.kind == .badAttribute(op: "conv2d", name: "epilogue", expected: "none, relu, add, add_relu", found: "gelu"))
  }

  @Test func unsupportedDType() {
    let e = parseError("  return %x", header: "graph @g(%x: f16[1]) -> (f16[1]) {")
    #expect(e?.kind == .unsupportedDType("f16"))
  }

  @Test func unterminatedQuotedName() {
    #expect(parseError("  %\"abc = relu(%x) : f32[1,1,4,4]\n  return %y")?.kind == .unterminatedName)
  }

  @Test func hugeNumber() {
    let e = parseError("  return %x", header: "graph @g(%x: f32[99999999999999999999]) -> (f32[1]) {")
    #expect(e?.kind == .invalidNumber("99999999999999999999"))
  }

  @Test func verifierErrorsPointAtTheNode() {
    let e = parseError("  %y = relu(%x) : f32[1,1,4,4]\n  %z = add(%y, %nope) : f32[1,1,4,4]\n  return %z")
    #expect(e?.kind == .invalidGraph(.undefinedValue(node: "z", operand: "nope")))
    #expect(e?.location.line == 3)
  }

  @Test func headerOutputTypesMustMatch() {
    let e = parseError("  return %x", header: "graph @g(%x: f32[1,1,4,4]) -> (f32[1,1,4,5]) {")
    #expect(e?.kind == .outputTypes(declared: [TensorType([1, 1, 4, 5])], actual: [TensorType([1, 1, 4, 4])]))
  }

  @Test func trailingTextIsAnError() {
    #expect(throws: IRParseError.self) {
      try parseWithFakeData("graph @g(%x: f32[1]) -> (f32[1]) {\n  return %x\n}\nextra")
    }
  }

  @Test func deepGraphParsesWithoutRecursion() throws {
    var text = "graph @deep(%v0: f32[1,2]) -> (f32[1,2]) {\n"
    for i in 1...20_000 { text += "  %v\(i) = relu(%v\(i - 1)) : f32[1,2]\n" }
    text += "  return %v20000\n}\n"
    let g = try parseWithFakeData(text)
    #expect(g.nodes.count == 20_000)
    #expect(IRPrinter.print(g) == text)
  }
}
