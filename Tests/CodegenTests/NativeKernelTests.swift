import GraphIR
import Testing

@testable import Codegen

/// One compiled kernel per case, against the interpreter: odd sizes, strides, padding,
/// groups, dilation, every epilogue and every other op.
@Suite struct NativeKernelTests {
  struct Case: CustomStringConvertible, Sendable {
    let description: String
    let op: Op
    let input: [Int]
    var constants: [[Int]] = []
    var inputs: [[Int]] = []
  }

  static let cases: [Case] = [
    Case(
      description: "conv 3x3 pad 1", op: .conv2d(Conv2dAttributes(padding: .uniform(1))), input: [1, 3, 7, 5],
      constants: [[4, 3, 3, 3]]),
    Case(
      description: "conv stride 2 asymmetric pad bias",
      op: .conv2d(Conv2dAttributes(stride: Size2d(2, 3), padding: Padding2d(top: 0, left: 2, bottom: 1, right: 1))),
      input: [2, 3, 9, 11], constants: [[5, 3, 3, 2], [5]]),
    Case(
      description: "conv groups and dilation",
      op: .conv2d(Conv2dAttributes(padding: .uniform(2), dilation: .square(2), groups: 3)), input: [1, 6, 7, 7],
      constants: [[9, 2, 3, 3], [9]]),
    Case(
      description: "conv depthwise stride 2",
      op: .conv2d(Conv2dAttributes(stride: .square(2), padding: .uniform(1), groups: 5)), input: [1, 5, 6, 6],
      constants: [[5, 1, 3, 3]]),
    Case(
      description: "conv 1x1 stride 2", op: .conv2d(Conv2dAttributes(stride: .square(2))), input: [1, 8, 5, 5],
      constants: [[16, 8, 1, 1]]),
    Case(
      description: "conv 7x7 stem",
      op: .conv2d(Conv2dAttributes(stride: .square(2), padding: .uniform(3), epilogue: .relu)), input: [1, 3, 17, 17],
      constants: [[4, 3, 7, 7], [4]]),
    Case(
      description: "conv epilogue add", op: .conv2d(Conv2dAttributes(padding: .uniform(1), epilogue: .add)),
      input: [1, 3, 5, 5], constants: [[3, 3, 3, 3]], inputs: [[1, 3, 5, 5]]),
    Case(
      description: "conv epilogue add_relu with bias",
      op: .conv2d(Conv2dAttributes(stride: .square(2), padding: .uniform(1), epilogue: .addReLU)), input: [2, 4, 5, 5],
      constants: [[6, 4, 3, 3], [6]], inputs: [[2, 6, 3, 3]]),
    Case(
      description: "batch_norm", op: .batchNorm(epsilon: 1e-3), input: [2, 3, 3, 5], constants: [[3], [3], [3], [3]]),
    Case(description: "scale_shift", op: .scaleShift, input: [1, 4, 3, 3], constants: [[4], [4]]),
    Case(description: "relu", op: .relu, input: [3, 7]),
    Case(description: "add", op: .add, input: [2, 3, 4], inputs: [[2, 3, 4]]),
    Case(description: "mul", op: .mul, input: [2, 3, 4], inputs: [[2, 3, 4]]),
    Case(description: "mul by a constant", op: .mul, input: [1, 3, 5], constants: [[1, 3, 5]]),
    Case(description: "clip (ReLU6 band)", op: .clip(min: -0.5, max: 0.25), input: [2, 3, 3, 3]),
    Case(description: "clip below only", op: .clip(min: 0.1, max: .greatestFiniteMagnitude), input: [3, 7]),
    Case(description: "transpose NHWC to NCHW", op: .transpose(perm: [0, 3, 1, 2]), input: [2, 5, 3, 4]),
    Case(description: "transpose rank 3", op: .transpose(perm: [2, 0, 1]), input: [3, 4, 5]),
    Case(
      description: "max pool ceil pad",
      op: .maxPool2d(Pool2dAttributes(kernel: .square(3), stride: .square(2), padding: .uniform(1), ceilMode: true)),
      input: [1, 2, 8, 7]),
    Case(
      description: "max pool dilation",
      op: .maxPool2d(Pool2dAttributes(kernel: .square(2), stride: .square(1), dilation: .square(2))),
      input: [1, 2, 6, 6]),
    Case(
      description: "avg pool include pad",
      op: .avgPool2d(
        Pool2dAttributes(kernel: .square(3), stride: .square(2), padding: .uniform(1)), countIncludePad: true),
      input: [1, 2, 7, 6]),
    Case(
      description: "avg pool exclude pad ceil",
      op: .avgPool2d(Pool2dAttributes(kernel: .square(2), stride: .square(2), ceilMode: true), countIncludePad: false),
      input: [1, 3, 5, 5]),
    Case(description: "global avg pool", op: .globalAvgPool, input: [2, 3, 5, 7]),
    Case(description: "flatten", op: .flatten(axis: 2), input: [2, 3, 4, 5]),
    Case(description: "reshape", op: .reshape(shape: [6, 20]), input: [2, 3, 4, 5]),
    Case(description: "dense with bias", op: .dense, input: [3, 7], constants: [[5, 7], [5]]),
    Case(description: "dense without bias", op: .dense, input: [1, 9], constants: [[4, 9]]),
    Case(description: "softmax last axis", op: .softmax(axis: 1), input: [2, 11]),
    Case(description: "softmax middle axis", op: .softmax(axis: 1), input: [2, 3, 4]),
    Case(description: "subsample2d", op: .subsample2d(stride: Size2d(2, 3)), input: [1, 2, 7, 8]),
    Case(description: "pad_channels", op: .padChannels(before: 1, after: 3), input: [2, 3, 2, 3]),
    Case(
      description: "pad2d", op: .pad2d(Padding2d(top: 1, left: 0, bottom: 2, right: 3), value: -0.5),
      input: [1, 2, 3, 3]),
  ]

