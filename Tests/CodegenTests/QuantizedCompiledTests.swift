import Foundation
import GraphIR
import Runtime
import Testing

@testable import Codegen

/// Quantized convolutions and dense layers compiled by each backend for each target this CPU
/// runs give the interpreter's integers exactly: sums of integer products are exact in any
/// order, and the requantization is the interpreter's sequence of Float operations.
@Suite struct QuantizedCompiledTests {
  /// One chain `x -> quantize -> qconv2d -> qconv2d -> dequantize`: the first conv reads the
  /// quantized input as the graph lays it out, the second reads the first's output.
  struct Chain {
    let channels: [Int]  // input, after the first conv, after the second
    let size: (h: Int, w: Int)
    let first: Conv2dAttributes
    let firstKernel: Int
    let second: Conv2dAttributes
    let secondKernel: Int
    let activations: DType  // u8 or i8
    let perChannel: Bool
    let bias: Bool
    let weightZero: Int32
  }

  static let chains: [Chain] = [
    // A stem: 3 channels, 7x7 stride 2, then a 3x3 block conv.
    Chain(
      channels: [3, 16, 16], size: (23, 21), first: conv(stride: 2, pad: 3, relu: true), firstKernel: 7,
      second: conv(stride: 1, pad: 1, relu: false), secondKernel: 3, activations: .u8, perChannel: true, bias: true,
      weightZero: 0),
    // Block convs with ReLU, a 1x1 projection of stride 2, per-tensor weights.
    Chain(
      channels: [16, 32, 48], size: (9, 11), first: conv(stride: 1, pad: 1, relu: true), firstKernel: 3,
      second: conv(stride: 2, pad: 0, relu: false), secondKernel: 1, activations: .u8, perChannel: false, bias: false,
      weightZero: 0),
    // Signed activations, asymmetric padding, channels that are no multiple of a block.
    Chain(
      channels: [32, 24, 16],
      size: (8, 7),
      first: Conv2dAttributes(
        stride: .square(2), padding: Padding2d(top: 0, left: 1, bottom: 1, right: 0), epilogue: .none),
      firstKernel: 3, second: conv(stride: 1, pad: 2, relu: true), secondKernel: 5, activations: .i8, perChannel: true,
      bias: true, weightZero: 0),
    // Weights with a zero point, and a grouped conv.
    Chain(
      channels: [16, 16, 32], size: (6, 6), first: conv(stride: 1, pad: 1, relu: true), firstKernel: 3,
      second: Conv2dAttributes(stride: .square(1), padding: .zero, groups: 4, epilogue: .relu), secondKernel: 1,
      activations: .u8, perChannel: true, bias: true, weightZero: 3),
  ]

  /// The backend and target of a build argument such as "c avx512vnni".
  static func parse(_ build: String) -> (Backend, Target) {
    let words = build.split(separator: " ").map(String.init)
    return (Backend(rawValue: words[0])!, Target(rawValue: words[1])!)
  }

  /// `count` integers in `range` from a linear congruential sequence at `seed`.
  static func integers(_ count: Int, _ range: ClosedRange<Int32>, seed: inout UInt64) -> [Int32] {
    (0..<count).map { _ in
      seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return range.lowerBound + Int32((seed >> 33) % UInt64(range.upperBound - range.lowerBound + 1))
    }
  }

  /// `graph` compiled by `backend` for `target` gives the interpreter's outputs on `inputs`
  /// exactly, and the outputs are not all clipped (each holds more than 20 values).
  static func expectInterpretersIntegers(_ graph: Graph, _ inputs: [Tensor], target: Target, backend: Backend) throws {
    let want = try Interpreter(graph: graph).run(inputs)
    let got = try compiled(graph, target: target, backend: backend).run(inputs)
    for (i, (y, reference)) in zip(got, want).enumerated() {
      let differing = zip(y.data, reference.data).filter { $0 != $1 }.count
      #expect(y.type == reference.type && differing == 0, "output \(i): \(differing) of \(y.data.count) differ")
      #expect(Set(reference.data).count > 20, "output \(i) has only \(Set(reference.data).count) distinct values")
    }
  }

  static func conv(stride: Int, pad: Int, relu: Bool) -> Conv2dAttributes {
    Conv2dAttributes(
      stride: .square(stride), padding: Padding2d(top: pad, left: pad, bottom: pad, right: pad),
      epilogue: relu ? .relu : .none)
  }

