import GraphIR

/// The plan of an integer convolution (`qconv2d`) summed in 32-bit lanes over groups of input
/// channels, and the kernel it builds.
///
/// Integer tensors reach it as whole numbers in f32 buffers, or as bytes (`Buffer.quantized`)
/// where only integer convs read them. The input is first copied into the scratch `xp`, laid
/// out as (input blocks, rows, paddedWidth, block width), in one of two `Grouping`s (a 1x1
/// stride-1 conv without padding over unsplit byte quads reads it in place instead:
/// `readsInputInPlace`):
/// - pairs (AVX2, AVX-512): int16, the input less its zero point, zero on every padded row and
///   column (ONNX pads with the zero point, which adds nothing); lanes add pairs of products
///   with `vpmaddwd`, exact, as no operand reaches -32768 (both are within ±255);
/// - quads (AVX-512 VNNI; AVX2 and AVX-512 for weights whose byte pairs cannot saturate, and
///   for any signed weights over a blocked input): bytes, the input as it is (an i8 input
///   offset by 128), padding the zero point; lanes add four products of unsigned input and
///   signed weight bytes with `vpdpbusd`, or without VNNI with `vpmaddubsw` (two pairs in
///   int16) then `vpmaddwd` by ones, exact where `bytePairsExact` holds; otherwise each fill
///   of `xp` is split (`Stmt.splitBytePairs`): a pair of input bytes whose sum passes the
///   weights' `pairBound` keeps that sum, and the rest, recorded for its pixel, is multiplied
///   apart (`Stmt.addPairRests`): ResNet-50's activations pass it in about 0.2% of quads.
///   The bias, corrected by `x_zero · Σ w`, takes the zero point out.
///
/// A register tile of `tile` output pixels by `channelBlocks` output-channel blocks sums, for
/// each group of input channels and tap, one weights vector per block (`wp`, packed as
/// `Packing.pairs` or `.quads`) times one broadcast group per pixel. Each sum, its bias
/// included, is requantized with the interpreter's Float operations: `Float(sum) · (x_scale ·
/// w_scale[k] / y_scale)`, clamped to the output type's range less the zero point, rounded
/// half to even, plus the zero point (and at least it with ReLU); a `residual` end then
/// dequantizes it, adds the dequantized shortcut, applies ReLU and quantizes again. The
/// output is blocked, in floats or bytes.
///
///     y[n, k, p, q] = requantize(bias[k] + Σ (x[n, c, p·sh + r - pt, q·sw + s - pl] - x_zero) · w[k, c, r, s])
///
/// Units of parallel work are (image, output row, group of channel blocks), groups fastest,
/// so the copied rows of one output row serve every group in turn; where the weights are
/// larger than the image (the late stages), (image, group), each filling the whole padded
/// image once and reading a group's weights from cache for every row.
struct QConvPlan: Hashable, Sendable {
  /// The order of an image's units of parallel work.
  enum Order: Hashable, Sendable {
    /// (output row, group): `xp` holds the filter's rows for one output row.
    case rowsOuter
    /// (group) over the whole map: `xp` holds every padded row of the image.
    case imageOuter
  }

  let attributes: Conv2dAttributes
  /// Input (N,C,H,W) and output (N,K,P,Q) shapes, and the filter's size.
  let x: [Int]
  let y: [Int]
  let filter: Size2d
  /// Whether the input is plain NCHW (a stem, or channels that are no multiple of a block).
  let plainInput: Bool
  let hasBias: Bool
  /// Whether the weights have a scale per output channel (else one).
  let perChannelScale: Bool
  /// The output type's range.
  let range: ClosedRange<Int32>
  /// Channels per block.
  let b: Int
  /// Output pixels per register tile, and output-channel blocks it computes together.
  let tile: Int
  let channelBlocks: Int
  let order: Order
  /// The dequantize, shortcut add, ReLU and quantize after the conv that the step computes
  /// too (`QuantizedResidual`), or nil.
  let residual: Residual?
  /// Two channels to an int16 pair, or four to a quad of bytes.
  let grouping: Grouping
  /// Whether the input is i8 (offset by 128 into bytes).
  let signedInput: Bool
  /// Where quads without VNNI split the input's byte pairs (`Stmt.splitBytePairs`), their
  /// bound (`Fit.pairBound`): the tiles add the rests' products (`Stmt.addPairRests`).
  let splitBound: Int?
  let bytes: Bytes
  /// Whether a plain input's rows are held as they are (each pixel's channels, pixel after
  /// pixel) and a group takes consecutive elements of a filter row, taps and channels
  /// together, rather than one pixel's channels padded to whole groups: a 7-wide stem of 3
  /// channels sums 6 quads a row instead of 7 (the weights packed `.tapQuads`/`.tapPairs`).
  let packedTaps: Bool

