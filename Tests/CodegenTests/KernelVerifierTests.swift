import GraphIR
import Testing

@testable import Codegen

/// The kernel verifier proves every access inside its buffer, or refuses the kernel.
@Suite struct KernelVerifierTests {
  static let buffers = [
    KernelParameter(name: "x", elements: 12, writable: false), KernelParameter(name: "y", elements: 12, writable: true),
  ]

  @Test func aKernelThatReadsOnePastItsBufferIsRefused() {
    let good = Kernel(
      parameters: Self.buffers, body: [.loop("i", 0, 12, [.store("y", index("i"), .load("x", index("i")))])])
    #expect(throws: Never.self) { try KernelVerifier.verify(good) }
    let bad = Kernel(
      parameters: Self.buffers, body: [.loop("i", 0, 12, [.store("y", index("i"), .load("x", index("i") + 1))])])
    #expect(throws: KernelError.outOfBounds(buffer: "x", lowest: 1, highest: 12, elements: 12)) {
      try KernelVerifier.verify(bad)
    }
  }

  @Test func typesMustAgree() {
    let mixed = Kernel(parameters: Self.buffers, body: [.store("y", 0, .load("x", 0) + .double(1))])
    #expect(throws: KernelError.self) { try KernelVerifier.verify(mixed) }
    let readOnly = Kernel(parameters: Self.buffers, body: [.store("x", 0, .float(1))])
    #expect(throws: KernelError.type("x is not writable")) { try KernelVerifier.verify(readOnly) }
  }

  /// A skip narrows what follows: `ih` in -1...12 is read only where it is in 0..<12.
  @Test func aSkipNarrowsTheRangeAfterIt() {
    func kernel(_ guardIt: Bool) -> Kernel {
      var body: [Stmt] = [.define("ih", index("p") - 1, mutable: false)]
      if guardIt { body.append(.skip(.any([index("ih") < 0, index("ih") >= 12]))) }
      body.append(.storeAccumulate("y", 0, .load("x", index("ih"))))
      return Kernel(parameters: Self.buffers, body: [.loop("p", 0, 14, body)])
    }
    #expect(throws: Never.self) { try KernelVerifier.verify(kernel(true)) }
    #expect(throws: KernelError.outOfBounds(buffer: "x", lowest: -1, highest: 12, elements: 12)) {
      try KernelVerifier.verify(kernel(false))
    }
  }

  /// A mutable index cannot be bounded, so it cannot index a buffer.
  @Test func aMutableIndexCannotIndex() {
    let counter = Kernel(
      parameters: Self.buffers,
      body: [
        .define("o", 0, mutable: true), .loop("i", 0, 12, [.store("y", index("o"), .float(0)), .accumulate("o", 1)]),
      ])
    #expect(throws: KernelError.unbounded(buffer: "y")) { try KernelVerifier.verify(counter) }
  }

  /// The plain kernel of every op and attribute case verifies.
  @Test(arguments: NativeKernelTests.cases)
  func everyPlainKernelVerifies(_ c: NativeKernelTests.Case) throws {
    let graph = try oneOp(c.op, input: c.input, constants: c.constants, inputs: c.inputs)
    let node = graph.nodes[0]
    let types = node.operands.map { graph.type(of: $0, in: graph.valueTypes)! }
    try KernelVerifier.verify(PlainKernel(node: node, operandTypes: types).kernel)
  }
}
