import GraphIR
import Testing

@testable import Runtime

/// Runs one op whose operands are all graph inputs; each operand is `(shape, data)`.
func evaluate(_ op: Op, _ operands: [([Int], [Float])]) throws -> Tensor {
  var b = GraphBuilder(name: "one-op")
  var values: [Operand] = []
  for (i, (shape, _)) in operands.enumerated() { values.append(try b.input("in\(i)", TensorType(shape))) }
  let y = try b.node("y", op, values)
  let g = try b.finish(outputs: [y])
  return try Interpreter(graph: g).run(operands.map { Tensor(type: TensorType($0.0), data: $0.1) })[0]
}

/// A 3x3 image holding 1...9 row by row.
let nine: ([Int], [Float]) = ([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9])

@Suite struct ReferenceKernelTests {
  @Test func convolutionCorrelatesWithoutFlipping() throws {
    // out[i][j] = x[i][j] - x[i+1][j+1] = -4 everywhere; bias 1 gives -3.
    let w: ([Int], [Float]) = ([1, 1, 2, 2], [1, 0, 0, -1])
    let y = try evaluate(.conv2d(Conv2dAttributes()), [nine, w])
    #expect(y.type.shape == [1, 1, 2, 2])
    #expect(y.data == [-4, -4, -4, -4])
    #expect(try evaluate(.conv2d(Conv2dAttributes()), [nine, w, ([1], [1])]).data == [-3, -3, -3, -3])
  }

  @Test func convolutionPaddingAndStride() throws {
    // A 3x3 box sum, pad 1, stride 2: windows centred on (0,0), (0,2), (2,0), (2,2).
    let ones: ([Int], [Float]) = ([1, 1, 3, 3], Array(repeating: 1, count: 9))
    let y = try evaluate(.conv2d(Conv2dAttributes(stride: .square(2), padding: .uniform(1))), [nine, ones])
    // 1+2+4+5, 2+3+5+6, 4+5+7+8, 5+6+8+9.
    #expect(y.data == [12, 16, 24, 28])
  }

  @Test func convolutionAsymmetricPadding() throws {
    // Only a column of zeros on the left: a 1x2 kernel [1, 1] sees (0, x00), (x00, x01), ...
    let w: ([Int], [Float]) = ([1, 1, 1, 2], [1, 1])
    let y = try evaluate(
      .conv2d(Conv2dAttributes(padding: Padding2d(top: 0, left: 1, bottom: 0, right: 0))), [nine, w])
    #expect(y.data == [1, 3, 5, 4, 9, 11, 7, 15, 17])
  }

  @Test func convolutionDilation() throws {
    // A 2x2 kernel dilated by 2 reads the four corners.
    let w: ([Int], [Float]) = ([1, 1, 2, 2], [1, 1, 1, 1])
    #expect(try evaluate(.conv2d(Conv2dAttributes(dilation: .square(2))), [nine, w]).data == [20])
  }

  @Test func convolutionChannelsAndGroups() throws {
    let x: ([Int], [Float]) = ([1, 2, 1, 2], [1, 2, 3, 4])
    // One output channel over two inputs: 1·c0 + 10·c1.
    #expect(try evaluate(.conv2d(Conv2dAttributes()), [x, ([1, 2, 1, 1], [1, 10])]).data == [31, 42])
    // Two groups: output 0 sees only c0 (×10), output 1 only c1 (×100).
    let grouped = try evaluate(.conv2d(Conv2dAttributes(groups: 2)), [x, ([2, 1, 1, 1], [10, 100])])
    #expect(grouped.data == [10, 20, 300, 400])
  }