  /// Whether a conv whose input is plain (`plainInput`) with `channels` channels and a
  /// filter `width` wide packs its taps (`packedTaps`): where that takes fewer groups a row.
  static func packsTaps(plainInput: Bool, channels: Int, width: Int, grouping: Grouping) -> Bool {
    let g = grouping.channels
    return plainInput && width > 1 && (width * channels + g - 1) / g < width * ((channels + g - 1) / g)
  }

  /// How the weights of a conv that `fit` describes are packed on `target` (a vector one):
  /// by its grouping, with the taps together where it packs them.
  static func weightsPacking(_ fit: Fit, plainInput: Bool, target: Target) -> Packing {
    let grouping = grouping(fit, plainInput: plainInput, target: target)
    let b = target.block!
    let taps = packsTaps(plainInput: plainInput, channels: fit.channels, width: fit.filter.w, grouping: grouping)
    switch grouping {
    case .pairs: return taps ? .tapPairs(block: b) : .pairs(block: b)
    case .quads: return taps ? .tapQuads(block: b) : .quads(block: b)
    }
  }

  /// The grouping of a conv that `fit` describes on `target`: quads where the weights are
  /// signed bytes and the target has VNNI, or has not but no byte pair of the weights can
  /// pass int16 (`Fit.bytePairsExact`) or the input is blocked (its pairs split where they
  /// could: `splitBound`); else pairs.
  static func grouping(_ fit: Fit, plainInput: Bool, target: Target) -> Grouping {
    fit.signedWeights && (target.hasVNNI || fit.bytePairsExact || !plainInput) ? .quads : .pairs
  }

  /// The bound of the input's byte pairs where quads without VNNI split them (the weights'
  /// pairs could pass int16: `Stmt.splitBytePairs`), else nil.
  static func splitBound(_ fit: Fit, grouping: Grouping, target: Target) -> Int? {
    grouping == .quads && !target.hasVNNI && !fit.bytePairsExact && fit.pairBound < 510 ? fit.pairBound : nil
  }

  /// What the kernel of `grouping` multiplies with on `target`, as `info` and tests name it:
  /// `split` where it splits the input's byte pairs.
  static func kernelName(_ grouping: Grouping, split: Bool = false, target: Target) -> String {
    switch grouping {
    case .pairs: "int16 pairs"
    case .quads: target.hasVNNI ? "int8 vnni" : split ? "int8 split pairs" : "int8 byte pairs"
    }
  }

  /// The largest sum of a pair of unsigned input bytes whose products with any pair of the
  /// signed weights `w` stay within int16: at most 32,767 over the largest positive weight,
  /// and 32,768 over the largest negative one in magnitude (258 for weights within ±127; 510
  /// where no pair of bytes can pass).
  static func pairBound(_ w: Tensor) -> Int {
    let v = w.integers
    let positive = Int(max(v.max() ?? 0, 0))
    let negative = Int(-min(v.min() ?? 0, 0))
    return min(510, positive == 0 ? 510 : 32_767 / positive, negative == 0 ? 510 : 32_768 / negative)
  }

  /// Whether every pair of signed weights that `vpmaddubsw` adds in an int16 lane (input
  /// channels 2i and 2i + 1 of one output channel and tap) sums exactly for every pair of
  /// unsigned input bytes: the positive weights of a pair add to at most 128, and so do the
  /// negative ones in magnitude (255 · 128 = 32,640, where 255 · 129 passes 32,767). Weights
  /// within ±64 (as ONNX Runtime's `reduce_range` and `resnetc quantize --reduce-range` write
  /// them) always are.
  static func bytePairsExact(_ w: Tensor) -> Bool {
    guard w.type.shape.count == 4 else { return false }
    let c = w.type.shape[1]
    let taps = w.type.shape[2] * w.type.shape[3]
    let v = w.integers
    guard v.count == w.type.shape[0] * c * taps else { return false }
    for k in 0..<w.type.shape[0] {
      for pair in stride(from: 0, to: c - 1, by: 2) {
        for t in 0..<taps {
          let a = v[(k * c + pair) * taps + t]
          let b = v[(k * c + pair + 1) * taps + t]
          if max(a, 0) + max(b, 0) > 128 || min(a, 0) + min(b, 0) < -128 { return false }
        }
      }
    }
    return true
  }

  /// A residual end's epilogue: ReLU after the add or not, the final type's range, and
  /// whether the shortcut's integers are signed.
  struct Residual: Hashable, Sendable {
    let relu: Bool
    let range: ClosedRange<Int32>
    let signedShortcut: Bool
    /// Whether the dequantize's zero point is the conv's output zero point (as QDQ models
    /// write them), so that `c - dz` is the rounded product itself.
    var sharedZero: Bool = false
  }

  /// Which of the step's integer tensors are bytes (`Buffer.quantized`) rather than whole
  /// numbers in floats: its input, its shortcut, its output.
  struct Bytes: Hashable, Sendable {
    let input: Bool
    let shortcut: Bool
    let output: Bool
  }