  @Test(arguments: cases)
  func kernelMatchesInterpreter(_ c: Case) throws {
    let graph = try oneOp(c.op, input: c.input, constants: c.constants, inputs: c.inputs)
    #expect(try nativeError(graph) <= 1e-5)
  }

  /// The blocked kernels: convolutions with channel counts that are multiples of the block
  /// (and a 3-channel stem), every epilogue, odd widths that need a tail tile, strides and
  /// padding; max pooling, global average pooling and dense on blocked inputs; each on every
  /// vector target this machine runs.
  static let blockedCases: [(String, [Int], [(Op, [[Int]])])] = [
    (
      "3x3 conv chain with tails", [1, 16, 13, 29],
      [
        (.conv2d(Conv2dAttributes(padding: .uniform(1), epilogue: .relu)), [[32, 16, 3, 3], [32]]),
        (.conv2d(Conv2dAttributes(stride: .square(2), padding: .uniform(1))), [[16, 32, 3, 3]]),
      ]
    ),
    (
      "stem, max pool, 1x1 stride 2", [2, 3, 23, 23],
      [
        (.conv2d(Conv2dAttributes(stride: .square(2), padding: .uniform(3), epilogue: .relu)), [[16, 3, 7, 7], [16]]),
        (.maxPool2d(Pool2dAttributes(kernel: .square(3), stride: .square(2), padding: .uniform(1))), []),
        (.conv2d(Conv2dAttributes(stride: .square(2))), [[32, 16, 1, 1], [32]]),
      ]
    ),
    (
      // ResNet-D's average-pool shortcut (2x2, stride 2, odd sizes dropping the last row and
      // column), then windows past the edge with ceil mode, counting the padding or not.
      "average pools between blocked convs", [2, 16, 11, 9],
      [
        (.conv2d(Conv2dAttributes(padding: .uniform(1), epilogue: .relu)), [[16, 16, 3, 3], [16]]),
        (.avgPool2d(Pool2dAttributes(kernel: .square(2), stride: .square(2)), countIncludePad: false), []),
        (.conv2d(Conv2dAttributes()), [[32, 16, 1, 1]]),
        (
          .avgPool2d(
            Pool2dAttributes(kernel: .square(3), stride: .square(2), padding: .uniform(1), ceilMode: true),
            countIncludePad: true), []
        ),
        (
          .avgPool2d(
            Pool2dAttributes(kernel: .square(3), stride: .square(2), padding: .uniform(1), ceilMode: true),
            countIncludePad: false), []
        ),
        (.conv2d(Conv2dAttributes(padding: .uniform(1))), [[16, 32, 3, 3]]),
      ]
    ),
    (
      // Projection shortcuts: 1x1 convs of stride 2 (and 2 by 1) staging the pixels they read,
      // on a large map (row tiles) and on small ones (flat tiles) on AVX2.
      "decimating 1x1s", [2, 64, 13, 11],
      [
        (.conv2d(Conv2dAttributes(stride: .square(2))), [[32, 64, 1, 1], [32]]),
        (.conv2d(Conv2dAttributes(stride: Size2d(2, 1))), [[128, 32, 1, 1]]),
        (.conv2d(Conv2dAttributes(stride: .square(2), epilogue: .relu)), [[256, 128, 1, 1], [256]]),
      ]
    ),
    (
      "clip and transpose between blocked convs", [1, 16, 5, 9],
      [
        (.conv2d(Conv2dAttributes(padding: .uniform(1))), [[16, 16, 3, 3], [16]]), (.clip(min: 0, max: 0.5), []),
        (.conv2d(Conv2dAttributes()), [[16, 16, 1, 1]]), (.transpose(perm: [0, 1, 3, 2]), []),
        (.conv2d(Conv2dAttributes(padding: .uniform(1))), [[16, 16, 3, 3]]),
      ]
    ),
    (
      // ResNeXt's grouped 3x3s: groups of 4, 8, 16 and 32 channels (narrower than a block, one
      // block or two of AVX2's, one or two of AVX-512's), stride 2, padding, epilogues.
      "grouped convs", [1, 64, 9, 29],
      [
        (.conv2d(Conv2dAttributes(padding: .uniform(1), groups: 16, epilogue: .relu)), [[64, 4, 3, 3], [64]]),
        (.conv2d(Conv2dAttributes(padding: .uniform(1), groups: 8)), [[64, 8, 3, 3], [64]]),
        (.conv2d(Conv2dAttributes(stride: .square(2), padding: .uniform(1), groups: 4)), [[64, 16, 3, 3]]),
        (.conv2d(Conv2dAttributes(padding: .uniform(1), groups: 2, epilogue: .relu)), [[64, 32, 3, 3], [64]]),
      ]
    ),
    (
      // ResNet v2's pre-activation: a BatchNorm left as scale_shift, then ReLU, on blocked
      // tensors between convs.
      "scale_shift between blocked convs", [2, 32, 6, 7],
      [
        (.conv2d(Conv2dAttributes(padding: .uniform(1))), [[32, 32, 3, 3], [32]]), (.scaleShift, [[32], [32]]),
        (.relu, []), (.conv2d(Conv2dAttributes()), [[32, 32, 1, 1]]),
      ]
    ),
    (
      // The late stages' shapes: weights larger than the map (channel-block groups outer on
      // AVX2) and rows of 7 to 9 pixels (a short tail merged with the tile before it).
      "late-stage maps", [2, 32, 7, 9],
      [
        (.conv2d(Conv2dAttributes(padding: .uniform(1), epilogue: .relu)), [[32, 32, 3, 3], [32]]),
        (.conv2d(Conv2dAttributes(padding: Padding2d(top: 1, left: 0, bottom: 1, right: 0))), [[32, 32, 3, 3]]),
        (.conv2d(Conv2dAttributes(epilogue: .relu)), [[64, 32, 1, 1], [64]]),
        (.conv2d(Conv2dAttributes(padding: .uniform(1))), [[64, 64, 3, 3], [64]]),
      ]
    ),
    (
      // Maps far smaller than their weights: flat tiles across rows on AVX2, the 3x3 convs and
      // the 1x1 from 512 channels in chunks of input blocks, a grouped conv, a stride 2 with
      // padding on two sides only, and a 1x1 that reads its input without a padded copy.
      "flat tiles", [2, 64, 5, 7],
      [
        (.conv2d(Conv2dAttributes(padding: .uniform(1), epilogue: .relu)), [[64, 64, 3, 3], [64]]),
        (
          .conv2d(Conv2dAttributes(stride: .square(2), padding: Padding2d(top: 1, left: 0, bottom: 0, right: 1))),
          [[64, 64, 3, 3]]
        ),
        (.conv2d(Conv2dAttributes(epilogue: .relu)), [[512, 64, 1, 1], [512]]),
        (.conv2d(Conv2dAttributes()), [[32, 512, 1, 1], [32]]),
        (.conv2d(Conv2dAttributes(padding: .uniform(1), groups: 4, epilogue: .relu)), [[32, 8, 3, 3]]),
      ]
    ),
    (
      "head", [1, 32, 5, 5],
      [
        (.conv2d(Conv2dAttributes(padding: Padding2d(top: 0, left: 1, bottom: 2, right: 1))), [[48, 32, 3, 3], [48]]),
        (.globalAvgPool, []), (.flatten(axis: 1), []), (.dense, [[37, 48], [37]]), (.softmax(axis: 1), []),
      ]
    ),
  ]