  /// The chains side by side in one graph, each with its own input and output, their
  /// weights drawn from `weights` (their scales larger as its upper bound is smaller).
  static func graph(weights: ClosedRange<Int32> = -127...127) throws -> Graph {
    var constants = ConstantTable()
    var inputs: [GraphInput] = []
    var nodes: [Node] = []
    var outputs: [String] = []
    var seed: UInt64 = 11
    func integers(_ count: Int, _ range: ClosedRange<Int32>) -> [Int32] {
      Self.integers(count, range, seed: &seed)
    }
    for (i, chain) in chains.enumerated() {
      let p = "c\(i)."
      let zero: Int32 = chain.activations == .u8 ? 120 : -7
      constants.set(p + "s0", Tensor(type: TensorType([]), data: [0.02]))
      constants.set(p + "z", Tensor(type: TensorType([], dtype: chain.activations), integers: [zero]))
      var shape = [2, chain.channels[0], chain.size.h, chain.size.w]
      inputs.append(GraphInput(name: p + "x", type: TensorType(shape)))
      nodes.append(
        Node(
          name: p + "q", op: .quantize(axis: 1), operands: [.value(p + "x"), .constant(p + "s0"), .constant(p + "z")],
          type: TensorType(shape, dtype: chain.activations)))
      var previous = p + "q"
      for (j, (a, r)) in [(chain.first, chain.firstKernel), (chain.second, chain.secondKernel)].enumerated() {
        let (c, k) = (chain.channels[j] / a.groups, chain.channels[j + 1])
        let w = p + "w\(j)"
        constants.set(
          w, Tensor(type: TensorType([k, c, r, r], dtype: .i8), integers: integers(k * c * r * r, weights)))
        // Narrower weights, larger scales: the outputs spread as far.
        let spread = 127 / Float(weights.upperBound)
        let scales = (chain.perChannel ? (0..<k).map { Float(0.001) + Float($0 % 5) * 0.0007 } : [0.0015]).map {
          $0 * spread
        }
        constants.set(w + "s", Tensor(type: TensorType(chain.perChannel ? [k] : []), data: scales))
        constants.set(
          w + "z",
          Tensor(
            type: TensorType(chain.perChannel ? [k] : [], dtype: .i8),
            integers: [Int32](repeating: chain.weightZero, count: chain.perChannel ? k : 1)))
        constants.set(p + "s\(j + 1)", Tensor(type: TensorType([]), data: [j == 0 ? 0.05 : 0.08]))
        var operands: [Operand] = [.value(previous)]
        operands += [p + "s\(j)", p + "z", w, w + "s", w + "z", p + "s\(j + 1)", p + "z"].map { .constant($0) }
        if chain.bias {
          constants.set(w + "b", Tensor(type: TensorType([k], dtype: .i32), integers: integers(k, -3000...3000)))
          operands.append(.constant(w + "b"))
        }
        let h = (shape[2] + a.padding.top + a.padding.bottom - r) / a.stride.h + 1
        let wd = (shape[3] + a.padding.left + a.padding.right - r) / a.stride.w + 1
        shape = [2, k, h, wd]
        nodes.append(
          Node(
            name: p + "conv\(j)", op: .qconv2d(a), operands: operands, type: TensorType(shape, dtype: chain.activations)
          ))
        previous = p + "conv\(j)"
      }
      nodes.append(
        Node(
          name: p + "y", op: .dequantize(axis: 1),
          operands: [.value(previous), .constant(p + "s2"), .constant(p + "z")],
          type: TensorType(shape)))
      outputs.append(p + "y")
    }
    let graph = Graph(name: "qchains", inputs: inputs, constants: constants, nodes: nodes, outputs: outputs)
    try Verifier.verify(graph)
    return graph
  }

