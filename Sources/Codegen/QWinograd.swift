import GraphIR

/// Winograd F(2×2, 3×3) for an integer 3×3 stride-1 conv on a CPU without VNNI, exact: each
/// 2×2 output tile costs 16 int16 products per (input, output) channel pair instead of the
/// direct kernel's 36, two to a 32-bit lane (`vpmaddwd`), fewer instructions than even the
/// byte pairs' 36 products four to a lane in two (`vpmaddubsw`, `vpmaddwd`).
///
/// With `d` a 4×4 tile of the input less its zero point (0 outside the image, where ONNX pads
/// with the zero point) and `g` a 3×3 filter of integers, `4·Y = Aᵀ[(Ĝ g Ĝᵀ) ⊙ (Bᵀ d B)]A` with
/// `Ĝ = 2G = [2 0 0; 1 1 1; 1 −1 1; 0 0 2]` (`Winograd` has Bᵀ, G, Aᵀ): every factor an
/// integer, `|Bᵀ d B| ≤ 4 · 255` and `|Ĝ g Ĝᵀ| ≤ 9 · 255` within int16. The sums are exact in
/// 32 bits where `exact` holds for the weights and bias (checked at compile time: no partial
/// sum can pass 2^31 for any input), so `4·Y` plus `4·bias` is four times the direct kernel's
/// sum; `Float(4s) · 0.25` is `Float(s)` exactly (scaling by a power of two commutes with
/// rounding), and the requantization that follows is the interpreter's (`QuantizedOutput`).
///
/// The work and scratch follow `Winograd`: a chunk of tiles is transformed into scratch `v`
/// (16, C/B, tiles, B) as int16, each pair of channels broadcast against the transformed
/// weights' pair vectors (16, K/B, C/2, B[k], 2[c]) into int32 accumulators, stored to `m`
/// (16, tiles, B) and transformed out.
struct QWinograd: Hashable, Sendable {
  /// The geometry: tiles per chunk, groups, blocks per pass.
  let plan: Winograd
  let perChannelScale: Bool
  let hasBias: Bool
  /// Whether the input is i8, held as bytes offset by 128.
  let signedInput: Bool
  let output: QuantizedOutput

  /// Plans `node` for `target` with `caches`: 8 accumulators (two output-channel blocks by 4
  /// tiles; 10, 12 and 14 measured slower on Zen 5, AVX2 and AVX-512 alike). Where
  /// the transformed weights (16·K·C int16) outgrow L2 and a map has at most 64 tiles (the
  /// 14×14 maps of 256 channels), a chunk is the whole map, each of at most 2 groups of
  /// output blocks reading the weights once per image rather than once per 8 tiles (Zen 5,
  /// ResNet-18 int8 stage 3 on 1 thread: AVX2 0.75 -> 0.66 ms, AVX-512 0.55 -> 0.36); larger
  /// chunks measured slower on the larger maps, whose weights stay in L2.
  init(
    _ node: Node, _ attributes: Conv2dAttributes, x: [Int], fit: QConvPlan.Fit, residual: QConvPlan.Residual?,
    bytes: QConvPlan.Bytes, target: Target, caches: CacheSizes
  ) {
    let y = node.type.shape
    let tiles = ((y[2] + 1) / 2) * ((y[3] + 1) / 2)
    let whole = 16 * y[1] * x[1] * 2 > caches.l2 && tiles <= 64
    plan = Winograd(
      node, attributes, x: x, target: target, registers: 8, tilesPerChunk: whole ? tiles : nil,
      maxGroups: whole ? 2 : 8)
    perChannelScale = fit.perChannelScale
    hasBias = node.operands.count == 9
    signedInput = fit.signedInput
    output = QuantizedOutput(
      range: node.type.dtype.integerRange ?? 0...0, relu: attributes.epilogue == .relu, residual: residual,
      bytes: bytes)
  }

  /// Whether a `qconv2d` that `fit` describes, reading `x`, runs as this kernel on `target`
  /// (its input blocked, by a reorder where it is plain): a vector target without VNNI (whose
  /// byte quads multiply four channels a lane at once, faster than int16 tiles), 3×3 stride 1,
  /// input channels in blocks, weights for which `exact` holds, and maps of at least 12×12 (on 7×7 maps
  /// 16 tiles cover 64 outputs for 49, and the kernel measured no faster than the direct one:
  /// ResNet-18 int8's last stage, Zen 5, AVX2, 1 thread, 1.10–1.22 ms against 1.06–1.13).
  static func applies(_ a: Conv2dAttributes, fit: QConvPlan.Fit, x: [Int], target: Target) -> Bool {
    guard let b = target.block, !target.hasVNNI, fit.winogradExact, x.count == 4 else { return false }
    return fit.filter == Size2d(3, 3) && a.stride == .square(1) && x[1] % b == 0 && x[2] >= 12 && x[3] >= 12
  }