  /// The plan of each blocked conv of `graph` as lowered for `target` and `caches`.
  static func convPlans(_ graph: Graph, target: Target, caches: CacheSizes? = nil) throws -> [ConvPlan] {
    let lowered = try LoweredProgram(graph: graph, target: target, caches: caches)
    return lowered.steps.compactMap { step -> ConvPlan? in
      guard case .conv(let node, let a, let filter, let plainInput, let preact) = step.kind else { return nil }
      let x = lowered.type(of: node.operands[0]).shape
      return ConvPlan(
        node, a, x: x, filter: filter, plainInput: plainInput, preact: preact, target: target, caches: lowered.caches,
        border: .tested)
    }
  }

  /// Rows cut into tiles cover every pixel once, in order; two-block tiles of rows of 7 or
  /// more pixels are 3 pixels wide or wider, at most one of them narrower than 4.
  @Test func tileSegmentsCoverTheRow() {
    for tile in [4, 6, 7, 14, 28] {
      for channelBlocks in [1, 2] {
        for q in 1...64 {
          let segments = ConvPlan.tileSegments(q: q, tile: tile, channelBlocks: channelBlocks)
          var next = 0
          for segment in segments {
            #expect(segment.start == next && segment.count > 0 && (1...tile).contains(segment.width))
            next = segment.start + segment.count * segment.width
          }
          #expect(next == q, "tile \(tile), q \(q): \(segments)")
          if channelBlocks == 2 && q >= 7 && tile >= 6 {
            let narrow = segments.filter { $0.width < 4 }
            #expect(narrow.allSatisfy { $0.width == 3 && $0.count == 1 } && narrow.count <= 1, "q \(q): \(segments)")
          }
        }
      }
    }
    #expect(ConvPlan.tileSegments(q: 7, tile: 6, channelBlocks: 2).map(\.width) == [4, 3])
  }

