/// The operations of the residual-network family.
///
/// Every op produces one value. Operands are positional; `Op.arity` says how many each takes.
/// Switches over `Op` list every case, with no `default:`, so adding an op shows every place
/// that must handle it.
public enum Op: Hashable, Sendable {
  /// `conv2d(x[N,C,H,W], w[K,C/groups,R,S][, b[K]][, residual[N,K,P,Q]]) -> [N,K,P,Q]`.
  case conv2d(Conv2dAttributes)
  /// `batch_norm(x[N,C,...], scale[C], bias[C], mean[C], var[C])`:
  /// `(x - mean) / sqrt(var + epsilon) * scale + bias`.
  case batchNorm(epsilon: Float)
  /// `scale_shift(x[N,C,...], scale[C], shift[C]) = x * scale + shift` per channel: a
  /// BatchNorm with its statistics folded in, where no convolution could absorb it.
  case scaleShift
  /// `relu(x) = x > 0 ? x : 0` (a NaN becomes 0, as in every compiled kernel).
  case relu
  /// `add(a, b) = a + b`, both of the same shape.
  case add
  /// `mul(a, b) = a * b`, both of the same shape (ONNX `Mul` and `Div` by a constant that is
  /// not per channel).
  case mul
  /// `clip(x) = min(max(x, min), max)`; a NaN becomes `min`, as ReLU makes it 0 (ONNX `Clip`,
  /// ReLU6). An absent bound is the largest finite float, as in ONNX.
  case clip(min: Float, max: Float)
  /// `max_pool2d(x[N,C,H,W])`; padded positions are minus infinity.
  case maxPool2d(Pool2dAttributes)
  /// `avg_pool2d(x[N,C,H,W])`; `countIncludePad` says whether padded zeros are in the divisor.
  case avgPool2d(Pool2dAttributes, countIncludePad: Bool)
  /// `global_avg_pool(x[N,C,H,W]) -> [N,C,1,1]`.
  case globalAvgPool
  /// `flatten(x)`: dimensions before `axis` become the rows, the rest the columns.
  case flatten(axis: Int)
  /// `dense(x[N,I], w[O,I][, b[O]]) -> [N,O]`: `y = x·wᵀ + b`.
  case dense
  /// `softmax(x)` along `axis`.
  case softmax(axis: Int)
  /// `subsample2d(x[N,C,H,W]) -> [N,C,ceil(H/sh),ceil(W/sw)]`: keeps every `stride`-th
  /// row and column starting at 0 (`x[:, :, ::sh, ::sw]`), for option-A shortcuts.
  case subsample2d(stride: Size2d)
  /// `pad_channels(x[N,C,H,W]) -> [N,before+C+after,H,W]`: zero channels around the input,
  /// for option-A shortcuts.
  case padChannels(before: Int, after: Int)
  /// `pad2d(x[N,C,H,W]) -> [N,C,H+top+bottom,W+left+right]`: a border of `value` around
  /// each feature map (ONNX `Pad` in constant mode).
  case pad2d(Padding2d, value: Float)
  /// `reshape(x)`: the same elements in row-major order under another shape of the same size.
  case reshape(shape: [Int])
  /// `transpose(x)`: axis `i` of the result is axis `perm[i]` of `x` (ONNX `Transpose`, such as
  /// an NHWC input made NCHW with `perm=[0,3,1,2]`).
  case transpose(perm: [Int])
  /// `quantize(x: f32, scale: f32, zero_point: i8|u8) -> i8|u8` (ONNX `QuantizeLinear`):
  /// `saturate(round_half_to_even(x / scale) + zero_point)`. `scale` and `zero_point` have the
  /// same shape: `[]` for one pair for the whole tensor, or `[x.shape[axis]]` for one per index
  /// along `axis`. The result has the zero point's element type.
  case quantize(axis: Int)
  /// `dequantize(x: i8|u8|i32, scale: f32, zero_point: x's type) -> f32` (ONNX
  /// `DequantizeLinear`): `(x - zero_point) * scale`, per tensor or along `axis` as `quantize`.
  case dequantize(axis: Int)
  /// `qconv2d(x, x_scale, x_zero, w, w_scale, w_zero, y_scale, y_zero[, bias: i32[K]])`, the
  /// operands in ONNX `QLinearConv`'s order: x is i8|u8 `[N,C,H,W]`, w is i8|u8 `[K,C/groups,R,S]`,
  /// the scales f32 and the zero points of their value's type; `w_scale`/`w_zero` are `[]` or `[K]`,
  /// the others `[]`. The sum of `(x - x_zero)·(w - w_zero)` plus the bias, in 32-bit integers, is
  /// requantized: `saturate(round_half_to_even(Float(sum) · (x_scale·w_scale[k]/y_scale)) + y_zero)`,
  /// the factor computed in Float in that order. The epilogue is `none` or `relu` (the result
  /// no smaller than `y_zero`). The result has `y_zero`'s type.
  case qconv2d(Conv2dAttributes)
  /// `qdense(x[N,I], x_scale, x_zero, w[O,I], w_scale, w_zero, y_scale, y_zero[, bias: i32[O]])`:
  /// `dense` in integers, requantized as `qconv2d` (ONNX `QLinearMatMul` with `w` transposed,
  /// plus a bias).
  case qdense
}