  /// Two residual ends as QDQ models spell them: `qconv2d -> dequantize -> add(dequantized
  /// shortcut) [-> relu] -> quantize`, the first with a ReLU and a shortcut dequantize that a
  /// graph output reads too, the second into i8 without one; the weights drawn from `weights` (scaled as in `graph`).
  static func residualGraph(weights: ClosedRange<Int32> = -127...127) throws -> Graph {
    var b = GraphBuilder(name: "residual")
    var seed: UInt64 = 3
    func integers(_ count: Int, _ range: ClosedRange<Int32>) -> [Int32] {
      Self.integers(count, range, seed: &seed)
    }
    let c = 16
    let x = try b.input("x", TensorType([2, c, 17, 19]))
    func quantize(_ name: String, _ v: Operand, _ s: Operand, _ z: Operand) throws -> Operand {
      try b.node(name, .quantize(axis: 1), [v, s, z])
    }
    func dequantize(_ name: String, _ v: Operand, _ s: Operand, _ z: Operand) throws -> Operand {
      try b.node(name, .dequantize(axis: 1), [v, s, z])
    }
    func conv(
      _ name: String, _ v: Operand, _ s: Operand, _ z: Operand, _ ys: Operand, _ yz: Operand, kernel: Int, relu: Bool
    ) throws -> Operand {
      let w = try b.constant(
        name + ".w",
        Tensor(
          type: TensorType([c, c, kernel, kernel], dtype: .i8), integers: integers(c * c * kernel * kernel, weights))
      )
      let spread = 127 / Float(weights.upperBound)
      let ws = try b.constant(name + ".ws", TensorType([c]), (0..<c).map { (0.002 + Float($0) * 0.0001) * spread })
      let wz = try b.constant(
        name + ".wz", Tensor(type: TensorType([c], dtype: .i8), integers: [Int32](repeating: 0, count: c)))
      let bias = try b.constant(
        name + ".b", Tensor(type: TensorType([c], dtype: .i32), integers: integers(c, -2000...2000)))
      let pad = kernel / 2
      let a = Conv2dAttributes(
        padding: Padding2d(top: pad, left: pad, bottom: pad, right: pad), epilogue: relu ? .relu : .none)
      return try b.node(name, .qconv2d(a), [v, s, z, w, ws, wz, ys, yz, bias])
    }
    let (s0, z0) = (try b.scalar("s0", 0.03), try b.zeroPoint("z0", 110, .u8))
    let q0 = try quantize("q0", x, s0, z0)
    let (s1, z1, s2, z2) = (
      try b.scalar("s1", 0.05), try b.zeroPoint("z1", 0, .u8), try b.scalar("s2", 0.06), try b.zeroPoint("z2", 128, .u8)
    )
    let a = try conv("a", q0, s0, z0, s1, z1, kernel: 3, relu: true)
    let c1 = try conv("b", a, s1, z1, s2, z2, kernel: 3, relu: false)
    let shortcut = try dequantize("q0.d", q0, s0, z0)
    let sum = try b.node("add1", .add, [try dequantize("b.d", c1, s2, z2), shortcut])
    let (s3, z3) = (try b.scalar("s3", 0.04), try b.zeroPoint("z3", 0, .u8))
    let r1 = try quantize("r1", try b.node("relu1", .relu, [sum]), s3, z3)
    let (s4, z4, s5, z5) = (
      try b.scalar("s4", 0.05), try b.zeroPoint("z4", 120, .u8), try b.scalar("s5", 0.07),
      try b.zeroPoint("z5", -3, .i8)
    )
    let c2 = try conv("c", r1, s3, z3, s4, z4, kernel: 1, relu: false)
    // This end dequantizes with another scale and zero point than the conv quantized with.
    let (s4d, z4d) = (try b.scalar("s4d", 0.045), try b.zeroPoint("z4d", 117, .u8))
    let sum2 = try b.node("add2", .add, [try dequantize("r1.d", r1, s3, z3), try dequantize("c.d", c2, s4d, z4d)])
    let r2 = try quantize("r2", sum2, s5, z5)
    let y = try dequantize("y", r2, s5, z5)
    return try b.finish(outputs: [y, shortcut])
  }

  @Test(arguments: builds)
  func residualEndsRunInTheConvStepAndEqualTheInterpreter(_ build: String) throws {
    let (backend, target) = Self.parse(build)
    let graph = try Self.residualGraph()
    let lowered = try LoweredProgram(graph: graph, target: target)
    let kernels = lowered.stepKernels
    let fused = kernels.filter { $0.hasSuffix("+residual") }.count
    #expect(fused == (target == .generic ? 0 : 2), "\(kernels)")
    // The first conv's output (read by the second) and the first residual end's (read by the
    // third conv and as the second end's shortcut) are bytes.
    let bytes = lowered.steps.filter { if case .quantized = $0.output { true } else { false } }.map(\.output.graphName)
    #expect(bytes == (target == .generic ? [] : ["a", "r1"]), "\(bytes)")
    let inputs = [
      Tensor(type: graph.inputs[0].type, data: values(graph.inputs[0].type.elementCount, seed: 9).map { $0 * 3 })
    ]
    try Self.expectInterpretersIntegers(graph, inputs, target: target, backend: backend)
  }