  /// The scales and zero points of the step's `qp` buffer, by index: the conv's input and
  /// output, then (for a residual end) the dequantize of its output, the shortcut's
  /// dequantize and the final quantize.
  enum Parameter: Int, CaseIterable {
    case xScale, xZero, yScale, yZero, dScale, dZero, rScale, rZero, qScale, qZero

    /// The local the kernel loads it into once, before its work: read from `qp` where it is
    /// used, it would be loaded again after every store, since a store of bytes may alias it.
    var variable: Expr { .variable("qp_\(self)", .float) }
  }

  /// The requantizing factor of each of the unit's output-channel blocks: once per unit of
  /// work, not per tile.
  private var factors: [Stmt] {
    (0..<channelBlocks).map { j in
      .define(
        "f\(j)", QuantizedOutput.factor(block: index("kb") + .int(j), perChannelScale: perChannelScale, width: b),
        mutable: false)
    }
  }

  /// The requantization, residual end and store after the sums.
  private var output: QuantizedOutput {
    QuantizedOutput(range: range, relu: attributes.epilogue == .relu, residual: residual, bytes: bytes)
  }

  /// The bias of `conv` (zero where it has none) less `x_zero · Σ w` over each output
  /// channel's weights, for kernels that sum raw bytes: `x_zero` offset by 128 for an i8
  /// input, as its bytes are. Fits in 32 bits: at most 33,000 products of 255 · 128 and a
  /// bias of at most 2^24 in magnitude (checked by `Lowering.floats`).
  static func correctedBias(_ conv: Node, signedInput: Bool, graph: Graph) -> [Int32] {
    let w = graph.constants[conv.operands[3].name]
    let zero = Int64(graph.constants[conv.operands[2].name]?.integers.first ?? 0) + (signedInput ? 128 : 0)
    let k = w?.type.shape[0] ?? 0
    let perChannel = k == 0 ? 0 : (w?.integers.count ?? 0) / k
    let bias = conv.operands.count == 9 ? graph.constants[conv.operands[8].name]?.integers : nil
    return (0..<k).map { channel in
      let weights = w?.integers[(channel * perChannel)..<((channel + 1) * perChannel)] ?? []
      let sum = weights.reduce(Int64(0)) { $0 + Int64($1) }
      return Int32(truncatingIfNeeded: Int64(bias?[channel] ?? 0) - zero * sum)
    }
  }

  /// The `qp` values of `conv` (and of the chain `residual`), zero where absent.
  static func parameterValues(_ conv: Node, _ residual: QuantizedResidual?, graph: Graph) -> [Float] {
    func value(_ operand: Operand) -> Float {
      guard let t = graph.constants[operand.name] else { return 0 }
      return t.type.dtype.isInteger ? Float(t.integers.first ?? 0) : t.data.first ?? 0
    }
    let o = conv.operands
    var values = [o[1], o[2], o[6], o[7]].map(value)
    if let r = residual {
      values += [r.dequantize.operands[1], r.dequantize.operands[2]].map(value)
      values += [r.shortcut.operands[1], r.shortcut.operands[2]].map(value)
      values += [r.quantize.operands[1], r.quantize.operands[2]].map(value)
    } else {
      values += [Float](repeating: 0, count: 6)
    }
    return values
  }

