import GraphIR

/// The plan of a blocked (NCHW`B`c) direct convolution, and the kernel it builds.
///
/// The convolution is register-blocked: a tile of `tile` output pixels of `channelBlocks`
/// output-channel blocks is held in `tile × channelBlocks` vector accumulators while every
/// input channel and tap is added (`acc[j][i] += x[c at pixel i] · w[c, block j]`: one
/// weights vector per block and one fused multiply-add per pixel and block for each input
/// channel), then bias, shortcut and ReLU are applied in registers and the tile is stored
/// once. Rows of (image, output row, group of output-channel blocks) are the units of
/// parallel work, channel blocks varying fastest: one input row, in L1/L2, serves every
/// output block in turn (ordered the other way, the whole input would stream from L3 once
/// per block).
struct ConvPlan: Hashable, Sendable {
  /// How a tile reads the input columns that the filter finds past the image's left or right
  /// edge.
  enum Border: Hashable, Sendable {
    /// Tiles wholly inside the image run a body without tests; the others test each pixel.
    case tested
    /// The input rows of one output row are first copied into a scratch buffer with zero
    /// columns on either side, so that every tile runs one body without tests. The copy is
    /// made once per output row and serves all its channel groups.
    case paddedRows
  }

  let attributes: Conv2dAttributes
  /// Input (N,C,H,W) and output (N,K,P,Q) shapes, and the filter's size.
  let x: [Int]
  let y: [Int]
  let filter: Size2d
  /// Whether the input is plain NCHW (a stem with fewer channels than a block).
  let plainInput: Bool
  let hasBias: Bool
  /// Channels per block.
  let b: Int
  /// Output pixels per register tile.
  let tile: Int
  /// For a grouped conv, the input blocks each output block reads (`groupBlocks(...)`); nil
  /// for an ungrouped one, which reads every input block.
  let groupBlocks: Int?
  /// Output-channel blocks a tile computes together.
  let channelBlocks: Int
  let border: Border
  /// The order of the units of parallel work within an image.
  let order: Order
  /// Input-channel blocks one pass over a blocks-outer conv's output reads: all of them, or
  /// where a group's weights overflow L1, a chunk whose weights fit (`chunkBlocks(...)`).
  let chunkBlocks: Int
  /// Whether a 1x1 conv of stride above 1 over a blocked input, without padding (a
  /// projection shortcut), first copies the pixels it reads into a dense scratch `staged`:
  /// for row tiles the output row's input row, once per output row and thread (serving every
  /// channel-block group), for flat tiles the whole map, once per image and thread. Its
  /// tiles then read consecutive pixels, every one of each cache line they load. On AVX2
  /// (measured on Zen 3: ResNet-50's six projections 0.86 of their time); AVX-512 keeps the
  /// strided loads it was measured with.
  let decimates: Bool
  /// A per-channel scale and shift (and ReLU) of the output that a second buffer `pre` gets
  /// beside `y`, both stored from the same registers: the pre-activation BatchNorm + ReLU of
  /// ResNet v2, which reads the output of the add before it while the next add reads it raw.
  let preact: PreActivation?

  /// A conv's second output: `pre = relu?(epilogue(sum) * pscale + pshift)`, the channels'
  /// factors packed in blocks (`pscale`, `pshift`).
  struct PreActivation: Hashable, Sendable {
    let relu: Bool
  }

  /// The order of an image's units of parallel work, (output row, group of channel blocks).
  enum Order: Hashable, Sendable {
    /// Output rows outer, channel-block groups inner: one input row, in L1/L2, serves every
    /// group in turn, and all the weights pass once per output row. For maps larger than
    /// their weights (the early stages).
    case rowsOuter
    /// Channel-block groups outer: a group's weights serve the whole map, and the whole input
    /// (in L2) passes once per group (or per chunk of input blocks). For weights larger than
    /// the map (the late stages, where the other order streams the weights from L3 once per
    /// row). A blocked input whose padding the taps read is first copied once per image and
    /// thread into a scratch image with its zero padding on every side, and the map is cut
    /// into tiles of consecutive pixels that run on across rows (`flatTiles`), so that 7-pixel
    /// rows fill 6-pixel tiles.
    case blocksOuter
  }