  /// `Ĝ g Ĝᵀ` of the 3×3 filter `g` (row-major), row-major 4×4.
  static func transform(_ g: [Int]) -> [Int] {
    let m = [[2, 0, 0], [1, 1, 1], [1, -1, 1], [0, 0, 2]]
    var gf = [Int](repeating: 0, count: 12)
    for i in 0..<4 {
      for j in 0..<3 { gf[i * 3 + j] = (0..<3).reduce(0) { $0 + m[i][$1] * g[$1 * 3 + j] } }
    }
    return (0..<16).map { ij in (0..<3).reduce(0) { $0 + gf[ij / 4 * 3 + $1] * m[ij % 4][$1] } }
  }

  /// Whether every sum the kernel takes for weights `w` (K,C,3,3 integers) and `bias` (K
  /// integers, or none) stays within 32 bits for any input: for each output channel,
  /// `4 · 255 · Σ |Ĝ g Ĝᵀ|` over its channels and the 16 positions (each position enters an
  /// output at most once, with a sign) plus `4 · |bias|`. Real ResNets stay far below.
  static func exact(_ w: Tensor, bias: Tensor?) -> Bool {
    let shape = w.type.shape
    guard shape.count == 4, shape[2] == 3, shape[3] == 3 else { return false }
    let (k, c) = (shape[0], shape[1])
    let v = w.integers
    let biases = bias?.integers ?? []
    guard v.count == k * c * 9, bias == nil || biases.count == k else { return false }
    for ko in 0..<k {
      var total = 4 * abs(Int(biases.isEmpty ? 0 : biases[ko]))
      for ci in 0..<c {
        let start = (ko * c + ci) * 9
        total += 4 * 255 * transform(v[start..<(start + 9)].map(Int.init)).reduce(0) { $0 + abs($1) }
      }
      if total > Int(Int32.max) { return false }
    }
    return true
  }

  /// The transformed weights as int16 pairs, (16, K/B, C/2, B[k], 2[c]) with two int16 to a
  /// float of `out` (the even channel in the low half).
  static func transformWeights(_ w: Tensor, block b: Int, into out: UnsafeMutableBufferPointer<Float>) {
    let (k, c) = (w.type.shape[0], w.type.shape[1])
    let v = w.data
    var bits = [UInt32](repeating: 0, count: out.count)
    for ko in 0..<k {
      for ci in 0..<c {
        let start = (ko * c + ci) * 9
        let u = transform(v[start..<(start + 9)].map { Int($0) })
        for xi in 0..<16 {
          let at = ((xi * (k / b) + ko / b) * (c / 2) + ci / 2) * b + ko % b
          bits[at] |= (UInt32(bitPattern: Int32(u[xi])) & 0xFFFF) << (16 * (ci % 2))
        }
      }
    }
    for i in 0..<out.count { out[i] = Float(bitPattern: bits[i]) }
  }

  /// Elements of `v` from one position ξ to the next: a chunk's transformed tiles.
  private var vStride: Int { x[1] * plan.chunk }

  private var x: [Int] { plan.x }
  private var y: [Int] { plan.y }
  private var b: Int { plan.b }

  /// Units of parallel work: (image, chunk of tiles, group of output-channel blocks).
  var workItems: Int { plan.workItems }

  /// The kernel: operands `x`, `qp` (`QConvPlan.Parameter`), the transformed weights `wp`,
  /// their scales `ws`, then `bias` and the shortcut's integers `res` when present; scratch
  /// `v` and `m`.
  var kernel: Kernel {
    let (c, k) = (x[1], y[1])
    let (chunk, passBlocks) = (plan.chunk, plan.passBlocks)
    let parameters = output.parameters(
      x: x, y: y, weights: KernelParameter(name: "wp", elements: 16 * k * c, writable: false, element: .int16),
      perChannelScale: perChannelScale,
      bias: hasBias ? KernelParameter(name: "bias", elements: k, writable: false) : nil)
    let scratch = [
      KernelParameter(name: "v", elements: 16 * vStride, writable: true, element: .int16),
      KernelParameter(name: "m", elements: passBlocks * 16 * chunk * b, writable: true, element: .int32),
    ]
    let work = plan.work(inputTransform: inputTransform, products: products, outputTransform: outputTransform)
    let body = output.parameterLocals() + [Stmt.parallel("item", workItems, work)]
    return Kernel(parameters: parameters, scratch: scratch, vectorWidth: b, body: body)
  }

  private func v(_ name: String) -> Expr { .variable(name, .vector) }
  private func i(_ name: String) -> Expr { .variable(name, .intVector) }

