import GraphIR

/// The graph as a sequence of kernel calls over buffers, with each value's layout chosen.
///
/// A value is *plain* (row-major, NCHW) or *blocked* (NCHW`B`c: channels in blocks of the
/// target's `B`, each pixel's `B` channels adjacent). Convolutions with `groups == 1`, no
/// dilation and output channels a multiple of `B` run blocked, reading a blocked input (or,
/// for a stem with fewer than `B` channels, the plain one) and prepacked weights; max
/// pooling, global average pooling, ReLU and addition follow their inputs' layout; every
/// other op runs plain. Where a kernel needs the other layout a reorder step converts, once
/// per value. Buffers are typed (`Buffer`): value `v`'s plain buffer is `.value(v)`, its
/// blocked one `.blocked(v)`; graph outputs are always plain and land in the caller's buffers.
struct Lowering {
  /// What one step computes.
  enum Kind {
    /// A node's plain kernel (`PlainKernel`), also used for elementwise ops on blocked buffers.
    case plain(Node)
    /// A blocked convolution with its attributes and kernel size; `plainInput` for a stem
    /// reading plain NCHW; `preact` where a blocked scale_shift (and its ReLU) of its output
    /// joined it, written to the step's `extraOutput`.
    case conv(Node, Conv2dAttributes, kernel: Size2d, plainInput: Bool, preact: ConvPlan.PreActivation?)
    /// Max pooling (`average` nil) or average pooling (`average` whether the divisor counts
    /// the padding) over a blocked input; a max pool of integers may read or write bytes.
    case pool(Node, Pool2dAttributes, average: Bool?, bytes: BlockedKernels.PoolBytes = .none)
    /// Global average pooling of a blocked input into plain (N,C,1,1).
    case globalAvgPool(Node)
    /// A per-channel scale and shift of a blocked tensor (a BatchNorm left unfolded, such as
    /// the pre-activation ones of ResNet v2), so that it needs no reorder; with `relu`, the
    /// ReLU that is its only reader applied in the same pass (its output is the ReLU's).
    case scaleShift(Node, relu: Bool)
    /// A dense layer with weights packed in blocks of outputs.
    case dense(Node)
    /// An integer dense layer on vectors (`PlainKernel.qdenseVectors`).
    case qdense(Node)
    /// A 3×3 stride-1 convolution as Winograd F(2×2, 3×3) on blocked tensors.
    case winograd(Node, Conv2dAttributes)
    /// An integer convolution (`QConvPlan`, of what `Fit` says) into a blocked output, reading
    /// a plain or blocked input; with `residual`, a `QuantizedResidual` chain after it too.
    case qconv(
      Node, Conv2dAttributes, QConvPlan.Fit, plainInput: Bool, residual: QConvPlan.Residual?, bytes: QConvPlan.Bytes)
    /// An integer 3×3 convolution as Winograd F(2×2, 3×3) (`QWinograd`) on a blocked input;
    /// with `residual`, a `QuantizedResidual` chain after it too.
    case qwinograd(Node, Conv2dAttributes, QConvPlan.Fit, residual: QConvPlan.Residual?, bytes: QConvPlan.Bytes)
    /// Plain (N,C,H,W) to blocked.
    case toBlocked(shape: [Int])
    /// Blocked to plain (N,C,H,W).
    case toPlain(shape: [Int])
  }

  /// One kernel call: its kind, the buffers or constants it reads, the buffer it writes
  /// (and a second one, of as many elements, that a conv's pre-activation writes; passed
  /// after the operands).
  struct Step {
    var kind: Kind
    var operands: [Buffer]
    var output: Buffer
    var elements: Int
    var extraOutput: Buffer? = nil

    /// The graph node this step computes, if it is not a reorder.
    var node: Node? {
      switch kind {
      case .plain(let node), .conv(let node, _, _, _, _), .pool(let node, _, _, _), .globalAvgPool(let node),
        .scaleShift(let node, _),
        .dense(let node), .winograd(let node, _), .qconv(let node, _, _, _, _, _), .qwinograd(let node, _, _, _, _),
        .qdense(let node):
        node
      case .toBlocked, .toPlain: nil
      }
    }