  /// Plans `node` (a conv2d with `attributes` reading `x`, writing a second output as
  /// `preact` says) for `target`, whose `maxTile` bounds the accumulators, and for `caches`.
  init(
    _ node: Node, _ attributes: Conv2dAttributes, x: [Int], filter: Size2d, plainInput: Bool,
    preact: PreActivation? = nil, target: Target, caches: CacheSizes, border: Border
  ) {
    self.preact = preact
    self.attributes = attributes
    self.x = x
    y = node.type.shape
    self.filter = filter
    self.plainInput = plainInput
    hasBias = attributes.hasBias(operandCount: node.operands.count)
    let b = target.block!
    self.b = b
    let groupBlocks =
      attributes.groups > 1 ? ConvPlan.groupBlocks(channels: y[1], groups: attributes.groups, block: b) : nil
    self.groupBlocks = groupBlocks
    self.border = border
    let read = groupBlocks.map { $0 * b } ?? x[1]
    let weights = y[1] * read * filter.h * filter.w
    // Measured on Zen 3 only; AVX-512 keeps the order it was measured with.
    let order: Order = target == .avx2 && weights > x[1] * x[2] * x[3] ? .blocksOuter : .rowsOuter
    self.order = order
    // Flat tiles run over the whole map; row tiles over one row.
    let flat = order == .blocksOuter && !plainInput
    let pixels = flat ? y[2] * y[3] : y[3]
    if groupBlocks != nil {
      // Each output block reads only its groups' input blocks, so blocks do not pair.
      tile = ConvPlan.groupedTile(for: pixels, target: target)
      channelBlocks = 1
    } else {
      (tile, channelBlocks) = ConvPlan.registerTile(q: pixels, kb: y[1] / b, target: target)
    }
    decimates =
      target == .avx2 && !plainInput && filter == Size2d(1, 1) && attributes.stride != .square(1)
      && attributes.padding == .uniform(0) && attributes.dilation == .square(1)
    let inputBlocks = plainInput ? 1 : x[1] / b
    chunkBlocks =
      flat && groupBlocks == nil
      ? ConvPlan.chunkBlocks(
        inputBlocks, floatsPerBlock: channelBlocks * filter.h * filter.w * b * b,
        chunkFloats: ConvPlan.chunkFloats(l1d: caches.l1d)) : inputBlocks
  }

  /// Floats of weights one pass of a chunked conv keeps in an L1 data cache of `l1d` bytes:
  /// half of it (16 KB of Zen 3's 32 KB; 1 KB at the least), the rest for the input and the
  /// partial sums the pass updates.
  static func chunkFloats(l1d: Int) -> Int { max(256, l1d / 2 / 4) }

  /// The input blocks of one pass over a group's output: the most (dividing `blocks`) whose
  /// weights, `floatsPerBlock` each, fit in `chunkFloats`. Each pass reads its weights from L1
  /// for every output pixel and adds its sum to the partial sums the pass before it stored;
  /// the last applies the epilogue. Measured on Zen 3 (AMD EPYC family 25), where the late
  /// stages' 3x3 convs otherwise read a group's 300 KB of weights from L2 for each tile.
  static func chunkBlocks(_ blocks: Int, floatsPerBlock: Int, chunkFloats: Int) -> Int {
    let most = max(1, chunkFloats / floatsPerBlock)
    return (1...min(most, blocks)).reversed().first { blocks % $0 == 0 } ?? 1
  }

  /// Whether a conv of `groups` groups from `c` to `k` channels runs blocked by `b`: as many
  /// input as output channels, and groups that are whole blocks or fit whole in one.
  static func blocksGroups(_ groups: Int, c: Int, k: Int, block b: Int) -> Bool {
    guard groups > 1, c == k, k % groups == 0, k % b == 0 else { return groups == 1 }
    let width = k / groups
    return width % b == 0 || b % width == 0
  }

  /// Input blocks each output block of a grouped conv of `channels` in and out reads: its
  /// groups' channels, in whole blocks (the block itself where groups are narrower).
  static func groupBlocks(channels: Int, groups: Int, block b: Int) -> Int { max(1, channels / groups / b) }

  /// The first input block output block `kb` of a grouped conv reads.
  static func firstGroupBlock(_ kb: Int, channels: Int, groups: Int, block b: Int) -> Int {
    let n = groupBlocks(channels: channels, groups: groups, block: b)
    return kb / n * n
  }

  /// The register tile for rows of `q` pixels and `kb` output-channel blocks: pixels and
  /// channel blocks per tile. With AVX2's 16 registers, a tile of 6 pixels by 2 channel
  /// blocks wherever the blocks pair up and rows are that wide (each broadcast input pixel feeds two multiply-adds,
  /// and a row's input is read by half as many tiles): measured on Zen 5 with one thread, the
  /// 1x1 convolutions of ResNet-50 run in 0.45–0.85 of the time of 8–12 pixels by one block,
  /// the 3x3 ones in 0.68–0.94, the network in 0.70. Elsewhere (AVX-512, where pairing was
  /// no faster), the widest tile that divides the row, with channel blocks filling the
  /// registers on narrow rows.
  static func registerTile(q: Int, kb: Int, target: Target) -> (tile: Int, channelBlocks: Int) {
    let paired = target.maxTile / 2
    if target == .avx2 && kb % 2 == 0 && q >= paired { return (paired, 2) }
    let wide = tile(for: q, maxTile: target.maxTile)
    return (wide, channelBlocks(tile: wide, kb: kb, maxTile: target.maxTile))
  }