  /// Plans `node`, a `qconv2d` reading `x` in blocks when `plainInput` is false, with one
  /// weights scale or one per output channel, for `target`.
  init(
    _ node: Node, _ attributes: Conv2dAttributes, x: [Int], fit: Fit, plainInput: Bool, residual: Residual?,
    bytes: Bytes, target: Target
  ) {
    self.residual = residual
    self.bytes = bytes
    let filter = fit.filter
    let perChannelScale = fit.perChannelScale
    grouping = QConvPlan.grouping(fit, plainInput: plainInput, target: target)
    splitBound = QConvPlan.splitBound(fit, grouping: grouping, target: target)
    signedInput = fit.signedInput
    self.attributes = attributes
    // A 1x1 stride-1 conv without padding that holds the whole image (`imageOuter`: more
    // output channels than pixels) reads and writes its blocked map as one row of P·Q pixels,
    // the same bytes, so that its tiles run on across rows: a 7x7 map takes 9 tiles, not 7 of
    // 4 and 7 of 3 pixels.
    let shape = node.type.shape
    let flat =
      fit.filter == Size2d(1, 1) && attributes.stride == .square(1) && attributes.padding == .zero && !plainInput
      && shape[1] > shape[2] * shape[3]
    self.x = flat ? [x[0], x[1], 1, x[2] * x[3]] : x
    y = flat ? [shape[0], shape[1], 1, shape[2] * shape[3]] : shape
    self.filter = filter
    self.plainInput = plainInput
    packedTaps = QConvPlan.packsTaps(plainInput: plainInput, channels: x[1], width: filter.w, grouping: grouping)
    hasBias = node.operands.count == 9
    self.perChannelScale = perChannelScale
    range = node.type.dtype.integerRange ?? 0...0
    b = target.block!
    let kb = y[1] / b
    // Accumulators, one weights vector per block and a broadcast pair fit in the registers.
    // 24 accumulators on AVX-512; 20 for a strided 1x1 conv, where clang's schedule of the
    // 24-accumulator step spilled in its loop (Zen 5, ResNet-50's downsampling convs:
    // 0.28 -> 0.24 ms; other convs measured no faster with 20).
    let strided1x1 = filter == Size2d(1, 1) && attributes.stride != .square(1)
    let limit = target.block == 16 ? (strided1x1 ? 20 : 24) : target.maxTile
    let paired = target == .avx2 && kb % 2 == 0 && y[3] >= 6
    if paired {
      // Byte pairs take two registers more (vpmaddwd's ones and vpmaddubsw's int16 sums):
      // 12 accumulators spilled one; 4x2 measured as fast as 5x2 and divides more rows
      // (Zen 5, --target avx2, ResNet-18 int8r on 1 thread: 6x2 16.7-17.0 ms, 4x2 15.6).
      (tile, channelBlocks) = (grouping == .quads ? 4 : 6, 2)
    } else if target.block == 16 {
      // As many channel blocks as divide the output's (up to 4), so that each broadcast feeds
      // several multiply-adds, and the widest tile the rest of the registers hold.
      let q = y[3]
      let blocks = [4, 2, 1].first { kb % $0 == 0 && limit / $0 <= max(q, 1) * 2 } ?? 1
      channelBlocks = blocks
      tile = min(limit / blocks, q)
    } else {
      let wide = ConvPlan.tile(for: y[3], maxTile: limit)
      (tile, channelBlocks) = (wide, ConvPlan.channelBlocks(tile: wide, kb: kb, maxTile: limit))
    }
    let g = grouping.channels
    let groupsIn = (x[1] + g - 1) / g
    let elementBytes = grouping == .pairs ? 2 : 1
    let weights = y[1] * groupsIn * filter.h * filter.w * g * elementBytes
    let height = (y[2] - 1) * attributes.stride.h + filter.h
    let width = (y[3] - 1) * attributes.stride.w + filter.w
    let image = groupsIn * height * width * g * elementBytes
    order = weights > image ? .imageOuter : .rowsOuter
  }

  /// What lowering and the plan need to know of a `qconv2d` this plan runs.
  struct Fit: Hashable, Sendable {
    let filter: Size2d
    /// Input channels.
    let channels: Int
    let perChannelScale: Bool
    /// Whether the input is i8 (else u8) and the weights i8 (else u8).
    let signedInput: Bool
    let signedWeights: Bool
    /// Whether the weights are signed bytes whose pairs `vpmaddubsw` sums exactly
    /// (`bytePairsExact`), so that targets without VNNI can multiply bytes too.
    let bytePairsExact: Bool
    /// The bound of the input's byte pairs for the weights (`pairBound`; 510 for u8 weights).
    var pairBound: Int = 510
    /// Whether the weights are 3×3 and, with the bias, keep every sum of the integer
    /// Winograd kernel within 32 bits (`QWinograd.exact`).
    var winogradExact: Bool = false
  }

  /// How input channels are grouped into a lane's products.
  enum Grouping: Hashable, Sendable {
    /// Two channels as int16, less the input's zero point (`vpmaddwd`).
    case pairs
    /// Four channels as unsigned bytes (an i8 input offset by 128), the zero point left in
    /// and taken out by the corrected bias (`vpdpbusd`, or `vpmaddubsw` and `vpmaddwd`).
    case quads

    /// Channels per group.
    var channels: Int { self == .pairs ? 2 : 4 }
  }

  /// Whether `node` (a `qconv2d` of `graph`) runs as this plan with blocks of `b` channels,
  /// and if so its filter, input channels and scales; nil where the plain kernel runs it:
  /// groups or dilation, output channels that are no multiple of `b`, operands past the
  /// input that are not constants, weights with a nonzero zero point, a requantizing factor
  /// that is not finite, or sums that could pass 2^31 (more than 33,000 products).
  static func applies(_ node: Node, _ a: Conv2dAttributes, graph: Graph, types: [String: TensorType], block b: Int)
    -> Fit?
  {
    guard a.groups == 1, a.dilation == .square(1), node.type.shape[1] % b == 0,
      node.operands[0].isConstant == false, node.operands.dropFirst().allSatisfy(\.isConstant),
      let x = types[node.operands[0].name], x.shape.count == 4
    else { return nil }
    let constants = node.operands.dropFirst().map { graph.constants[$0.name] }
    guard constants.allSatisfy({ $0 != nil }) else { return nil }
    let (xs, w, ws, wz, ys) = (constants[0]!, constants[2]!, constants[3]!, constants[4]!, constants[5]!)
    let k = node.type.shape[1]
    let (c, r, s) = (w.type.shape[1], w.type.shape[2], w.type.shape[3])
    guard wz.integers.allSatisfy({ $0 == 0 }), ws.type.shape == [] || ws.type.shape == [k], c * r * s <= 33_000,
      xs.data.count == 1, ys.data.count == 1
    else { return nil }
    // The interpreter's factors, which the kernel computes the same way.
    guard ws.data.allSatisfy({ (xs.data[0] * $0 / ys.data[0]).isFinite }) else { return nil }
    let bias = node.operands.count == 9 ? graph.constants[node.operands[8].name] : nil
    return Fit(
      filter: Size2d(r, s), channels: c, perChannelScale: ws.type.shape == [k],
      signedInput: x.dtype == .i8, signedWeights: w.type.dtype == .i8,
      bytePairsExact: w.type.dtype == .i8 && bytePairsExact(w), pairBound: w.type.dtype == .i8 ? pairBound(w) : 510,
      winogradExact: r == 3 && s == 3 && QWinograd.exact(w, bias: bias))
  }

