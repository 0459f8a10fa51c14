import GraphIR

/// Random valid graphs over every op of the IR, for differential testing.
///
/// `GraphGenerator(seed:).graph()` is deterministic: a seed names one graph. Graphs are small
/// (a handful to about 20 nodes, maps down to 1x1, batch 1 to 4) and lean on what breaks
/// compilers: values read by several nodes (graph outputs read inside the graph too, several
/// outputs), constants shared by several nodes (one weight under two convolutions, each with
/// its own BatchNorm), chains of fusable ops (bn→bn, relu→relu, add→add, a BatchNorm with no
/// conv before it), channel counts that are no multiple of 8 or 16 beside ones that are
/// (so blocked and Winograd kernels run), convolutions with groups (depthwise too),
/// dilation, stride, asymmetric padding, with or without bias or a fused epilogue, computed
/// weights, dead nodes, and hostile names (`NameMaker`).
public struct GraphGenerator {
  private var dice: Dice
  private var names: NameMaker
  private var b: GraphBuilder
  /// Values defined so far, in order, with their types.
  private var values: [(operand: Operand, type: TensorType)] = []
  /// Constants that later nodes may share, by role (weight, variance, ...) and shape: a
  /// variance is only ever shared with variances, which are positive.
  private var shareable: [String: [Operand]] = [:]

  /// The generator of the graph for `seed`.
  public init(seed: UInt64) {
    dice = Dice(seed: seed)
    names = NameMaker(hostility: dice.pick([0, 0.1, 0.3, 0.8]))
    b = GraphBuilder(name: "g\(seed)")
  }

  /// The graph; it passes the verifier.
  public mutating func graph() -> Graph {
    do {
      return try build()
    } catch {
      preconditionFailure("the generator built an invalid graph: \(error)")
    }
  }

  private mutating func build() throws(GraphError) -> Graph {
    let batch = dice.pick([1, 1, 1, 2, 3, 4])
    let wide = dice.chance(0.15)
    for i in 0..<dice.pick([1, 1, 1, 2]) {
      let channels = wide ? dice.pick([64, 72]) : dice.pick([1, 2, 3, 5, 7, 8, 12, 13, 16, 17, 24, 32])
      let shape =
        wide
        ? [batch, channels, dice.int(12...15), dice.int(12...15)]
        : [batch, channels, dice.int(1...12), dice.int(1...12)]
      let operand = try b.input(name("x\(i)"), TensorType(shape))
      values.append((operand, TensorType(shape)))
    }
    for _ in 0..<dice.int(2...14) { try step() }
    return try b.finish(outputs: chooseOutputs())
  }

  private mutating func name(_ plain: String) -> String { names.make(plain, &dice) }

  /// Adds one node (or a small chain) reading earlier values.
  private mutating func step() throws(GraphError) {
    let (x, type) = pickValue()
    let shape = type.shape
    if shape.count == 4 {
      switch dice.int(0...23) {
      case 0...5: try conv(x, shape)
      case 6...7: try batchNorm(x, shape)
      case 8: try add(scaleShift(x, shape), nil)
      case 9...10: try add(define("r", .relu, [x]), dice.chance(0.3) ? .relu : nil)
      case 11...12: try add(x, nil)
      case 13: try pool(x, shape)
      case 14: try head(x, shape)
      case 15: try add(define("s", .subsample2d(stride: Size2d(dice.int(1...3), dice.int(1...3))), [x]), nil)
      case 16: try add(define("pc", .padChannels(before: dice.int(0...5), after: dice.int(0...5)), [x]), nil)
      case 17:
        let p = Padding2d(top: dice.int(0...2), left: dice.int(0...2), bottom: dice.int(0...2), right: dice.int(0...2))
        try add(define("pd", .pad2d(p, value: dice.pick([0, 0, -1.5, 2])), [x]), nil)
      case 18: try define("rs", .reshape(shape: [shape[0], shape[1] * shape[2], shape[3], 1]), [x])
      case 19: try siamese(x, shape)
      case 20: try define("gp", .globalAvgPool, [x])
      case 21: try add(try mul(x, type), nil)
      case 22: try add(try clip(x), nil)
      default: try define("tr", .transpose(perm: dice.permutation(4)), [x])
      }
    } else {
      switch dice.int(0...7) {
      case 0...2: try dense(x, shape)
      case 3: try define("sm", .softmax(axis: dice.int(0...(shape.count - 1))), [x])
      case 4: try batchNorm(x, shape)
      case 5: try add(try clip(x), nil)
      case 6: try add(try mul(x, type), nil)
      default: try add(try define("r", .relu, [x]), nil)
      }
    }
  }

