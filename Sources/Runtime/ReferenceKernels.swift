import Foundation
import GraphIR

/// One plain implementation per op. Shapes are already verified, so indexing is in range;
/// sums are taken in Double and rounded to Float once.
enum ReferenceKernels {
  /// The result of `op` on `operands`, of type `type`.
  static func evaluate(_ op: Op, _ operands: [Tensor], type: TensorType) -> Tensor {
    let data: [Float]
    switch op {
    case .quantize, .dequantize, .qconv2d, .qdense: return QuantizedKernels.evaluate(op, operands, type: type)
    case .conv2d(let a): data = conv2d(a, operands, out: type.shape)
    case .batchNorm(let epsilon): data = batchNorm(epsilon: epsilon, operands)
    case .scaleShift: data = scaleShift(operands)
    case .relu: data = operands[0].data.map { $0 > 0 ? $0 : 0 }
    case .add: data = zip(operands[0].data, operands[1].data).map { Float(Double($0) + Double($1)) }
    case .mul: data = zip(operands[0].data, operands[1].data).map { $0 * $1 }
    case .clip(let lo, let hi): data = operands[0].data.map { $0 > lo ? ($0 < hi ? $0 : hi) : lo }
    case .transpose(let perm): data = transpose(operands[0], perm: perm)
    case .maxPool2d(let a): data = pool2d(a, operands[0], out: type.shape, average: nil)
    case .avgPool2d(let a, let countIncludePad):
      data = pool2d(a, operands[0], out: type.shape, average: countIncludePad)
    case .globalAvgPool: data = globalAvgPool(operands[0])
    case .flatten: data = operands[0].data
    case .dense: data = dense(operands, out: type.shape)
    case .softmax(let axis): data = softmax(operands[0], axis: axis)
    case .subsample2d(let stride): data = subsample2d(operands[0], stride: stride, out: type.shape)
    case .padChannels(let before, _): data = padChannels(operands[0], before: before, out: type.shape)
    case .pad2d(let padding, let value): data = pad2d(operands[0], padding, value: value, out: type.shape)
    case .reshape: data = operands[0].data
    }
    return Tensor(type: type, data: data)
  }

  /// `x` with its axes permuted: output axis `i` is input axis `perm[i]`.
  static func transpose(_ x: Tensor, perm: [Int]) -> [Float] {
    let shape = x.type.shape
    var inputStrides = Array(repeating: 1, count: shape.count)
    for axis in stride(from: shape.count - 2, through: 0, by: -1) {
      inputStrides[axis] = inputStrides[axis + 1] * shape[axis + 1]
    }
    let outShape = perm.map { shape[$0] }
    let strides = perm.map { inputStrides[$0] }
    var result = [Float](repeating: 0, count: x.data.count)
    var index = Array(repeating: 0, count: shape.count)
    for o in result.indices {
      var source = 0
      for axis in index.indices { source += index[axis] * strides[axis] }
      result[o] = x.data[source]
      var axis = shape.count - 1
      while axis >= 0 {
        index[axis] += 1
        if index[axis] < outShape[axis] { break }
        index[axis] = 0
        axis -= 1
      }
    }
    return result
  }

  /// The output positions `o` in `0..<count` whose input index `o * stride + offset` lies in
  /// `0..<limit`.
  static func validOutputs(count: Int, stride: Int, offset: Int, limit: Int) -> Range<Int> {
    // Smallest o with o*stride + offset >= 0, and largest with o*stride + offset <= limit - 1.
    let lower = offset >= 0 ? 0 : (-offset + stride - 1) / stride
    let top = limit - 1 - offset
    let upper = top < 0 ? -1 : top / stride
    let lo = min(lower, count)
    let hi = max(lo, min(upper + 1, count))
    return lo..<hi
  }

