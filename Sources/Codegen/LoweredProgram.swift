import GraphIR

/// A graph lowered for a target and planned, before it is written in a language: the steps,
/// where each buffer lives, the weights file, and what each step needs to be called (its
/// operands' types, its units of parallel work, its flops). The C and Swift programs are
/// two spellings of the same `LoweredProgram`, so they run the same kernels in the same order
/// on the same buffers and read the same weights file.
struct LoweredProgram: Sendable {
  /// The graph lowered (verified).
  let graph: Graph
  /// The instruction set the kernels are written for.
  let target: Target
  /// The caches the plans are sized for.
  let caches: CacheSizes
  /// The kernel calls, in order.
  let steps: [Lowering.Step]
  /// Where each buffer lives.
  let plan: MemoryPlan
  /// The constants' file (conv weights prepacked for the blocked kernels).
  let weights: WeightsBlob
  /// The type of every graph value, by name.
  let values: [String: TensorType]
  private let constantCount: Int

  /// Lowers and plans `graph` (verified first) for `target` and `caches` (the table's for
  /// `target` unless given).
  init(graph: Graph, target: Target, caches: CacheSizes? = nil) throws(LoweringError) {
    self.graph = graph
    self.target = target
    self.caches = caches ?? .table(for: target)
    values = graph.valueTypes
    let lowering = try Lowering(graph: graph, target: target)
    steps = lowering.steps
    plan = LoweredProgram.plan(lowering)
    weights = WeightsBlob(entries: lowering.constants)
    constantCount = lowering.constants.count
  }

  /// The memory plan of a lowering's steps.
  static func plan(_ lowering: Lowering) -> MemoryPlan {
    MemoryPlan(
      inputs: lowering.graph.inputs.map { .value($0.name) }, outputs: lowering.graph.outputs.map { .value($0) },
      steps: lowering.steps.flatMap { step in
        // A second output is placed just before the step, apart from its operands and output,
        // and counts as read by the step: unread (a dead scale_shift), it still must not share
        // the output's space.
        let extra = step.extraOutput.map { [($0, step.outputBytes, [Buffer]())] } ?? []
        let reads = step.operands.filter { !$0.isConstant } + (step.extraOutput.map { [$0] } ?? [])
        return extra + [(step.output, step.outputBytes, reads)]
      })
  }

  /// The weights file's bytes.
  var weightsFile: [UInt8] { weights.fileBytes(tensorCount: constantCount) }

  /// Writes the weights file at `path` without copying the weights.
  func writeWeights(toFile path: String) throws {
    try weights.write(toFile: path, tensorCount: constantCount)
  }

  /// The type of a graph operand of a node of the (verified) graph.
  func type(of operand: Operand) -> TensorType {
    guard let type = graph.type(of: operand, in: values) else {
      preconditionFailure("the verified graph defines every operand; \(operand) is undefined")
    }
    return type
  }

  /// The types of a plain step's operands, in order.
  func operandTypes(_ node: Node) -> [TensorType] {
    node.operands.map(type(of:))
  }

  /// The parameter names of a plain step's kernel: `x` for operand 0, then `in1`, `in2`, ...
  static func operandNames(_ node: Node) -> [String] {
    node.operands.indices.map { $0 == 0 ? "x" : "in\($0)" }
  }

  /// Floating-point operations of each step (two per multiply-add; reorders count none).
  var stepFlops: [Int] {
    return steps.map { step in step.node.map { 2 * graph.multiplyAdds(of: $0, values: values) } ?? 0 }
  }

  /// Whether each step multiplies integers (a `qconv2d` or `qdense`): the profile measures
  /// those against the integer peak loop (`PeakKernel.integerKernel`).
  var stepIntegers: [Bool] {
    steps.map { step in
      switch step.node?.op {
      case .qconv2d, .qdense: true
      default: false
      }
    }
  }

  /// Operations of one work item of the integer peak loop, 0 where the profile needs none
  /// (no integer step, or a target without vectors).
  var integerPeakOpsPerItem: Int {
    guard let b = target.block, stepIntegers.contains(true) else { return 0 }
    return PeakKernel.integerOpsPerItem(width: b)
  }

  /// Each step's profile label and op name.
  var stepLabels: [(label: String, op: String)] {
    steps.map { ($0.label, $0.node?.op.name ?? "reorder") }
  }