  /// A value to read: most often a recent one (chains), sometimes any earlier one (fan-out).
  private mutating func pickValue() -> (Operand, TensorType) {
    let recent = max(0, values.count - 3)
    let i = dice.chance(0.6) ? dice.int(recent...(values.count - 1)) : dice.int(0...(values.count - 1))
    return values[i]
  }

  @discardableResult
  private mutating func define(_ plain: String, _ op: Op, _ operands: [Operand]) throws(GraphError) -> Operand {
    let operand = try b.node(name(plain), op, operands)
    values.append((operand, b.type(of: operand)!))
    return operand
  }

  /// A constant of `shape`: shared with an earlier one of that shape now and then.
  private mutating func constant(
    _ plain: String, _ shape: [Int], _ low: Float, _ high: Float, share: Bool = true
  ) throws(GraphError) -> Operand {
    let role = "\(plain) \(shape)"
    if share, let earlier = shareable[role], dice.chance(0.35) { return dice.pick(earlier) }
    let operand = try b.constant(
      name(plain), TensorType(shape), dice.floats(shape.reduce(1, *), low, high))
    shareable[role, default: []].append(operand)
    return operand
  }

  /// Sometimes an `add` of `x` and another value of its shape (or itself), then a ReLU.
  @discardableResult
  private mutating func add(_ x: Operand, _ then: Op?) throws(GraphError) -> Operand {
    var y = x
    if let then { y = try define("t", then, [y]) }
    let type = b.type(of: y)!
    let partners = values.filter { $0.type == type }.map(\.operand)
    if dice.chance(0.5), !partners.isEmpty {
      y = try define("a", .add, [y, dice.pick(partners)])
      // A Sum of three or more, as ONNX writes it: a chain of adds.
      while dice.chance(0.3) { y = try define("a", .add, [y, dice.pick(partners)]) }
      if dice.chance(0.5) { y = try define("ar", .relu, [y]) }
    }
    return y
  }