  /// A conv's integers through dequantize -> max_pool2d -> quantize: with the same scale and
  /// zero point on both sides (as QDQ models write a stem's pool) one step pools the integers;
  /// with another scale the three run as they are. Both give the interpreter's integers.
  @Test(arguments: builds)
  func quantizedMaxPoolsEqualTheInterpreter(_ build: String) throws {
    let (backend, target) = Self.parse(build)
    var b = GraphBuilder(name: "pool")
    let c = 16
    let x = try b.input("x", TensorType([2, 3, 47, 45]))
    var seed: UInt64 = 5
    func integers(_ count: Int) -> [Int32] { Self.integers(count, -127...127, seed: &seed) }
    func conv(_ name: String, _ v: Operand, channels: Int, kernel: Int, stride: Int, _ q: [Operand]) throws -> Operand {
      let w = try b.constant(
        name + ".w",
        Tensor(
          type: TensorType([c, channels, kernel, kernel], dtype: .i8),
          integers: integers(c * channels * kernel * kernel)))
      let ws = try b.constant(name + ".ws", TensorType([c]), (0..<c).map { 0.003 + Float($0) * 0.0002 })
      let wz = try b.constant(
        name + ".wz", Tensor(type: TensorType([c], dtype: .i8), integers: .init(repeating: 0, count: c)))
      let pad = kernel / 2
      let a = Conv2dAttributes(
        stride: .square(stride), padding: Padding2d(top: pad, left: pad, bottom: pad, right: pad), epilogue: .relu)
      return try b.node(name, .qconv2d(a), [v, q[0], q[1], w, ws, wz, q[2], q[3]])
    }
    let (s0, z0, s1, z1) = (
      try b.scalar("s0", 0.02), try b.zeroPoint("z0", 128), try b.scalar("s1", 0.05), try b.zeroPoint("z1", 3)
    )
    let stem = try conv(
      "stem", try b.node("q0", .quantize(axis: 1), [x, s0, z0]), channels: 3, kernel: 7, stride: 2, [s0, z0, s1, z1])
    let window = Pool2dAttributes(
      kernel: .square(3), stride: .square(2), padding: Padding2d(top: 1, left: 1, bottom: 1, right: 1))
    func pool(_ name: String, _ v: Operand, _ q: [Operand]) throws -> Operand {
      let dequantized = try b.node(name + ".d", .dequantize(axis: 1), [v, q[0], q[1]])
      return try b.node(
        name + ".q", .quantize(axis: 1), [try b.node(name, .maxPool2d(window), [dequantized]), q[2], q[3]])
    }
    // The same scale and zero point: one pool of the integers, here bytes in and out (u8).
    let pooled = try pool("p1", stem, [s1, z1, s1, z1])
    let (s2, z2) = (try b.scalar("s2", 0.04), try b.zeroPoint("z2", -5, .i8))
    let next = try conv("next", pooled, channels: c, kernel: 3, stride: 1, [s1, z1, s2, z2])
    // Bytes in, whole numbers in floats out (i8: the bytes' offset of 128 taken off).
    let pooled2 = try pool("p3", next, [s2, z2, s2, z2])
    // Another scale after the pool: dequantize, pool and quantize.
    let (s3, z3) = (try b.scalar("s3", 0.02), try b.zeroPoint("z3", 0))
    let requantized = try pool("p2", pooled2, [s2, z2, s3, z3])
    let y1 = try b.node("y1", .dequantize(axis: 1), [pooled2, s2, z2])
    let y2 = try b.node("y2", .dequantize(axis: 1), [requantized, s3, z3])
    let graph = try b.finish(outputs: [y1, y2])
    let lowered = try LoweredProgram(graph: graph, target: target)
    let ops = lowered.stepLabels.map(\.op)
    // Quantize q0 and p2.q, dequantize p2.d, y1 and y2: p1 and p3 have no such steps.
    #expect(ops.filter { $0 == "max_pool2d" }.count == 3, "\(ops)")
    #expect(ops.filter { $0 == "quantize" }.count == 2 && ops.filter { $0 == "dequantize" }.count == 3, "\(ops)")
    let bytes = lowered.steps.filter { if case .quantized = $0.output { true } else { false } }.map(\.output.graphName)
    #expect(bytes == (target == .generic ? [] : ["stem", "p1.q", "next"]), "\(bytes)")
    let inputs = [
      Tensor(type: graph.inputs[0].type, data: values(graph.inputs[0].type.elementCount, seed: 21).map { $0 * 2 })
    ]
    try Self.expectInterpretersIntegers(graph, inputs, target: target, backend: backend)
  }