  /// `v[ξ][cb][t] = (Bᵀ d B)[ξ]` as int16 for each tile's 4×4 window `d` of input-channel
  /// block `cb`, less the zero point (0 outside the image), in floats (whole numbers within
  /// ±1020, exact).
  private var inputTransform: [Stmt] {
    let zero = QConvPlan.Parameter.xZero.variable
    var (tile, values) = plan.inputTile { offset in
      self.output.bytes.input
        ? .byteVectorLoad("x", index("xc") + offset) - .splat(zero + .float(self.signedInput ? 128 : 0))
        : .vectorLoad("x", index("xc") + offset) - .splat(zero)
    }
    tile.append(.define("vt", (index("cb") * .int(plan.chunk) + index("t")) * .int(b), mutable: false))
    for (xi, value) in values.enumerated() {
      tile.append(.narrowingStore("v", index("vt") + .int(xi * vStride), value, .int16))
    }
    return [
      .define("xc", (index("n") * .int(x[1] / b) + index("cb")) * .int(x[2] * x[3] * b), mutable: false),
      .loop("t", 0, index("count"), tile),
    ]
  }

  /// The first output-channel block of a pass.
  private var firstBlock: Expr { plan.passBlocks == 1 ? index("kb") : index("kbp") * .int(plan.passBlocks) }

  /// `m[j][ξ][t] = Σ_c v[ξ][c][t] · u[ξ][kb + j][c]` for the pass's output-channel blocks,
  /// a piece of the chunk's tiles at a time in registers, a pair of channels per product.
  private var products: [Stmt] {
    let (cb, kb, chunk, passBlocks) = (x[1] / b, y[1] / b, plan.chunk, plan.passBlocks)
    let one = passBlocks == 1
    let acc = { (j: Int, t: Int) in one ? "acc\(t)" : "acc\(j)_\(t)" }
    var sum: [Stmt] = []
    for (number, piece) in plan.pieces.enumerated() {
      for t in piece {
        for j in 0..<passBlocks {
          sum.append(.define(acc(j, t), .convert(.splat(.float(0)), .intVector), mutable: true))
        }
      }
      if number == 0 {
        for j in 0..<passBlocks {
          let offset = (index("xi") * .int(kb) + firstBlock + .int(j)) * .int(x[1] * b)
          sum.append(.define(one ? "uk" : "uk\(j)", offset, mutable: false))
        }
        sum.append(.define("vx", index("xi") * .int(vStride), mutable: false))
      }
      var lane: [Stmt] = (0..<passBlocks).map { j in
        let at = index(one ? "uk" : "uk\(j)") + (index("cb") * .int(b / 2) + index("ch")) * .int(2 * b)
        return .define(one ? "wv" : "wv\(j)", .pairVectorLoad("wp", at), mutable: false)
      }
      lane.append(
        .define("vc", index("vx") + index("cb") * .int(chunk * b) + index("ch") * .int(2), mutable: false))
      for t in piece {
        lane.append(.define("xv\(t)", .pairSplat("v", index("vc") + .int(t * b)), mutable: false))
        for j in 0..<passBlocks {
          lane.append(
            .pairMultiplyAdd(acc(j, t), .variable("xv\(t)", .pairVector), .variable(one ? "wv" : "wv\(j)", .pairVector))
          )
        }
      }
      sum.append(.loop("cb", 0, .int(cb), [.loop("ch", 0, .int(b / 2), lane)]))
      if number == 0 { sum.append(.define("mx", index("xi") * .int(chunk * b), mutable: false)) }
      for t in piece {
        for j in 0..<passBlocks {
          sum.append(.vectorStore("m", index("mx") + .int((j * 16 * chunk + t) * b), i(acc(j, t)), aligned: true))
        }
      }
    }
    return [.loop("xi", 0, 16, sum)]
  }

  /// `4·Y = Aᵀ M A + 4·bias` for each tile of the chunk, then a quarter of it requantized
  /// for the outputs inside the map.
  private var outputTransform: [Stmt] {
    let tile = plan.outputTile(
      .intVector, load: { .intVectorLoad("m", $0) }, bias: hasBias ? i("bk") : nil,
      store: { value, at, name in
        self.output.statements(.convert(value, .vector) * .splat(.float(0.25)) * self.v("fk"), name, at: at)
      })
    var perBlock: [Stmt] = [
      .define(
        "fk", QuantizedOutput.factor(block: index("kb"), perChannelScale: perChannelScale, width: b), mutable: false)
    ]
    if hasBias {
      perBlock.append(
        .define("bk", .convert(.vectorLoad("bias", index("kb") * .int(b)) * .float(4), .intVector), mutable: false))
    }
    return perBlock + [.loop("t", 0, index("count"), tile)]
  }
}