  /// How a row of `q` pixels is cut into tiles of at most `tile`: runs of `count` tiles of
  /// `width` pixels from column `start`. A tile of two channel blocks keeps both FMA pipes
  /// busy only with 4 or more pixels (8 independent accumulators cover the multiply-add's
  /// latency), so a tail of 1–3 pixels is merged with the tile before it and the two split
  /// evenly: 7 pixels as 4 + 3, 14 as 6 + 4 + 4, 56 as 8 × 6 + 4 + 4.
  static func tileSegments(q: Int, tile: Int, channelBlocks: Int) -> [(start: Int, count: Int, width: Int)] {
    let (full, tail) = (q / tile, q % tile)
    if channelBlocks > 1 && tail > 0 && tail < 4 && full > 0 {
      let merged = tile + tail
      let first = (merged + 1) / 2
      var segments: [(start: Int, count: Int, width: Int)] = []
      if full > 1 { segments.append((0, full - 1, tile)) }
      let start = (full - 1) * tile
      segments.append((start, 1, first))
      segments.append((start + first, 1, merged - first))
      return segments
    }
    var segments: [(start: Int, count: Int, width: Int)] = []
    if full > 0 { segments.append((0, full, tile)) }
    if tail > 0 { segments.append((full * tile, 1, tail)) }
    return segments
  }

  /// The output-tile width for a row of `q` pixels: the largest divisor of `q` that fits in
  /// the registers, or the register limit with a shorter tail when `q` has none above 3.
  static func tile(for q: Int, maxTile: Int) -> Int {
    let limit = min(maxTile, q)
    if let divisor = (1...limit).reversed().first(where: { q % $0 == 0 }), divisor >= min(4, q) { return divisor }
    return limit
  }

  /// The tile of a grouped conv's rows of `q` pixels, whose output blocks do not pair: on
  /// AVX2 all 12 accumulators where the tail left is 4 pixels or more (or none), which keeps
  /// both FMA pipes' four-cycle latency covered (measured on Zen 3, 1 thread, three
  /// alternating profiles: ResNeXt-50's grouped 3x3s on 56-pixel rows 0.84–0.93 of their time
  /// with 8, on 28-pixel rows 0.86–1.05 with 7); elsewhere `tile(for:)`.
  static func groupedTile(for q: Int, target: Target) -> Int {
    let most = target.maxTile
    if target == .avx2 && q >= most && (q % most == 0 || q % most >= 4) { return most }
    return tile(for: q, maxTile: most)
  }

  /// How many output-channel blocks one tile computes together: enough that narrow rows (7 or
  /// 14 pixels) still keep most of the registers busy, dividing the block count.
  static func channelBlocks(tile t: Int, kb: Int, maxTile: Int) -> Int {
    let most = max(1, maxTile / t)
    return (1...min(most, kb)).reversed().first { kb % $0 == 0 } ?? 1
  }

  private var kb: Int { y[1] / b }
  private var cb: Int { plainInput ? 1 : x[1] / b }
  /// Input channels one filter tap reads per weights vector: a block, or all of a plain input.
  private var channels: Int { plainInput ? x[1] : b }
  /// Groups of output-channel blocks per output row.
  private var groups: Int { kb / channelBlocks }
  /// Columns of a padded row: every column a tile reads, from the left padding on.
  private var paddedWidth: Int { (y[3] - 1) * attributes.stride.w + filter.w }
  /// Whether any tap falls past the left or right edge.
  private var readsPadding: Bool { attributes.padding.left > 0 || paddedWidth - attributes.padding.left > x[3] }
  private var padsRows: Bool { border == .paddedRows && readsPadding && !flatTiles }
  /// Whether tiles are runs of consecutive pixels of the whole map, across rows (blocks-outer
  /// convs of a blocked input); otherwise each tile lies within one output row.
  var flatTiles: Bool { order == .blocksOuter && !plainInput }
  /// Rows of the padded image: every row a flat tile reads, from the top padding on.
  private var paddedHeight: Int { (y[2] - 1) * attributes.stride.h + filter.h }
  /// Whether a flat-tiled conv reads any padding, and so first copies the image into a padded
  /// one (once per image and thread; one input's worth, small beside the work that reads it).
  private var padsImage: Bool {
    flatTiles && (attributes.padding.top > 0 || paddedHeight - attributes.padding.top > x[2] || readsPadding)
  }
  /// Passes over a group's output, one per chunk of input blocks.
  private var chunks: Int { cb / chunkBlocks }