  /// Dense layers on vectors, their weights bytes in the weights file: i8 weights (offset by
  /// 128 there) with a scale per output, and u8 weights with a zero point and one scale. Both
  /// give the interpreter's integers.
  @Test(arguments: builds)
  func quantizedDenseLayersEqualTheInterpreter(_ build: String) throws {
    let (backend, target) = Self.parse(build)
    var b = GraphBuilder(name: "dense")
    let (inputs, outputs) = (192, 37)
    let x = try b.input("x", TensorType([3, inputs]))
    var seed: UInt64 = 8
    func integers(_ count: Int, _ range: ClosedRange<Int32>) -> [Int32] {
      Self.integers(count, range, seed: &seed)
    }
    let (xs, xz) = (try b.scalar("xs", 0.03), try b.zeroPoint("xz", 100))
    let q = try b.node("q", .quantize(axis: 1), [x, xs, xz])
    let signed = try b.node(
      "signed", .qdense,
      [
        q, xs, xz,
        try b.constant(
          "w1",
          Tensor(type: TensorType([outputs, inputs], dtype: .i8), integers: integers(outputs * inputs, -128...127))),
        try b.constant("w1s", TensorType([outputs]), (0..<outputs).map { 0.002 + Float($0) * 0.00005 }),
        try b.constant(
          "w1z", Tensor(type: TensorType([outputs], dtype: .i8), integers: .init(repeating: 0, count: outputs))),
        try b.scalar("y1s", 0.2), try b.zeroPoint("y1z", 120),
        try b.constant(
          "b1", Tensor(type: TensorType([outputs], dtype: .i32), integers: integers(outputs, -3000...3000))),
      ])
    let unsigned = try b.node(
      "unsigned", .qdense,
      [
        q, xs, xz,
        try b.constant(
          "w2", Tensor(type: TensorType([outputs, inputs], dtype: .u8), integers: integers(outputs * inputs, 0...255))),
        try b.scalar("w2s", 0.0025), try b.zeroPoint("w2z", 131), try b.scalar("y2s", 0.3), try b.zeroPoint("y2z", 128),
      ])
    let y1 = try b.node(
      "y1", .dequantize(axis: 1), [signed, try b.scalar("y1s.d", 0.2), try b.zeroPoint("y1z.d", 120)])
    let y2 = try b.node(
      "y2", .dequantize(axis: 1), [unsigned, try b.scalar("y2s.d", 0.3), try b.zeroPoint("y2z.d", 128)])
    let graph = try b.finish(outputs: [y1, y2])
    let kernels = try LoweredProgram(graph: graph, target: target).stepKernels
    #expect(kernels.filter { $0 == "int vectors" }.count == (target == .generic ? 0 : 2), "\(kernels)")
    let data = [Tensor(type: graph.inputs[0].type, data: values(3 * inputs, seed: 31).map { $0 * 3 })]
    try Self.expectInterpretersIntegers(graph, data, target: target, backend: backend)
  }