  /// Groups of input channels (with `packedTaps`, of a filter row's taps and channels).
  private var groupsIn: Int {
    ((packedTaps ? filter.w * x[1] : x[1]) + grouping.channels - 1) / grouping.channels
  }
  /// Taps of a filter row the tile steps through (one with `packedTaps`: a group holds taps).
  private var tapsPerRow: Int { packedTaps ? 1 : filter.w }
  /// Elements of `xp` from one pixel to the next: a block, a plain pixel padded to whole
  /// groups, or with `packedTaps` its channels only.
  private var pixelElements: Int { packedTaps ? x[1] : blockWidth }
  /// Elements past a packed row's last pixel that its last group reads (their weights are 0).
  private var rowSlack: Int { packedTaps ? groupsIn * grouping.channels - filter.w * x[1] : 0 }
  /// Elements of one row of one block of `xp`.
  private var rowElements: Int { paddedWidth * pixelElements + rowSlack }
  /// Blocks of `xp`: the input's channel blocks, or one of all the channels of a plain input.
  private var blocksIn: Int { plainInput ? 1 : x[1] / b }
  /// Elements of one pixel of one block of `xp`: a channel block, or all the channels of a
  /// plain input rounded up to whole groups.
  private var blockWidth: Int { plainInput ? groupsIn * grouping.channels : b }
  /// The scratch's and the packed weights' element type.
  private var element: Element { grouping == .pairs ? .int16 : .byte }
  /// Columns of a padded row: every column a tile reads, from the left padding on.
  private var paddedWidth: Int { (y[3] - 1) * attributes.stride.w + filter.w }
  /// Rows of the padded image: every row the conv reads, from the top padding on.
  private var paddedHeight: Int { (y[2] - 1) * attributes.stride.h + filter.h }
  /// Rows `xp` holds.
  private var rowsHeld: Int { order == .rowsOuter ? filter.h : paddedHeight }
  private var groups: Int { y[1] / b / channelBlocks }

  /// Units of parallel work.
  var workItems: Int { order == .rowsOuter ? y[0] * y[2] * groups : y[0] * groups }

  /// The kernel: operands `x`, `qp` (`Parameter`), the packed weights `wp`, their scales
  /// `ws`, then `bias` and the shortcut's integers `res` when present.
  var kernel: Kernel {
    let (k, r) = (y[1], filter.h)
    let weights = KernelParameter(
      name: "wp", elements: k * groupsIn * r * tapsPerRow * grouping.channels, writable: false, element: element)
    // Quads sum the zero point in: their bias is always there, corrected (int32).
    let bias: KernelParameter? =
      switch grouping {
      case .pairs where hasBias: KernelParameter(name: "bias", elements: k, writable: false)
      case .pairs: nil
      case .quads: KernelParameter(name: "bias", elements: k, writable: false, element: .int32)
      }
    let parameters = output.parameters(
      x: x, y: y, weights: weights, perChannelScale: perChannelScale, bias: bias)
    // A unit fills `xp` (from input row `base`) once per output row or image, and its tiles
    // read row `xrow` of it; in place, they read input row `xrow` itself.
    let filling = !readsInputInPlace
    var scratch =
      filling
      ? [KernelParameter(name: "xp", elements: blocksIn * rowsHeld * rowElements, writable: true, element: element)]
      : []
    if splitBound != nil {
      scratch += [
        KernelParameter(name: "xc", elements: heldPixels, writable: true, element: .int32),
        KernelParameter(name: "xe", elements: 2 * heldPixels * groupsIn, writable: true, element: .int32),
      ]
    }
    let item = index("item")
    var work: [Stmt]
    switch order {
    case .rowsOuter:
      let perImage = y[2] * groups
      work =
        [
          .define("n", item / .int(perImage), mutable: false),
          .define("p", item / .int(groups) % .int(y[2]), mutable: false),
          .define("kb", item % .int(groups) * .int(channelBlocks), mutable: false),
        ]
        + (filling
          ? [
            .define(
              "base", index("p") * .int(attributes.stride.h) - .int(attributes.padding.top), mutable: false),
            ConvPlan.once(per: item / .int(groups), fill + split),
          ] : [])
        + [.define("xrow", filling ? 0 : index("p"), mutable: false)] + factors + rowTiles
    case .imageOuter:
      work =
        [
          .define("n", item / .int(groups), mutable: false),
          .define("kb", item % .int(groups) * .int(channelBlocks), mutable: false),
        ]
        + (filling
          ? [
            .define("base", 0 - .int(attributes.padding.top), mutable: false),
            ConvPlan.once(per: index("n"), fill + split),
          ] : []) + factors + [
          .loop(
            "p", 0, .int(y[2]),
            [.define("xrow", index("p") * .int(attributes.stride.h), mutable: false)] + rowTiles)
        ]
    }
    let body: [Stmt] =
      (filling ? [.define("filled", -1, mutable: true)] : []) + output.parameterLocals(inputZero: filling) + [
        .parallel("item", workItems, work)
      ]
    return Kernel(parameters: parameters, scratch: scratch, vectorWidth: b, body: body)
  }