    /// Bytes its output takes: four per element, one for a value of bytes.
    var outputBytes: Int {
      if case .quantized = output { return elements }
      return elements * 4
    }

    /// The name its kernel and profile line carry: the node's, or the reordered buffer's.
    var label: String { node?.name ?? output.label }
  }

  let graph: Graph
  let target: Target
  private(set) var steps: [Step] = []
  /// Constants as the kernels read them, in the weights file's order: graph constants as
  /// they are, then repacked ones (packed only when the file is laid out).
  private(set) var constants: [WeightsEntry] = []
  private var layouts: [String: Bool] = [:]  // value -> blocked?
  private var available: Set<Buffer> = []  // value buffers computed so far
  /// How many times nodes read each value.
  private let readers: [String: Int]

  /// Lowers `graph`, which is verified first.
  init(graph: Graph, target: Target) throws(LoweringError) {
    do {
      try Verifier.verify(graph)
    } catch {
      throw .invalidGraph(error)
    }
    let types = graph.valueTypes
    if let output = graph.outputs.first(where: { types[$0]?.dtype.isInteger == true }) {
      throw .node(
        output, "the output is \(types[output]!); compiled programs return f32 outputs (dequantize it in the model)")
    }
    if let input = graph.inputs.first(where: { $0.type.dtype != .f32 }) {
      throw .node(input.name, "the input is \(input.type); compiled programs take f32 inputs only")
    }
    self.graph = graph
    self.target = target
    let readers = QuantizedResidual.readers(of: graph)
    self.readers = readers.mapValues(\.count)
    for input in graph.inputs {
      layouts[input.name] = false
      available.insert(.value(input.name))
    }
    let values = graph.valueTypes
    maxPools = QuantizedMaxPool.find(in: graph, readers: readers)
    if let b = target.block {
      for node in graph.nodes {
        if case .qconv2d(let a) = node.op, let fit = QConvPlan.applies(node, a, graph: graph, types: values, block: b) {
          fits[node.name] = fit
        }
      }
      let fits = self.fits
      residuals = QuantizedResidual.find(in: graph, readers: readers) { fits[$0.name] != nil }
      let chains = Array(residuals.values)
      skipped = Set(chains.flatMap { [$0.conv.name] + $0.absorbed.dropLast() })
      let unread = QuantizedResidual.unreadShortcuts(chains, in: graph, readers: readers)
      skipped.formUnion(unread)
      byteValues = QuantizedResidual.byteValues(
        in: graph, readers: readers, chains: chains, unreadShortcuts: unread, pools: Array(maxPools.values), block: b,
        runs: { fits[$0.name] })
    }
    skipped.formUnion(maxPools.values.flatMap(\.absorbed))
    for node in graph.nodes where !skipped.contains(node.name) { try lower(node, types: values) }
    for output in graph.outputs {
      guard let type = values[output] else { throw .node(output, "the output is not defined") }
      _ = buffer(output, blocked: false, shape: type.shape)
    }
    for (name, tensor) in graph.constants.entries where steps.contains(where: { $0.operands.contains(.constant(name)) })
    {
      constants.append(WeightsEntry(buffer: .constant(name), source: try Lowering.floats(name, tensor), packing: nil))
    }
    constants.append(contentsOf: packed)
  }

  private var packed: [WeightsEntry] = []
  /// Residual ends one integer-conv step computes, by the quantize that ends each; the step
  /// is emitted there, when the shortcut has been computed too.
  private var residuals: [String: QuantizedResidual] = [:]
  /// Nodes no step of their own computes: the convs and absorbed nodes of `residuals`, and
  /// the shortcut dequantizes only they read.
  private var skipped: Set<String> = []
  /// Quantized max pools one step computes on the integers, by the quantize that ends each.
  private var maxPools: [String: QuantizedMaxPool] = [:]
  /// The `qconv2d` nodes the integer-conv kernel runs, with what it needs of each.
  private var fits: [String: QConvPlan.Fit] = [:]
  /// Integer values integer convs write and read as bytes (`Buffer.quantized`).
  private var byteValues: Set<String> = []