  /// Units of parallel work: rows of (image, output row, group of channel blocks), or of
  /// (image, group) for flat tiles.
  var rows: Int { flatTiles ? y[0] * groups : y[0] * y[2] * groups }

  /// The kernel: operands `x`, packed weights `wp`, then `bias` and `res` when present.
  var kernel: Kernel {
    let c = x[1]
    let read = groupBlocks.map { $0 * b } ?? c
    let parameters = ConvPlan.parameters(
      x: x, y: y, weights: ("wp", y[1] * read * filter.h * filter.w), hasBias: hasBias, attributes.epilogue,
      preact: preact != nil)
    guard !flatTiles else { return flatKernel(parameters) }
    let row = index("row")
    let (p, perImage) = (y[2], groups * y[2])
    var work: [Stmt] = [.define("n", row / .int(perImage), mutable: false)]
    switch order {
    case .rowsOuter:
      work += [
        .define("p", row / .int(groups) % .int(p), mutable: false),
        .define("kb", row % .int(groups) * .int(channelBlocks), mutable: false),
      ]
    case .blocksOuter:
      work += [
        .define("p", row % .int(p), mutable: false),
        .define("kb", row % .int(perImage) / .int(p) * .int(channelBlocks), mutable: false),
      ]
    }
    var body: [Stmt] = []
    var scratch: [KernelParameter] = []
    if decimates {
      scratch.append(KernelParameter(name: "staged", elements: cb * y[3] * b, writable: true))
      body.append(.define("filled", -1, mutable: true))
      work.append(ConvPlan.once(per: index("n") * .int(p) + index("p"), [stagePixels(rows: false)]))
    }
    if padsRows {
      scratch.append(KernelParameter(name: "padded", elements: cb * filter.h * paddedWidth * channels, writable: true))
      body.append(.define("filled", -1, mutable: true))
      work.append(ConvPlan.once(per: index("n") * .int(p) + index("p"), fillPaddedRows))
    }
    for segment in ConvPlan.tileSegments(q: y[3], tile: tile, channelBlocks: channelBlocks) {
      work.append(tiles(from: segment.start, count: segment.count, width: segment.width))
    }
    body.append(.parallel("row", rows, work))
    return Kernel(parameters: parameters, scratch: scratch, vectorWidth: b, body: body)
  }

  /// Copies the pixels a decimating 1x1 conv reads into `staged`, densely: those of output row
  /// `p` as (cb, q, lane), or with `rows` those of the whole map as (cb, p, q, lane).
  private func stagePixels(rows: Bool) -> Stmt {
    let (h, wd, p, q) = (x[2], x[3], y[2], y[3])
    let (sh, sw) = (attributes.stride.h, attributes.stride.w)
    let target: Expr =
      rows
      ? ((index("cb") * .int(p) + index("p")) * .int(q) + index("q")) * .int(b)
      : (index("cb") * .int(q) + index("q")) * .int(b)
    let pixel: Stmt = .copy(
      target: "staged", at: target, source: "x",
      from: (((index("n") * .int(cb) + index("cb")) * .int(h) + index("p") * .int(sh)) * .int(wd) + index("q")
        * .int(sw))
        * .int(b), count: b)
    let row: Stmt = .loop("q", 0, .int(q), [pixel])
    return .loop("cb", 0, .int(cb), [rows ? .loop("p", 0, .int(p), [row]) : row])
  }

  /// Copies the input rows output row `p` reads into `padded`, zeros either side: for a
  /// blocked input (cb, r, column, lane), for a plain one (r, channel, column).
  private var fillPaddedRows: [Stmt] {
    let (outer, count) = plainInput ? ("ch", x[1]) : ("cb", cb)
    return [
      .loop(
        "r", 0, .int(filter.h),
        [
          .define(
            "ih", index("p") * .int(attributes.stride.h) - .int(attributes.padding.top) + index("r"), mutable: false),
          .skip(.any([index("ih") < 0, index("ih") >= .int(x[2])])),
          .loop(
            outer, 0, .int(count),
            paddedRowCopy(
              to: plainInput
                ? (index("r") * .int(x[1]) + index("ch")) * .int(paddedWidth)
                : (index("cb") * .int(filter.h) + index("r")) * .int(paddedWidth * b))),
        ])
    ]
  }