  /// Quantize and dequantize of a tensor large enough to run in parallel parts (the last
  /// one short), on values that saturate, fall on halves and include NaN (the zero point).
  @Test(arguments: builds)
  func largeQuantizeAndDequantizeEqualTheInterpreter(_ build: String) throws {
    let (backend, target) = Self.parse(build)
    var b = GraphBuilder(name: "qdq")
    let type = TensorType([1, 3, 101, 113])
    let x = try b.input("x", type)
    let s = try b.constant("s", TensorType([]), [0.25])
    let z = try b.constant("z", Tensor(type: TensorType([], dtype: .i8), integers: [-5]))
    let q = try b.node("q", .quantize(axis: 1), [x, s, z])
    let y = try b.node("y", .dequantize(axis: 1), [q, s, z])
    let graph = try b.finish(outputs: [y])
    var data = values(type.elementCount, seed: 12).map { $0 * 40 }
    for i in stride(from: 0, to: data.count, by: 997) { data[i] = .nan }
    for i in stride(from: 5, to: data.count, by: 1009) { data[i] = 0.125 * Float(i % 7) - 0.375 }
    let inputs = [Tensor(type: type, data: data)]
    let want = try Interpreter(graph: graph).run(inputs)[0]
    let got = try compiled(graph, target: target, backend: backend).run(inputs)[0]
    let differing = zip(got.data, want.data).filter { $0 != $1 }.count
    #expect(differing == 0, "\(differing) of \(want.data.count) differ")
    #expect(want.data.contains(-0.25 * 123) && want.data.contains(0.25 * 132), "no value saturates")
  }

  /// Every target's int8 kernels compile, in C and Swift, whether or not this CPU runs them
  /// (the tests above run the ones it does): the residual graph has both kinds of conv step,
  /// bytes between them and residual ends.
  @Test(arguments: Target.allCases.flatMap { ["c \($0.rawValue)", "swift \($0.rawValue)"] })
  func everyTargetsIntegerKernelsCompile(_ build: String) throws {
    let (backend, target) = Self.parse(build)
    let graph = try Self.residualGraph()
    let dir = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    switch backend {
    case .c: try Artifacts.build(graph, kind: .lib, output: dir + "/model", compiler: try compiler(), target: target)
    case .swift:
      try Artifacts.buildSwift(graph, kind: .lib, output: dir + "/model", compiler: try swiftCompiler(), target: target)
    }
    #expect(FileManager.default.fileExists(atPath: dir + "/libmodel.so"))
  }

  static let builds: [String] =
    Target.runnable().map { "c \($0.rawValue)" } + ["swift \(Target.runnable().last!.rawValue)"]