  /// A constant as kernels read it: integer tensors as floats of the same whole numbers,
  /// which must be held exactly (at most 2^24 in magnitude; i8 and u8 always are).
  static func floats(_ name: String, _ tensor: Tensor) throws(LoweringError) -> Tensor {
    guard tensor.type.dtype.isInteger else { return tensor }
    let limit: Int32 = 1 << 24
    if let big = tensor.integers.first(where: { $0 > limit || $0 < -limit }) {
      throw .node(
        name, "the constant holds \(big), which compiled programs cannot hold exactly (their integers are at most 2^24)"
      )
    }
    return wholeNumbers(tensor)
  }

  /// An integer tensor as f32 of the same whole numbers (others as they are).
  static func wholeNumbers(_ tensor: Tensor) -> Tensor {
    guard tensor.type.dtype.isInteger else { return tensor }
    return Tensor(type: TensorType(tensor.type.shape), data: tensor.integers.map(Float.init))
  }

  /// The buffer of constant `name` repacked as `packing`, recorded once.
  private mutating func pack(_ name: String, _ packing: Packing) -> Buffer {
    let buffer = Buffer.packed(name, packing)
    if !packed.contains(where: { $0.buffer == buffer }), let tensor = graph.constants[name] {
      // Integer weights (i8 or u8, of an integer conv) pack from their whole numbers.
      packed.append(WeightsEntry(buffer: buffer, source: Lowering.wholeNumbers(tensor), packing: packing))
    }
    return buffer
  }

  /// An integer conv step (`QConvPlan`) for `conv`, and for the residual end `residual` when
  /// given, whose quantize's value it then writes: operands the input, the gathered scales
  /// and zero points, the packed weights, their scales, the bias, the shortcut's integers.
  private mutating func lowerQConv(
    _ conv: Node, _ a: Conv2dAttributes, _ plan: QConvPlan.Fit, residual: QuantizedResidual?, block b: Int,
    types: [String: TensorType]
  ) throws(LoweringError) {
    let layouts = self.layouts
    let input = conv.operands[0].name
    let bytes = QConvPlan.Bytes(
      input: byteValues.contains(input), shortcut: residual.map { byteValues.contains($0.shortcutValue) } ?? false,
      output: byteValues.contains(residual?.quantize.name ?? conv.name))
    let blockedInput = if case .value(let v) = conv.operands[0] { layouts[v] ?? false } else { false }
    // The integer Winograd kernel reads blocks: a plain input is blocked first (a reorder).
    let winograd = QWinograd.applies(a, fit: plan, x: types[input]?.shape ?? [], target: target)
    let plainInput = !bytes.input && !((blockedInput || winograd) && plan.channels % b == 0)
    let parameters = Buffer.quantization(conv.name)
    let values = QConvPlan.parameterValues(conv, residual, graph: graph)
    packed.append(
      WeightsEntry(buffer: parameters, source: Tensor(type: TensorType([values.count]), data: values), packing: nil))
    var operands = [
      bytes.input ? Buffer.quantized(input) : try operand(conv.operands[0], blocked: !plainInput, types: types),
      parameters,
    ]
    let grouping = winograd ? .pairs : QConvPlan.grouping(plan, plainInput: plainInput, target: target)
    operands.append(
      pack(
        conv.operands[3].name,
        winograd
          ? .winogradPairs(block: b) : QConvPlan.weightsPacking(plan, plainInput: plainInput, target: target)))
    operands.append(try operand(conv.operands[4], blocked: false, types: types))
    switch grouping {
    case .pairs:
      if conv.operands.count == 9 { operands.append(try operand(conv.operands[8], blocked: false, types: types)) }
    case .quads:
      let bias = Buffer.correctedBias(conv.name)
      let corrected = QConvPlan.correctedBias(conv, signedInput: plan.signedInput, graph: graph)
      packed.append(
        WeightsEntry(
          buffer: bias,
          source: Tensor(
            type: TensorType([corrected.count]), data: corrected.map { Float(bitPattern: UInt32(bitPattern: $0)) }),
          packing: nil))
      operands.append(bias)
    }
    var epilogue: QConvPlan.Residual? = nil
    if let residual {
      operands.append(
        bytes.shortcut
          ? .quantized(residual.shortcutValue)
          : try operand(.value(residual.shortcutValue), blocked: true, types: types))
      epilogue = QConvPlan.Residual(
        relu: residual.relu != nil, range: residual.quantize.type.dtype.integerRange ?? 0...0,
        signedShortcut: types[residual.shortcutValue]?.dtype == .i8,
        sharedZero: values[QConvPlan.Parameter.yZero.rawValue] == values[QConvPlan.Parameter.dZero.rawValue])
    }
    let kind =
      winograd
      ? Kind.qwinograd(conv, a, plan, residual: epilogue, bytes: bytes)
      : Kind.qconv(conv, a, plan, plainInput: plainInput, residual: epilogue, bytes: bytes)
    emit(kind, operands, node: residual?.quantize ?? conv, blocked: true, bytes: bytes.output)
  }