  private mutating func conv(_ x: Operand, _ shape: [Int]) throws(GraphError) {
    let c = shape[1]
    let divisors = (1...c).filter { c % $0 == 0 }
    let groups = dice.chance(0.6) ? 1 : dice.pick(divisors)
    let perGroup = dice.pick([1, 2, 3, 4, 8, 16])
    var k = dice.chance(0.5) ? groups * perGroup : dice.pick([8, 16, 24, 32, 64])
    if k % groups != 0 || k > 128 { k = groups * (groups * perGroup > 128 ? 1 : perGroup) }
    let kernel = Size2d(dice.pick([1, 1, 3, 3, 3, 2, 5, 7]), dice.pick([1, 3, 3, 2]))
    let stride = dice.chance(0.6) ? Size2d.square(1) : Size2d(dice.int(1...3), dice.int(1...3))
    let dilation = dice.chance(0.8) ? Size2d.square(1) : Size2d(dice.int(1...2), dice.int(1...2))
    let pad = Padding2d(
      top: dice.int(0...(kernel.h - 1)), left: dice.int(0...(kernel.w - 1)), bottom: dice.int(0...(kernel.h - 1)),
      right: dice.int(0...(kernel.w - 1)))
    func fits(_ n: Int, _ k: Int, _ d: Int, _ p0: Int, _ p1: Int) -> Bool { n + p0 + p1 >= (k - 1) * d + 1 }
    guard fits(shape[2], kernel.h, dilation.h, pad.top, pad.bottom),
      fits(shape[3], kernel.w, dilation.w, pad.left, pad.right)
    else { return try batchNorm(x, shape) }
    // Weights of variance 1/fan-in keep values near 1 however deep the graph: a softmax of
    // logits in the hundreds would turn float rounding into errors over the bound.
    let bound = (3 / Float(c / groups * kernel.h * kernel.w)).squareRoot()
    var weight = try constant("w", [k, c / groups, kernel.h, kernel.w], -bound, bound)
    if dice.chance(0.05) { weight = try define("cw", .relu, [weight]) }  // a computed weight
    var operands = [x, weight]
    if dice.chance(0.5) { operands.append(try constant("b", [k], -0.5, 0.5)) }
    var attributes = Conv2dAttributes(stride: stride, padding: pad, dilation: dilation, groups: groups)
    let out = try inferType(of: .conv2d(attributes), operands: operands.map { b.type(of: $0)! }, node: "conv")
    // Now and then the conv comes with its epilogue already fused, as a model file may hold it.
    if dice.chance(0.15) {
      attributes.epilogue = dice.pick([.relu, .add, .addReLU])
      if attributes.epilogue.addsResidual {
        guard let residual = values.first(where: { $0.type == out })?.operand else {
          attributes.epilogue = .relu
          return try followConv(try define("c", .conv2d(attributes), operands), out.shape)
        }
        operands.append(residual)
      }
    }
    try followConv(try define("c", .conv2d(attributes), operands), out.shape)
  }

  /// One weight under two convolutions (of `x` and of another value of its shape, or `x`
  /// again), each followed by its own BatchNorm, then their sum.
  private mutating func siamese(_ x: Operand, _ shape: [Int]) throws(GraphError) {
    let k = dice.pick([3, 8, 16])
    let bound = (3 / Float(shape[1] * 9)).squareRoot()
    let weight = try constant("sw", [k, shape[1], 3, 3], -bound, bound, share: false)
    let other = dice.pick(values.filter { $0.type.shape == shape }.map(\.operand))
    let conv = Op.conv2d(Conv2dAttributes(padding: .uniform(1)))
    let a = try batchNormNode(try define("sa", conv, [x, weight]), [shape[0], k, shape[2], shape[3]])
    let b = try batchNormNode(try define("sb", conv, [other, weight]), [shape[0], k, shape[2], shape[3]])
    try define("sum", .add, [a, b])
  }

  /// What usually follows a convolution: BatchNorm, ReLU and a shortcut add, in some order.
  private mutating func followConv(_ c: Operand, _ shape: [Int]) throws(GraphError) {
    var y = c
    if dice.chance(0.7) { y = try batchNormNode(y, shape) }
    if dice.chance(0.2) { y = try batchNormNode(y, shape) }  // bn -> bn
    if dice.chance(0.4) { y = try add(y, nil) }
    if dice.chance(0.6) { y = try define("r", .relu, [y]) }
    if dice.chance(0.15) { y = try define("r", .relu, [y]) }  // relu -> relu
  }

  private mutating func batchNorm(_ x: Operand, _ shape: [Int]) throws(GraphError) {
    try add(try batchNormNode(x, shape), dice.chance(0.5) ? .relu : nil)
  }

  private mutating func batchNormNode(_ x: Operand, _ shape: [Int]) throws(GraphError) -> Operand {
    let c = [shape[1]]
    let operands = [
      x, try constant("bn.s", c, 0.5, 1.5), try constant("bn.t", c, -0.5, 0.5),
      try constant("bn.m", c, -0.5, 0.5), try constant("bn.v", c, 0.5, 1.5),
    ]
    return try define("bn", .batchNorm(epsilon: dice.pick([1e-5, 1e-3, 0])), operands)
  }