  /// Winograd F(2×2, 3×3): maps with odd sizes (partial tiles), padding, every epilogue,
  /// more tiles than one chunk, small maps (output blocks split into groups, one block a
  /// pass) and large ones (two blocks a pass, the chunk in pieces); error against the
  /// interpreter within 1e-4.
  @Test(arguments: runnableTargets.filter { $0 != .generic })
  func winogradMatchesInterpreter(target: Target) throws {
    for (shape, epilogue) in [
      ([1, 64, 13, 15], Epilogue.none), ([2, 64, 14, 14], .relu), ([1, 64, 29, 12], .addReLU),
      ([1, 128, 12, 13], .add), ([2, 64, 30, 30], .addReLU), ([1, 64, 46, 47], .relu), ([1, 32, 14, 16], .relu),
    ] {
      var b = GraphBuilder(name: "winograd")
      let x = try b.input("x", TensorType(shape))
      let w = try b.constant("w", TensorType([64, shape[1], 3, 3]), values(64 * shape[1] * 9, seed: 4))
      let bias = try b.constant("b", TensorType([64]), values(64, seed: 5))
      var operands = [x, w, bias]
      if epilogue.addsResidual { operands.append(try b.input("r", TensorType([shape[0], 64, shape[2], shape[3]]))) }
      let y = try b.node("y", .conv2d(Conv2dAttributes(padding: .uniform(1), epilogue: epilogue)), operands)
      let graph = try b.finish(outputs: [y])
      let program = try CProgram(graph: graph, headerName: "m.h", target: target)
      // From 32 input channels on AVX2 (ResNet-D's deep stem), from 64 elsewhere.
      let winograd = shape[1] >= 64 || target == .avx2
      #expect(program.source.contains("Winograd F(2x2,3x3)") == winograd, "\(shape): Winograd \(winograd)")
      // The large maps give a group every block, and each pass two of them.
      #expect(program.source.contains("kbp") == (shape[2] >= 30), "\(shape): two blocks a pass")
      let error = try nativeError(graph, target: target)
      #expect(error <= 1e-4, "\(shape) \(epilogue): relative error \(error)")
    }
  }