/// How many operands an op takes.
public struct Arity: Hashable, Sendable, CustomStringConvertible {
  /// The fewest.
  public var min: Int
  /// The most.
  public var max: Int

  /// `2`, or `2...3`.
  public var description: String { min == max ? "\(min)" : "\(min)...\(max)" }

  /// Whether `count` operands are accepted.
  public func accepts(_ count: Int) -> Bool { (min...max).contains(count) }
}

extension Op {
  /// The op's name in the textual IR and in `resnetc info`.
  public var name: String {
    switch self {
    case .conv2d: "conv2d"
    case .batchNorm: "batch_norm"
    case .scaleShift: "scale_shift"
    case .relu: "relu"
    case .add: "add"
    case .mul: "mul"
    case .clip: "clip"
    case .maxPool2d: "max_pool2d"
    case .avgPool2d: "avg_pool2d"
    case .globalAvgPool: "global_avg_pool"
    case .flatten: "flatten"
    case .dense: "dense"
    case .softmax: "softmax"
    case .subsample2d: "subsample2d"
    case .padChannels: "pad_channels"
    case .pad2d: "pad2d"
    case .reshape: "reshape"
    case .transpose: "transpose"
    case .quantize: "quantize"
    case .dequantize: "dequantize"
    case .qconv2d: "qconv2d"
    case .qdense: "qdense"
    }
  }

  /// The operand counts the op accepts.
  public var arity: Arity {
    switch self {
    case .conv2d(let a):
      a.epilogue.addsResidual ? Arity(min: 3, max: 4) : Arity(min: 2, max: 3)
    case .batchNorm: Arity(min: 5, max: 5)
    case .scaleShift: Arity(min: 3, max: 3)
    case .add, .mul: Arity(min: 2, max: 2)
    case .dense: Arity(min: 2, max: 3)
    case .quantize, .dequantize: Arity(min: 3, max: 3)
    case .qconv2d, .qdense: Arity(min: 8, max: 9)
    case .relu, .maxPool2d, .avgPool2d, .globalAvgPool, .flatten, .softmax, .subsample2d,
      .padChannels, .pad2d, .reshape, .clip, .transpose:
      Arity(min: 1, max: 1)
    }
  }

  /// Whether the op reads or writes integer tensors (the quantized ops).
  public var isQuantized: Bool {
    switch self {
    case .quantize, .dequantize, .qconv2d, .qdense: true
    case .conv2d, .batchNorm, .scaleShift, .relu, .add, .mul, .clip, .maxPool2d, .avgPool2d, .globalAvgPool,
      .flatten, .dense, .softmax, .subsample2d, .padChannels, .pad2d, .reshape, .transpose:
      false
    }
  }
}