  /// Each step's kernel for the profile: `direct 6px x2` (a register tile of 6 output pixels
  /// by 2 channel blocks; `flat` where tiles run on across rows; `+preact` where it also
  /// stores a scale_shift and ReLU of its output), `grouped 16px` (a grouped conv's tile),
  /// `winograd F(2,3)`, `blocked` (pools and dense on blocked tensors), `plain` (loops over
  /// plain tensors) or `reorder`.
  var stepKernels: [String] {
    steps.map { step in
      switch step.kind {
      case .plain: return "plain"
      case .conv(let node, let a, let filter, let plainInput, let preact):
        let x = type(of: node.operands[0]).shape
        let plan = ConvPlan(
          node, a, x: x, filter: filter, plainInput: plainInput, preact: preact, target: target, caches: caches,
          border: KernelLanguage.c.convBorder)
        let kind = plan.groupBlocks == nil ? "direct \(plan.tile)px x\(plan.channelBlocks)" : "grouped \(plan.tile)px"
        return kind + (plan.flatTiles ? " flat" : "") + (preact == nil ? "" : " +preact")
      case .winograd: return "winograd F(2,3)"
      case .qdense: return "int vectors"
      case .qconv(let node, let a, let fit, let plainInput, let residual, let bytes):
        let plan = QConvPlan(
          node, a, x: type(of: node.operands[0]).shape, fit: fit, plainInput: plainInput, residual: residual,
          bytes: bytes, target: target)
        let kind = QConvPlan.kernelName(plan.grouping, split: plan.splitBound != nil, target: target)
        return "\(kind) \(plan.tile)px x\(plan.channelBlocks)" + (plan.order == .imageOuter ? " image" : "")
          + (residual == nil ? "" : " +residual")
      case .qwinograd(_, _, _, let residual, _): return "int16 winograd F(2,3)" + (residual == nil ? "" : " +residual")
      case .scaleShift(_, let relu): return relu ? "blocked, relu" : "blocked"
      case .pool, .globalAvgPool, .dense: return "blocked"
      case .toBlocked, .toPlain: return "reorder"
      }
    }
  }

  /// A step's shapes for its comment: `(1,64,56,56)`.
  static func dims(_ shape: [Int]) -> String {
    "(" + shape.map(String.init).joined(separator: ",") + ")"
  }

  /// A node's attributes as `name=value` words, for comments.
  static func attributes(_ node: Node) -> String {
    node.op.attributes.map { "\($0.name)=\($0.value)" }.joined(separator: " ")
  }

  /// What a step computes, in words, for the comment above its kernel: op, layout, shapes
  /// and attributes. Model names in it still need the language's comment escaping.
  func summary(_ step: Lowering.Step) -> String {
    let d = LoweredProgram.dims
    switch step.kind {
    case .plain(let node):
      let types = operandTypes(node)
      let names = LoweredProgram.operandNames(node)
      var text = "\(node.name): \(node.op.name); "
      text += zip(names, types).map { "\($0) is \(d($1.shape))" }.joined(separator: ", ")
      text += ", y is \(d(node.type.shape))"
      let attributes = LoweredProgram.attributes(node)
      return text + (attributes.isEmpty ? "" : "; \(attributes)")
    case .conv(let node, _, _, let plainInput, let preact):
      let x = type(of: node.operands[0]).shape
      let weight = type(of: node.operands[1]).shape
      let also =
        preact.map {
          "; also pre = \($0.relu ? "relu(" : "")y * pscale + pshift\($0.relu ? ")" : "") for \(step.extraOutput?.label ?? "?")"
        } ?? ""
      return
        "\(node.name): conv2d, blocked by \(target.block!); x is \(d(x))\(plainInput ? " plain" : ""), w is \(d(weight)) packed, y is \(d(node.type.shape)); \(LoweredProgram.attributes(node))\(also)"
    case .pool(let node, _, let average, let bytes):
      let io = bytes.input || bytes.output ? " (bytes\(bytes.input ? " in" : "")\(bytes.output ? " out" : ""))" : ""
      return
        "\(node.name): \(average == nil ? "max_pool2d" : "avg_pool2d"), blocked\(io); x is \(d(type(of: node.operands[0]).shape)), y is \(d(node.type.shape))"
    case .winograd(let node, _):
      return
        "\(node.name): conv2d 3x3 as Winograd F(2x2,3x3), blocked by \(target.block!); x is \(d(type(of: node.operands[0]).shape)), y is \(d(node.type.shape)); \(LoweredProgram.attributes(node))"
    case .qconv(let node, _, let fit, let plainInput, let residual, _):
      let x = type(of: node.operands[0]).shape
      let weight = type(of: node.operands[3]).shape
      let also = residual.map { " then dequantize, add the shortcut, \($0.relu ? "relu, " : "")quantize" } ?? ""
      return
        "\(node.name): qconv2d over \(QConvPlan.grouping(fit, plainInput: plainInput, target: target) == .pairs ? "int16 pairs" : "byte quads"), blocked by \(target.block!); x is \(d(x))\(plainInput ? " plain" : ""), w is \(d(weight)) packed, y is \(d(node.type.shape)); \(LoweredProgram.attributes(node))\(also)"
    case .qwinograd(let node, _, _, let residual, _):
      let also = residual.map { " then dequantize, add the shortcut, \($0.relu ? "relu, " : "")quantize" } ?? ""
      return
        "\(node.name): qconv2d 3x3 as int16 Winograd F(2x2,3x3), blocked by \(target.block!); x is \(d(type(of: node.operands[0]).shape)), y is \(d(node.type.shape)); \(LoweredProgram.attributes(node))\(also)"
    case .qdense(let node):
      return
        "\(node.name): qdense on vectors; x is \(d(type(of: node.operands[0]).shape)), w is \(d(type(of: node.operands[3]).shape)), y is \(d(node.type.shape))"
    case .dense(let node):
      return
        "\(node.name): dense, weights in blocks of \(target.block!) outputs; x is \(d(type(of: node.operands[0]).shape)), y is \(d(node.type.shape))"
    case .globalAvgPool(let node):
      return
        "\(node.name): global_avg_pool, blocked input; x is \(d(type(of: node.operands[0]).shape)), y is \(d(node.type.shape))"
    case .scaleShift(let node, let relu):
      return
        "\(node.name): scale_shift\(relu ? " and relu" : ""), blocked by \(target.block!); x and y are \(d(node.type.shape))"
    case .toBlocked(let shape): return "reorder to blocked: \(d(shape))"
    case .toPlain(let shape): return "reorder from blocked: \(d(shape))"
    }
  }
}

