import GraphIR

/// Swift for the blocked (NCHW`B`c) kernels: the plan of `BlockedKernels` (tiles, channel
/// blocks per tile, rows of parallel work), spelled with `SIMD16<Float>` or `SIMD8<Float>`
/// as `VF`, one pixel's channel block. Accumulators are local `VF` variables that the
/// optimizer keeps in registers; `addProduct` is a fused multiply-add. Loads and stores go
/// through `vload`/`vstore` (unaligned-safe raw loads of a whole vector).
///
/// Every kernel has the signature `(KernelArgs, Int, Int)`: its operands and output, and the
/// range `[begin, end)` of its units of parallel work.
struct SwiftBlockedKernels {
  let target: Target
  var b: Int { target.block! }
  private var plan: BlockedKernels { BlockedKernels(target: target) }

  /// The vector type and the helpers the kernels use.
  var prelude: String {
    """
    private typealias VF = SIMD\(b)<Float>

    @inline(__always) private func vload(_ p: UnsafePointer<Float>, _ offset: Int) -> VF {
      UnsafeRawPointer(p + offset).loadUnaligned(as: VF.self)
    }

    @inline(__always) private func vstore(_ v: VF, _ p: UnsafeMutablePointer<Float>, _ offset: Int) {
      UnsafeMutableRawPointer(p + offset).storeBytes(of: v, as: VF.self)
    }

    /// max(v, 0) lane by lane, with NaN giving 0 as the interpreter does.
    @inline(__always) private func relu(_ v: VF) -> VF { VF().replacing(with: v, where: v .> 0) }

    """
  }

  /// `let` lines binding the kernel's operands: `names[i]` is `a.in<i>`, then `y`.
  static func bind(_ names: [String?], _ w: inout CWriter) {
    for (i, name) in names.enumerated() {
      if let name { w.line("let \(name) = a.in\(i)") }
    }
    w.line("let y = a.out")
  }

  /// A convolution over rows `[begin, end)` of (n, p, group of output-channel blocks).
  ///
  /// Where the filter reaches past the left or right edge of the input, the input rows one
  /// output row reads (every channel block and filter row) are first copied into `padded`,
  /// zeros on either side, so that every tile reads whole windows with one unrolled body and
  /// no test per pixel. Consecutive work rows differ only in their output-channel blocks, so
  /// a thread fills `padded` once per output row and reuses it for all of them.
  func conv(_ node: Node, _ a: Conv2dAttributes, x xShape: [Int], kernel: Size2d, plainInput: Bool, _ w: inout CWriter)
  {
    let y = node.type.shape
    let (c, h, wd, k, p, q) = (xShape[1], xShape[2], xShape[3], y[1], y[2], y[3])
    let hasBias = node.operands.count == (a.epilogue.addsResidual ? 4 : 3)
    let (kb, cb) = (k / b, plainInput ? 1 : c / b)
    let t = plan.tile(for: q)
    let kt = plan.channelBlocks(tile: t, kb: kb)
    let (r, s, sw, pl) = (kernel.h, kernel.w, a.stride.w, a.padding.left)
    // Pixels of a padded row: every column a tile reads, from the left padding on.
    let width = (q - 1) * sw + s
    let padded = pl > 0 || width - pl > wd ? width : nil
    SwiftBlockedKernels.bind(
      ["x", "wp", hasBias ? "bias" : nil, a.epilogue.addsResidual ? "res" : nil].filter { $0 != nil }, &w)
    if let padded {
      w.line("let padded = UnsafeMutablePointer<Float>.allocate(capacity: \(cb * r * padded * (plainInput ? c : b)))")
      w.line("defer { padded.deallocate() }")
      w.line("var filled = -1")
    }
    w.block("for row in begin..<end") { w in
      w.line("let n = row / \(kb / kt * p), p = row / \(kb / kt) % \(p), kb = row % \(kb / kt) &* \(kt)")
      if let padded {
        w.block("if filled != row / \(kb / kt)") { w in
          w.line("filled = row / \(kb / kt)")
          w.block("for r in 0..<\(r)") { w in
            w.line("let ih = p * \(a.stride.h) - \(a.padding.top) + r")
            w.line("if ih < 0 || ih >= \(h) { continue }")
            if plainInput {
              w.block("for ch in 0..<\(c)") { w in
                w.line("let xr = x + ((n * \(c) + ch) * \(h) + ih) * \(wd), to = padded + (r * \(c) + ch) * \(padded)")
                w.line("for k in 0..<\(padded) { to[k] = k >= \(pl) && k < \(pl + wd) ? xr[k &- \(pl)] : 0 }")
              }
            } else {
              w.block("for cb in 0..<\(cb)") { w in
                w.line(
                  "let xr = x + ((n * \(cb) + cb) * \(h) + ih) * \(wd * b), to = padded + (cb * \(r) + r) * \(padded * b)"
                )
                w.block("for k in 0..<\(padded)") { w in
                  w.line("vstore(k >= \(pl) && k < \(pl + wd) ? vload(xr, (k &- \(pl)) &* \(b)) : VF(), to, k &* \(b))")
                }
              }
            }
          }
        }
      }
      let shape = (
        c: c, h: h, wd: wd, r: r, s: s, cb: cb, kb: kb, p: p, q: q, channels: plainInput ? c : b, padded: padded
      )
      if q / t > 0 {
        emitTiles(from: 0, tiles: q / t, width: t, blocks: kt, shape, plainInput: plainInput, hasBias: hasBias, a, &w)
      }
      if q % t > 0 {
        emitTiles(
          from: q / t * t, tiles: 1, width: q % t, blocks: kt, shape, plainInput: plainInput, hasBias: hasBias, a, &w)
      }
    }
  }