  /// Copies input row `ih` of block `cb` (or channel `ch` of a plain input) into `padded` at
  /// `target`, zeros either side.
  private func paddedRowCopy(to target: Expr) -> [Stmt] {
    let (c, h, wd) = (x[1], x[2], x[3])
    let (pl, width) = (attributes.padding.left, paddedWidth)
    let left = min(pl, width)
    let inside = max(0, min(wd, width - left))
    let right = width - left - inside
    let unit = plainInput ? 1 : b
    let source: Expr =
      plainInput
      ? ((index("n") * .int(c) + index("ch")) * .int(h) + index("ih")) * .int(wd)
      : ((index("n") * .int(cb) + index("cb")) * .int(h) + index("ih")) * .int(wd * b)
    var copy: [Stmt] = [.define("to", target, mutable: false)]
    if left > 0 { copy.append(.fill(target: "padded", at: index("to"), value: .float(0), count: left * unit)) }
    if inside > 0 {
      copy.append(
        .copy(target: "padded", at: index("to") + .int(left * unit), source: "x", from: source, count: inside * unit))
    }
    if right > 0 {
      copy.append(
        .fill(target: "padded", at: index("to") + .int((left + inside) * unit), value: .float(0), count: right * unit))
    }
    return copy
  }

  /// A loop over `count` tiles of `width` pixels starting at column `start`.
  private func tiles(from start: Int, count: Int, width t: Int) -> Stmt {
    guard !padsRows else {
      return .loop("qt", 0, .int(count), tileBody(start: start, width: t, interior: true))
    }
    // The tiles whose every tap lies inside the image, a contiguous range.
    let (sw, pl, s, wd) = (attributes.stride.w, attributes.padding.left, filter.w, x[3])
    let inside = (0..<count).filter { qt in
      let q0 = qt * t + start
      return q0 * sw - pl >= 0 && (q0 + t - 1) * sw - pl + s - 1 < wd
    }
    let interior = tileBody(start: start, width: t, interior: true)
    let edge = tileBody(start: start, width: t, interior: false)
    let body: [Stmt]
    if let first = inside.first, let last = inside.last {
      body =
        inside.count == count
        ? interior : [.branch(.all([index("qt") >= .int(first), index("qt") < .int(last + 1)]), interior, else: edge)]
    } else {
      body = edge
    }
    return .loop("qt", 0, .int(count), body)
  }

  /// One tile at column `q0 = qt * width + start`: accumulators, the sum over input channels
  /// and taps, and the stores. `interior` tiles read the input (or the padded rows) without
  /// tests; edge tiles test each pixel's column.
  private func tileBody(start: Int, width t: Int, interior: Bool) -> [Stmt] {
    let (c, h, wd) = (x[1], x[2], x[3])
    let (r, s) = (filter.h, filter.w)
    let (sh, pt, pl) = (attributes.stride.h, attributes.padding.top, attributes.padding.left)
    // A decimating conv's staged row holds the pixels it reads side by side.
    let sw = decimates ? 1 : attributes.stride.w
    let kt = channelBlocks
    // Floats between consecutive output-channel blocks in the packed weights.
    let blockStride = plainInput ? r * s * c * b : (groupBlocks ?? cb) * r * s * b * b
    var body: [Stmt] = [.define("q0", index("qt") * .int(t) + .int(start), mutable: false)]
    body += accumulators(width: t)
    let padded = padsRows
    // The start of the input row a tap row reads, and the column of pixel 0 under tap s.
    let (source, rowStart): (String, Expr) =
      switch (plainInput, padded) {
      case _ where decimates: ("staged", index("cb") * .int(y[3] * b))
      case (true, true): ("padded", index("r") * .int(c * paddedWidth))
      case (false, true): ("padded", (index("cb") * .int(r) + index("r")) * .int(paddedWidth * b))
      case (true, false): ("x", (index("n") * .int(c * h) + index("ih")) * .int(wd))
      case (false, false): ("x", ((index("n") * .int(cb) + index("cb")) * .int(h) + index("ih")) * .int(wd * b))
      }
    let column0: Expr = index("q0") * .int(sw) + index("s") - .int(padded ? 0 : pl)
    let channelStride = plainInput ? (padded ? paddedWidth : h * wd) : 1
    let pixelStride = plainInput ? 1 : b
    var tap: [Stmt] = [
      .define("ws", index("wr") + index("s") * .int(channels * b), mutable: false),
      .define("iw0", column0, mutable: false),
    ]
    if !interior {
      for i in 0..<t { tap.append(.define("col\(i)", index("iw0") + .int(i * sw), mutable: false)) }
    }
    // Per input channel: `wc` and `xc` are where its weights and its pixel 0 (of an interior
    // tile; of the row, for an edge one) start, so that each load adds only a literal.
    var channel: [Stmt] = [
      .define("wc", index("ws") + index("ch") * .int(b), mutable: false),
      .define(
        "xc",
        index("xr") + index("ch") * .int(channelStride) + (interior ? index("iw0") * .int(pixelStride) : 0),
        mutable: false),
    ]
    for j in 0..<kt {
      channel.append(.define("wv\(j)", .vectorLoad("wp", index("wc") + .int(j * blockStride)), mutable: false))
    }
    for i in 0..<t {
      let at = interior ? index("xc") + .int(i * sw * pixelStride) : index("xc") + index("col\(i)") * .int(pixelStride)
      let pixel = multiplyAdds(pixel: i, .load(source, at))
      channel +=
        interior ? pixel : [.branch(.all([index("col\(i)") >= 0, index("col\(i)") < .int(wd)]), pixel, else: [])]
    }
    tap.append(.loop("ch", 0, .int(channels), channel))
    let weightsRow = plainInput ? (index("kb") * .int(r) + index("r")) * .int(s * channels * b) : blockedWeightsRow
    let rows: Stmt = .loop(
      "r", 0, .int(r),
      [
        .define("ih", index("p") * .int(sh) - .int(pt) + index("r"), mutable: false),
        .skip(.any([index("ih") < 0, index("ih") >= .int(h)])),
        .define("xr", rowStart, mutable: false),
        .define("wr", weightsRow, mutable: false),
        .loop("s", 0, .int(s), tap),
      ])
    // A plain input has no channel blocks: the tap reads all its channels. A grouped conv
    // reads its groups' input blocks, from the first of output block kb's.
    body.append(plainInput ? rows : inputBlocks(rows))
    // The tile's first output vector; the others are a literal offset from it.
    let (kb, p, q) = (self.kb, y[2], y[3])
    body.append(
      .define(
        "out", (((index("n") * .int(kb) + index("kb")) * .int(p) + index("p")) * .int(q) + index("q0")) * .int(b),
        mutable: false))
    body += finalStores(width: t) { j, i in index("out") + .int((j * p * q + i) * b) }
    return body
  }