/// One function of a generated program and the steps that call it.
struct SharedKernel {
  let kernel: Kernel
  /// The steps that call it, in order; the first names it.
  var steps: [Int]
}

/// The language a program is written in, where it changes a plan: swiftc's compile time
/// grows with a kernel's length much more than clang's, so Swift conv kernels copy padded
/// input rows (`ConvPlan.Border.paddedRows`, one body per tile) where C ones test the edge
/// tiles (`.tested`, a second body without tests for the interior, which clang compiles into
/// the faster code).
enum KernelLanguage {
  case c, swift

  var convBorder: ConvPlan.Border {
    switch self {
    case .c: .tested
    case .swift: .paddedRows
    }
  }
}

extension LoweredProgram {
  /// The kernel `step` runs, built by its plan.
  func kernel(of step: Lowering.Step, in language: KernelLanguage) -> Kernel {
    let x = step.node.map { type(of: $0.operands[0]).shape } ?? []
    let blocked = BlockedKernels(b: target.block ?? 1)
    switch step.kind {
    case .plain(let node): return PlainKernel(node: node, operandTypes: operandTypes(node)).kernel
    case .conv(let node, let a, let filter, let plainInput, let preact):
      return ConvPlan(
        node, a, x: x, filter: filter, plainInput: plainInput, preact: preact, target: target, caches: caches,
        border: language.convBorder
      ).kernel
    case .winograd(let node, let a): return Winograd(node, a, x: x, target: target).kernel
    case .qdense(let node):
      return PlainKernel(node: node, operandTypes: operandTypes(node)).qdenseVectors(
        block: target.block ?? 1, weightOffset: Packing.byteOffset(type(of: node.operands[3]).dtype))
    case .qconv(let node, let a, let fit, let plainInput, let residual, let bytes):
      return QConvPlan(
        node, a, x: x, fit: fit, plainInput: plainInput, residual: residual, bytes: bytes, target: target
      ).kernel
    case .qwinograd(let node, let a, let fit, let residual, let bytes):
      return QWinograd(node, a, x: x, fit: fit, residual: residual, bytes: bytes, target: target, caches: caches)
        .kernel
    case .pool(let node, let a, let average, let bytes):
      return blocked.pool(a, average: average, x: x, y: node.type.shape, bytes: bytes)
    case .globalAvgPool: return blocked.globalAvgPool(x: x)
    case .scaleShift(_, let relu): return blocked.scaleShift(x: x, relu: relu)
    case .dense(let node):
      return blocked.dense(x: x, outputs: node.type.shape[1], hasBias: node.operands.count == 3)
    case .toBlocked(let shape): return blocked.reorder(shape: shape, toBlocked: true)
    case .toPlain(let shape): return blocked.reorder(shape: shape, toBlocked: false)
    }
  }

  /// The steps' kernels with equal ones merged: steps whose kernels are structurally equal
  /// (the same shapes, attributes and buffers' sizes; a kernel never holds a buffer's place)
  /// share one function, called with their own buffers, so a network of many identical
  /// blocks compiles each distinct kernel once. Returns the kernels in order of first use
  /// and, for each step, the index of its kernel.
  func sharedKernels(in language: KernelLanguage) -> (kernels: [SharedKernel], kernelOfStep: [Int]) {
    var kernels: [SharedKernel] = []
    var byKernel: [Kernel: Int] = [:]
    var kernelOfStep: [Int] = []
    for (index, step) in steps.enumerated() {
      let kernel = self.kernel(of: step, in: language)
      if let k = byKernel[kernel] {
        kernels[k].steps.append(index)
        kernelOfStep.append(k)
      } else {
        byKernel[kernel] = kernels.count
        kernelOfStep.append(kernels.count)
        kernels.append(SharedKernel(kernel: kernel, steps: [index]))
      }
    }
    return (kernels, kernelOfStep)
  }

  /// The comment above a shared kernel: what its first step computes, and how many other
  /// steps call it with the first few of their names. Names still need the language's
  /// comment escaping.
  func kernelComment(_ kernel: SharedKernel) -> String {
    var text = summary(steps[kernel.steps[0]])
    let others = kernel.steps.dropFirst()
    if !others.isEmpty {
      let names = others.prefix(4).map { steps[$0].label }.joined(separator: ", ")
      text += "; also serves \(others.count) more step\(others.count == 1 ? "" : "s"): \(names)"
      if others.count > 4 { text += ", ..." }
    }
    return text
  }
}
