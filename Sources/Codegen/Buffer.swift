import GraphIR

/// A buffer of a lowered program, identified by what it holds: a graph value in one of its
/// layouts, or a graph constant as it is or repacked for a kernel.
///
/// A model's names enter the identity only whole, as the name of the value or constant,
/// never joined with markers, so no name a model can hold (`x@blocked`, say) stands for
/// another buffer. Names are for display and, sanitized, for identifiers in generated code.
public enum Buffer: Hashable, Sendable {
  /// A graph value (an input or a node's result) in the plain row-major layout; the
  /// caller's input and output buffers hold these.
  case value(String)
  /// A graph value in the target's blocked layout NCHW`B`c.
  case blocked(String)
  /// A graph value of integers, blocked as NCHW`B`c, one byte each (offset by 128 when the
  /// type is signed, so every byte reads as unsigned): written and read by integer convs only.
  case quantized(String)
  /// A graph constant as the graph holds it.
  case constant(String)
  /// A graph constant repacked for a kernel.
  case packed(String, Packing)
  /// The scales and zero points an integer-conv step reads, gathered from the constants of
  /// node `name` and of the nodes it absorbs (`QConvPlan.Parameter`).
  case quantization(String)
  /// The bias of integer conv `name` less `x_zero · Σ w` over each output channel's weights,
  /// as int32 (kernels that sum raw bytes, the zero point in, take it out so).
  case correctedBias(String)

  /// Whether the buffer lives in the weights file (else in the arena or the caller's buffers).
  public var isConstant: Bool {
    switch self {
    case .value, .blocked, .quantized: false
    case .constant, .packed, .quantization, .correctedBias: true
    }
  }

  /// The name of the graph value or constant the buffer holds.
  public var graphName: String {
    switch self {
    case .value(let name), .blocked(let name), .quantized(let name), .constant(let name), .packed(let name, _),
      .quantization(let name),
      .correctedBias(let name):
      name
    }
  }

  /// For display (profiles, comments): the name, then the layout when it is not the plain one.
  public var label: String {
    switch self {
    case .value(let name), .constant(let name): name
    case .blocked(let name): name + " (blocked)"
    case .quantized(let name): name + " (bytes, blocked)"
    case .packed(let name, let packing): name + " (\(packing))"
    case .quantization(let name): name + " (quantization parameters)"
    case .correctedBias(let name): name + " (bias less the input zero point's share)"
    }
  }
}

/// How a constant is repacked for the kernel that reads it; `block` is the target's channel
/// block.
public enum Packing: Hashable, Sendable, CustomStringConvertible {
  /// Conv weights (K,C,R,S) as (K/B, C/B, R, S, B[c], B[k]).
  case conv(block: Int)
  /// Weights of a conv reading plain input (a stem) as (K/B, R, S, C, B[k]).
  case stem(block: Int)
  /// Weights of a grouped conv with as many input as output channels, (K, C/G, R, S), as
  /// (K/B, N, R, S, B[c], B[k]) over the N input blocks each output block's groups read
  /// (`ConvPlan.groupBlocks`), zero between channels of different groups.
  case groupedConv(block: Int, groups: Int)
  /// 3x3 weights transformed for Winograd F(2x2,3x3).
  case winograd(block: Int)
  /// Integer 3x3 weights transformed for the integer Winograd kernel (`QWinograd`), as int16
  /// pairs of input channels: (16, K/B, C/2, B[k], 2[c]).
  case winogradPairs(block: Int)
  /// Dense weights (O,I) as (ceil(O/B), I, B), zero-padded past O.
  case dense(block: Int)
  /// A bias zero-padded to a multiple of B.
  case paddedBias(block: Int)
  /// Integer conv weights (K,C,R,S) as int16 pairs of input channels for `vpmaddwd`:
  /// (K/B, ceil(C/2), R, S, B[k], 2[c]), two int16 to each float of the file (the lower
  /// channel in the lower half), zero past C.
  case pairs(block: Int)
  /// Signed byte conv weights (K,C,R,S) as quads of input channels for `vpdpbusd` (or `vpmaddubsw`):
  /// (K/B, ceil(C/4), R, S, B[k], 4[c]), four bytes to each float of the file (the lowest
  /// channel in the lowest byte), zero past C.
  case quads(block: Int)
  /// A plain-input integer conv's weights (K,C,R,S) with each filter row's taps and channels
  /// together: `.pairs` or `.quads` of the weights as (K, S·C, R, 1), channel `s·C + c`
  /// holding w[k, c, r, s], so that a row's S·C products fill whole groups but the last
  /// (`QConvPlan.packedTaps`).
  case tapPairs(block: Int)
  case tapQuads(block: Int)
  /// An i8 or u8 constant as unsigned bytes in its own order, `offset` added (128 for i8),
  /// four bytes to each float of the file (the first in the lowest byte), zero past the end.
  case bytes(offset: Int)

  /// The offset that makes integers of `dtype` unsigned bytes: 128 for i8, else 0.
  static func byteOffset(_ dtype: DType) -> Int { dtype == .i8 ? 128 : 0 }

  /// `packed for conv, block 16`.
  public var description: String {
    switch self {
    case .conv(let b): "packed for conv, block \(b)"
    case .stem(let b): "packed for a plain-input conv, block \(b)"
    case .groupedConv(let b, let g): "packed for a conv of \(g) groups, block \(b)"
    case .winograd(let b): "Winograd-transformed, block \(b)"
    case .winogradPairs(let b): "Winograd-transformed as int16 pairs for an integer conv, block \(b)"
    case .dense(let b): "packed for dense, block \(b)"
    case .paddedBias(let b): "padded to a multiple of \(b)"
    case .pairs(let b): "packed as int16 pairs for an integer conv, block \(b)"
    case .quads(let b): "packed as byte quads for an integer conv, block \(b)"
    case .tapPairs(let b): "packed as int16 pairs of a filter row's taps and channels, block \(b)"
    case .tapQuads(let b): "packed as byte quads of a filter row's taps and channels, block \(b)"
    case .bytes(let offset): offset == 0 ? "packed as bytes" : "packed as bytes offset by \(offset)"
    }
  }
}