  /// x is (N,C,H,W), w is (K,C/groups,R,S), b is (K), residual and out are (N,K,P,Q).
  static func conv2d(_ a: Conv2dAttributes, _ operands: [Tensor], out: [Int]) -> [Float] {
    let x = operands[0], w = operands[1]
    let hasBias = a.hasBias(operandCount: operands.count)
    let residual = a.epilogue.addsResidual ? operands.last : nil
    let (n, c, h, wd) = (x.type.shape[0], x.type.shape[1], x.type.shape[2], x.type.shape[3])
    let (k, r, s) = (w.type.shape[0], w.type.shape[2], w.type.shape[3])
    let (p, q) = (out[2], out[3])
    let cPerGroup = c / a.groups, kPerGroup = k / a.groups
    var result = [Float](repeating: 0, count: n * k * p * q)
    var plane = [Double](repeating: 0, count: p * q)
    x.data.withUnsafeBufferPointer { xs in
      w.data.withUnsafeBufferPointer { ws in
        plane.withUnsafeMutableBufferPointer { acc in
          for image in 0..<n {
            for oc in 0..<k {
              let group = oc / kPerGroup
              acc.update(repeating: hasBias ? Double(operands[2].data[oc]) : 0)
              for icInGroup in 0..<cPerGroup {
                let ic = group * cPerGroup + icInGroup
                let xPlane = (image * c + ic) * h * wd
                for kr in 0..<r {
                  let rowOffset = kr * a.dilation.h - a.padding.top
                  let rows = validOutputs(count: p, stride: a.stride.h, offset: rowOffset, limit: h)
                  for ks in 0..<s {
                    let weight = Double(ws[((oc * cPerGroup + icInGroup) * r + kr) * s + ks])
                    let colOffset = ks * a.dilation.w - a.padding.left
                    let cols = validOutputs(count: q, stride: a.stride.w, offset: colOffset, limit: wd)
                    for op in rows {
                      let xRow = xPlane + (op * a.stride.h + rowOffset) * wd + colOffset
                      for oq in cols {
                        acc[op * q + oq] += weight * Double(xs[xRow + oq * a.stride.w])
                      }
                    }
                  }
                }
              }
              let outPlane = (image * k + oc) * p * q
              for i in 0..<(p * q) {
                var v = acc[i]
                if let residual { v += Double(residual.data[outPlane + i]) }
                if a.epilogue == .relu || a.epilogue == .addReLU { v = v > 0 ? v : 0 }
                result[outPlane + i] = Float(v)
              }
            }
          }
        }
      }
    }
    return result
  }

  /// x is (N,C,...), the four parameters are (C).
  static func batchNorm(epsilon: Float, _ operands: [Tensor]) -> [Float] {
    let x = operands[0]
    let c = x.type.shape[1]
    let inner = x.type.shape[2...].reduce(1, *)
    var result = [Float](repeating: 0, count: x.data.count)
    for i in 0..<x.data.count {
      let channel = (i / inner) % c
      let scale = Double(operands[1].data[channel]) / (Double(operands[4].data[channel]) + Double(epsilon)).squareRoot()
      result[i] = Float(
        (Double(x.data[i]) - Double(operands[3].data[channel])) * scale + Double(operands[2].data[channel]))
    }
    return result
  }

  /// x is (N,C,...), scale and shift are (C).
  static func scaleShift(_ operands: [Tensor]) -> [Float] {
    let x = operands[0]
    let c = x.type.shape[1]
    let inner = x.type.shape[2...].reduce(1, *)
    return x.data.indices.map { i in
      let channel = (i / inner) % c
      return Float(Double(x.data[i]) * Double(operands[1].data[channel]) + Double(operands[2].data[channel]))
    }
  }

  /// x is (N,C,H,W), out is (N,C,P,Q). `average` is nil for max pooling, else whether padded
  /// positions count in the divisor.
  static func pool2d(_ a: Pool2dAttributes, _ x: Tensor, out: [Int], average: Bool?) -> [Float] {
    let (n, c, h, w) = (x.type.shape[0], x.type.shape[1], x.type.shape[2], x.type.shape[3])
    let (p, q) = (out[2], out[3])
    var result = [Float](repeating: 0, count: n * c * p * q)
    for plane in 0..<(n * c) {
      for op in 0..<p {
        for oq in 0..<q {
          var maximum = -Double.infinity, sum = 0.0, valid = 0, inPadded = 0
          for kr in 0..<a.kernel.h {
            let ih = op * a.stride.h - a.padding.top + kr * a.dilation.h
            for ks in 0..<a.kernel.w {
              let iw = oq * a.stride.w - a.padding.left + ks * a.dilation.w
              if ih >= -a.padding.top, ih < h + a.padding.bottom, iw >= -a.padding.left, iw < w + a.padding.right {
                inPadded += 1
              }
              guard ih >= 0, ih < h, iw >= 0, iw < w else { continue }
              let v = Double(x.data[(plane * h + ih) * w + iw])
              maximum = max(maximum, v)
              sum += v
              valid += 1
            }
          }
          let value: Double
          switch average {
          case nil: value = maximum
          case true?: value = sum / Double(max(inPadded, 1))
          case false?: value = valid == 0 ? 0 : sum / Double(valid)
          }
          result[(plane * p + op) * q + oq] = Float(value)
        }
      }
    }
    return result
  }