  /// The stores of a tile's sums, `width` pixels of each channel block `j`, at `output(j, i)`,
  /// after the epilogue; with a pre-activation, its scale, shift and ReLU applied to the same
  /// registers and stored in `pre` at the same offsets.
  private func finalStores(width t: Int, output: (Int, Int) -> Expr) -> [Stmt] {
    let sum = { (j: Int, i: Int) in Expr.variable("acc\(j)_\(i)", .vector) }
    guard let preact else {
      return (0..<channelBlocks).flatMap { j in
        (0..<t).map { i in
          .vectorStore(
            "y", output(j, i), ConvPlan.epilogue(sum(j, i), at: output(j, i), attributes.epilogue), aligned: true)
        }
      }
    }
    var stores: [Stmt] = []
    for j in 0..<channelBlocks {
      let factor = (index("kb") + .int(j)) * .int(b)
      stores.append(.define("ps\(j)", .vectorLoad("pscale", factor), mutable: false))
      stores.append(.define("pt\(j)", .vectorLoad("pshift", factor), mutable: false))
      for i in 0..<t {
        let (at, value) = (output(j, i), Expr.variable("e\(j)_\(i)", .vector))
        stores.append(.define("e\(j)_\(i)", ConvPlan.epilogue(sum(j, i), at: at, attributes.epilogue), mutable: false))
        stores.append(.vectorStore("y", at, value, aligned: true))
        let shifted = value * .variable("ps\(j)", .vector) + .variable("pt\(j)", .vector)
        stores.append(
          .vectorStore("pre", at, preact.relu ? .vectorMax(shifted, .splat(.float(0))) : shifted, aligned: true))
      }
    }
    return stores
  }

  /// `fill` when `key` differs from the last one this call filled a scratch buffer for (the
  /// kernel's `filled`, -1 at first): a copy made once per output row or image and thread.
  static func once(per key: Expr, _ fill: [Stmt]) -> Stmt {
    .branch(.compare(.notEqual, .variable("filled", .index), key), [.assign("filled", key)] + fill, else: [])
  }

  /// A tile's accumulators `acc<j>_<i>` for `width` pixels and each channel block `j`, each
  /// starting at the block's bias (or zero).
  private func accumulators(width t: Int) -> [Stmt] {
    var body: [Stmt] = []
    for j in 0..<channelBlocks {
      let initial: Expr = hasBias ? .vectorLoad("bias", (index("kb") + .int(j)) * .int(b)) : .splat(.float(0))
      if hasBias { body.append(.define("b\(j)", initial, mutable: false)) }
      for i in 0..<t {
        body.append(.define("acc\(j)_\(i)", hasBias ? .variable("b\(j)", .vector) : initial, mutable: true))
      }
    }
    return body
  }

  /// The multiply-adds of input value `x` of tile pixel `i` into each block's accumulator,
  /// with weights vectors `wv<j>`. A pixel that one block uses is loaded where it is used;
  /// one that several use, once.
  private func multiplyAdds(pixel i: Int, _ x: Expr) -> [Stmt] {
    guard channelBlocks > 1 else { return [.multiplyAdd("acc0_\(i)", x, .variable("wv0", .vector))] }
    return [.define("xv\(i)", x, mutable: false)]
      + (0..<channelBlocks).map { j in
        .multiplyAdd("acc\(j)_\(i)", .variable("xv\(i)", .float), .variable("wv\(j)", .vector))
      }
  }

