import Foundation
import GraphIR
import Runtime
import Testing

@testable import Codegen

/// A fresh private directory.
func scratchDirectory() throws -> String {
  try Artifacts.privateDirectory()
}

/// The C compiler, or a test failure saying none was found (CI has clang from the toolchain).
func compiler() throws -> CCompiler {
  do {
    return try CCompiler.locate()
  } catch {
    Issue.record("these tests compile C and need a C compiler: \(error)")
    throw error
  }
}

/// The targets this machine can run: generic always, then AVX2 and AVX-512 as its CPU has them.
let runnableTargets: [Target] = {
  switch Target.native() {
  case .generic: [.generic]
  case .avx2: [.generic, .avx2]
  // avx512vnni runs the avx512 float kernels; the quantized tests run it too (Target.runnable()).
  case .avx512, .avx512vnni: [.generic, .avx2, .avx512]
  }
}()

/// The Swift compiler, or a test failure saying none was found (CI has the toolchain).
func swiftCompiler() throws -> SwiftCompiler {
  do {
    return try SwiftCompiler.locate()
  } catch {
    Issue.record("these tests compile Swift and need swiftc: \(error)")
    throw error
  }
}

/// `graph` compiled for `target` (and `caches`, the table's unless given) by `backend` to a
/// shared library and loaded.
func compiled(
  _ graph: Graph, target: Target = .generic, caches: CacheSizes? = nil, backend: Backend = .c,
  extraFlags: [String] = []
) throws -> NativeModel {
  let dir = try scratchDirectory()
  switch backend {
  case .c:
    try Artifacts.build(
      graph, kind: .lib, output: dir + "/model", compiler: try compiler(), target: target, caches: caches,
      extraFlags: extraFlags)
  case .swift:
    try Artifacts.buildSwift(
      graph, kind: .lib, output: dir + "/model", compiler: try swiftCompiler(), target: target, caches: caches,
      extraFlags: extraFlags)
  }
  return try NativeModel(libraryPath: dir + "/libmodel.so", weightsPath: dir + "/model.weights")
}

/// Seeded inputs in [-2, 2] for every input of `graph`.
func seededInputs(_ graph: Graph, seed: UInt64 = 5) -> [Tensor] {
  var state = seed
  return graph.inputs.map { input in
    Tensor(
      type: input.type,
      data: (0..<input.type.elementCount).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Float(Int64(bitPattern: state >> 1) % 2001 - 1000) / 500
      })
  }
}

/// max|y − reference| / max|reference| for each pair of outputs.
func relativeErrors(_ got: [Tensor], _ want: [Tensor]) -> [Float] {
  #expect(got.count == want.count, "\(got.count) outputs, expected \(want.count)")
  guard got.count == want.count else { return [.infinity] }
  return zip(got, want).map { y, reference in
    #expect(y.type == reference.type)
    let scale = max(reference.data.map(abs).max() ?? 0, 1e-30)
    return (zip(y.data, reference.data).map { abs($0 - $1) }.max() ?? 0) / scale
  }
}

/// max|native − interpreter| / max|interpreter| over every output, on seeded inputs.
func nativeError(
  _ graph: Graph, target: Target = .generic, caches: CacheSizes? = nil, backend: Backend = .c, seed: UInt64 = 5
) throws -> Float {
  let inputs = seededInputs(graph, seed: seed)
  let want = try Interpreter(graph: graph).run(inputs)
  let got = try compiled(graph, target: target, caches: caches, backend: backend).run(inputs)
  return relativeErrors(got, want).max() ?? 0
}

/// Deterministic values in [-1, 1).
func values(_ count: Int, seed: UInt64) -> [Float] {
  var state = seed &+ 0x9E37_79B9_7F4A_7C15
  return (0..<count).map { _ in
    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return Float(state >> 40) / Float(1 << 23) - 1
  }
}

/// A graph of one `op` whose first operand is the input `x`, then constants of the
/// given shapes, then (for a residual) further inputs.
func oneOp(_ op: Op, input: [Int], constants: [[Int]] = [], inputs extra: [[Int]] = []) throws -> Graph {
  var b = GraphBuilder(name: "one-op")
  var operands = [try b.input("x", TensorType(input))]
  for (i, shape) in constants.enumerated() {
    operands.append(try b.constant("c\(i)", TensorType(shape), values(shape.reduce(1, *), seed: UInt64(i + 1))))
  }
  for (i, shape) in extra.enumerated() { operands.append(try b.input("r\(i)", TensorType(shape))) }
  let y = try b.node("y", op, operands)
  return try b.finish(outputs: [y])
}