  @Test(arguments: runnableTargets.filter { $0 != .generic })
  func blockedKernelsMatchInterpreter(target: Target) throws {
    for (name, input, ops) in Self.blockedCases {
      var b = GraphBuilder(name: "chain")
      var v = try b.input("x", TensorType(input))
      for (i, (op, shapes)) in ops.enumerated() {
        let constants = try shapes.enumerated().map { j, shape in
          try b.constant("c\(i).\(j)", TensorType(shape), values(shape.reduce(1, *), seed: UInt64(10 * i + j)))
        }
        v = try b.node("n\(i)", op, [v] + constants)
      }
      let graph = try b.finish(outputs: [v])
      #expect(try nativeError(graph, target: target) <= 1e-5, "\(name)")
      if name == "scale_shift between blocked convs" {
        let source = try CProgram(graph: graph, headerName: "m.h", target: target).source
        let reorders = try LoweredProgram(graph: graph, target: target).stepLabels.filter { $0.op == "reorder" }
        #expect(
          source.contains("also pre = relu(y * pscale + pshift)") && reorders.count == 2,
          "the conv stores the pre-activation; only the graph's edges reorder")
        let ops = try LoweredProgram(graph: graph, target: target).stepLabels.map(\.op)
        #expect(ops == ["reorder", "conv2d", "conv2d", "reorder"], "scale_shift and ReLU join the conv: \(ops)")
      }
      if name == "late-stage maps" {
        let orders = try Self.convPlans(graph, target: target).map(\.order)
        let expected: ConvPlan.Order = target == .avx2 ? .blocksOuter : .rowsOuter
        #expect(orders == [ConvPlan.Order](repeating: expected, count: 4), "\(orders)")
      }
      if name == "average pools between blocked convs" {
        let lowered = try LoweredProgram(graph: graph, target: target)
        #expect(lowered.stepLabels.filter { $0.op == "reorder" }.count == 2, "only the graph's edges reorder")
        #expect(lowered.stepKernels.filter { $0 == "blocked" }.count == 3, "the pools run blocked")
      }
      if name == "decimating 1x1s" {
        let plans = try Self.convPlans(graph, target: target)
        #expect(plans.map(\.decimates) == [Bool](repeating: target == .avx2, count: 3))
        #expect(plans.map(\.flatTiles) == [false, target == .avx2, target == .avx2])
      }
      if name == "flat tiles" {
        let plans = try Self.convPlans(graph, target: target)
        #expect(plans.map(\.flatTiles) == [Bool](repeating: target == .avx2, count: 5))
        let chunked = plans.map { $0.chunkBlocks < $0.x[1] / $0.b }
        #expect(chunked == (target == .avx2 ? [true, true, false, true, false] : [false, false, false, false, false]))
        // The chunks follow the L1 data cache: a 4 KB one cuts every chunked conv finer, a
        // 1 MB one holds each group's weights whole; the results stay the interpreter's.
        if target == .avx2 {
          let small = CacheSizes(l1d: 4 << 10, l2: 256 << 10, l3: 8 << 20, source: "test")
          let large = CacheSizes(l1d: 1 << 20, l2: 2 << 20, l3: 8 << 20, source: "test")
          let fine = try Self.convPlans(graph, target: target, caches: small).map(\.chunkBlocks)
          let whole = try Self.convPlans(graph, target: target, caches: large).map(\.chunkBlocks)
          #expect(zip(fine, plans.map(\.chunkBlocks)).allSatisfy { $0 <= $1 } && fine != plans.map(\.chunkBlocks))
          #expect(whole == plans.map { $0.x[1] / $0.b }, "\(whole)")
          for caches in [small, large] {
            #expect(try nativeError(graph, target: target, caches: caches) <= 1e-5, "flat tiles, L1d \(caches.l1d)")
          }
        }
      }
      if name == "grouped convs" {
        let source = try CProgram(graph: graph, headerName: "m.h", target: target).source
        #expect(source.components(separatedBy: "conv2d, blocked by").count == 5, "every grouped conv runs blocked")
        // Rows of 29 in 12-pixel tiles and a tail of 5 on AVX2, the 15 after the stride 2 in 5s.
        let tiles = try Self.convPlans(graph, target: target).map(\.tile)
        #expect(tiles == (target == .avx2 ? [12, 12, 5, 5] : [28, 28, 15, 15]), "\(tiles)")
      }
    }
    // A scale_shift that another node reads too keeps its own output; the ReLU runs apart.
    do {
      var b = GraphBuilder(name: "shared scale_shift")
      let x = try b.input("x", TensorType([1, 16, 5, 6]))
      let w = try b.constant("w", TensorType([16, 16, 3, 3]), values(2304, seed: 1))
      let c = try b.node("c", .conv2d(Conv2dAttributes(padding: .uniform(1))), [x, w])
      let scale = try b.constant("scale", TensorType([16]), values(16, seed: 2))
      let shift = try b.constant("shift", TensorType([16]), values(16, seed: 3))
      let ss = try b.node("ss", .scaleShift, [c, scale, shift])
      let r = try b.node("r", .relu, [ss])
      let w2 = try b.constant("w2", TensorType([16, 16, 1, 1]), values(256, seed: 4))
      let c2 = try b.node("c2", .conv2d(Conv2dAttributes()), [r, w2])
      let sum = try b.node("sum", .add, [c2, ss])
      let graph = try b.finish(outputs: [sum])
      #expect(try nativeError(graph, target: target) <= 1e-5, "shared scale_shift")
      let ops = try LoweredProgram(graph: graph, target: target).stepLabels.map(\.op)
      #expect(ops.contains("relu"), "\(ops)")
    }
    // The epilogues with a residual, in blocked layout: conv + shortcut (+ ReLU); at 64
    // channels on a 5x7 map, flat tiles and chunks of input blocks on AVX2.
    for (c, shape) in [(16, [1, 16, 7, 9]), (64, [2, 64, 5, 7])] {
      for epilogue in [Epilogue.add, .addReLU] {
        var b = GraphBuilder(name: "residual")
        let x = try b.input("x", TensorType(shape))
        let w1 = try b.constant("w1", TensorType([c, c, 3, 3]), values(c * c * 9, seed: 1))
        let shortcut = try b.node("s", .conv2d(Conv2dAttributes(padding: .uniform(1), epilogue: .relu)), [x, w1])
        let w2 = try b.constant("w2", TensorType([c, c, 3, 3]), values(c * c * 9, seed: 2))
        let bias = try b.constant("b2", TensorType([c]), values(c, seed: 3))
        let y = try b.node(
          "y", .conv2d(Conv2dAttributes(padding: .uniform(1), epilogue: epilogue)), [shortcut, w2, bias, shortcut])
        let sum = try b.node("z", .add, [y, shortcut])
        let r = try b.node("r", .relu, [sum])
        #expect(try nativeError(try b.finish(outputs: [r]), target: target) <= 1e-5, "\(shape) \(epilogue)")
      }
    }
  }

  /// ResNet v2's pre-activation, a scale_shift and ReLU of an add's output that the next add
  /// also reads raw, stored by the conv that computes the add, on row tiles (16 channels,
  /// 7x9) and on AVX2's flat, chunked tiles (64 channels, 5x7); without the ReLU; and after a
  /// pool, where it keeps a pass of its own. C on every vector target, and Swift.
  @Test(arguments: runnableTargets.filter { $0 != .generic })
  func preActivationJoinsTheConv(target: Target) throws {
    for (c, shape, relu) in [(16, [1, 16, 7, 9], true), (64, [2, 64, 5, 7], true), (16, [2, 16, 6, 7], false)] {
      var b = GraphBuilder(name: "preact")
      let x = try b.input("x", TensorType(shape))
      let w1 = try b.constant("w1", TensorType([c, c, 3, 3]), values(c * c * 9, seed: 1))
      let stem = try b.node("stem", .conv2d(Conv2dAttributes(padding: .uniform(1), epilogue: .relu)), [x, w1])
      let w2 = try b.constant("w2", TensorType([c, c, 3, 3]), values(c * c * 9, seed: 2))
      let bias = try b.constant("b2", TensorType([c]), values(c, seed: 3))
      let sum = try b.node(
        "sum", .conv2d(Conv2dAttributes(padding: .uniform(1), epilogue: .add)), [stem, w2, bias, stem])
      let scale = try b.constant("scale", TensorType([c]), values(c, seed: 4))
      let shift = try b.constant("shift", TensorType([c]), values(c, seed: 5))
      var pre = try b.node("pre", .scaleShift, [sum, scale, shift])
      if relu { pre = try b.node("pre.relu", .relu, [pre]) }
      let w3 = try b.constant("w3", TensorType([c, c, 3, 3]), values(c * c * 9, seed: 6))
      let next = try b.node("next", .conv2d(Conv2dAttributes(padding: .uniform(1), epilogue: .add)), [pre, w3, sum])
      let graph = try b.finish(outputs: [next])
      let lowered = try LoweredProgram(graph: graph, target: target)
      #expect(lowered.stepLabels.map(\.op) == ["reorder", "conv2d", "conv2d", "conv2d", "reorder"], "\(shape)")
      #expect(lowered.stepKernels[2].hasSuffix(" +preact"), "\(lowered.stepKernels)")
      let plans = try Self.convPlans(graph, target: target)
      #expect(plans.map(\.preact) == [nil, ConvPlan.PreActivation(relu: relu), nil])
      if c == 64 && target == .avx2 {
        #expect(plans[1].flatTiles && plans[1].chunkBlocks < 8, "the chunked flat tiles store it after the last pass")
      }
      #expect(try nativeError(graph, target: target) <= 1e-5, "\(shape) relu \(relu)")
      if c == 16 && relu {
        #expect(try nativeError(graph, target: target, backend: .swift) <= 1e-5, "Swift, \(shape)")
      }
    }
    // A scale_shift nobody reads still joins the conv; its buffer must not share the conv
    // output's space (generated graph 102 of seed 71 read the pre-activation as the output).
    var d = GraphBuilder(name: "dead preact")
    let dx = try d.input("x", TensorType([2, 32, 3, 10]))
    let dw = try d.constant("w", TensorType([32, 32, 3, 3]), values(9216, seed: 7))
    let dc = try d.node("c", .conv2d(Conv2dAttributes(padding: .uniform(1))), [dx, dw])
    let ds = try d.constant("s", TensorType([32]), values(32, seed: 8))
    let dt = try d.constant("t", TensorType([32]), values(32, seed: 9))
    _ = try d.node("dead", .scaleShift, [dc, ds, dt])
    let dw2 = try d.constant("w2", TensorType([32, 32, 1, 1]), values(1024, seed: 10))
    let dy = try d.node("y", .conv2d(Conv2dAttributes()), [dc, dw2])
    let dead = try d.finish(outputs: [dy])
    let deadLowered = try LoweredProgram(graph: dead, target: target)
    let deadPlan = deadLowered.plan.locations
    #expect(deadLowered.stepKernels.contains { $0.hasSuffix(" +preact") }, "\(deadLowered.stepKernels)")
    #expect(deadPlan[.blocked("dead")] != nil && deadPlan[.blocked("dead")] != deadPlan[.blocked("c")])
    #expect(try nativeError(dead, target: target) <= 1e-5, "a dead pre-activation")
    // After a pool the scale_shift and ReLU keep their own pass.
    var b = GraphBuilder(name: "preact after a pool")
    let x = try b.input("x", TensorType([1, 16, 9, 9]))
    let w = try b.constant("w", TensorType([16, 16, 3, 3]), values(2304, seed: 1))
    let c = try b.node("c", .conv2d(Conv2dAttributes(padding: .uniform(1))), [x, w])
    let pool = try b.node(
      "pool", .maxPool2d(Pool2dAttributes(kernel: .square(3), stride: .square(2), padding: .uniform(1))), [c])
    let scale = try b.constant("scale", TensorType([16]), values(16, seed: 2))
    let shift = try b.constant("shift", TensorType([16]), values(16, seed: 3))
    let ss = try b.node("ss", .scaleShift, [pool, scale, shift])
    let r = try b.node("r", .relu, [ss])
    let w2 = try b.constant("w2", TensorType([16, 16, 1, 1]), values(256, seed: 4))
    let y = try b.node("y", .conv2d(Conv2dAttributes(epilogue: .add)), [r, w2, pool])
    let graph = try b.finish(outputs: [y])
    let lowered = try LoweredProgram(graph: graph, target: target)
    #expect(lowered.stepKernels.contains("blocked, relu"), "\(lowered.stepKernels)")
    #expect(try nativeError(graph, target: target) <= 1e-5, "after a pool")
  }
}