  /// Whether a value of `shape` can be blocked.
  private func blockable(_ shape: [Int]) -> Bool {
    guard let b = target.block else { return false }
    return shape.count == 4 && shape[1] % b == 0
  }

  /// `value`'s buffer in the wanted layout, adding a reorder step if needed.
  private mutating func buffer(_ value: String, blocked: Bool, shape: [Int]) -> Buffer {
    let wanted: Buffer = blocked ? .blocked(value) : .value(value)
    if available.contains(wanted) { return wanted }
    let source: Buffer = blocked ? .value(value) : .blocked(value)
    steps.append(
      Step(
        kind: blocked ? .toBlocked(shape: shape) : .toPlain(shape: shape), operands: [source], output: wanted,
        elements: shape.reduce(1, *)))
    available.insert(wanted)
    return wanted
  }

  private mutating func operand(_ operand: Operand, blocked: Bool, types: [String: TensorType]) throws(LoweringError)
    -> Buffer
  {
    switch operand {
    case .constant(let name): return .constant(name)
    case .value(let name):
      guard let type = types[name] else { throw .node(name, "the value is used but not defined") }
      return buffer(name, blocked: blocked, shape: type.shape)
    }
  }

  /// A step computing `node` into its plain, blocked or (`bytes`) byte buffer.
  private mutating func emit(_ kind: Kind, _ operands: [Buffer], node: Node, blocked: Bool, bytes: Bool = false) {
    let output: Buffer = bytes ? .quantized(node.name) : blocked ? .blocked(node.name) : .value(node.name)
    steps.append(Step(kind: kind, operands: operands, output: output, elements: node.type.elementCount))
    available.insert(output)
    layouts[node.name] = blocked
  }

  private mutating func operands(_ list: [Operand], blocked: Bool, types: [String: TensorType]) throws(LoweringError)
    -> [Buffer]
  {
    var buffers: [Buffer] = []
    for o in list { buffers.append(try operand(o, blocked: blocked, types: types)) }
    return buffers
  }