  /// x is (N,C,H,W), out is (N,C,1,1).
  static func globalAvgPool(_ x: Tensor) -> [Float] {
    let planes = x.type.shape[0] * x.type.shape[1]
    let size = x.type.shape[2] * x.type.shape[3]
    return (0..<planes).map { plane in
      Float(x.data[(plane * size)..<((plane + 1) * size)].reduce(0.0) { $0 + Double($1) } / Double(size))
    }
  }

  /// x is (N,I), w is (O,I), b is (O), out is (N,O).
  static func dense(_ operands: [Tensor], out: [Int]) -> [Float] {
    let x = operands[0], w = operands[1]
    let (n, inputs, outputs) = (out[0], x.type.shape[1], out[1])
    var result = [Float](repeating: 0, count: n * outputs)
    for row in 0..<n {
      for o in 0..<outputs {
        var acc = operands.count == 3 ? Double(operands[2].data[o]) : 0
        for i in 0..<inputs { acc += Double(x.data[row * inputs + i]) * Double(w.data[o * inputs + i]) }
        result[row * outputs + o] = Float(acc)
      }
    }
    return result
  }

  /// Softmax over `axis`, subtracting the maximum first.
  static func softmax(_ x: Tensor, axis: Int) -> [Float] {
    let shape = x.type.shape
    let extent = shape[axis]
    let inner = shape[(axis + 1)...].reduce(1, *)
    let outer = shape[..<axis].reduce(1, *)
    var result = [Float](repeating: 0, count: x.data.count)
    for o in 0..<outer {
      for i in 0..<inner {
        let index = { (j: Int) in (o * extent + j) * inner + i }
        let maximum = (0..<extent).map { Double(x.data[index($0)]) }.max()!
        let exps = (0..<extent).map { exp(Double(x.data[index($0)]) - maximum) }
        let total = exps.reduce(0, +)
        for j in 0..<extent { result[index(j)] = Float(exps[j] / total) }
      }
    }
    return result
  }

  /// x is (N,C,H,W), out is (N,C,ceil(H/sh),ceil(W/sw)).
  static func subsample2d(_ x: Tensor, stride: Size2d, out: [Int]) -> [Float] {
    let (h, w) = (x.type.shape[2], x.type.shape[3])
    let (p, q) = (out[2], out[3])
    var result = [Float](repeating: 0, count: out.reduce(1, *))
    for plane in 0..<(out[0] * out[1]) {
      for op in 0..<p {
        for oq in 0..<q { result[(plane * p + op) * q + oq] = x.data[(plane * h + op * stride.h) * w + oq * stride.w] }
      }
    }
    return result
  }

  /// x is (N,C,H,W), out is (N,C,top+H+bottom,left+W+right); the border is `value`.
  static func pad2d(_ x: Tensor, _ p: Padding2d, value: Float, out: [Int]) -> [Float] {
    let (h, w) = (x.type.shape[2], x.type.shape[3])
    let (ph, pw) = (out[2], out[3])
    var result = [Float](repeating: value, count: out.reduce(1, *))
    for plane in 0..<(out[0] * out[1]) {
      for row in 0..<h {
        let from = (plane * h + row) * w
        let to = (plane * ph + row + p.top) * pw + p.left
        result.replaceSubrange(to..<(to + w), with: x.data[from..<(from + w)])
      }
    }
    return result
  }

  /// x is (N,C,H,W), out is (N,before+C+after,H,W); the new channels are zero.
  static func padChannels(_ x: Tensor, before: Int, out: [Int]) -> [Float] {
    let (c, size) = (x.type.shape[1], x.type.shape[2] * x.type.shape[3])
    var result = [Float](repeating: 0, count: out.reduce(1, *))
    for image in 0..<out[0] {
      for channel in 0..<c {
        let from = (image * c + channel) * size
        let to = (image * out[1] + before + channel) * size
        result.replaceSubrange(to..<(to + size), with: x.data[from..<(from + size)])
      }
    }
    return result
  }
}