  /// Where the packed weights of tap row `r` of input block `cb` (of a grouped conv, of its
  /// `cbi`-th block) for output block `kb` start.
  private var blockedWeightsRow: Expr {
    let (r, s) = (filter.h, filter.w)
    if let n = groupBlocks {
      return ((index("kb") * .int(n) + (n == 1 ? 0 : index("cbi"))) * .int(r) + index("r")) * .int(s * b * b)
    }
    return ((index("kb") * .int(cb) + index("cb")) * .int(r) + index("r")) * .int(s * b * b)
  }

  /// `rows` for each input block `cb` a tile reads: its groups' blocks for a grouped conv
  /// (from the first of output block kb's), the current chunk's for a chunked one, else all.
  private func inputBlocks(_ rows: Stmt) -> Stmt {
    if let n = groupBlocks {
      let first = n == 1 ? index("kb") : index("kb") / .int(n) * .int(n)
      return .loop("cbi", 0, .int(n), [.define("cb", n == 1 ? first : first + index("cbi"), mutable: false), rows])
    }
    if chunks > 1 {
      let first = index("chunk") * .int(chunkBlocks)
      return .loop("cb", first, first + .int(chunkBlocks), [rows])
    }
    return .loop("cb", 0, .int(cb), [rows])
  }

  /// The kernel of a flat-tiled conv: per unit of work, (image, group of channel blocks), the
  /// input copied into the padded image when the image changes, then for each chunk of input
  /// blocks every flat tile of the map.
  private func flatKernel(_ parameters: [KernelParameter]) -> Kernel {
    let row = index("row")
    var work: [Stmt] = [
      .define("n", row / .int(groups), mutable: false),
      .define("kb", row % .int(groups) * .int(channelBlocks), mutable: false),
    ]
    var body: [Stmt] = []
    var scratch: [KernelParameter] = []
    if decimates {
      scratch.append(KernelParameter(name: "staged", elements: cb * y[2] * y[3] * b, writable: true))
      body.append(.define("filled", -1, mutable: true))
      work.append(ConvPlan.once(per: index("n"), [stagePixels(rows: true)]))
    }
    if padsImage {
      let (top, height, width) = (attributes.padding.top, paddedHeight, paddedWidth)
      scratch.append(KernelParameter(name: "padded", elements: cb * height * width * b, writable: true))
      body.append(.define("filled", -1, mutable: true))
      // Padded row `pr` holds input row `pr - top`, or zeros above and below the image.
      let rowStart = (index("cb") * .int(height) + index("pr")) * .int(width * b)
      let copyRow: Stmt = .loop(
        "pr", 0, .int(height),
        [
          .define("ih", index("pr") - .int(top), mutable: false),
          .branch(
            .all([index("ih") >= 0, index("ih") < .int(x[2])]), paddedRowCopy(to: rowStart),
            else: [.fill(target: "padded", at: rowStart, value: .float(0), count: width * b)]),
        ])
      work.append(ConvPlan.once(per: index("n"), [.loop("cb", 0, .int(cb), [copyRow])]))
    }
    let tiles: [Stmt] = ConvPlan.tileSegments(q: y[2] * y[3], tile: tile, channelBlocks: channelBlocks).map {
      .loop("ft", 0, .int($0.count), flatTileBody(start: $0.start, width: $0.width))
    }
    work += chunks > 1 ? [.loop("chunk", 0, .int(chunks), tiles)] : tiles
    body.append(.parallel("row", rows, work))
    return Kernel(parameters: parameters, scratch: scratch, vectorWidth: b, body: body)
  }