  private mutating func lower(_ node: Node, types: [String: TensorType]) throws(LoweringError) {
    let layouts = self.layouts
    let isBlocked = { (o: Operand) -> Bool in if case .value(let v) = o { layouts[v] ?? false } else { false } }
    switch node.op {
    case .conv2d(let a):
      guard let x = types[node.operands[0].name] ?? graph.constants[node.operands[0].name]?.type else {
        throw .node(node.name, "its input \(node.operands[0].name) is not defined")
      }
      let w = graph.constants[node.operands[1].name]
      if let b = target.block, ConvPlan.blocksGroups(a.groups, c: x.shape[1], k: node.type.shape[1], block: b),
        a.dilation == .square(1), node.type.shape[1] % b == 0, let w,
        node.operands[1].isConstant, node.operands[0].isConstant == false,
        a.hasBias(operandCount: node.operands.count) ? node.operands[2].isConstant : true,
        x.shape[1] % b == 0 || x.shape[1] < b
      {
        let plainInput = x.shape[1] % b != 0
        if Winograd.applies(a, weight: w.type.shape, x: x.shape, target: target) {
          let name = pack(node.operands[1].name, .winograd(block: b))
          var operands = [try operand(node.operands[0], blocked: true, types: types), name]
          for extra in node.operands.dropFirst(2) { operands.append(try operand(extra, blocked: true, types: types)) }
          emit(.winograd(node, a), operands, node: node, blocked: true)
          return
        }
        var operands = [try operand(node.operands[0], blocked: !plainInput, types: types)]
        let packing: Packing =
          plainInput ? .stem(block: b) : a.groups > 1 ? .groupedConv(block: b, groups: a.groups) : .conv(block: b)
        operands.append(pack(node.operands[1].name, packing))
        for extra in node.operands.dropFirst(2) { operands.append(try operand(extra, blocked: true, types: types)) }
        let kernel = Size2d(w.type.shape[2], w.type.shape[3])
        emit(.conv(node, a, kernel: kernel, plainInput: plainInput, preact: nil), operands, node: node, blocked: true)
        return
      }
    case .maxPool2d(let a):
      if isBlocked(node.operands[0]) {
        emit(
          .pool(node, a, average: nil), [try operand(node.operands[0], blocked: true, types: types)], node: node,
          blocked: true)
        return
      }
    case .avgPool2d(let a, let countIncludePad):
      // ResNet-D's shortcut: the conv before it and the 1x1 after it stay blocked.
      if isBlocked(node.operands[0]) {
        emit(
          .pool(node, a, average: countIncludePad), [try operand(node.operands[0], blocked: true, types: types)],
          node: node, blocked: true)
        return
      }
    case .globalAvgPool:
      if isBlocked(node.operands[0]) {
        emit(
          .globalAvgPool(node), [try operand(node.operands[0], blocked: true, types: types)], node: node, blocked: false
        )
        return
      }
    case .dense:
      if let b = target.block, node.operands[1].isConstant, node.operands.dropFirst().allSatisfy(\.isConstant) {
        var operands = [try operand(node.operands[0], blocked: false, types: types)]
        operands.append(pack(node.operands[1].name, .dense(block: b)))
        if node.operands.count == 3 { operands.append(pack(node.operands[2].name, .paddedBias(block: b))) }
        emit(.dense(node), operands, node: node, blocked: false)
        return
      }
    case .scaleShift:
      if isBlocked(node.operands[0]), blockable(node.type.shape), node.operands.dropFirst().allSatisfy(\.isConstant) {
        let b = target.block ?? 1
        let operands = [try operand(node.operands[0], blocked: true, types: types)]
        let factors = node.operands.dropFirst().map { pack($0.name, .paddedBias(block: b)) }
        // Right after the conv that computed its input, it joins that conv's stores.
        if let last = steps.last, last.output == operands[0], last.extraOutput == nil,
          case .conv(let conv, let a, let kernel, let plainInput, .none) = last.kind
        {
          steps[steps.count - 1].kind = .conv(
            conv, a, kernel: kernel, plainInput: plainInput, preact: ConvPlan.PreActivation(relu: false))
          steps[steps.count - 1].operands += factors
          steps[steps.count - 1].extraOutput = .blocked(node.name)
          available.insert(.blocked(node.name))
          self.layouts[node.name] = true
          return
        }
        emit(.scaleShift(node, relu: false), operands + factors, node: node, blocked: true)
        return
      }
    case .relu, .add, .mul, .clip:
      // A ReLU that is a blocked scale_shift's only reader joins its pass.
      if case .relu = node.op, case .value(let v) = node.operands[0], readers[v] == 1, !graph.outputs.contains(v),
        let last = steps.last
      {
        switch last.kind {
        case .scaleShift(let shift, relu: false) where shift.name == v:
          steps[steps.count - 1] = Step(
            kind: .scaleShift(shift, relu: true), operands: last.operands, output: .blocked(node.name),
            elements: last.elements)
        case .conv(let conv, let a, let kernel, let plainInput, let preact?)
        where !preact.relu && last.extraOutput == .blocked(v):
          steps[steps.count - 1].kind = .conv(
            conv, a, kernel: kernel, plainInput: plainInput, preact: ConvPlan.PreActivation(relu: true))
          steps[steps.count - 1].extraOutput = .blocked(node.name)
        default: break
        }
        if steps.last?.output == .blocked(node.name) || steps.last?.extraOutput == .blocked(node.name) {
          available.remove(.blocked(v))
          available.insert(.blocked(node.name))
          self.layouts[node.name] = true
          return
        }
      }
      if node.operands.allSatisfy(isBlocked), blockable(node.type.shape) {
        emit(.plain(node), try operands(node.operands, blocked: true, types: types), node: node, blocked: true)
        return
      }
    case .qconv2d(let a):
      if let b = target.block, let plan = fits[node.name] {
        try lowerQConv(node, a, plan, residual: nil, block: b, types: types)
        return
      }
    case .quantize, .dequantize:
      if let chain = maxPools[node.name], case .maxPool2d(let a) = chain.pool.op {
        // The pool of the integers (bytes, or whole numbers in floats) writes the quantize's
        // value.
        let input = chain.input.name
        let bytes = BlockedKernels.PoolBytes(
          input: byteValues.contains(input), output: byteValues.contains(node.name),
          offset: Packing.byteOffset(node.type.dtype))
        if bytes.input || isBlocked(chain.input) {
          let x = bytes.input ? Buffer.quantized(input) : try operand(chain.input, blocked: true, types: types)
          emit(.pool(chain.pool, a, average: nil, bytes: bytes), [x], node: node, blocked: true, bytes: bytes.output)
        } else {
          emit(.plain(chain.pool), [try operand(chain.input, blocked: false, types: types)], node: node, blocked: false)
        }
        return
      }
      if let chain = residuals[node.name], case .qconv2d(let a) = chain.conv.op, let b = target.block,
        let plan = fits[chain.conv.name]
      {
        try lowerQConv(chain.conv, a, plan, residual: chain, block: b, types: types)
        return
      }
      // With one scale, elementwise: on a blocked input, blocked.
      if isBlocked(node.operands[0]), blockable(node.type.shape),
        graph.constants[node.operands[1].name]?.type.shape == []
      {
        var operands = [try operand(node.operands[0], blocked: true, types: types)]
        operands += try self.operands(Array(node.operands.dropFirst()), blocked: false, types: types)
        emit(.plain(node), operands, node: node, blocked: true)
        return
      }
    case .qdense:
      if let b = target.block, let x = types[node.operands[0].name],
        PlainKernel.vectorDense(inputs: x.shape[1], block: b), node.operands[3].isConstant
      {
        // The weights as bytes: a quarter of the floats' memory traffic.
        var operands = try operands(node.operands, blocked: false, types: types)
        let dtype = graph.constants[node.operands[3].name]?.type.dtype ?? .u8
        operands[3] = pack(node.operands[3].name, .bytes(offset: Packing.byteOffset(dtype)))
        emit(.qdense(node), operands, node: node, blocked: false)
        return
      }
    case .batchNorm, .flatten, .softmax, .subsample2d, .padChannels, .pad2d, .reshape,
      .transpose:
      break
    }
    emit(.plain(node), try operands(node.operands, blocked: false, types: types), node: node, blocked: false)
  }
}