  /// Copies input rows `base ..< base + rowsHeld` of image `n` into `xp`, laid out as
  /// (input blocks, rows, paddedWidth, block width): pairs less the zero point, zero
  /// outside the image; quads of bytes (an i8 input offset by 128), the zero point outside
  /// the image. A blocked input is copied a pixel's block at a time (one vector converted
  /// and stored narrow); a plain one a channel at a time.
  private var fill: [Stmt] {
    let (h, wd) = (x[2], x[3])
    let (width, gw) = (paddedWidth, blockWidth)
    let offset: Float = signedInput ? 128 : 0
    // The column ranges left of the image, inside it and right of it.
    let left = min(attributes.padding.left, width)
    let inside = max(0, min(wd, width - left))
    let right = width - left - inside
    let rows = { (outsideRow: [Stmt], insideRow: [Stmt]) -> [Stmt] in
      [
        .loop(
          "rr", 0, .int(self.rowsHeld),
          [
            .define("ih", index("base") + index("rr"), mutable: false),
            .branch(.any([index("ih") < 0, index("ih") >= .int(h)]), outsideRow, else: insideRow),
          ])
      ]
    }
    // `run`, where given, copies the columns inside the image at once.
    let columns = { (body: (Bool) -> [Stmt], run: Stmt?) -> [Stmt] in
      var parts: [Stmt] = []
      if left > 0 { parts.append(.loop("col", 0, .int(left), body(false))) }
      if inside > 0 { parts.append(run ?? .loop("col", .int(left), .int(left + inside), body(true))) }
      if right > 0 { parts.append(.loop("col", .int(left + inside), .int(width), body(false))) }
      return parts
    }
    guard plainInput else {
      let padding: Expr =
        grouping == .pairs ? .splat(.float(0)) : .splat(Parameter.xZero.variable + .float(offset))
      // Column `col` of `xp`'s row, and column `col` of the input's row `ih`.
      let at = { (col: Expr) in ((index("cb") * .int(self.rowsHeld) + index("rr")) * .int(width) + col) * .int(gw) }
      let place = { (col: Expr) in
        (((index("n") * .int(self.blocksIn) + index("cb")) * .int(h) + index("ih")) * .int(wd) + col) * .int(self.b)
      }
      let pixel = { (inImage: Bool) -> [Stmt] in
        let to = at(index("col"))
        guard inImage else { return [.narrowingStore("xp", to, padding, self.element)] }
        let from = place(index("col") - .int(self.attributes.padding.left))
        // Bytes hold the integers offset already (as quads want them); floats hold the
        // integers themselves.
        let value: Expr =
          switch (self.grouping, self.bytes.input) {
          case (.pairs, true): .byteVectorLoad("x", from) - .splat(.float(offset) + Parameter.xZero.variable)
          case (.pairs, false): .vectorLoad("x", from) - .splat(Parameter.xZero.variable)
          case (.quads, true): .byteVectorLoad("x", from)
          case (.quads, false): .vectorLoad("x", from) + .splat(.float(offset))
          }
        return [.narrowingStore("xp", to, value, self.element)]
      }
      // Bytes inside the image are consecutive in a row of both: pairs widen them at once,
      // quads copy them as they are.
      let (to, from, count) = (at(.int(left)), place(0), inside * gw)
      let run: Stmt? =
        switch (grouping, bytes.input) {
        case (_, false): nil
        case (.pairs, true):
          .widenBytes(
            target: "xp", at: to, source: "x", from: from, count: count,
            minus: .float(offset) + Parameter.xZero.variable)
        case (.quads, true): .copy(target: "xp", at: to, source: "x", from: from, count: count)
        }
      let block = { (inRow: Bool) -> [Stmt] in
        [
          .loop(
            "cb", 0, .int(self.blocksIn), inRow ? columns(pixel, run) : [.loop("col", 0, .int(width), pixel(false))])
        ]
      }
      return rows(block(false), block(true))
    }
    let c = x[1]
    let type: Scalar = grouping == .pairs ? .int16 : .byte
    let zero: Expr =
      grouping == .pairs ? .convert(.float(0), type) : .convert(Parameter.xZero.variable + .float(offset), type)
    let pe = pixelElements
    let at = { (channel: Int) -> Expr in index("rr") * .int(self.rowElements) + index("col") * .int(pe) + .int(channel)
    }
    // Channel `channel` at (ih, col - left padding), or past the last channel its padding.
    let pixel = { (inImage: Bool) -> [Stmt] in
      (0..<pe).map { channel in
        guard inImage, channel < c else { return .store("xp", at(channel), zero) }
        let place =
          ((index("n") * .int(c) + .int(channel)) * .int(h) + index("ih")) * .int(wd) + index("col")
          - .int(self.attributes.padding.left)
        let value: Expr =
          self.grouping == .pairs
          ? .load("x", place) - Parameter.xZero.variable : .load("x", place) + .float(offset)
        return .store("xp", at(channel), .convert(value, type))
      }
    }
    // With packed taps, the elements past the row's last pixel that its last group reads.
    let slack: [Stmt] =
      rowSlack == 0
      ? []
      : [
        .loop(
          "e", 0, .int(rowSlack),
          [.store("xp", index("rr") * .int(rowElements) + .int(width * pe) + index("e"), zero)])
      ]
    return rows([.loop("col", 0, .int(width), pixel(false))] + slack, columns(pixel, nil) + slack)
  }

