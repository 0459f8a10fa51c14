import GraphIR
import Models
import Passes
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

  /// The integer peak loop verifies for each vector width; an int vector's bits read as quads
  /// must come from an int vector.
  @Test func theIntegerPeakLoopVerifiesAndQuadBitsTakeIntVectors() throws {
    for width in [8, 16] {
      let kernel = try #require(PeakKernel.integerKernel(width: width))
      #expect(throws: Never.self) { try KernelVerifier.verify(kernel) }
    }
    #expect(PeakKernel.integerKernel(width: 0) == nil)
    let floats = Kernel(
      parameters: Self.buffers, vectorWidth: 4,
      body: [.define("q", .quadBits(.vectorLoad("x", 0)), mutable: false)])
    #expect(throws: KernelError.type("the bits of a vector as quads")) { try KernelVerifier.verify(floats) }
  }

  /// Int vectors add and subtract (the integer Winograd kernel's transform), never multiply,
  /// and store into int32 buffers only; the C printer spells them plainly, the Swift one with
  /// its wrapping operators (it has no checked vector arithmetic).
  @Test func intVectorsAddSubtractAndStoreIntoInt32Buffers() throws {
    let buffers = [
      KernelParameter(name: "m", elements: 8, writable: false, element: .int32),
      KernelParameter(name: "s", elements: 8, writable: true, element: .int32),
      KernelParameter(name: "y", elements: 8, writable: true),
    ]
    let a = Expr.intVectorLoad("m", 0)
    func kernel(_ value: Expr, into buffer: String = "s") -> Kernel {
      Kernel(parameters: buffers, vectorWidth: 8, body: [.vectorStore(buffer, 0, value, aligned: true)])
    }
    #expect(throws: Never.self) { try KernelVerifier.verify(kernel(a + a - a)) }
    #expect(throws: KernelError.type("intVector * intVector")) { try KernelVerifier.verify(kernel(a * a)) }
    #expect(throws: KernelError.type("s is not a buffer of float elements")) {
      try KernelVerifier.verify(kernel(.convert(a, .vector)))
    }
    #expect(throws: KernelError.type("y is not a buffer of int32 elements")) {
      try KernelVerifier.verify(kernel(a, into: "y"))
    }
    var c = CWriter()
    CKernelPrinter().print(kernel(a - a), &c)
    #expect(c.text.contains("*(vi *)(s + 0L) = *(const vi *)(m + 0L) - *(const vi *)(m + 0L);"), "\(c.text)")
    var swift = CWriter()
    SwiftKernelPrinter().print(kernel(a - a), &swift)
    #expect(swift.text.contains("istore(iload(m, 0) &- iload(m, 0), s, 0)"), "\(swift.text)")
  }

  /// A saturating byte store takes a vector of floats and a float to add into a byte buffer;
  /// C calls the target's `store_bytes_rounded` (`cvtps2dq`, add, saturating packs), Swift
  /// its clamping helper.
  @Test func saturatingByteStoresTakeFloatVectorsIntoBytes() throws {
    let buffers = [
      KernelParameter(name: "x", elements: 8, writable: false),
      KernelParameter(name: "b", elements: 8, writable: true, element: .byte),
      KernelParameter(name: "y", elements: 8, writable: true),
    ]
    func kernel(_ value: Expr, into buffer: String = "b", plus: Expr = .float(3)) -> Kernel {
      Kernel(parameters: buffers, vectorWidth: 8, body: [.saturatingByteStore(buffer, 0, value, plus: plus)])
    }
    let x = Expr.vectorLoad("x", 0)
    #expect(throws: Never.self) { try KernelVerifier.verify(kernel(x)) }
    #expect(throws: KernelError.type("a saturating byte store of a intVector plus a float")) {
      try KernelVerifier.verify(kernel(.convert(x, .intVector)))
    }
    #expect(throws: KernelError.type("a saturating byte store of a vector plus a index")) {
      try KernelVerifier.verify(kernel(x, plus: .int(3)))
    }
    #expect(throws: KernelError.type("y is not a buffer of byte elements")) {
      try KernelVerifier.verify(kernel(x, into: "y"))
    }
    // Vectors round half to even lane by lane (C: the target's `round_v`); int vectors do not.
    #expect(throws: Never.self) { try KernelVerifier.verify(kernel(.roundEven(x))) }
    #expect(throws: KernelError.type("a float function of a intVector")) {
      try KernelVerifier.verify(kernel(.roundEven(.convert(x, .intVector))))
    }
    var c = CWriter()
    CKernelPrinter().print(kernel(x), &c)
    CKernelPrinter().print(kernel(.roundEven(x)), &c)
    #expect(c.text.contains("store_bytes_rounded(b + 0L, *(const vf *)(x + 0L), (int)(3.0f));"), "\(c.text)")
    #expect(c.text.contains("store_bytes_rounded(b + 0L, round_v(*(const vf *)(x + 0L)), (int)(3.0f));"), "\(c.text)")
    var swift = CWriter()
    SwiftKernelPrinter().print(kernel(x), &swift)
    #expect(swift.text.contains("vstoreBytesRounded(vload(x, 0), Float(3.0), b, 0)"), "\(swift.text)")
  }

  /// Bytes widen into int16 less a whole number, and copy into bytes; either needs its
  /// buffers' kinds and bounds. C calls `widen_bytes` (vpmovzxbw, vpsubw) and memcpy of the
  /// target's element size.
  @Test func bytesWidenIntoInt16AndCopyIntoBytes() throws {
    let buffers = [
      KernelParameter(name: "x", elements: 64, writable: false, element: .byte),
      KernelParameter(name: "f", elements: 64, writable: false),
      KernelParameter(name: "h", elements: 64, writable: true, element: .int16),
      KernelParameter(name: "b", elements: 64, writable: true, element: .byte),
    ]
    func kernel(_ statement: Stmt) -> Kernel { Kernel(parameters: buffers, vectorWidth: 8, body: [statement]) }
    let widen = Stmt.widenBytes(target: "h", at: 16, source: "x", from: 8, count: 48, minus: .float(120))
    #expect(throws: Never.self) { try KernelVerifier.verify(kernel(widen)) }
    #expect(throws: KernelError.type("f is not a buffer of byte elements")) {
      try KernelVerifier.verify(
        kernel(.widenBytes(target: "h", at: 0, source: "f", from: 0, count: 8, minus: .float(0))))
    }
    #expect(throws: KernelError.outOfBounds(buffer: "h", lowest: 24, highest: 71, elements: 64)) {
      try KernelVerifier.verify(
        kernel(.widenBytes(target: "h", at: 24, source: "x", from: 0, count: 48, minus: .float(0))))
    }
    let copy = Stmt.copy(target: "b", at: 0, source: "x", from: 8, count: 56)
    #expect(throws: Never.self) { try KernelVerifier.verify(kernel(copy)) }
    #expect(throws: KernelError.type("f is not a buffer of byte elements")) {
      try KernelVerifier.verify(kernel(.copy(target: "b", at: 0, source: "f", from: 0, count: 8)))
    }
    var c = CWriter()
    CKernelPrinter().print(kernel(widen), &c)
    CKernelPrinter().print(kernel(copy), &c)
    #expect(c.text.contains("widen_bytes(h + 16L, x + 8L, 48L, (int)(120.0f));"), "\(c.text)")
    #expect(c.text.contains("memcpy(b + 0L, x + 8L, sizeof b[0] * 56L);"), "\(c.text)")
    var swift = CWriter()
    SwiftKernelPrinter().print(kernel(widen), &swift)
    #expect(swift.text.contains("widenBytes(h + 16, x + 8, 48, Float(120.0))"), "\(swift.text)")
  }

  /// A split of byte pairs covers its blocks of pixels, and its counts and entries hold one
  /// entry for every quad of a pixel; the rests' products read a pixel the split covered and
  /// the weights of every quad and accumulator.
  @Test func splitBytePairsAndTheirRestsStayInTheirBuffers() throws {
    // 2 blocks of 6 pixels of 8 bytes: 4 quads a pixel.
    let buffers = [
      KernelParameter(name: "w", elements: 4 * 32 + 64, writable: false, element: .byte),
      KernelParameter(name: "x", elements: 96, writable: true, element: .byte),
      KernelParameter(name: "c", elements: 6, writable: true, element: .int32),
      KernelParameter(name: "e", elements: 48, writable: true, element: .int32),
    ]
    let split = Stmt.splitBytePairs(buffer: "x", pixels: 6, blocks: 2, width: 8, counts: "c", entries: "e", bound: 258)
    func rests(pixel: Expr, accumulators: Int = 2, quadStride: Int = 32) -> Kernel {
      let sums: [Stmt] = (0..<accumulators).map {
        .define("s\($0)", .convert(.splat(.float(0)), .intVector), mutable: true)
      }
      let add = Stmt.addPairRests(
        accumulators: (0..<accumulators).map { "s\($0)" }, counts: "c", entries: "e", pixels: 6, quads: 4,
        pixel: pixel, weights: "w", at: 0, quadStride: quadStride, accumulatorStride: 64)
      return Kernel(parameters: buffers, vectorWidth: 8, body: [split, .loop("p", 0, 6, sums + [add])])
    }
    #expect(throws: Never.self) { try KernelVerifier.verify(rests(pixel: index("p"))) }
    #expect(throws: KernelError.outOfBounds(buffer: "c", lowest: 1, highest: 6, elements: 6)) {
      try KernelVerifier.verify(rests(pixel: index("p") + 1))
    }
    // Quad 3 of accumulator 1 reads w[3 · 33 + 64 ..< +32]: past the 192 bytes.
    #expect(throws: KernelError.outOfBounds(buffer: "w", lowest: 0, highest: 194, elements: 192)) {
      try KernelVerifier.verify(rests(pixel: index("p"), quadStride: 33))
    }
    let tooFew = Kernel(
      parameters: buffers.map {
        $0.name == "e" ? KernelParameter(name: "e", elements: 47, writable: true, element: .int32) : $0
      },
      vectorWidth: 8, body: [split])
    #expect(throws: KernelError.outOfBounds(buffer: "e", lowest: 0, highest: 47, elements: 47)) {
      try KernelVerifier.verify(tooFew)
    }
    #expect(throws: KernelError.self) {
      try KernelVerifier.verify(
        Kernel(
          parameters: buffers, vectorWidth: 8,
          body: [.splitBytePairs(buffer: "x", pixels: 6, blocks: 2, width: 8, counts: "c", entries: "e", bound: 250)]))
    }
    var c = CWriter()
    CKernelPrinter().print(rests(pixel: index("p")), &c)
    #expect(c.text.contains("split_byte_pairs(x, c, e, 6L, 2L, 8, 258);"), "\(c.text)")
    #expect(c.text.contains("s1 = quad_madd_v(s1, a_, *(const vq *)(w + w_ + 64L));"), "\(c.text)")
    var swift = CWriter()
    SwiftKernelPrinter().print(rests(pixel: index("p")), &swift)
    #expect(swift.text.contains("splitBytePairs(x, c, e, 6, 2, 8, 258)"), "\(swift.text)")
    #expect(swift.text.contains("s0 = vdpbusd(s0, a_, qload(w, w_))"), "\(swift.text)")
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

  /// Every kernel of the built-in models, for every target and both languages' plans (direct
  /// convolutions with tested edges or padded rows, stems, Winograd, pools, dense, reorders),
  /// verifies.
  @Test(arguments: ["resnet18", "resnet50-v1.5", "resnet20", "plain20"], Target.allCases)
  func everyKernelOfTheBuiltInModelsVerifies(_ name: String, _ target: Target) throws {
    var graph = try ResNet.build(try ResNetSpec(name: name))
    try PassManager(passes: Pipeline.default).run(&graph)
    let lowered = try LoweredProgram(graph: graph, target: target)
    for language in [KernelLanguage.c, .swift] {
      for step in lowered.steps {
        let kernel = lowered.kernel(of: step, in: language)
        #expect(throws: Never.self, "\(step.label) (\(language))") { try KernelVerifier.verify(kernel) }
      }
    }
  }

  /// A branch narrows its condition's variables: inside `then` where it holds, in `else` where
  /// it fails.
  @Test func aBranchNarrowsBothWays() throws {
    func kernel(_ guardIt: Bool) -> Kernel {
      let i = index("i")
      let body: [Stmt] = [
        .define("i", index("p") - 1, mutable: false),
        guardIt
          ? .branch(i < 0, [.store("y", i + 1, .float(0))], else: [.storeAccumulate("y", i, .load("x", i))])
          : .storeAccumulate("y", i, .load("x", i)),
        .branch(.all([i >= 0, i < 6]), [.store("y", i + 6, .float(1))], else: []),
      ]
      return Kernel(parameters: Self.buffers, body: [.loop("p", 0, 13, body)])
    }
    #expect(throws: Never.self) { try KernelVerifier.verify(kernel(true)) }
    #expect(throws: KernelError.outOfBounds(buffer: "x", lowest: -1, highest: 11, elements: 12)) {
      try KernelVerifier.verify(kernel(false))
    }
  }

  /// A vector load reads a whole vector: one that starts inside but ends past the buffer is
  /// refused, and the parallel loop bounds its variable by its count.
  @Test func aVectorLoadMustFitWhole() {
    func kernel(items: Int) -> Kernel {
      Kernel(
        parameters: Self.buffers, vectorWidth: 4,
        body: [
          .parallel(
            "i", items, [.vectorStore("y", index("i") * 4, .vectorLoad("x", index("i") * 4 + 2), aligned: false)])
        ])
    }
    #expect(throws: Never.self) { try KernelVerifier.verify(kernel(items: 2)) }
    #expect(throws: KernelError.outOfBounds(buffer: "x", lowest: 2, highest: 13, elements: 12)) {
      try KernelVerifier.verify(kernel(items: 3))
    }
  }
}

/// Lowering takes only verified graphs: a graph that is not well formed is a typed error
/// naming the node at fault, never a crash or an empty kernel.
@Suite struct LoweringErrorTests {
  @Test func anUnverifiedGraphIsATypedError() throws {
    var b = GraphBuilder(name: "g")
    let x = try b.input("x", TensorType([1, 16, 4, 4]))
    let y = try b.node("r", .relu, [x])
    var graph = try b.finish(outputs: [y])
    graph.nodes[0].type = TensorType([1, 16, 4, 5])
    let expected = LoweringError.invalidGraph(
      .typeMismatch(node: "r", declared: TensorType([1, 16, 4, 5]), inferred: TensorType([1, 16, 4, 4])))
    for target in Target.allCases {
      #expect(throws: expected) { try CProgram(graph: graph, headerName: "m.h", target: target) }
      #expect(throws: expected) { try SwiftProgram(graph: graph, target: target) }
    }
    #expect("\(expected)".contains("r"))
  }
}