  /// One flat tile: `width` consecutive pixels of the map from `f0 = ft * width + start`, which
  /// may run on from one output row into the next, each pixel's input offset worked out once
  /// per tile. The sum over the chunk's input blocks and the taps, then the stores: the
  /// epilogue after the last chunk, the partial sums after the others.
  private func flatTileBody(start: Int, width t: Int) -> [Stmt] {
    let (r, s) = (filter.h, filter.w)
    let (kb, p, q, kt) = (self.kb, y[2], y[3], channelBlocks)
    // The image the taps read: the padded copy, the staged pixels of a decimating conv, or the
    // input itself.
    let (sh, sw) = decimates ? (1, 1) : (attributes.stride.h, attributes.stride.w)
    let (source, height, width) =
      padsImage ? ("padded", paddedHeight, paddedWidth) : decimates ? ("staged", p, q) : ("x", x[2], x[3])
    // Floats between consecutive output-channel blocks in the packed weights.
    let blockStride = (groupBlocks ?? cb) * r * s * b * b
    var body: [Stmt] = [
      .define("f0", index("ft") * .int(t) + .int(start), mutable: false),
      .define("out", ((index("n") * .int(kb) + index("kb")) * .int(p * q) + index("f0")) * .int(b), mutable: false),
    ]
    for i in 0..<t {
      let f = index("f0") + .int(i)
      // Where the image the taps read is as wide as the map, with stride 1, pixel f is at f.
      let offset = sh == 1 && sw == 1 && width == q ? f : f / .int(q) * .int(sh * width) + f % .int(q) * .int(sw)
      body.append(.define("o\(i)", offset * .int(b), mutable: false))
    }
    let output = { (j: Int, i: Int) in index("out") + .int((j * p * q + i) * b) }
    body += accumulators(width: t)
    if chunks > 1 {
      // The passes after the first go on from the partial sums the one before stored.
      let resume = (0..<kt).flatMap { j in
        (0..<t).map { i in Stmt.assign("acc\(j)_\(i)", .vectorLoad("y", output(j, i))) }
      }
      body.append(.branch(index("chunk") > 0, resume, else: []))
    }
    var channel: [Stmt] = [
      .define("wc", index("ws") + index("ch") * .int(b), mutable: false),
      .define("xc", index("xt") + index("ch"), mutable: false),
    ]
    for j in 0..<kt {
      channel.append(.define("wv\(j)", .vectorLoad("wp", index("wc") + .int(j * blockStride)), mutable: false))
    }
    for i in 0..<t {
      channel += multiplyAdds(pixel: i, .load(source, index("xc") + index("o\(i)")))
    }
    let plane: Expr =
      padsImage || decimates
      ? index("cb") * .int(height * width * b) : (index("n") * .int(cb) + index("cb")) * .int(height * width * b)
    let rows: Stmt = .loop(
      "r", 0, .int(r),
      [
        .define("xr", plane + index("r") * .int(width * b), mutable: false),
        .define("wr", blockedWeightsRow, mutable: false),
        .loop(
          "s", 0, .int(s),
          [
            .define("ws", index("wr") + index("s") * .int(b * b), mutable: false),
            .define("xt", index("xr") + index("s") * .int(b), mutable: false),
            .loop("ch", 0, .int(b), channel),
          ]),
      ])
    body.append(inputBlocks(rows))
    let stores = { (last: Bool) -> [Stmt] in
      if last { return self.finalStores(width: t, output: output) }
      return (0..<kt).flatMap { j in
        (0..<t).map { i -> Stmt in .vectorStore("y", output(j, i), .variable("acc\(j)_\(i)", .vector), aligned: true) }
      }
    }
    if chunks > 1 {
      body.append(.branch(index("chunk") < .int(chunks - 1), stores(false), else: stores(true)))
    } else {
      body += stores(true)
    }
    return body
  }

  /// The buffers of a blocked conv kernel, in the order a call passes them: the input `x`,
  /// the packed weights (named and sized as `weights` says), `bias` and `res` when present,
  /// a pre-activation's `pscale`, `pshift` and second output `pre` when `preact`, and the
  /// output `y`.
  static func parameters(
    x: [Int], y: [Int], weights: (String, Int), hasBias: Bool, _ epilogue: Epilogue, preact: Bool = false
  ) -> [KernelParameter] {
    let outputs = y.reduce(1, *)
    var parameters = [
      KernelParameter(name: "x", elements: x.reduce(1, *), writable: false),
      KernelParameter(name: weights.0, elements: weights.1, writable: false),
    ]
    if hasBias { parameters.append(KernelParameter(name: "bias", elements: y[1], writable: false)) }
    if epilogue.addsResidual { parameters.append(KernelParameter(name: "res", elements: outputs, writable: false)) }
    if preact {
      parameters.append(KernelParameter(name: "pscale", elements: y[1], writable: false))
      parameters.append(KernelParameter(name: "pshift", elements: y[1], writable: false))
      parameters.append(KernelParameter(name: "pre", elements: outputs, writable: true))
    }
    parameters.append(KernelParameter(name: "y", elements: outputs, writable: true))
    return parameters
  }

  /// `value`, the output vector at float offset `at`, after `epilogue`: the shortcut `res` at
  /// the same offset added, and ReLU applied, as it asks.
  static func epilogue(_ value: Expr, at: Expr, _ epilogue: Epilogue) -> Expr {
    var v = value
    if epilogue.addsResidual { v = v + .vectorLoad("res", at) }
    if epilogue == .relu || epilogue == .addReLU { v = .vectorMax(v, .splat(.float(0))) }
    return v
  }
}