  /// Pixels of `xp` (of each of its blocks).
  private var heldPixels: Int { rowsHeld * paddedWidth }

  /// Whether the tiles read the input's bytes where they are, without `xp`: a 1x1 stride-1
  /// conv without padding over blocked bytes as quads, unsplit, whose input rows are the
  /// rows `xp` would hold, byte for byte (a copy that took up to 15% of such a conv's time).
  private var readsInputInPlace: Bool {
    grouping == .quads && bytes.input && !plainInput && splitBound == nil && filter == Size2d(1, 1)
      && attributes.stride == .square(1) && attributes.padding == .zero
  }

  /// Where the plan splits the input's byte pairs, the split of `xp` after each fill.
  private var split: [Stmt] {
    guard let bound = splitBound else { return [] }
    return [
      .splitBytePairs(
        buffer: "xp", pixels: heldPixels, blocks: blocksIn, width: b, counts: "xc", entries: "xe", bound: bound)
    ]
  }

  /// Where the plan splits the input's byte pairs, the products of the rests that the split
  /// took out of the tile's pixels, for each tap, added to the tile's sums (`acc`).
  private func rests(width t: Int, acc: (Int, Int) -> String) -> [Stmt] {
    guard splitBound != nil else { return [] }
    let (r, s, g) = (filter.h, tapsPerRow, grouping.channels)
    let sw = attributes.stride.w
    let taps: [Stmt] = (0..<t).map { i in
      .addPairRests(
        accumulators: (0..<channelBlocks).map { acc($0, i) }, counts: "xc", entries: "xe", pixels: heldPixels,
        quads: groupsIn,
        pixel: (index("xrow") + index("r")) * .int(paddedWidth) + index("q0") * .int(sw) + index("s") + .int(i * sw),
        weights: "wp",
        at: (index("kb") * .int(groupsIn * r) + index("r")) * .int(s * b * g) + index("s") * .int(b * g),
        quadStride: r * s * b * g, accumulatorStride: groupsIn * r * s * b * g)
    }
    return [.rolledLoop("r", 0, .int(r), [.rolledLoop("s", 0, .int(s), taps)])]
  }

  /// Every tile of output row `p` of blocks `kb ..< kb + channelBlocks`; `xrow` is the row
  /// of `xp` that filter row 0 reads.
  private var rowTiles: [Stmt] {
    ConvPlan.tileSegments(q: y[3], tile: tile, channelBlocks: channelBlocks).map { segment in
      .loop("qt", 0, .int(segment.count), tileBody(start: segment.start, width: segment.width))
    }
  }