  @Test func convolutionEpilogues() throws {
    let x: ([Int], [Float]) = ([1, 1, 1, 2], [1, -2])
    let w: ([Int], [Float]) = ([1, 1, 1, 1], [3])
    let residual: ([Int], [Float]) = ([1, 1, 1, 2], [1, 4])
    #expect(try evaluate(.conv2d(Conv2dAttributes(epilogue: .none)), [x, w]).data == [3, -6])
    #expect(try evaluate(.conv2d(Conv2dAttributes(epilogue: .relu)), [x, w]).data == [3, 0])
    #expect(try evaluate(.conv2d(Conv2dAttributes(epilogue: .add)), [x, w, residual]).data == [4, -2])
    #expect(try evaluate(.conv2d(Conv2dAttributes(epilogue: .addReLU)), [x, w, residual]).data == [4, 0])
    // With a bias the residual comes last: 3·x + 0.5 + r.
    #expect(
      try evaluate(.conv2d(Conv2dAttributes(epilogue: .add)), [x, w, ([1], [0.5]), residual]).data == [4.5, -1.5])
  }

  @Test func batchNormalization() throws {
    // (x - mean) / sqrt(var + eps) * scale + bias per channel, eps 0.
    let x: ([Int], [Float]) = ([1, 2, 1, 2], [1, 3, 2, 4])
    let y = try evaluate(.batchNorm(epsilon: 0), [x, ([2], [2, 1]), ([2], [0.5, 0]), ([2], [1, 0]), ([2], [4, 1])])
    #expect(y.data == [0.5, 2.5, 2, 4])
    // epsilon is inside the square root: var 3 + eps 1 = 4.
    let z = try evaluate(.batchNorm(epsilon: 1), [([1, 1], [2]), ([1], [1]), ([1], [0]), ([1], [0]), ([1], [3])])
    #expect(z.data == [1])
  }

  @Test func reluAndAdd() throws {
    #expect(try evaluate(.relu, [([3], [-1, 0, 2])]).data == [0, 0, 2])
    #expect(try evaluate(.add, [([2], [1, 2]), ([2], [3, -4])]).data == [4, -2])
  }

  @Test func maxPoolPaddingNeverWins() throws {
    let x: ([Int], [Float]) = ([1, 1, 2, 2], [1, -2, -3, -4])
    let y = try evaluate(
      .maxPool2d(Pool2dAttributes(kernel: .square(2), stride: .square(1), padding: .uniform(1))), [x])
    #expect(y.data == [1, 1, -2, 1, 1, -2, -3, -3, -4])
  }

  @Test func maxPoolCeilMode() throws {
    let x: ([Int], [Float]) = ([1, 1, 1, 3], [1, 2, 3])
    let pool = Pool2dAttributes(kernel: Size2d(1, 2), stride: Size2d(1, 2), ceilMode: true)
    #expect(try evaluate(.maxPool2d(pool), [x]).data == [2, 3])
    var floor = pool
    floor.ceilMode = false
    #expect(try evaluate(.maxPool2d(floor), [x]).data == [2])
  }

  @Test func averagePoolCountsPaddingOnlyWhenAsked() throws {
    let x: ([Int], [Float]) = ([1, 1, 2, 2], [1, 2, 3, 4])
    let pool = Pool2dAttributes(kernel: .square(2), stride: .square(1), padding: .uniform(1))
    let excluded = try evaluate(.avgPool2d(pool, countIncludePad: false), [x])
    #expect(excluded.data == [1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4])
    let included = try evaluate(.avgPool2d(pool, countIncludePad: true), [x])
    #expect(included.data == [0.25, 0.75, 0.5, 1, 2.5, 1.5, 0.75, 1.75, 1])
  }

  @Test func averagePoolCeilModeWindowPastPaddingIsNotCounted() throws {
    // Width 3, kernel 2, stride 2, ceil: the last window covers column 2 and one column
    // outside even the (zero) padding; it averages one value whatever count_include_pad says.
    let x: ([Int], [Float]) = ([1, 1, 1, 3], [2, 4, 9])
    let pool = Pool2dAttributes(kernel: Size2d(1, 2), stride: Size2d(1, 2), ceilMode: true)
    #expect(try evaluate(.avgPool2d(pool, countIncludePad: true), [x]).data == [3, 9])
    #expect(try evaluate(.avgPool2d(pool, countIncludePad: false), [x]).data == [3, 9])
  }

  @Test func globalAveragePoolFlattenDense() throws {
    #expect(try evaluate(.globalAvgPool, [([1, 2, 1, 2], [1, 2, 3, 5])]).data == [1.5, 4])
    let flat = try evaluate(.flatten(axis: 1), [([1, 2, 1, 2], [1, 2, 3, 5])])
    #expect(flat.type.shape == [1, 4] && flat.data == [1, 2, 3, 5])
    // y = x·wᵀ + b with w = [[1,0],[0,1],[1,1]], b = [0,0,10].
    let y = try evaluate(.dense, [([1, 2], [1, 2]), ([3, 2], [1, 0, 0, 1, 1, 1]), ([3], [0, 0, 10])])
    #expect(y.data == [1, 2, 13])
  }

  @Test func softmaxAlongAxis() throws {
    // exp(0) : exp(ln 3) = 1 : 3.
    let y = try evaluate(.softmax(axis: 1), [([1, 2], [0, Float(log(3.0))])])
    #expect(abs(y.data[0] - 0.25) < 1e-7 && abs(y.data[1] - 0.75) < 1e-7)
    // Along axis 0 of a 2x2: columns are normalized independently; large values do not overflow.
    let z = try evaluate(.softmax(axis: 0), [([2, 2], [1000, 0, 1000, 0])])
    #expect(z.data == [0.5, 0.5, 0.5, 0.5])
  }

  @Test func optionAShortcutOps() throws {
    let s = try evaluate(.subsample2d(stride: .square(2)), [nine])
    #expect(s.type.shape == [1, 1, 2, 2] && s.data == [1, 3, 7, 9])
    let p = try evaluate(.padChannels(before: 1, after: 2), [([1, 1, 1, 2], [5, 6])])
    #expect(p.type.shape == [1, 4, 1, 2] && p.data == [0, 0, 5, 6, 0, 0, 0, 0])
  }

  @Test func inputsMustMatchTheGraph() throws {
    var b = GraphBuilder(name: "g")
    let x = try b.input("x", TensorType([1, 2]))
    let y = try b.node("y", .relu, [x])
    let g = try b.finish(outputs: [y])
    let interpreter = try Interpreter(graph: g)
    #expect(throws: InterpreterError.inputCount(expected: 1, got: 0)) { try interpreter.run([]) }
    #expect(throws: InterpreterError.inputType(name: "x", expected: TensorType([1, 2]), got: TensorType([2, 1]))) {
      try interpreter.run([Tensor(type: TensorType([2, 1]), data: [1, 2])])
    }
    #expect(throws: InterpreterError.inputSize(name: "x", expected: 2, got: 3)) {
      try interpreter.run([Tensor(type: TensorType([1, 2]), data: [1, 2, 3])])
    }
  }

  @Test func peakMemoryCountsLiveValues() throws {
    // x (16 bytes) -> r1 -> r2 -> r3: at most two 16-byte values are alive at once,
    // plus the output r1 kept to the end in the second graph.
    var b = GraphBuilder(name: "chain")
    let x = try b.input("x", TensorType([1, 4]))
    let r1 = try b.node("r1", .relu, [x])
    let r2 = try b.node("r2", .relu, [r1])
    let r3 = try b.node("r3", .relu, [r2])
    #expect(try Interpreter(graph: try b.finish(outputs: [r3])).peakValueBytes == 32)
    #expect(try Interpreter(graph: try b.finish(outputs: [r3, r1])).peakValueBytes == 48)
  }

  @Test func validOutputRanges() {
    // Outputs o with o*2 - 1 in 0..<5: o = 1, 2.
    #expect(ReferenceKernels.validOutputs(count: 4, stride: 2, offset: -1, limit: 5) == 1..<3)
    #expect(ReferenceKernels.validOutputs(count: 3, stride: 1, offset: 5, limit: 5) == 0..<0)
    #expect(ReferenceKernels.validOutputs(count: 3, stride: 1, offset: 0, limit: 10) == 0..<3)
  }
}

import Foundation
