import GraphIR

/// Winograd F(2×2, 3×3) for 3×3 stride-1 convolutions on blocked tensors: each 2×2 output
/// tile costs 16 products per (input, output) channel pair instead of 36.
///
/// With `d` a 4×4 input tile and `g` a 3×3 filter, `Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A`, where
///   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],  G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],
///   Aᵀ = [1 1 1 0; 0 1 −1 −1].
/// `U = G g Gᵀ` is computed at compile time and stored as (16, K/B, C/B, B[c], B[k]). At run
/// time a chunk of tiles is transformed into scratch `V` (16, C/B, tiles, B), then for each
/// output-channel block the 16 products `M[ξ] = Σ_c V[ξ][c] · U[ξ][c]` are accumulated in
/// registers over the chunk's tiles (into scratch `M`, (16, tiles, B)), and `Aᵀ M A` plus
/// bias, shortcut and ReLU is stored.
///
/// The plan: tiles per chunk, groups of output-channel blocks, and the units of parallel
/// work (image, chunk, group); `kernel` builds the kernel it describes.
struct Winograd: Hashable, Sendable {
  let attributes: Conv2dAttributes
  /// Input (N,C,H,W) and output (N,K,P,Q) shapes.
  let x: [Int]
  let y: [Int]
  let hasBias: Bool
  /// Channels per block.
  let b: Int
  /// Tiles per chunk: at most the accumulators one (ξ, output block) keeps in registers, and
  /// as even a split of the map's tiles as that allows.
  let chunk: Int
  /// Groups the output-channel blocks are split into, so that small maps (few chunks of
  /// tiles) still give every thread work; each group transforms its chunk's input again.
  let groups: Int
  /// Output-channel blocks whose products one pass accumulates together, each input value
  /// loaded once for both: 2 where a group has an even count of blocks, else 1. The chunk's
  /// tiles then go through the registers in pieces of `registers / 2` (AVX2: 2 blocks of 6
  /// tiles, 12 of its 16 registers; AVX-512: 2 of 14, 28 of 32), so each broadcast input
  /// feeds two multiply-adds instead of one. Measured on Zen 5 (2 threads): ResNet-50's
  /// Winograd layers 9.4 to 6.7 ms with `--target avx2`; ResNet-50 and ResNet-18 7% faster
  /// with AVX-512.
  let passBlocks: Int
  /// Accumulator vectors the registers hold (`Target.maxTile`, or fewer as the plan was given).
  let registers: Int

  /// Plans `node` (a conv2d with `attributes` reading `x`) for `target`, with `registers`
  /// accumulators (the target's `maxTile` unless given), chunks of at most `tilesPerChunk`
  /// tiles (`registers` unless given) and at most `maxGroups` groups.
  init(
    _ node: Node, _ attributes: Conv2dAttributes, x: [Int], target: Target, registers: Int? = nil,
    tilesPerChunk: Int? = nil, maxGroups: Int = 8
  ) {
    self.attributes = attributes
    self.x = x
    y = node.type.shape
    hasBias = attributes.hasBias(operandCount: node.operands.count)
    b = target.block!
    let tiles = ((y[2] + 1) / 2) * ((y[3] + 1) / 2)
    let registers = registers ?? target.maxTile
    let limit = tilesPerChunk ?? registers
    let chunks = (tiles + limit - 1) / limit
    chunk = (tiles + chunks - 1) / chunks
    let kb = y[1] / b
    let few = y[0] * ((tiles + chunk - 1) / chunk) < 16
    groups = few ? ([8, 4, 2].first(where: { kb % $0 == 0 && $0 <= maxGroups }) ?? 1) : 1
    self.registers = registers
    passBlocks = (kb / groups) % 2 == 0 ? 2 : 1
  }

  /// Whether `node` (a conv2d reading `x`) runs as Winograd on `target`: 3×3, stride 1, at
  /// least 64 input channels (fewer leave the transforms too large a share; 32 on AVX2, where
  /// ResNet-D's deep-stem convs of 32 channels at 112×112 take 0.65–0.8 of the direct
  /// kernel's time, measured on Zen 3, AMD EPYC family 25), and maps of
  /// at least 12×12 (on smaller ones the 2×2 tiles waste too much of the registers and of the
  /// map's border; the direct kernel is faster there, as measured on 7×7).
  static func applies(_ a: Conv2dAttributes, weight: [Int], x: [Int], target: Target) -> Bool {
    guard let b = target.block else { return false }
    return weight[2] == 3 && weight[3] == 3 && a.stride == .square(1) && a.dilation == .square(1) && a.groups == 1
      && x[1] % b == 0 && weight[0] % b == 0 && x[1] >= (target == .avx2 ? 32 : 64) && x[2] >= 12 && x[3] >= 12
  }