  private mutating func scaleShift(_ x: Operand, _ shape: [Int]) throws(GraphError) -> Operand {
    try define(
      "ss", .scaleShift, [x, try constant("ss.s", [shape[1]], -1.5, 1.5), try constant("ss.t", [shape[1]], -1, 1)])
  }

  /// `x` times another value of its type (or itself), or a constant.
  private mutating func mul(_ x: Operand, _ type: TensorType) throws(GraphError) -> Operand {
    let partners = values.filter { $0.type == type }.map(\.operand)
    let other = dice.chance(0.5) ? dice.pick(partners) : try constant("mk", type.shape, -1.5, 1.5)
    return try define("m", .mul, dice.chance(0.5) ? [x, other] : [other, x])
  }

  /// A clip: ReLU6, a symmetric band, or one bound only.
  private mutating func clip(_ x: Operand) throws(GraphError) -> Operand {
    let (lo, hi): (Float, Float) = dice.pick([
      (0, 6), (-1, 1), (0, .greatestFiniteMagnitude), (-.greatestFiniteMagnitude, 0.5), (0.25, 0.25),
    ])
    return try define("cl", .clip(min: lo, max: hi), [x])
  }

  private mutating func pool(_ x: Operand, _ shape: [Int]) throws(GraphError) {
    let kernel = Size2d(dice.int(1...3), dice.int(1...3))
    let average = dice.chance(0.5)
    let a = Pool2dAttributes(
      kernel: kernel, stride: Size2d(dice.int(1...3), dice.int(1...3)),
      padding: Padding2d(
        top: dice.int(0...(kernel.h - 1)), left: dice.int(0...(kernel.w - 1)), bottom: dice.int(0...(kernel.h - 1)),
        right: dice.int(0...(kernel.w - 1))),
      dilation: average || dice.chance(0.8) ? .square(1) : Size2d(dice.int(1...2), dice.int(1...2)),
      ceilMode: dice.chance(0.4))
    let op: Op = average ? .avgPool2d(a, countIncludePad: dice.chance(0.5)) : .maxPool2d(a)
    guard (try? inferType(of: op, operands: [TensorType(shape)], node: "pool")) != nil else { return }
    try add(try define("p", op, [x]), nil)
  }

  /// Global pooling or flatten, then dense layers and maybe a softmax.
  private mutating func head(_ x: Operand, _ shape: [Int]) throws(GraphError) {
    var y = x
    if dice.chance(0.6) { y = try define("gap", .globalAvgPool, [y]) }
    let flat = try define("f", .flatten(axis: dice.pick([1, 1, 1, 0, 2, 4])), [y])
    try dense(flat, b.type(of: flat)!.shape)
  }

  private mutating func dense(_ x: Operand, _ shape: [Int]) throws(GraphError) {
    guard shape.count == 2, shape[1] <= 4096 else { return }
    let outputs = dice.pick([1, 3, 8, 10, 16, 17])
    let bound = (3 / Float(shape[1])).squareRoot()
    var operands = [x, try constant("fc.w", [outputs, shape[1]], -bound, bound)]
    if dice.chance(0.7) { operands.append(try constant("fc.b", [outputs], -1, 1)) }
    var y = try define("fc", .dense, operands)
    if dice.chance(0.3) { y = try define("fr", .relu, [y]) }
    if dice.chance(0.4) { try define("sm", .softmax(axis: dice.int(0...1)), [y]) }
  }

  /// The last value, and now and then others (values also read inside, an input).
  private mutating func chooseOutputs() -> [Operand] {
    var outputs = [values.last!.operand]
    for _ in 0..<dice.pick([0, 0, 1, 2]) {
      let candidate = dice.pick(values).operand
      if !outputs.contains(candidate) { outputs.append(candidate) }
    }
    return outputs
  }
}
