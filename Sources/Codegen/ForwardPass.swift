import GraphIR

/// Where a kernel call finds a buffer.
enum Place: Equatable, Sendable {
  /// In the loaded weights, `offset` floats in.
  case weights(Int)
  /// The caller's input buffer `i`.
  case input(Int)
  /// The caller's output buffer `i`.
  case output(Int)
  /// In the arena, `offset` bytes in.
  case arena(Int)
}

/// A program's forward pass as data, which the C and Swift programs only spell: each step's
/// call (its shared kernel, where its operands and output are, and its work items when it
/// runs on the worker pool) in order, then the copies of the outputs that are not computed in
/// the caller's buffers.
struct ForwardPass {
  /// One kernel call.
  struct Call {
    /// The step's index (its profile row).
    let step: Int
    /// Its kernel's index in `kernels`.
    let kernel: Int
    /// Its operands' places, in order.
    let operands: [Place]
    /// Where a second output goes (a conv's pre-activation), passed after the operands.
    let extraOutput: Place?
    /// Its output's place.
    let output: Place
    /// Units of parallel work, or nil for a kernel called once on the calling thread.
    let workItems: Int?
  }

  /// An output copied into the caller's buffer after the steps.
  struct OutputCopy {
    let output: Int
    let from: Place
    /// Floats to copy.
    let count: Int
  }

  /// The distinct kernels, in order of first use.
  let kernels: [SharedKernel]
  let calls: [Call]
  let copies: [OutputCopy]
}

/// An input or output of the program, for its shape tables.
struct InterfaceTensor: Sendable {
  let name: String
  let shape: [Int]
  var elementCount: Int { shape.reduce(1, *) }
}

extension LoweredProgram {
  /// The forward pass with the kernels built for `language`.
  func forwardPass(in language: KernelLanguage) -> ForwardPass {
    let (kernels, kernelOfStep) = sharedKernels(in: language)
    let calls = steps.enumerated().map { index, step in
      ForwardPass.Call(
        step: index, kernel: kernelOfStep[index], operands: step.operands.map(place(of:)),
        extraOutput: step.extraOutput.map(place(of:)), output: place(of: step.output),
        workItems: kernels[kernelOfStep[index]].kernel.workItems)
    }
    let copies = graph.outputs.enumerated().compactMap { i, name -> ForwardPass.OutputCopy? in
      let place = place(of: .value(name))
      return place == .output(i)
        ? nil : ForwardPass.OutputCopy(output: i, from: place, count: outputType(name).elementCount)
    }
    return ForwardPass(kernels: kernels, calls: calls, copies: copies)
  }

  /// Where `buffer` lives: every buffer of a lowered program has a place in its weights file
  /// or its memory plan.
  func place(of buffer: Buffer) -> Place {
    if buffer.isConstant {
      guard let offset = weights.offsets[buffer] else { preconditionFailure("\(buffer) is not in the weights file") }
      return .weights(offset)
    }
    guard let location = plan.locations[buffer] else { preconditionFailure("\(buffer) has no place in the plan") }
    switch location {
    case .input(let i): return .input(i)
    case .output(let i): return .output(i)
    case .arena(let offset): return .arena(offset)
    }
  }

  /// The program's inputs and outputs, in order.
  var interface: (inputs: [InterfaceTensor], outputs: [InterfaceTensor]) {
    (
      graph.inputs.map { InterfaceTensor(name: $0.name, shape: $0.type.shape) },
      graph.outputs.map { InterfaceTensor(name: $0, shape: outputType($0).shape) }
    )
  }

  /// The type of the graph output `name`.
  private func outputType(_ name: String) -> TensorType {
    guard let type = values[name] else { preconditionFailure("the verified graph defines its output \(name)") }
    return type
  }
}