  /// `U = G g Gᵀ` for every (k, c), packed (16, K/B, C/B, B[c], B[k]) into `out` (16·K·C
  /// floats).
  static func transformWeights(_ w: Tensor, block b: Int, into out: UnsafeMutableBufferPointer<Float>) {
    let (k, c) = (w.type.shape[0], w.type.shape[1])
    let g: [[Double]] = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]
    for ko in 0..<k {
      for ci in 0..<c {
        let f = (0..<3).map { r in (0..<3).map { s in Double(w.data[((ko * c + ci) * 3 + r) * 3 + s]) } }
        // G f (4×3), then (G f) Gᵀ (4×4).
        let gf = (0..<4).map { i in (0..<3).map { j in (0..<3).reduce(0.0) { $0 + g[i][$1] * f[$1][j] } } }
        for i in 0..<4 {
          for j in 0..<4 {
            let u = (0..<3).reduce(0.0) { $0 + gf[i][$1] * g[j][$1] }
            let xi = i * 4 + j
            out[((((xi * (k / b) + ko / b) * (c / b) + ci / b) * b + ci % b) * b) + ko % b] = Float(u)
          }
        }
      }
    }
  }

  var tilesW: Int { (y[3] + 1) / 2 }
  var tiles: Int { ((y[2] + 1) / 2) * tilesW }
  var chunks: Int { (tiles + chunk - 1) / chunk }

  /// Units of parallel work: (image, chunk of tiles, group of output-channel blocks).
  var workItems: Int { y[0] * chunks * groups }

  /// The kernel: operands `x`, transformed weights `u`, then `bias` and `res` when present;
  /// scratch `v` and `m`.
  var kernel: Kernel {
    let (c, k) = (x[1], y[1])
    let cb = c / b
    let parameters = ConvPlan.parameters(
      x: x, y: y, weights: ("u", 16 * k * c), hasBias: hasBias, attributes.epilogue)
    let vStride = cb * chunk * b
    let scratch = [
      KernelParameter(name: "v", elements: 16 * vStride, writable: true),
      KernelParameter(name: "m", elements: passBlocks * 16 * chunk * b, writable: true),
    ]
    let work = self.work(inputTransform: inputTransform, products: products, outputTransform: outputTransform)
    return Kernel(parameters: parameters, scratch: scratch, vectorWidth: b, body: [.parallel("item", workItems, work)])
  }

  /// A unit of work `item` (image, chunk, group): the chunk's input transformed block by
  /// block, then for each output block (or pass of blocks) of the group the products and the
  /// output transform (of each block of the pass, `kb`).
  func work(inputTransform: [Stmt], products: [Stmt], outputTransform: [Stmt]) -> [Stmt] {
    let (cb, kb) = (x[1] / b, y[1] / b)
    let item = index("item")
    return [
      .define("group", item % .int(groups), mutable: false),
      .define("n", item / .int(groups) / .int(chunks), mutable: false),
      .define("t0", item / .int(groups) % .int(chunks) * .int(chunk), mutable: false),
      .define("count", .minimum(.int(tiles) - index("t0"), .int(chunk)), mutable: false),
      .loop("cb", 0, .int(cb), inputTransform),
      passBlocks == 1
        ? .loop(
          "kb", index("group") * .int(kb / groups), (index("group") + 1) * .int(kb / groups),
          products + outputTransform)
        : .loop(
          "kbp", index("group") * .int(kb / groups / passBlocks), (index("group") + 1) * .int(kb / groups / passBlocks),
          products + [
            .loop(
              "j", 0, .int(passBlocks),
              [.define("kb", index("kbp") * .int(passBlocks) + index("j"), mutable: false)] + outputTransform)
          ]),
    ]
  }

  private func v(_ name: String) -> Expr { .variable(name, .vector) }

  /// `V[ξ][cb][t] = (Bᵀ d B)[ξ]` for each tile's 4×4 input window `d` (zero outside the
  /// image), for input-channel block `cb`.
  private var inputTransform: [Stmt] {
    let (cb, vStride) = (x[1] / b, x[1] / b * chunk * b)
    var (tile, values) = inputTile { .vectorLoad("x", index("xc") + $0) }
    tile.append(.define("vt", (index("cb") * .int(chunk) + index("t")) * .int(b), mutable: false))
    for (xi, value) in values.enumerated() {
      tile.append(.vectorStore("v", index("vt") + .int(xi * vStride), value, aligned: true))
    }
    return [
      .define("xc", (index("n") * .int(cb) + index("cb")) * .int(x[2] * x[3] * b), mutable: false),
      .loop("t", 0, index("count"), tile),
    ]
  }

  /// One tile's input transform, tile `t0 + t` of the chunk: its corner (`ih0`, `iw0`), its
  /// 4×4 window `d` of vectors of floats (`load(offset)` of the pixel's offset in the image's
  /// block where it lies inside the image, else zero) and `Bᵀ d` (`s…`); with the 16 values of
  /// `Bᵀ d B`, ξ = 4i + j.
  func inputTile(_ load: (Expr) -> Expr) -> (statements: [Stmt], values: [Expr]) {
    let (h, wd) = (x[2], x[3])
    var tile: [Stmt] = [
      .define("ih0", (index("t0") + index("t")) / .int(tilesW) * 2 - .int(attributes.padding.top), mutable: false),
      .define("iw0", (index("t0") + index("t")) % .int(tilesW) * 2 - .int(attributes.padding.left), mutable: false),
    ]
    for i in 0..<4 { tile.append(.define("row\(i)", index("ih0") + .int(i), mutable: false)) }
    for j in 0..<4 { tile.append(.define("col\(j)", index("iw0") + .int(j), mutable: false)) }
    for i in 0..<4 {
      for j in 0..<4 {
        let (ih, iw) = (index("row\(i)"), index("col\(j)"))
        tile.append(.define("d\(i)\(j)", .splat(.float(0)), mutable: true))
        tile.append(
          .branch(
            .all([ih >= 0, ih < .int(h), iw >= 0, iw < .int(wd)]),
            [.assign("d\(i)\(j)", load((ih * .int(wd) + iw) * .int(b)))], else: []))
      }
    }
    for j in 0..<4 {
      tile += [
        .define("s0\(j)", v("d0\(j)") - v("d2\(j)"), mutable: false),
        .define("s1\(j)", v("d1\(j)") + v("d2\(j)"), mutable: false),
        .define("s2\(j)", v("d2\(j)") - v("d1\(j)"), mutable: false),
        .define("s3\(j)", v("d1\(j)") - v("d3\(j)"), mutable: false),
      ]
    }
    let values = (0..<4).flatMap { i in
      [
        v("s\(i)0") - v("s\(i)2"), v("s\(i)1") + v("s\(i)2"), v("s\(i)2") - v("s\(i)1"), v("s\(i)1") - v("s\(i)3"),
      ]
    }
    return (tile, values)
  }

  /// The first output-channel block of a pass.
  private var firstBlock: Expr { passBlocks == 1 ? index("kb") : index("kbp") * .int(passBlocks) }

  /// The chunk's tiles in pieces whose accumulators, for the pass's blocks, fit the
  /// registers: near-equal ranges.
  var pieces: [Range<Int>] {
    let size = max(1, registers / passBlocks)
    let count = (chunk + size - 1) / size
    return (0..<count).map { i in (chunk * i / count)..<(chunk * (i + 1) / count) }
  }

  /// `M[j][ξ][t] = Σ_c V[ξ][c][t] · U[ξ][kb + j][c]` for the pass's output-channel blocks
  /// `kb + j`, a piece of the chunk's tiles at a time in registers.
  private var products: [Stmt] {
    let (cb, kb) = (x[1] / b, y[1] / b)
    let one = passBlocks == 1
    var sum: [Stmt] = []
    for (number, piece) in pieces.enumerated() {
      for t in piece {
        for j in 0..<passBlocks { sum.append(.define(acc(j, t), .splat(.float(0)), mutable: true)) }
      }
      if number == 0 {
        for j in 0..<passBlocks {
          let offset = (index("xi") * .int(kb) + firstBlock + .int(j)) * .int(cb * b * b)
          sum.append(.define(one ? "uk" : "uk\(j)", offset, mutable: false))
        }
        sum.append(.define("vx", index("xi") * .int(cb * chunk * b), mutable: false))
      }
      var lane: [Stmt] = (0..<passBlocks).map { j in
        let at = index(one ? "uk" : "uk\(j)") + (index("cb") * .int(b) + index("ch")) * .int(b)
        return .define(one ? "wv" : "wv\(j)", .vectorLoad("u", at), mutable: false)
      }
      lane.append(.define("vc", index("vx") + index("cb") * .int(chunk * b) + index("ch"), mutable: false))
      for t in piece {
        for j in 0..<passBlocks {
          lane.append(.multiplyAdd(acc(j, t), .load("v", index("vc") + .int(t * b)), v(one ? "wv" : "wv\(j)")))
        }
      }
      sum.append(.loop("cb", 0, .int(cb), [.loop("ch", 0, .int(b), lane)]))
      if number == 0 { sum.append(.define("mx", index("xi") * .int(chunk * b), mutable: false)) }
      for t in piece {
        for j in 0..<passBlocks {
          sum.append(.vectorStore("m", index("mx") + .int((j * 16 * chunk + t) * b), v(acc(j, t)), aligned: true))
        }
      }
    }
    return [.loop("xi", 0, 16, sum)]
  }

  /// The accumulator of block `j` of a pass and tile `t` of the chunk.
  private func acc(_ j: Int, _ t: Int) -> String { passBlocks == 1 ? "acc\(t)" : "acc\(j)_\(t)" }

  /// `Y = Aᵀ M A` for each tile of the chunk, then bias and the epilogue, for the outputs
  /// inside the map.
  private var outputTransform: [Stmt] {
    let tile = outputTile(
      .vector, load: { .vectorLoad("m", $0) }, bias: hasBias ? v("bk") : nil,
      store: { value, at, _ in
        [.vectorStore("y", at, ConvPlan.epilogue(value, at: at, self.attributes.epilogue), aligned: true)]
      })
    let bias: [Stmt] = hasBias ? [.define("bk", .vectorLoad("bias", index("kb") * .int(b)), mutable: false)] : []
    return bias + [.loop("t", 0, index("count"), tile)]
  }

  /// One tile's output transform, tile `t0 + t` of the chunk in block `kb` (pass block `j`):
  /// its corner (`oh`, `ow`), `m0…m15` of `type` from `load(offset)` of scratch `m`, `Aᵀ M A`
  /// (plus `bias`) as `out…`, and for each of its 4 outputs inside the map what `store(value,
  /// place in y, name)` makes of it.
  func outputTile(
    _ type: Scalar, load: (Expr) -> Expr, bias: Expr?, store: (Expr, Expr, String) -> [Stmt]
  ) -> [Stmt] {
    let (kb, p, q) = (y[1] / b, y[2], y[3])
    let m = { (name: String) in Expr.variable(name, type) }
    var tile: [Stmt] = [
      .define("oh", (index("t0") + index("t")) / .int(tilesW) * 2, mutable: false),
      .define("ow", (index("t0") + index("t")) % .int(tilesW) * 2, mutable: false),
      .define(
        "mt", passBlocks == 1 ? index("t") * .int(b) : (index("j") * .int(16 * chunk) + index("t")) * .int(b),
        mutable: false),
    ]
    for xi in 0..<16 {
      tile.append(.define("m\(xi)", load(index("mt") + .int(xi * chunk * b)), mutable: false))
    }
    for j in 0..<4 {
      tile.append(.define("r0\(j)", m("m\(j)") + m("m\(4 + j)") + m("m\(8 + j)"), mutable: false))
      tile.append(.define("r1\(j)", m("m\(4 + j)") - m("m\(8 + j)") - m("m\(12 + j)"), mutable: false))
    }
    for i in 0..<2 {
      var first = m("r\(i)0") + m("r\(i)1") + m("r\(i)2")
      var second = m("r\(i)1") - m("r\(i)2") - m("r\(i)3")
      if let bias { (first, second) = (first + bias, second + bias) }
      tile.append(.define("out\(i)0", first, mutable: false))
      tile.append(.define("out\(i)1", second, mutable: false))
    }
    for i in 0..<2 {
      for j in 0..<2 {
        let (oh, ow) = (index("oh\(i)\(j)"), index("ow\(i)\(j)"))
        let at = (((index("n") * .int(kb) + index("kb")) * .int(p) + oh) * .int(q) + ow) * .int(b)
        tile += [
          .define("oh\(i)\(j)", index("oh") + .int(i), mutable: false),
          .define("ow\(i)\(j)", index("ow") + .int(j), mutable: false),
          .branch(.all([oh < .int(p), ow < .int(q)]), store(m("out\(i)\(j)"), at, "o\(i)\(j)"), else: []),
        ]
      }
    }
    return tile
  }
}