  /// One run of tiles of `t` output pixels by `kt` output-channel blocks. For each input row
  /// the tile reads, `xrow` points at the input pixel under its first tap, in the input or in
  /// its padded copy. The unrolled lines (one per pixel and block) hold only literal offsets,
  /// which keeps both the loop and the compiler fast.
  private func emitTiles(
    from start: Int, tiles: Int, width t: Int, blocks kt: Int,
    _ shape: (
      c: Int, h: Int, wd: Int, r: Int, s: Int, cb: Int, kb: Int, p: Int, q: Int, channels: Int, padded: Int?
    ),
    plainInput: Bool, hasBias: Bool, _ a: Conv2dAttributes, _ w: inout CWriter
  ) {
    let (c, h, wd, r, s, cb, channels) = (shape.c, shape.h, shape.wd, shape.r, shape.s, shape.cb, shape.channels)
    let (sh, sw, pt, pl) = (a.stride.h, a.stride.w, a.padding.top, a.padding.left)
    let blockStride = plainInput ? r * s * c * b : cb * r * s * b * b
    // Floats between a tile's pixels, between taps, and between input channels.
    let (pixelStride, tapStride, channelStride) =
      plainInput ? (sw, 1, shape.padded ?? h * wd) : (sw * b, b, 1)
    let loop = tiles == 1 ? "do" : "for q0 in stride(from: \(start), to: \(start + tiles * t), by: \(t))"
    w.block(loop) { w in
      if tiles == 1 { w.line("let q0 = \(start)") }
      for j in 0..<kt {
        let initial = hasBias ? "vload(bias, (kb + \(j)) * \(b))" : "VF()"
        w.line("let initial\(j) = \(initial)")
        for i in 0..<t { w.line("var acc\(j)_\(i) = initial\(j)") }
      }
      w.block(plainInput ? "do" : "for cb in 0..<\(cb)") { w in
        w.block("for r in 0..<\(r)") { w in
          w.line("let ih = p * \(sh) - \(pt) + r")
          w.line("if ih < 0 || ih >= \(h) { continue }")
          switch (plainInput, shape.padded) {
          case (true, let padded?):
            w.line("let xrow = UnsafePointer(padded) + r * \(c * padded) + q0 * \(sw)")
          case (false, let padded?):
            w.line("let xrow = UnsafePointer(padded) + (cb * \(r) + r) * \(padded * b) + q0 * \(sw * b)")
          case (true, nil):
            w.line("let xrow = x + (n * \(c * h) + ih) * \(wd) + q0 * \(sw)")
          case (false, nil):
            w.line("let xrow = x + ((n * \(cb) + cb) * \(h) + ih) * \(wd * b) + q0 * \(sw * b)")
          }
          if plainInput {
            w.line("let wr = wp + (kb * \(r) + r) * \(s * channels * b)")
          } else {
            w.line("let wr = wp + ((kb * \(cb) + cb) * \(r) + r) * \(s * b * b)")
          }
          w.block("for s in 0..<\(s)") { w in
            w.line("let ws = wr + s * \(channels * b), xs = xrow + s * \(tapStride)")
            w.block("for ch in 0..<\(channels)") { w in
              w.line("let wc = ws + ch &* \(b), xc = xs + ch &* \(channelStride)")
              for j in 0..<kt { w.line("let wv\(j) = vload(wc, \(j * blockStride))") }
              for i in 0..<t {
                let updates = (0..<kt).map { "acc\($0)_\(i).addProduct(xv, wv\($0))" }.joined(separator: "; ")
                w.line("do { let xv = xc[\(i * pixelStride)]; \(updates) }")
              }
            }
          }
        }
      }
      w.line("let out = (((n * \(shape.kb) + kb) * \(shape.p) + p) * \(shape.q) + q0) * \(b)")
      w.line("let yo = y + out" + (a.epilogue.addsResidual ? ", ro = res + out" : ""))
      for j in 0..<kt {
        for i in 0..<t {
          w.line(
            SwiftBlockedKernels.store("acc\(j)_\(i)", at: "\((j * shape.p * shape.q + i) * b)", epilogue: a.epilogue))
        }
      }
    }
  }

