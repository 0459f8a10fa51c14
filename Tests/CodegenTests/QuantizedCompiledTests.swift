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

  /// `graph`'s one input: seeded values, three times `values`' spread.
  static func input(of graph: Graph, seed: UInt64) -> [Tensor] {
    let type = graph.inputs[0].type
    return [Tensor(type: type, data: values(type.elementCount, seed: seed).map { $0 * 3 })]
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

  /// `builds`, and the Swift backend on AVX2 too where this CPU has more: the integer
  /// Winograd kernel runs only without VNNI.
  static let winogradBuilds: [String] =
    builds + (Target.runnable().contains(.avx2) && !builds.contains("swift avx2") ? ["swift avx2"] : [])

  @Test(arguments: builds)
  func compiledQuantizedConvsEqualTheInterpreter(_ build: String) throws {
    let (backend, target) = Self.parse(build)
    let graph = try Self.graph()
    let inputs = graph.inputs.enumerated().map { i, input in
      Tensor(type: input.type, data: values(input.type.elementCount, seed: UInt64(40 + i)).map { $0 * 3 })
    }
    // On the vector targets every conv whose output channels fill blocks runs a vector
    // kernel, in both orders (rows outer, image outer): all but the last chain's (a weights
    // zero point, groups), and on AVX-512 the one of 24 channels. Without VNNI, those over
    // plain inputs (the stem, 32 channels into 24) sum int16 pairs and the rest split the
    // input's byte pairs that could pass int16 (the inputs, around a zero point of 120, have
    // many).
    let lowered = try LoweredProgram(graph: graph, target: target)
    let kernels = lowered.stepKernels
    let kinds = target.hasVNNI ? ["int8 vnni"] : ["int16 pairs", "int8 split pairs"]
    let counts = kinds.map { kind in kernels.filter { $0.hasPrefix(kind) }.count }
    let expected: [Int] =
      switch target {
      case .generic: [0, 0]
      case .avx2: [3, 3]
      case .avx512: [3, 2]
      case .avx512vnni: [5]
      }
    #expect(counts == expected, "\(counts) convs of \(kinds): \(kernels)")
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
    // Without VNNI the two 3×3 convs run the integer Winograd kernel (the first's input
    // blocked by a reorder).
    let residualBytes = target == .generic ? 0 : target.hasVNNI ? 3 : 1
    #expect(residualKernels.filter { $0.hasPrefix(kind) }.count == residualBytes, "\(residualKernels)")
    try Self.expectInterpretersIntegers(residual, Self.input(of: residual, seed: 9), target: target, backend: backend)
  }

  /// 3×3 stride-1 convs over blocked maps of at least 12×12 run as the integer Winograd
  /// kernel without VNNI (and as direct kernels with it), and give the interpreter's
  /// integers: maps that leave partial tiles (13×15), u8 and i8 inputs (as bytes and as
  /// floats), per-tensor and per-channel scales, with and without bias and ReLU, full-range
  /// weights (whose byte pairs could saturate) and a residual end.
  @Test(arguments: winogradBuilds)
  func integerWinogradEqualsTheInterpreter(_ build: String) throws {
    let (backend, target) = Self.parse(build)
    var b = GraphBuilder(name: "qwinograd")
    var seed: UInt64 = 21
    func integers(_ count: Int, _ range: ClosedRange<Int32>) -> [Int32] {
      Self.integers(count, range, seed: &seed)
    }
    let c = 16
    func conv(
      _ name: String, _ v: Operand, _ q: (Operand, Operand, Operand, Operand), perChannel: Bool, bias: Bool,
      relu: Bool
    ) throws -> Operand {
      let w = try b.constant(
        name + ".w", Tensor(type: TensorType([c, c, 3, 3], dtype: .i8), integers: integers(c * c * 9, -127...127)))
      let (ws, wz) = try b.weightScales(
        name + ".", perChannel ? (0..<c).map { 0.002 + Float($0) * 0.0001 } : nil, perTensor: 0.0025)
      var operands = [v, q.0, q.1, w, ws, wz, q.2, q.3]
      if bias {
        operands.append(
          try b.constant(name + ".b", Tensor(type: TensorType([c], dtype: .i32), integers: integers(c, -2000...2000))))
      }
      let a = Conv2dAttributes(padding: Padding2d(top: 1, left: 1, bottom: 1, right: 1), epilogue: relu ? .relu : .none)
      return try b.node(name, .qconv2d(a), operands)
    }
    let x = try b.input("x", TensorType([2, c, 13, 15]))
    let (s0, z0) = (try b.scalar("s0", 0.03), try b.zeroPoint("z0", 110, .u8))
    let q0 = try b.node("q0", .quantize(axis: 1), [x, s0, z0])
    let (s1, z1) = (try b.scalar("s1", 0.05), try b.zeroPoint("z1", 0, .u8))
    // The first conv reads the quantized input blocked by a reorder, the second its output as
    // bytes, the third the second's as floats (a graph output reads them too).
    let a = try conv("a", q0, (s0, z0, s1, z1), perChannel: true, bias: true, relu: true)
    let (s2, z2) = (try b.scalar("s2", 0.06), try b.zeroPoint("z2", -5, .i8))
    let bc = try conv("b", a, (s1, z1, s2, z2), perChannel: false, bias: false, relu: false)
    let (s3, z3) = (try b.scalar("s3", 0.07), try b.zeroPoint("z3", 3, .i8))
    // An i8 input, and a residual end over the first conv's output.
    let cc = try conv("c", bc, (s2, z2, s3, z3), perChannel: true, bias: true, relu: false)
    let sum = try b.node(
      "add", .add,
      [try b.node("c.d", .dequantize(axis: 1), [cc, s3, z3]), try b.node("a.d", .dequantize(axis: 1), [a, s1, z1])])
    let (s4, z4) = (try b.scalar("s4", 0.05), try b.zeroPoint("z4", 7, .u8))
    let r = try b.node("r", .quantize(axis: 1), [try b.node("relu", .relu, [sum]), s4, z4])
    let y = try b.node("y", .dequantize(axis: 1), [r, s4, z4])
    let yb = try b.node("yb", .dequantize(axis: 1), [bc, s2, z2])
    let graph = try b.finish(outputs: [y, yb])
    let lowered = try LoweredProgram(graph: graph, target: target)
    let kernels = lowered.stepKernels
    let winograd = kernels.filter { $0.hasPrefix("int16 winograd") }.count
    #expect(winograd == (target == .avx2 || target == .avx512 ? 3 : 0), "\(kernels)")
    let bytes = lowered.steps.filter { if case .quantized = $0.output { true } else { false } }.map(\.output.graphName)
    #expect(bytes == (target == .generic ? [] : ["a"]), "\(bytes)")
    try Self.expectInterpretersIntegers(graph, Self.input(of: graph, seed: 5), target: target, backend: backend)
  }

  /// Twelve generated 3×3 stride-1 convs side by side, each read from a quantized input (a
  /// reorder blocks it): channel counts that do and do not fill AVX-512's blocks, maps of
  /// 12 to 19 with paddings of 0 to 2 on each side (so partial tiles and asymmetric
  /// borders), u8 and i8 activations with random zero points, weights of the full range,
  /// within ±64, or all ±127 (the largest sums), per-tensor or per-channel scales, bias and
  /// ReLU or not. Those whose channels fill blocks run the integer Winograd kernel without
  /// VNNI, and every output is the interpreter's.
  @Test(arguments: winogradBuilds)
  func generatedIntegerWinogradConvsEqualTheInterpreter(_ build: String) throws {
    let (backend, target) = Self.parse(build)
    var seed: UInt64 = 77
    func draw(_ range: ClosedRange<Int32>) -> Int { Int(Self.integers(1, range, seed: &seed)[0]) }
    func pick<T>(_ items: [T]) -> T { items[draw(0...Int32(items.count - 1))] }
    var b = GraphBuilder(name: "qwinograd-generated")
    var outputs: [Operand] = []
    var expected = 0
    for i in 0..<12 {
      let p = "g\(i)."
      let (c, k) = (pick([8, 16, 24, 48, 64]), pick([8, 16, 24, 32]))
      let (h, w) = (draw(12...19), draw(12...19))
      let pad = Padding2d(top: draw(0...2), left: draw(0...2), bottom: draw(0...2), right: draw(0...2))
      let dtype: DType = pick([.u8, .i8])
      let zero = Int32(dtype == .u8 ? draw(0...255) : draw(-128...127))
      let x = try b.input(p + "x", TensorType([pick([1, 2]), c, h, w]))
      let (s0, z0) = (try b.scalar(p + "s0", 0.02), try b.zeroPoint(p + "z0", zero, dtype))
      let q = try b.node(p + "q", .quantize(axis: 1), [x, s0, z0])
      let weights: [Int32]
      switch draw(0...2) {
      case 0: weights = Self.integers(k * c * 9, -127...127, seed: &seed)
      case 1: weights = Self.integers(k * c * 9, -64...64, seed: &seed)
      default: weights = Self.integers(k * c * 9, 0...1, seed: &seed).map { $0 == 0 ? -127 : 127 }
      }
      let wt = try b.constant(p + "w", Tensor(type: TensorType([k, c, 3, 3], dtype: .i8), integers: weights))
      let perChannel = draw(0...1) == 1
      let (ws, wz) = try b.weightScales(
        p, perChannel ? (0..<k).map { 0.0015 + Float($0 % 7) * 0.0002 } : nil, perTensor: 0.002)
      let (s1, z1) = (
        try b.scalar(p + "s1", 0.03 * Float(c).squareRoot()), try b.zeroPoint(p + "z1", Int32(draw(-20...20)), .i8)
      )
      var operands = [q, s0, z0, wt, ws, wz, s1, z1]
      if draw(0...1) == 1 {
        operands.append(
          try b.constant(
            p + "b", Tensor(type: TensorType([k], dtype: .i32), integers: Self.integers(k, -5000...5000, seed: &seed))))
      }
      let a = Conv2dAttributes(padding: pad, epilogue: draw(0...1) == 1 ? .relu : .none)
      let y = try b.node(p + "conv", .qconv2d(a), operands)
      outputs.append(try b.node(p + "y", .dequantize(axis: 1), [y, s1, z1]))
      if let block = target.block, !target.hasVNNI, c % block == 0, k % block == 0 { expected += 1 }
    }
    let graph = try b.finish(outputs: outputs)
    let kernels = try LoweredProgram(graph: graph, target: target).stepKernels
    let winograd = kernels.filter { $0.hasPrefix("int16 winograd") }.count
    #expect(winograd == expected && (target.hasVNNI || target == .generic || expected >= 4), "\(kernels)")
    let inputs = graph.inputs.enumerated().map { i, input in
      Tensor(type: input.type, data: values(input.type.elementCount, seed: UInt64(60 + i)).map { $0 * 3 })
    }
    try Self.expectInterpretersIntegers(graph, inputs, target: target, backend: backend)
  }

  /// Where the transformed weights outgrow L2 (256 by 256 channels: 2 MB of int16) on a map of
  /// at most 64 tiles, the integer Winograd kernel takes the whole map as one chunk in at most
  /// two groups of output blocks, and still gives the interpreter's integers (a 14x13 map:
  /// 49 tiles, the last column of tiles half outside).
  @Test(arguments: winogradBuilds.filter { $0.hasSuffix("avx2") || $0.hasSuffix(" avx512") })
  func integerWinogradOverAWholeMapEqualsTheInterpreter(_ build: String) throws {
    let (backend, target) = Self.parse(build)
    var seed: UInt64 = 5
    var b = GraphBuilder(name: "qwinograd-whole")
    let c = 256
    let x = try b.input("x", TensorType([1, c, 14, 13]))
    let (s0, z0) = (try b.scalar("s0", 0.02), try b.zeroPoint("z0", 100, .u8))
    let q = try b.node("q", .quantize(axis: 1), [x, s0, z0])
    let w = try b.constant(
      "w",
      Tensor(type: TensorType([c, c, 3, 3], dtype: .i8), integers: Self.integers(c * c * 9, -127...127, seed: &seed)))
    let (ws, wz) = try b.weightScales("", (0..<c).map { 0.0004 + Float($0 % 9) * 0.00005 })
    let bias = try b.constant(
      "bias", Tensor(type: TensorType([c], dtype: .i32), integers: Self.integers(c, -4000...4000, seed: &seed)))
    let (s1, z1) = (try b.scalar("s1", 0.05), try b.zeroPoint("z1", 0, .u8))
    let a = Conv2dAttributes(padding: .uniform(1), epilogue: .relu)
    let conv = try b.node("c", .qconv2d(a), [q, s0, z0, w, ws, wz, s1, z1, bias])
    let y = try b.node("y", .dequantize(axis: 1), [conv, s1, z1])
    let graph = try b.finish(outputs: [y])
    let lowered = try LoweredProgram(graph: graph, target: target)
    let step = try #require(lowered.steps.first { if case .qwinograd = $0.kind { true } else { false } })
    guard case .qwinograd(let node, let attributes, let fit, let residual, let bytes) = step.kind else {
      Issue.record("no integer Winograd step")
      return
    }
    let plan = QWinograd(
      node, attributes, x: [1, c, 14, 13], fit: fit, residual: residual, bytes: bytes, target: target,
      caches: lowered.caches
    ).plan
    #expect(plan.chunk == 49 && plan.chunks == 1 && plan.groups == 2, "chunk \(plan.chunk), groups \(plan.groups)")
    try Self.expectInterpretersIntegers(graph, Self.input(of: graph, seed: 8), target: target, backend: backend)
  }

  /// The integer Winograd kernel runs only where no sum can pass 32 bits: for filters of
  /// 127 everywhere, `4 · 255 · Σ|Ĝ g Ĝᵀ|` is 8,290,560 per input channel (Ĝ's row sums are
  /// 2, 3, 1, 2, so Σ|Ĝ g Ĝᵀ| = 127 · 8²), which passes 2^31 - 1 from 260 channels; a bias
  /// counts four times its magnitude. Such a conv runs the direct kernel, exactly.
  @Test func integerWinogradIsExactOnlyWithinThirtyTwoBits() throws {
    func filters(channels: Int, _ value: Int32 = 127) -> Tensor {
      Tensor(
        type: TensorType([1, channels, 3, 3], dtype: .i8),
        integers: [Int32](repeating: value, count: channels * 9))
    }
    #expect(QWinograd.transform([Int](repeating: 1, count: 9)).reduce(0) { $0 + abs($1) } == 64)
    #expect(QWinograd.exact(filters(channels: 259), bias: nil))
    #expect(!QWinograd.exact(filters(channels: 260), bias: nil))
    #expect(
      !QWinograd.exact(
        filters(channels: 259, -127), bias: Tensor(type: TensorType([1], dtype: .i32), integers: [3_000_000])))
    #expect(
      QWinograd.exact(filters(channels: 259, -127), bias: Tensor(type: TensorType([1], dtype: .i32), integers: [1_000]))
    )
    // The transform of a filter is (2G) g (2G)ᵀ: a single 1 at the centre gives the outer
    // product of (0, 1, -1, 0).
    var centre = [Int](repeating: 0, count: 9)
    centre[4] = 1
    #expect(QWinograd.transform(centre) == [0, 0, 0, 0, 0, 1, -1, 0, 0, -1, 1, 0, 0, 0, 0, 0])
    // Compiled without VNNI: 256 channels of such filters (the largest sums the bound allows)
    // run as Winograd, 264 as the direct kernel, and both give the interpreter's integers.
    let runnable = Target.runnable()
    #expect(runnable.contains(.avx2), "running the compiled convs needs an AVX2 CPU")
    let target: Target = runnable.contains(.avx512) ? .avx512 : .avx2
    for (channels, kind) in [(256, "int16 winograd"), (264, "int16 pairs")] {
      var b = GraphBuilder(name: "bound")
      let x = try b.input("x", TensorType([1, channels, 12, 12]))
      let (s0, z0) = (try b.scalar("s0", 0.02), try b.zeroPoint("z0", 128, .u8))
      let q = try b.node("q", .quantize(axis: 1), [x, s0, z0])
      let w = try b.constant(
        "w",
        Tensor(
          type: TensorType([16, channels, 3, 3], dtype: .i8),
          integers: [Int32](repeating: 127, count: 16 * channels * 9)))
      let (ws, wz) = try b.weightScales("", nil, perTensor: 0.002)
      let (s1, z1) = (try b.scalar("s1", 0.5), try b.zeroPoint("z1", 128, .u8))
      let a = Conv2dAttributes(padding: .uniform(1))
      let y = try b.node(
        "y", .dequantize(axis: 1), [try b.node("c", .qconv2d(a), [q, s0, z0, w, ws, wz, s1, z1]), s1, z1])
      let graph = try b.finish(outputs: [y])
      let kernels = try LoweredProgram(graph: graph, target: target).stepKernels
      #expect(kernels.contains { $0.hasPrefix(kind) }, "\(channels) channels: \(kernels)")
      guard runnable.contains(target) else { continue }
      try Self.expectInterpretersIntegers(graph, Self.input(of: graph, seed: 3), target: target, backend: .c)
    }
  }

  /// A residual end runs in the conv's step only where no value of it can be NaN, which its
  /// epilogue does not take: every scale positive and at most 2^119. A quantize scale of 0
  /// (a sum of 0 over it is NaN, which quantizes to the zero point) or a dequantize scale of
  /// 2^120 leaves the chain to the separate steps, and each gives the interpreter's integers.
  @Test(arguments: builds.filter { !$0.hasSuffix("generic") })
  func residualEndsWhoseScalesCouldMakeNaNRunApart(_ build: String) throws {
    let (backend, target) = Self.parse(build)
    for (qScale, dScale, fused) in [(Float(0.05), Float(0.06), true), (0, 0.06, false), (0.05, 0x1p120, false)] {
      var seed: UInt64 = 43
      var b = GraphBuilder(name: "qnan")
      let c = 16
      let x = try b.input("x", TensorType([1, c, 6, 7]))
      let (s0, z0) = (try b.scalar("s0", 0.03), try b.zeroPoint("z0", 110, .u8))
      let (s1, z1) = (try b.scalar("s1", dScale), try b.zeroPoint("z1", 3, .u8))
      let (s2, z2) = (try b.scalar("s2", qScale), try b.zeroPoint("z2", 9, .u8))
      let q = try b.node("q", .quantize(axis: 1), [x, s0, z0])
      let w = try b.constant(
        "w", Tensor(type: TensorType([c, c, 1, 1], dtype: .i8), integers: Self.integers(c * c, -3...3, seed: &seed)))
      let (ws, wz) = try b.weightScales("", nil, perTensor: 1)
      let conv = try b.node("c", .qconv2d(Conv2dAttributes()), [q, s0, z0, w, ws, wz, s1, z1])
      let sum = try b.node(
        "add", .add,
        [
          try b.node("c.d", .dequantize(axis: 1), [conv, s1, z1]),
          try b.node("q.d", .dequantize(axis: 1), [q, s0, z0]),
        ])
      let r = try b.node("r", .quantize(axis: 1), [sum, s2, z2])
      let y = try b.node("y", .dequantize(axis: 1), [r, s0, z2])
      let graph = try b.finish(outputs: [y])
      let kernels = try LoweredProgram(graph: graph, target: target).stepKernels
      #expect(kernels.contains { $0.hasSuffix("+residual") } == fused, "\(qScale), \(dScale): \(kernels)")
      let inputs = Self.input(of: graph, seed: 4)
      let want = try Interpreter(graph: graph).run(inputs)
      let got = try compiled(graph, target: target, backend: backend).run(inputs)
      let differing = zip(got[0].data, want[0].data).filter { $0.bitPattern != $1.bitPattern }
      #expect(differing.isEmpty, "\(qScale), \(dScale): \(differing.count) differ, \(differing.prefix(3)); \(kernels)")
    }
  }

  /// A 1x1 stride-1 conv without padding and with more output channels than pixels runs its
  /// map as one row (5x7 as 35 pixels: tiles run on across rows): over bytes (read in place,
  /// where they are not split), with a residual end, and into i8; each output is the
  /// interpreter's, and a padded 1x1 conv keeps its rows.
  @Test(arguments: builds.filter { !$0.hasSuffix("generic") })
  func oneByOneConvsOverSmallMapsRunTheMapAsOneRow(_ build: String) throws {
    let (backend, target) = Self.parse(build)
    var seed: UInt64 = 41
    var b = GraphBuilder(name: "qflat")
    let c = 64
    func conv(_ name: String, _ v: Operand, _ q: (Operand, Operand, Operand, Operand), size: Int, pad: Int = 0)
      throws -> Operand
    {
      let input = size == 3 ? 16 : c
      let w = try b.constant(
        name + ".w",
        Tensor(
          type: TensorType([c, input, size, size], dtype: .i8),
          integers: Self.integers(c * input * size * size, -127...127, seed: &seed)))
      let (ws, wz) = try b.weightScales(name + ".", (0..<c).map { 0.001 + Float($0 % 7) * 0.0002 })
      let a = Conv2dAttributes(padding: .uniform(pad), epilogue: .relu)
      return try b.node(name, .qconv2d(a), [v, q.0, q.1, w, ws, wz, q.2, q.3])
    }
    let x = try b.input("x", TensorType([2, 16, 5, 7]))
    let (s0, z0) = (try b.scalar("s0", 0.03), try b.zeroPoint("z0", 110, .u8))
    let (s1, z1) = (try b.scalar("s1", 0.05), try b.zeroPoint("z1", 0, .u8))
    let (s2, z2) = (try b.scalar("s2", 0.06), try b.zeroPoint("z2", 4, .u8))
    let (s3, z3) = (try b.scalar("s3", 0.07), try b.zeroPoint("z3", -3, .i8))
    let a = try conv("a", try b.node("q0", .quantize(axis: 1), [x, s0, z0]), (s0, z0, s1, z1), size: 3, pad: 1)
    let sum = try b.node(
      "add", .add,
      [
        try b.node("b.d", .dequantize(axis: 1), [try conv("b", a, (s1, z1, s2, z2), size: 1), s2, z2]),
        try b.node("a.d", .dequantize(axis: 1), [a, s1, z1]),
      ])
    let r = try b.node("r", .quantize(axis: 1), [sum, s2, z2])
    let flat = try conv("c", r, (s2, z2, s3, z3), size: 1)
    let padded = try conv("d", r, (s2, z2, s3, z3), size: 1, pad: 1)
    let y = try b.node("y", .dequantize(axis: 1), [flat, s3, z3])
    let yd = try b.node("yd", .dequantize(axis: 1), [padded, s3, z3])
    let graph = try b.finish(outputs: [y, yd])
    let lowered = try LoweredProgram(graph: graph, target: target)
    var shapes: [String: [Int]] = [:]
    var inPlace: Set<String> = []
    for step in lowered.steps {
      guard case .qconv(let node, let attributes, let fit, let plainInput, let residual, let bytes) = step.kind else {
        continue
      }
      let x = lowered.type(of: node.operands[0]).shape
      let plan = QConvPlan(
        node, attributes, x: x, fit: fit, plainInput: plainInput, residual: residual, bytes: bytes, target: target)
      shapes[node.name] = plan.y
      if plan.kernel.scratch.isEmpty { inPlace.insert(node.name) }
    }
    #expect(shapes["b"] == [2, c, 1, 35] && shapes["c"] == [2, c, 1, 35] && shapes["d"] == [2, c, 7, 9], "\(shapes)")
    // With VNNI the unpadded 1x1 convs read their byte inputs in place, without a copy;
    // without it these 8-bit weights split their input's pairs, which takes a copy.
    #expect(inPlace == (target.hasVNNI ? ["b", "c"] : []), "\(inPlace)")
    try Self.expectInterpretersIntegers(graph, Self.input(of: graph, seed: 9), target: target, backend: backend)
  }

  /// Integer convs whose outputs are bytes store them with one rounding, saturating store
  /// (`Stmt.saturatingByteStore`): halves round to even before an odd zero point is added, a
  /// ReLU holds a nonzero zero point, and sums scaled far past 32 bits either way store the
  /// range's ends. A conv of identity weights at factor 1 reads the second conv's bytes back
  /// as they are; every output is the interpreter's.
  @Test(arguments: builds)
  func byteOutputsRoundHalvesToEvenAndSaturateFarOutOfRange(_ build: String) throws {
    let (backend, target) = Self.parse(build)
    var b = GraphBuilder(name: "qbytes")
    var seed: UInt64 = 31
    let c = 16
    func conv(
      _ name: String, _ v: Operand, _ q: (Operand, Operand, Operand, Operand), weights: [Int32], scales: [Float]?,
      relu: Bool = false
    ) throws -> Operand {
      let w = try b.constant(name + ".w", Tensor(type: TensorType([c, c, 1, 1], dtype: .i8), integers: weights))
      let (ws, wz) = try b.weightScales(name + ".", scales, perTensor: 1)
      return try b.node(
        name, .qconv2d(Conv2dAttributes(epilogue: relu ? .relu : .none)), [v, q.0, q.1, w, ws, wz, q.2, q.3])
    }
    let x = try b.input("x", TensorType([1, c, 9, 10]))
    let (s0, z0) = (try b.scalar("s0", 0.25), try b.zeroPoint("z0", 120, .u8))
    let q0 = try b.node("q0", .quantize(axis: 1), [x, s0, z0])
    // Factor 0.25 · 1 / 0.5 = 0.5: every odd sum falls on a half.
    let (s1, z1) = (try b.scalar("s1", 0.5), try b.zeroPoint("z1", 3, .u8))
    let a = try conv(
      "a", q0, (s0, z0, s1, z1), weights: Self.integers(c * c, -1...1, seed: &seed), scales: nil, relu: true)
    // Factors of 5·10^-7 to 5·10^7 by channel, on sums of up to ±2^17.
    let (s2, z2) = (try b.scalar("s2", 1), try b.zeroPoint("z2", -5, .i8))
    let factors = (0..<c).map { Float(pow(10, Double($0 % 8 * 2 - 6))) }
    let bc = try conv("b", a, (s1, z1, s2, z2), weights: Self.integers(c * c, -127...127, seed: &seed), scales: factors)
    let identity = (0..<(c * c)).map { Int32($0 / c == $0 % c ? 1 : 0) }
    let y = try b.node(
      "y", .dequantize(axis: 1), [try conv("c", bc, (s2, z2, s2, z2), weights: identity, scales: nil), s2, z2])
    let probe = b
    let graph = try b.finish(outputs: [y])
    let lowered = try LoweredProgram(graph: graph, target: target)
    let bytes = lowered.steps.filter { if case .quantized = $0.output { true } else { false } }.map(\.output.graphName)
    #expect(bytes == (target == .generic ? [] : ["a", "b"]), "\(bytes)")
    let inputs = Self.input(of: graph, seed: 12)
    // The sums do fall on halves within the range, and past ±2^31 once scaled.
    let ints = try Interpreter(graph: try probe.finish(outputs: [q0, a])).run(inputs)
    let pixels = 9 * 10
    func sums(_ t: Tensor, zero: Float, _ w: [Int32]) -> [[Float]] {
      (0..<c).map { k in
        (0..<pixels).map { p in
          (0..<c).reduce(Float(0)) { $0 + (Float(t.integers[$1 * pixels + p]) - zero) * Float(w[k * c + $1]) }
        }
      }
    }
    let wa = graph.constants["a.w"]!.integers, wb = graph.constants["b.w"]!.integers
    let halves = sums(ints[0], zero: 120, wa).joined().filter { Int($0) % 2 != 0 && abs($0 / 2) < 200 }.count
    let scaled = zip(sums(ints[1], zero: 3, wb), factors).flatMap { row, f in row.map { $0 * 0.5 * f } }
    #expect(halves > 50 && scaled.contains { $0 < -0x1p31 } && scaled.contains { $0 > 0x1p31 }, "\(halves) halves")
    try Self.expectInterpretersIntegers(graph, inputs, target: target, backend: backend)
  }

  /// The Swift program's helpers: through x86 intrinsics (`SwiftIntrinsics`) on every vector
  /// target this CPU runs, with full-range weights (split byte pairs and int16 pairs without
  /// VNNI) and weights within ±64 (byte pairs, `vpmaddubsw`); and the portable ones a
  /// package's target builds (`intrinsics: false`), on AVX2 (split byte pairs) and on the
  /// last. Each equals the interpreter's integers.
  static let swiftHelperBuilds: [String] = {
    let vector = Target.runnable().filter { $0 != .generic }
    let portable = Set([vector.first, vector.last].compactMap { $0 }).sorted { $0.rawValue < $1.rawValue }
    return vector.map { "intrinsics \($0.rawValue)" } + portable.map { "portable \($0.rawValue)" }
  }()

  @Test(arguments: swiftHelperBuilds)
  func swiftHelpersEqualTheInterpreter(_ build: String) throws {
    let words = build.split(separator: " ").map(String.init)
    let (intrinsics, target) = (words[0] == "intrinsics", Target(rawValue: words[1])!)
    let graphs = [try Self.graph()] + (intrinsics && !target.hasVNNI ? [try Self.graph(weights: -64...64)] : [])
    for graph in graphs {
      let program = try SwiftProgram(graph: graph, target: target)
      let dir = try scratchDirectory()
      defer { try? FileManager.default.removeItem(atPath: dir) }
      let sources = program.sources(kernelFiles: nil, cAPI: true, intrinsics: intrinsics)
      let module = "import _Builtin_intrinsics.intel"
      #expect(sources.dropFirst().allSatisfy { $0.text.contains(module) == intrinsics }, "kernel files' imports")
      let paths = sources.map { dir + "/model\($0.suffix).swift" }
      for (source, path) in zip(sources, paths) {
        try source.text.write(toFile: path, atomically: true, encoding: .utf8)
      }
      try program.writeWeights(toFile: dir + "/model.weights")
      try swiftCompiler().compile(
        sources: paths, output: dir + "/libmodel.so", shared: true, extra: SwiftCompiler.flags(for: target))
      let model = try NativeModel(libraryPath: dir + "/libmodel.so", weightsPath: dir + "/model.weights")
      let inputs = graph.inputs.enumerated().map { i, input in
        Tensor(type: input.type, data: values(input.type.elementCount, seed: UInt64(60 + i)).map { $0 * 3 })
      }
      let want = try Interpreter(graph: graph).run(inputs)
      for (i, (y, reference)) in zip(try model.run(inputs), want).enumerated() {
        let differing = zip(y.data, reference.data).filter { $0 != $1 }.count
        #expect(y.type == reference.type && differing == 0, "\(build), output \(i): \(differing) differ")
      }
    }
  }

  /// The bound of an input pair whose products with any pair of the weights stay within
  /// int16: 258 for weights within ±127, 256 with -128, and 510 (no pair can pass) within ±64.
  @Test func pairBoundsKeepEveryPairWithinInt16() {
    func bound(_ v: [Int32]) -> Int {
      QConvPlan.pairBound(Tensor(type: TensorType([1, v.count, 1, 1], dtype: .i8), integers: v))
    }
    #expect(bound([127, -127, 3]) == 258)
    #expect(bound([-128, 5]) == 256)
    #expect(bound([100, -2]) == 327)
    #expect(bound([64, -64]) == 510)
    #expect(bound([0, 0]) == 510)
    // Every bound is the largest that keeps a pair's sum of products within int16: at the
    // bound the largest positive and negative weights fit, one past it one of them does not.
    for weights: [Int32] in [[127, -127], [-128, 5], [100, -2], [3, -90], [127, 0], [0, -128]] {
      let b = bound(weights)
      let (positive, negative) = (Int(max(weights.max()!, 0)), Int(-min(weights.min()!, 0)))
      #expect(positive * b <= 32_767 && negative * b <= 32_768, "\(weights): \(b)")
      #expect(b == 510 || positive * (b + 1) > 32_767 || negative * (b + 1) > 32_768, "\(weights): \(b)")
    }
  }

  /// Without VNNI, convs with 8-bit weights over blocked inputs split the input's byte pairs
  /// whose sums pass the weights' bound and add the rests' products apart: exact against the
  /// interpreter where many pairs split (bytes near the top of the type, a padding zero point
  /// of 200, weights that reach -128, so a bound of 256), for u8 and i8 maps, a 3×3 conv of
  /// stride 2 and a 1×1 conv; the first conv reads the plain input as int16 pairs.
  @Test(arguments: builds)
  func splitBytePairsEqualTheInterpreter(_ build: String) throws {
    let (backend, target) = Self.parse(build)
    var b = GraphBuilder(name: "split")
    var seed: UInt64 = 77
    let c = 32
    func conv(
      _ name: String, _ v: Operand, _ q: (Operand, Operand, Operand, Operand), kernel: Int, stride: Int, relu: Bool
    ) throws -> Operand {
      let count = c * c * kernel * kernel
      let w = try b.constant(
        name + ".w",
        Tensor(
          type: TensorType([c, c, kernel, kernel], dtype: .i8), integers: Self.integers(count, -128...127, seed: &seed))
      )
      let (ws, wz) = try b.weightScales(name + ".", (0..<c).map { 0.002 + Float($0 % 7) * 0.0003 })
      let pad = kernel / 2
      let a = Conv2dAttributes(
        stride: .square(stride), padding: Padding2d(top: pad, left: pad, bottom: pad, right: pad),
        epilogue: relu ? .relu : .none)
      return try b.node(name, .qconv2d(a), [v, q.0, q.1, w, ws, wz, q.2, q.3])
    }
    var outputs: [Operand] = []
    // Each map's zero point and its integers' offset into bytes.
    let maps: [(DType, Int32, Int32)] = [(.u8, 200, 0), (.i8, 72, 128)]
    for (i, (dtype, zero, _)) in maps.enumerated() {
      let x = try b.input("x\(i)", TensorType([2, c, 11, 9]))
      let s = try (0..<4).map { try b.scalar("s\($0).\(i)", [0.02, 0.004, 0.006, 0.04][$0]) }
      let z = [try b.zeroPoint("z0.\(i)", 0, .u8), try b.zeroPoint("z1.\(i)", zero, dtype)]
      let q = try b.node("q\(i)", .quantize(axis: 1), [x, s[0], z[0]])
      let a = try conv("a\(i)", q, (s[0], z[0], s[1], z[1]), kernel: 1, stride: 1, relu: false)
      let m = try conv("b\(i)", a, (s[1], z[1], s[2], z[0]), kernel: 3, stride: 2, relu: true)
      let y = try conv("c\(i)", m, (s[2], z[0], s[3], z[0]), kernel: 1, stride: 1, relu: false)
      outputs += [try b.node("y\(i)", .dequantize(axis: 1), [y, s[3], z[0]])]
      outputs += [try b.node("a\(i).d", .dequantize(axis: 1), [a, s[1], z[1]])]
    }
    let graph = try b.finish(outputs: outputs)
    let kernels = try LoweredProgram(graph: graph, target: target).stepKernels
    let split = kernels.filter { $0.hasPrefix("int8 split pairs") }.count
    #expect(split == (target == .avx2 || target == .avx512 ? 4 : 0), "\(kernels)")
    let inputs = graph.inputs.enumerated().map { i, input in
      Tensor(type: input.type, data: values(input.type.elementCount, seed: UInt64(90 + i)).map { $0 * 4 })
    }
    // More than a third of the channel pairs of the 3×3 convs' inputs (as bytes) sum past 256.
    let want = try Interpreter(graph: graph).run(inputs)
    for (i, (_, zero, offset)) in maps.enumerated() {
      let a = want[2 * i + 1]
      let bytes = a.data.map { Int(($0 / 0.004).rounded()) + Int(zero + offset) }
      let (hw, pixels) = (a.type.shape[2] * a.type.shape[3], a.type.shape[0] * a.type.shape[2] * a.type.shape[3])
      var passing = 0
      for n in 0..<a.type.shape[0] {
        for k in stride(from: 0, to: c, by: 2) {
          for p in 0..<hw where bytes[(n * c + k) * hw + p] + bytes[(n * c + k + 1) * hw + p] > 256 { passing += 1 }
        }
      }
      #expect(passing * 3 > pixels * c / 2, "map \(i): \(passing) of \(pixels * c / 2) pairs pass 256")
    }
    try Self.expectInterpretersIntegers(graph, inputs, target: target, backend: backend)
  }

  /// The kernel files of a program for a vector target call the intrinsics; a package's
  /// source (built without the target's flags) and a generic program do not.
  @Test func swiftIntrinsicsOnlyWhereTheProgramIsBuiltWithTheTargetsFlags() throws {
    let graph = try Self.residualGraph()
    for target in Target.allCases {
      let program = try SwiftProgram(graph: graph, target: target)
      let kernels = program.modelSources.dropFirst().map(\.text).joined()
      let bits = target == .avx2 ? "256" : "512"
      let expected =
        target == .generic
        ? [] : ["_mm\(bits)_madd_epi16", target.hasVNNI ? "_mm512_dpbusd_epi32" : "_mm\(bits)_maddubs_epi16"]
      #expect(expected.allSatisfy(kernels.contains), "\(target): \(expected)")
      #expect(kernels.contains("_Builtin_intrinsics") == (target != .generic), "\(target)")
      #expect(!program.packageSource(className: "Model").contains("_Builtin_intrinsics"), "\(target) package")
    }
  }
}

extension GraphBuilder {
  /// A conv's weights scales `prefix + "ws"`, one per output channel (`perChannel`) or one
  /// (`perTensor`), and their zero points `prefix + "wz"` (i8 zeros) of the same shape.
  fileprivate mutating func weightScales(_ prefix: String, _ perChannel: [Float]?, perTensor: Float = 0) throws -> (
    Operand, Operand
  ) {
    let shape = perChannel.map { [$0.count] } ?? []
    let ws = try constant(prefix + "ws", TensorType(shape), perChannel ?? [perTensor])
    let wz = try constant(
      prefix + "wz",
      Tensor(type: TensorType(shape, dtype: .i8), integers: [Int32](repeating: 0, count: perChannel?.count ?? 1)))
    return (ws, wz)
  }

  /// A constant f32 scalar (a scale).
  fileprivate mutating func scalar(_ name: String, _ v: Float) throws -> Operand {
    try constant(name, TensorType([]), [v])
  }

  /// A constant integer scalar of `dtype` (a zero point).
  fileprivate mutating func zeroPoint(_ name: String, _ v: Int32, _ dtype: DType = .u8) throws -> Operand {
    try constant(name, Tensor(type: TensorType([], dtype: dtype), integers: [v]))
  }
}
