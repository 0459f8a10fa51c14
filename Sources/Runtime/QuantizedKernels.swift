import GraphIR

/// The reference semantics of the quantized ops, as ONNX defines them: rounding is half to
/// even, results saturate to their type's range, and products of integers are summed exactly
/// in 32-bit integers (wrapping, as the hardware does, past the range no ResNet reaches).
enum QuantizedKernels {
  /// The result of a quantized `op` on `operands`, of type `type`.
  static func evaluate(_ op: Op, _ operands: [Tensor], type: TensorType) -> Tensor {
    switch op {
    case .quantize(let axis):
      Tensor(type: type, integers: quantize(operands, axis: axis, to: type.dtype))
    case .dequantize(let axis):
      Tensor(type: type, data: dequantize(operands, axis: axis))
    case .qconv2d(let a):
      Tensor(type: type, integers: qconv2d(a, operands, out: type))
    case .qdense:
      Tensor(type: type, integers: qdense(operands, out: type))
    case .conv2d, .batchNorm, .scaleShift, .relu, .add, .mul, .clip, .maxPool2d, .avgPool2d, .globalAvgPool,
      .flatten, .dense, .softmax, .subsample2d, .padChannels, .pad2d, .reshape, .transpose:
      preconditionFailure("\(op.name) is not a quantized op")
    }
  }

  /// `saturate(round_half_to_even(value) + zero)` in `dtype`'s range; NaN becomes `zero`.
  static func saturate(_ value: Float, zero: Int32, to dtype: DType) -> Int32 {
    let range = dtype.integerRange!
    guard !value.isNaN else { return zero }
    let rounded = Double(value.rounded(.toNearestOrEven)) + Double(zero)
    if rounded <= Double(range.lowerBound) { return range.lowerBound }
    if rounded >= Double(range.upperBound) { return range.upperBound }
    return Int32(rounded)
  }

  /// For each element of a tensor of `shape`, the index of its scale and zero point: 0 for
  /// one pair (`count == 1` and no axis), else its index along `axis`.
  private static func channelIndex(shape: [Int], axis: Int, perAxis: Bool) -> (Int) -> Int {
    guard perAxis else { return { _ in 0 } }
    let inner = shape[(axis + 1)...].reduce(1, *)
    let extent = shape[axis]
    return { ($0 / inner) % extent }
  }

  static func quantize(_ operands: [Tensor], axis: Int, to dtype: DType) -> [Int32] {
    let x = operands[0], scales = operands[1].data, zeros = operands[2].integers
    let channel = channelIndex(shape: x.type.shape, axis: axis, perAxis: !operands[1].type.shape.isEmpty)
    return x.data.indices.map { i in
      let c = channel(i)
      return saturate(x.data[i] / scales[c], zero: zeros[c], to: dtype)
    }
  }

  static func dequantize(_ operands: [Tensor], axis: Int) -> [Float] {
    let x = operands[0], scales = operands[1].data, zeros = operands[2].integers
    let channel = channelIndex(shape: x.type.shape, axis: axis, perAxis: !operands[1].type.shape.isEmpty)
    return x.integers.indices.map { i in
      let c = channel(i)
      return Float(Int64(x.integers[i]) - Int64(zeros[c])) * scales[c]
    }
  }

  /// The requantizing factor of output channel `k`: `x_scale · w_scale[k] / y_scale` in Float.
  private static func multiplier(_ operands: [Tensor], _ k: Int) -> Float {
    let wScale = operands[4].data.count == 1 ? operands[4].data[0] : operands[4].data[k]
    return operands[1].data[0] * wScale / operands[6].data[0]
  }

  private static func weightZero(_ operands: [Tensor], _ k: Int) -> Int32 {
    operands[5].integers.count == 1 ? operands[5].integers[0] : operands[5].integers[k]
  }

  /// The sum of one output, requantized to `out`'s type (at least `y_zero` with `relu`).
  private static func requantize(_ sum: Int64, _ operands: [Tensor], _ k: Int, out: DType, relu: Bool) -> Int32 {
    let zero = operands[7].integers[0]
    let y = saturate(Float(Int32(truncatingIfNeeded: sum)) * multiplier(operands, k), zero: zero, to: out)
    return relu ? max(y, zero) : y
  }

  /// x is (N,C,H,W), w is (K,C/groups,R,S), the result (N,K,P,Q).
  static func qconv2d(_ a: Conv2dAttributes, _ operands: [Tensor], out: TensorType) -> [Int32] {
    let x = operands[0], w = operands[3]
    let bias = operands.count == 9 ? operands[8].integers : nil
    let xZero = Int64(operands[2].integers[0])
    let (n, c, h, wd) = (x.type.shape[0], x.type.shape[1], x.type.shape[2], x.type.shape[3])
    let (k, r, s) = (w.type.shape[0], w.type.shape[2], w.type.shape[3])
    let (p, q) = (out.shape[2], out.shape[3])
    let cPerGroup = c / a.groups, kPerGroup = k / a.groups
    var result = [Int32](repeating: 0, count: n * k * p * q)
    var plane = [Int64](repeating: 0, count: p * q)
    for image in 0..<n {
      for oc in 0..<k {
        let group = oc / kPerGroup
        let wZero = Int64(weightZero(operands, oc))
        for i in plane.indices { plane[i] = bias.map { Int64($0[oc]) } ?? 0 }
        for icInGroup in 0..<cPerGroup {
          let ic = group * cPerGroup + icInGroup
          let xPlane = (image * c + ic) * h * wd
          for kr in 0..<r {
            let rowOffset = kr * a.dilation.h - a.padding.top
            let rows = ReferenceKernels.validOutputs(count: p, stride: a.stride.h, offset: rowOffset, limit: h)
            for ks in 0..<s {
              let weight = Int64(w.integers[((oc * cPerGroup + icInGroup) * r + kr) * s + ks]) - wZero
              let colOffset = ks * a.dilation.w - a.padding.left
              let cols = ReferenceKernels.validOutputs(count: q, stride: a.stride.w, offset: colOffset, limit: wd)
              for op in rows {
                let xRow = xPlane + (op * a.stride.h + rowOffset) * wd + colOffset
                for oq in cols { plane[op * q + oq] += weight * (Int64(x.integers[xRow + oq * a.stride.w]) - xZero) }
              }
              // Padded positions hold the zero point: (x_zero - x_zero) adds nothing.
            }
          }
        }
        let outPlane = (image * k + oc) * p * q
        for i in 0..<(p * q) {
          result[outPlane + i] = requantize(plane[i], operands, oc, out: out.dtype, relu: a.epilogue == .relu)
        }
      }
    }
    return result
  }

  /// x is (N,I), w is (O,I), the result (N,O).
  static func qdense(_ operands: [Tensor], out: TensorType) -> [Int32] {
    let x = operands[0].integers, w = operands[3].integers
    let xZero = Int64(operands[2].integers[0])
    let (n, inputs, outputs) = (out.shape[0], operands[0].type.shape[1], out.shape[1])
    var result = [Int32](repeating: 0, count: n * outputs)
    for row in 0..<n {
      for o in 0..<outputs {
        let wZero = Int64(weightZero(operands, o))
        var sum = operands.count == 9 ? Int64(operands[8].integers[o]) : 0
        for i in 0..<inputs { sum += (Int64(x[row * inputs + i]) - xZero) * (Int64(w[o * inputs + i]) - wZero) }
        result[row * outputs + o] = requantize(sum, operands, o, out: out.dtype, relu: false)
      }
    }
    return result
  }
}