  /// One tile at column `q0 = qt · width + start`.
  private func tileBody(start: Int, width t: Int) -> [Stmt] {
    let (r, s, kt) = (filter.h, tapsPerRow, channelBlocks)
    let sw = attributes.stride.w
    let acc = { (j: Int, i: Int) in "acc\(j)_\(i)" }
    var body: [Stmt] = [.define("q0", index("qt") * .int(t) + .int(start), mutable: false)]
    let g = grouping.channels
    for j in 0..<kt {
      let place = (index("kb") + .int(j)) * .int(b)
      let initial: Expr =
        switch grouping {
        case .quads: .intVectorLoad("bias", place)
        case .pairs where hasBias: .convert(.vectorLoad("bias", place), .intVector)
        case .pairs: .convert(.splat(.float(0)), .intVector)
        }
      body.append(.define("b\(j)", initial, mutable: false))
      for i in 0..<t { body.append(.define(acc(j, i), .variable("b\(j)", .intVector), mutable: true)) }
    }
    // Elements between consecutive output-channel blocks in the packed weights.
    let blockStride = groupsIn * r * s * b * g
    let (load, splat, vector): ((String, Expr) -> Expr, (String, Expr) -> Expr, Scalar) =
      grouping == .pairs
      ? ({ .pairVectorLoad($0, $1) }, { .pairSplat($0, $1) }, .pairVector)
      : ({ .quadVectorLoad($0, $1) }, { .quadSplat($0, $1) }, .quadVector)
    let pe = pixelElements
    var tap: [Stmt] = [.define("wt", index("wr") + index("s") * .int(b * g), mutable: false)]
    for j in 0..<kt {
      tap.append(.define("wv\(j)", load("wp", index("wt") + .int(j * blockStride)), mutable: false))
    }
    tap.append(.define("xt", index("xr") + (index("q0") * .int(sw) + index("s")) * .int(pe), mutable: false))
    for i in 0..<t {
      tap.append(
        .define("xv\(i)", splat(readsInputInPlace ? "x" : "xp", index("xt") + .int(i * sw * pe)), mutable: false))
      for j in 0..<kt {
        let (a, w) = (Expr.variable("xv\(i)", vector), Expr.variable("wv\(j)", vector))
        tap.append(grouping == .pairs ? .pairMultiplyAdd(acc(j, i), a, w) : .quadMultiplyAdd(acc(j, i), a, w))
      }
    }
    // Each group of input channels: group `gi` of block `cbi` of `xp` (a plain input is one
    // block of all its groups; with packed taps, those of a filter row). The tile's
    // accumulators, weights and broadcast fill the registers, so the loops stay rolled.
    let perBlock = plainInput ? groupsIn : b / g
    // Row `xrow + r` of block `cbi` of `xp`, or in place of image `n`'s block `cbi` of the
    // input (whose rows are `xp`'s: `rowElements` bytes).
    let block: Expr =
      readsInputInPlace ? (index("n") * .int(blocksIn) + index("cbi")) * .int(x[2]) : index("cbi") * .int(rowsHeld)
    let rowStart = (block + index("xrow") + index("r")) * .int(rowElements)
    body.append(
      .loop(
        "cbi", 0, .int(blocksIn),
        [
          .rolledLoop(
            "gi", 0, .int(perBlock),
            [
              .rolledLoop(
                "r", 0, .int(r),
                [
                  .define("xr", rowStart + index("gi") * .int(g), mutable: false),
                  .define(
                    "wr",
                    ((index("kb") * .int(groupsIn) + index("cbi") * .int(perBlock) + index("gi")) * .int(r)
                      + index("r")) * .int(s * b * g),
                    mutable: false),
                  .rolledLoop("s", 0, .int(s), tap),
                ])
            ])
        ]))
    body += rests(width: t, acc: acc)
    let (p, q) = (y[2], y[3])
    body.append(
      .define(
        "out", (((index("n") * .int(y[1] / b) + index("kb")) * .int(p) + index("p")) * .int(q) + index("q0")) * .int(b),
        mutable: false))
    let output = self.output
    for j in 0..<kt {
      for i in 0..<t {
        let scaled = Expr.convert(.variable(acc(j, i), .intVector), .vector) * .variable("f\(j)", .vector)
        body += output.statements(scaled, "v\(j)_\(i)", at: index("out") + .int((j * p * q + i) * b))
      }
    }
    return body
  }

  /// Defines `name + "c"` as `value` clamped to `range` less `zero` (at least 0 when
  /// `atLeastZero`, which ReLU after the zero point is: the zero point is in the range). For
  /// values without NaN; rounding is monotonic, so clamping first saturates alike.
  static func clamped(_ value: Expr, _ name: String, zero: Expr, range: ClosedRange<Int32>, atLeastZero: Bool)
    -> [Stmt]
  {
    let low: Expr = atLeastZero ? .float(0) : .float(Float(range.lowerBound)) - zero
    let clamped = Expr.vectorMin(.vectorMax(value, .splat(low)), .splat(.float(Float(range.upperBound)) - zero))
    return [.define(name + "c", clamped, mutable: false)]
  }

  /// `round_half_to_even(name + "c") + plus` (a whole number, `plus` too): adding 1.5 · 2^23
  /// rounds a float of magnitude below 2^22 to a whole number, half to even, and subtracting
  /// `1.5 · 2^23 - plus` then is exact, every value a whole number below 2^24.
  static func rounded(_ name: String, plus: Expr) -> Expr {
    let magic: Float = 12_582_912
    return Expr.variable(name + "c", .vector) + .splat(.float(magic)) - .splat(.float(magic) - plus)
  }
}