  /// Max pooling of a blocked input over planes `[begin, end)`; padding never wins.
  func maxPool(_ node: Node, _ a: Pool2dAttributes, x xShape: [Int], _ w: inout CWriter) {
    let y = node.type.shape
    let (h, wd) = (xShape[2], xShape[3])
    SwiftBlockedKernels.bind(["x"], &w)
    w.block("for plane in begin..<end") { w in
      w.block("for p in 0..<\(y[2])") { w in
        w.block("for q in 0..<\(y[3])") { w in
          w.line("var m = VF(repeating: -Float.infinity)")
          w.block("for r in 0..<\(a.kernel.h)") { w in
            w.line("let ih = p &* \(a.stride.h) &- \(a.padding.top) &+ r &* \(a.dilation.h)")
            w.line("if ih < 0 || ih >= \(h) { continue }")
            w.block("for s in 0..<\(a.kernel.w)") { w in
              w.line("let iw = q &* \(a.stride.w) &- \(a.padding.left) &+ s &* \(a.dilation.w)")
              w.line("if iw < 0 || iw >= \(wd) { continue }")
              w.line("let v = vload(x, ((plane &* \(h) &+ ih) &* \(wd) &+ iw) &* \(b))")
              w.line("m.replace(with: v, where: v .> m)")
            }
          }
          w.line("vstore(m, y, ((plane &* \(y[2]) &+ p) &* \(y[3]) &+ q) &* \(b))")
        }
      }
    }
  }

  /// Global average pooling of a blocked input into (N,C,1,1), which is the plain layout.
  func globalAvgPool(_ node: Node, x xShape: [Int], _ w: inout CWriter) {
    let size = xShape[2] * xShape[3]
    SwiftBlockedKernels.bind(["x"], &w)
    w.block("for plane in begin..<end") { w in
      w.line("var sum = VF()")
      w.line("for i in 0..<\(size) { sum += vload(x, (plane &* \(size) &+ i) &* \(b)) }")
      w.line("vstore(sum / Float(\(size)), y, plane &* \(b))")
    }
  }

  /// `y = x·wᵀ + b` over output blocks `[begin, end)` of (n, ob); weights packed (O/B, I, B),
  /// the bias zero-padded to whole blocks; the last block stores only real outputs.
  func dense(_ node: Node, inputs: Int, _ w: inout CWriter) {
    let (outputs, blocks) = (node.type.shape[1], (node.type.shape[1] + b - 1) / b)
    let hasBias = node.operands.count == 3
    SwiftBlockedKernels.bind(["x", "wp", hasBias ? "bias" : nil], &w)
    w.block("for item in begin..<end") { w in
      w.line("let n = item / \(blocks), ob = item % \(blocks)")
      w.line("var acc0 = \(hasBias ? "vload(bias, ob &* \(b))" : "VF()"), acc1 = VF()")
      w.line("let xn = x + n &* \(inputs)")
      w.line("let wo = wp + ob &* \(inputs * b)")
      w.line("var i = 0")
      w.block("while i &+ 1 < \(inputs)") { w in
        w.line("acc0.addProduct(xn[i], vload(wo, i &* \(b)))")
        w.line("acc1.addProduct(xn[i &+ 1], vload(wo, (i &+ 1) &* \(b)))")
        w.line("i &+= 2")
      }
      w.line("if i < \(inputs) { acc0.addProduct(xn[i], vload(wo, i &* \(b))) }")
      w.line("acc0 += acc1")
      w.line("let valid = min(\(outputs) &- ob &* \(b), \(b))")
      w.line("for k in 0..<valid { y[n &* \(outputs) &+ ob &* \(b) &+ k] = acc0[k] }")
    }
  }

  /// Plain (N,C,H,W) to blocked (`toBlocked`) or back, over planes (n, cb) in `[begin, end)`.
  func reorder(shape: [Int], toBlocked: Bool, _ w: inout CWriter) {
    let size = shape[2] * shape[3], cb = shape[1] / b
    SwiftBlockedKernels.bind(["x"], &w)
    w.block("for plane in begin..<end") { w in
      w.line("let n = plane / \(cb), cb = plane % \(cb)")
      let (plain, blocked) = toBlocked ? ("x", "y") : ("y", "x")
      w.line(
        "let plain = \(plain) + (n * \(shape[1]) + cb * \(b)) * \(size), blocked = \(blocked) + plane * \(size * b)")
      w.block("for c in 0..<\(b)") { w in
        w.line("let pc = plain + c * \(size), bc = blocked + c")
        w.line(
          toBlocked
            ? "for i in 0..<\(size) { bc[i &* \(b)] = pc[i] }" : "for i in 0..<\(size) { pc[i] = bc[i &* \(b)] }")
      }
    }
  }

  /// The store of one output vector `value` at float offset `at` from `yo`, after the
  /// epilogue: the shortcut at the same offset from `ro` added and ReLU applied as `epilogue`
  /// asks.
  static func store(_ value: String, at: String, epilogue: Epilogue) -> String {
    var v = value
    if epilogue.addsResidual { v += " + vload(ro, \(at))" }
    if epilogue == .relu || epilogue == .addReLU { v = "relu(\(v))" }
    return "vstore(\(v), yo, \(at))"
  }
}
