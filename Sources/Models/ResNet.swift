import GraphIR

/// Builds the paper's residual networks (and their plain counterparts) as graphs with
/// seeded weights.
///
/// Names follow torchvision's (`conv1`, `layer2.0.bn1`, `layer2.0.downsample.0`, `fc`), so
/// they match what users see in exported models. Weights use He initialization (uniform,
/// variance 2/fan-in); BatchNorm statistics are random and far from the identity so that
/// folding them is tested for real. The last BatchNorm of each residual branch has its
/// scale divided by the square root of the number of blocks, which keeps activations of
/// very deep networks (resnet1202) within float range.
public enum ResNet {
  /// The graph of `spec`, verified.
  public static func build(_ spec: ResNetSpec) throws -> Graph {
    try spec.validate()
    var b = ResNetBuilder(spec: spec)
    return try b.build()
  }
}

/// The block structure of one network.
struct Stage {
  var width: Int
  var blocks: Int
  var stride: Int
}

private struct ResNetBuilder {
  let spec: ResNetSpec
  var g: GraphBuilder
  var random: SeededRandom
  let shortcut: ShortcutOption
  let branchScale: Float
  let bottleneck: Bool
  let stages: [Stage]

  init(spec: ResNetSpec) {
    self.spec = spec
    g = GraphBuilder(name: spec.name)
    random = SeededRandom(seed: spec.seed)
    shortcut = spec.shortcut ?? (spec.isImageNet ? .b : .a)
    if spec.isImageNet {
      let counts: [Int] =
        switch spec.depth {
        case 18: [2, 2, 2, 2]
        case 34, 50: [3, 4, 6, 3]
        case 101: [3, 4, 23, 3]
        default: [3, 8, 36, 3]
        }
      bottleneck = spec.depth >= 50
      stages = zip([64, 128, 256, 512], counts).enumerated().map {
        Stage(width: $1.0, blocks: $1.1, stride: $0 == 0 ? 1 : 2)
      }
    } else {
      let n = (spec.depth - 2) / 6
      bottleneck = false
      stages = [16, 32, 64].enumerated().map { Stage(width: $1, blocks: n, stride: $0 == 0 ? 1 : 2) }
    }
    branchScale = 1 / Float(stages.reduce(0) { $0 + $1.blocks }).squareRoot()
  }

  mutating func build() throws -> Graph {
    let resolution = spec.resolution ?? (spec.isImageNet ? 224 : 32)
    var x = try g.input("input", TensorType([spec.batch, 3, resolution, resolution]))
    var channels: Int
    if spec.isImageNet {
      x = try conv("conv1", x, in: 3, out: 64, kernel: 7, stride: 2, pad: 3)
      x = try g.node("relu", .relu, [try batchNorm("bn1", x, channels: 64)])
      x = try g.node(
        "maxpool", .maxPool2d(Pool2dAttributes(kernel: .square(3), stride: .square(2), padding: .uniform(1))), [x])
      channels = 64
    } else {
      x = try conv("conv1", x, in: 3, out: 16, kernel: 3, stride: 1, pad: 1)
      x = try g.node("relu", .relu, [try batchNorm("bn1", x, channels: 16)])
      channels = 16
    }
    for (s, stage) in stages.enumerated() {
      for block in 0..<stage.blocks {
        let name = "layer\(s + 1).\(block)"
        let stride = block == 0 ? stage.stride : 1
        (x, channels) =
          bottleneck
          ? try bottleneckBlock(name, x, in: channels, width: stage.width, stride: stride)
          : try basicBlock(name, x, in: channels, width: stage.width, stride: stride)
      }
    }
    x = try g.node("avgpool", .globalAvgPool, [x])
    x = try g.node("flatten", .flatten(axis: 1), [x])
    let classes = spec.isImageNet ? 1000 : 10
    let bound = 1 / Float(channels).squareRoot()
    let w = try g.constant(
      "fc.weight", TensorType([classes, channels]), random.uniform(count: classes * channels, -bound, bound))
    let bias = try g.constant("fc.bias", TensorType([classes]), random.uniform(count: classes, -bound, bound))
    x = try g.node("fc", .dense, [x, w, bias])
    x = try g.node("softmax", .softmax(axis: 1), [x])
    return try g.finish(outputs: [x])
  }