  @Test(arguments: builds)
  func compiledQuantizedConvsEqualTheInterpreter(_ build: String) throws {
    let (backend, target) = Self.parse(build)
    let graph = try Self.graph()
    let inputs = graph.inputs.enumerated().map { i, input in
      Tensor(type: input.type, data: values(input.type.elementCount, seed: UInt64(40 + i)).map { $0 * 3 })
    }
    // On the vector targets every conv whose output channels fill blocks runs the int16-pair
    // kernel, in both orders (rows outer, image outer): all but the last chain's (a weights
    // zero point, groups), and on AVX-512 the one of 24 channels.
    let lowered = try LoweredProgram(graph: graph, target: target)
    let kernels = lowered.stepKernels
    let kind = target.hasVNNI ? "int8 vnni" : "int16 pairs"
    let paired = kernels.filter { $0.hasPrefix(kind) }.count
    let expected: Int = target == .generic ? 0 : target == .avx2 ? 6 : 5
    #expect(paired == expected, "\(paired) convs of \(kind): \(kernels)")
    // The stem (3 channels, 7 wide) sums a filter row's taps and channels together: 6 quads
    // or 11 pairs a row instead of 7 or 14; no other conv does.
    let tapPacked = lowered.steps.flatMap(\.operands).filter { buffer in
      switch buffer {
      case .packed(_, .tapQuads), .packed(_, .tapPairs): true
      default: false
      }
    }
    #expect(
      tapPacked
        == (target == .generic
          ? []
          : [.packed("c0.w0", target.hasVNNI ? .tapQuads(block: target.block!) : .tapPairs(block: target.block!))]),
      "\(tapPacked)")
    let want = try Interpreter(graph: graph).run(inputs)
    let got = try compiled(graph, target: target, backend: backend).run(inputs)
    for (i, (y, reference)) in zip(got, want).enumerated() {
      let differing = zip(y.data, reference.data).filter { $0 != $1 }.count
      #expect(y.type == reference.type)
      let pairs = zip(y.data, reference.data).enumerated().filter { $0.element.0 != $0.element.1 }.prefix(3).map {
        "\($0.offset): \($0.element.0) vs \($0.element.1)"
      }
      #expect(
        differing == 0, "chain \(i): \(differing) of \(y.data.count) outputs differ from the interpreter's: \(pairs)")
      // The outputs are not all clipped: they hold many distinct steps.
      #expect(Set(reference.data).count > 20, "chain \(i) has only \(Set(reference.data).count) distinct outputs")
    }
  }

  /// vpmaddubsw adds two byte products in int16, saturating: weights run as byte pairs
  /// without VNNI only where no pair's positive or negative weights pass 128 in magnitude.
  @Test func bytePairsAreExactOnlyForPairsWithinInt16() {
    func exact(_ pairs: [(Int32, Int32)]) -> Bool {
      // One output channel, the pairs side by side on the channel axis, a 1x1 filter.
      QConvPlan.bytePairsExact(
        Tensor(type: TensorType([1, pairs.count * 2, 1, 1], dtype: .i8), integers: pairs.flatMap { [$0.0, $0.1] }))
    }
    #expect(exact([(64, 64), (-64, -64), (127, -128), (-128, 127), (0, 127)]))
    #expect(!exact([(64, 64), (65, 64)]))
    #expect(!exact([(-65, -64)]))
    #expect(exact([(1, 127)]))
    #expect(!exact([(2, 127)]))
    // An odd channel count leaves the last channel alone (its pair is padding).
    #expect(QConvPlan.bytePairsExact(Tensor(type: TensorType([1, 3, 1, 1], dtype: .i8), integers: [64, 64, 127])))
    // The pairs are of input channels at one tap, not of neighbouring taps.
    let taps = Tensor(type: TensorType([1, 2, 1, 2], dtype: .i8), integers: [100, 0, 0, 100])
    #expect(QConvPlan.bytePairsExact(taps))
    let sameTap = Tensor(type: TensorType([1, 2, 1, 2], dtype: .i8), integers: [100, 0, 100, 0])
    #expect(!QConvPlan.bytePairsExact(sameTap))
  }

  /// Weights within ±64 (as ONNX Runtime's reduce_range writes them) run as byte pairs on AVX2
  /// and AVX-512 (as quads with VNNI), on the same convs as the int16 pairs of full-range
  /// weights, and give the interpreter's integers; so do residual ends over them.
  @Test(arguments: builds)
  func reducedRangeWeightsRunAsBytesAndEqualTheInterpreter(_ build: String) throws {
    let (backend, target) = Self.parse(build)
    let graph = try Self.graph(weights: -64...64)
    let kernels = try LoweredProgram(graph: graph, target: target).stepKernels
    let kind = QConvPlan.kernelName(.quads, target: target)
    let bytes = kernels.filter { $0.hasPrefix(kind) }.count
    #expect(bytes == (target == .generic ? 0 : target == .avx2 ? 6 : 5), "\(bytes) convs of \(kind): \(kernels)")
    #expect(!kernels.contains { $0.hasPrefix("int16 pairs") }, "\(kernels)")
    let inputs = graph.inputs.enumerated().map { i, input in
      Tensor(type: input.type, data: values(input.type.elementCount, seed: UInt64(40 + i)).map { $0 * 3 })
    }
    try Self.expectInterpretersIntegers(graph, inputs, target: target, backend: backend)
    let residual = try Self.residualGraph(weights: -64...64)
    let residualKernels = try LoweredProgram(graph: residual, target: target).stepKernels
    #expect(residualKernels.filter { $0.hasPrefix(kind) }.count == (target == .generic ? 0 : 3), "\(residualKernels)")
    let x = residual.inputs[0].type
    try Self.expectInterpretersIntegers(
      residual, [Tensor(type: x, data: values(x.elementCount, seed: 9).map { $0 * 3 })], target: target,
      backend: backend)
  }
}

extension GraphBuilder {
  /// A constant f32 scalar (a scale).
  fileprivate mutating func scalar(_ name: String, _ v: Float) throws -> Operand {
    try constant(name, TensorType([]), [v])
  }

  /// A constant integer scalar of `dtype` (a zero point).
  fileprivate mutating func zeroPoint(_ name: String, _ v: Int32, _ dtype: DType = .u8) throws -> Operand {
    try constant(name, Tensor(type: TensorType([], dtype: dtype), integers: [v]))
  }
}