  /// `[3x3 width, 3x3 width]` plus shortcut.
  mutating func basicBlock(_ name: String, _ x: Operand, in channels: Int, width: Int, stride: Int) throws -> (
    Operand, Int
  ) {
    var y = try conv("\(name).conv1", x, in: channels, out: width, kernel: 3, stride: stride, pad: 1)
    y = try g.node("\(name).relu1", .relu, [try batchNorm("\(name).bn1", y, channels: width)])
    y = try conv("\(name).conv2", y, in: width, out: width, kernel: 3, stride: 1, pad: 1)
    y = try batchNorm("\(name).bn2", y, channels: width, lastInBranch: true)
    return (try join(name, y, x, in: channels, out: width, stride: stride), width)
  }

  /// `[1x1 width, 3x3 width, 1x1 4·width]` plus shortcut; the stride sits on the first 1x1
  /// (v1) or on the 3x3 (v1.5).
  mutating func bottleneckBlock(_ name: String, _ x: Operand, in channels: Int, width: Int, stride: Int) throws -> (
    Operand, Int
  ) {
    let (stride1, stride3) = spec.stride == .v1 ? (stride, 1) : (1, stride)
    var y = try conv("\(name).conv1", x, in: channels, out: width, kernel: 1, stride: stride1, pad: 0)
    y = try g.node("\(name).relu1", .relu, [try batchNorm("\(name).bn1", y, channels: width)])
    y = try conv("\(name).conv2", y, in: width, out: width, kernel: 3, stride: stride3, pad: 1)
    y = try g.node("\(name).relu2", .relu, [try batchNorm("\(name).bn2", y, channels: width)])
    y = try conv("\(name).conv3", y, in: width, out: 4 * width, kernel: 1, stride: 1, pad: 0)
    y = try batchNorm("\(name).bn3", y, channels: 4 * width, lastInBranch: true)
    return (try join(name, y, x, in: channels, out: 4 * width, stride: stride), 4 * width)
  }

  /// `relu(branch + shortcut(x))`, or `relu(branch)` for plain networks.
  mutating func join(_ name: String, _ branch: Operand, _ x: Operand, in channels: Int, out: Int, stride: Int) throws
    -> Operand
  {
    if spec.plain { return try g.node("\(name).relu", .relu, [branch]) }
    let reshapes = stride != 1 || channels != out
    var identity = x
    switch shortcut {
    case .a where reshapes:
      if stride != 1 {
        identity = try g.node("\(name).shortcut.subsample", .subsample2d(stride: .square(stride)), [identity])
      }
      if out > channels {
        identity = try g.node("\(name).shortcut.pad", .padChannels(before: 0, after: out - channels), [identity])
      }
    case .b where reshapes, .c:
      let projected = try conv("\(name).downsample.0", x, in: channels, out: out, kernel: 1, stride: stride, pad: 0)
      identity = try batchNorm("\(name).downsample.1", projected, channels: out)
    case .a, .b:
      break
    }
    let sum = try g.node("\(name).add", .add, [branch, identity])
    return try g.node("\(name).relu", .relu, [sum])
  }

  /// A bias-free convolution with He-initialized weights `name.weight`.
  mutating func conv(_ name: String, _ x: Operand, in c: Int, out k: Int, kernel: Int, stride: Int, pad: Int) throws
    -> Operand
  {
    let fanIn = c * kernel * kernel
    let bound = (6 / Float(fanIn)).squareRoot()
    let w = try g.constant(
      "\(name).weight", TensorType([k, c, kernel, kernel]), random.uniform(count: k * fanIn, -bound, bound))
    let attributes = Conv2dAttributes(stride: .square(stride), padding: .uniform(pad))
    return try g.node(name, .conv2d(attributes), [x, w])
  }

  /// BatchNorm with random, non-identity parameters and statistics.
  mutating func batchNorm(_ name: String, _ x: Operand, channels: Int, lastInBranch: Bool = false) throws -> Operand {
    var scale = random.uniform(count: channels, 0.5, 1.5)
    if lastInBranch, !spec.plain { scale = scale.map { $0 * branchScale } }
    let shape = TensorType([channels])
    let operands = [
      try g.constant("\(name).weight", shape, scale),
      try g.constant("\(name).bias", shape, random.uniform(count: channels, -0.2, 0.2)),
      try g.constant("\(name).running_mean", shape, random.uniform(count: channels, -0.2, 0.2)),
      try g.constant("\(name).running_var", shape, random.uniform(count: channels, 0.5, 1.5)),
    ]
    return try g.node(name, .batchNorm(epsilon: 1e-5), [x] + operands)
  }
}
