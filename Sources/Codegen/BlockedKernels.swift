import GraphIR

/// C for the blocked (NCHW`B`c) kernels, written with GCC/Clang vector extensions: `vf` is a
/// vector of `B` floats, one pixel's channel block.
///
/// The convolution is direct and register-blocked: a tile of `T` output pixels of one
/// output-channel block is held in `T` accumulators while every input channel and tap is
/// added (`acc[t] += x[c at pixel t] · w[c, block]`, one weights vector and `T` fused
/// multiply-adds per input channel), then bias, shortcut and ReLU are applied in registers
/// and the tile is stored once. Rows of (image, channel block, output row) are the unit of
/// parallel work.
struct BlockedKernels {
  let target: Target
  var b: Int { target.block! }

  /// The vector typedefs the kernels use.
  var prelude: String {
    """
    typedef float vf __attribute__((vector_size(\(b * 4))));
    typedef int vi __attribute__((vector_size(\(b * 4))));
    __attribute__((unused)) static inline vf relu_v(vf v) { const vf zero = {0}; return (vf)((vi)v & (vi)(v > zero)); }

    """
  }

  /// The output-tile width for a row of `q` pixels: the largest divisor of `q` that fits
  /// in the registers, or the register limit with a shorter tail when `q` has none above 3.
  func tile(for q: Int) -> Int {
    let limit = min(target.maxTile, q)
    if let divisor = (1...limit).reversed().first(where: { q % $0 == 0 }), divisor >= min(4, q) { return divisor }
    return limit
  }

  /// How many output-channel blocks one tile computes together: enough that narrow rows
  /// (7 or 14 pixels) still keep most of the registers busy, dividing the block count.
  func channelBlocks(tile t: Int, kb: Int) -> Int {
    let most = max(1, target.maxTile / t)
    return (1...min(most, kb)).reversed().first { kb % $0 == 0 } ?? 1
  }

  /// A convolution over rows `[begin, end)` of (n, p, kb group). Operands: `a->in[0]` the
  /// input (blocked, or plain for a stem), `a->in[1]` the packed weights, then bias and
  /// residual.
  func conv(_ node: Node, _ a: Conv2dAttributes, x xShape: [Int], kernel: Size2d, plainInput: Bool, _ w: inout CWriter)
  {
    let y = node.type.shape
    let (c, h, wd, k, p, q) = (xShape[1], xShape[2], xShape[3], y[1], y[2], y[3])
    let hasBias = node.operands.count == (a.epilogue.addsResidual ? 4 : 3)
    let (kb, cb) = (k / b, plainInput ? 1 : c / b)
    let t = tile(for: q)
    let kt = channelBlocks(tile: t, kb: kb)
    w.line("const float *restrict x = a->in[0];")
    w.line("const float *restrict wp = a->in[1];")
    if hasBias { w.line("const float *restrict bias = a->in[2];") }
    if a.epilogue.addsResidual { w.line("const float *restrict res = a->in[\(hasBias ? 3 : 2)];") }
    w.line("float *restrict y = a->out;")
    w.block("for (long row = begin; row < end; ++row)") { w in
      // Channel blocks vary fastest: one input row, in L1/L2, serves every output block in turn
      // (ordered the other way, the whole input would stream from L3 once per block).
      w.line("const long n = row / \(kb / kt * p)L, p = row / \(kb / kt)L % \(p)L, kb = row % \(kb / kt)L * \(kt)L;")
      let shape = (
        c: c, h: h, wd: wd, r: kernel.h, s: kernel.w, cb: cb, kb: kb, p: p, q: q, channels: plainInput ? c : b
      )
      if q / t > 0 {
        emitTiles(
          from: 0, tiles: q / t, width: t, blocks: kt, shape, plainInput: plainInput, hasBias: hasBias, a: a, &w)
      }
      if q % t > 0 {
        emitTiles(
          from: q / t * t, tiles: 1, width: q % t, blocks: kt, shape, plainInput: plainInput, hasBias: hasBias, a: a, &w
        )
      }
    }
  }

  /// Units of parallel work of a conv: rows of (image, output row, group of channel blocks).
  func convRows(_ node: Node) -> Int {
    let y = node.type.shape
    let kb = y[1] / b
    return y[0] * kb / channelBlocks(tile: tile(for: y[3]), kb: kb) * y[2]
  }

  private func emitTiles(
    from start: Int, tiles: Int, width t: Int, blocks kt: Int,
    _ shape: (c: Int, h: Int, wd: Int, r: Int, s: Int, cb: Int, kb: Int, p: Int, q: Int, channels: Int),
    plainInput: Bool, hasBias: Bool, a: Conv2dAttributes, _ w: inout CWriter
  ) {
    let (c, h, wd, r, s, cb, channels) = (shape.c, shape.h, shape.wd, shape.r, shape.s, shape.cb, shape.channels)
    let (sh, sw, pt, pl) = (a.stride.h, a.stride.w, a.padding.top, a.padding.left)
    // Floats between consecutive output-channel blocks in the packed weights.
    let blockStride = plainInput ? r * s * c * b : cb * r * s * b * b
    w.block("for (long q0 = \(start)L; q0 < \(start + tiles * t)L; q0 += \(t)L)") { w in
      for j in 0..<kt {
        let initial = hasBias ? "*(const vf *)(bias + (kb + \(j)L) * \(b)L)" : "(vf){0}"
        for i in 0..<t { w.line("vf acc\(j)_\(i) = \(initial);") }
      }
      w.line(
        "const int interior = q0 * \(sw)L - \(pl)L >= 0 && (q0 + \(t - 1)L) * \(sw)L - \(pl)L + \(s - 1)L < \(wd)L;")
      w.block("for (long cb = 0; cb < \(cb)L; ++cb)") { w in
        w.block("for (long r = 0; r < \(r)L; ++r)") { w in
          w.line("const long ih = p * \(sh)L - \(pt)L + r;")
          w.line("if (ih < 0 || ih >= \(h)L) continue;")
          if plainInput {
            w.line("const float *xr = x + (n * \(c)L * \(h)L + ih) * \(wd)L;")
            w.line("const float *wr = wp + ((kb * \(r)L + r) * \(s)L) * \(channels * b)L;")
          } else {
            w.line("const float *xr = x + ((n * \(cb)L + cb) * \(h)L + ih) * \(wd * b)L;")
            w.line("const float *wr = wp + (((kb * \(cb)L + cb) * \(r)L + r) * \(s)L) * \(b * b)L;")
          }
          w.block("for (long s = 0; s < \(s)L; ++s)") { w in
            w.line("const float *ws = wr + s * \(channels * b)L;")
            w.line("const long iw0 = q0 * \(sw)L - \(pl)L + s;")
            let pixel = { (i: Int) -> String in
              plainInput ? "xr[ch * \(h * wd)L + iw0 + \(i * sw)L]" : "xr[(iw0 + \(i * sw)L) * \(self.b)L + ch]"
            }
            for interior in [true, false] {
              w.block(interior ? "if (interior)" : "else") { w in
                w.block("for (long ch = 0; ch < \(channels)L; ++ch)") { w in
                  for j in 0..<kt { w.line("const vf wv\(j) = *(const vf *)(ws + \(j * blockStride)L + ch * \(b)L);") }
                  for i in 0..<t {
                    if interior {
                      w.line(
                        "{ const float xv = \(pixel(i)); "
                          + (0..<kt).map { "acc\($0)_\(i) += xv * wv\($0);" }.joined(separator: " ") + " }")
                    } else {
                      w.line(
                        "if (iw0 + \(i * sw)L >= 0 && iw0 + \(i * sw)L < \(wd)L) { const float xv = \(pixel(i)); "
                          + (0..<kt).map { "acc\($0)_\(i) += xv * wv\($0);" }.joined(separator: " ") + " }")
                    }
                  }
                }
              }
            }
          }
        }
      }
      for j in 0..<kt {
        for i in 0..<t {
          let at = "(((n * \(shape.kb)L + kb + \(j)L) * \(shape.p)L + p) * \(shape.q)L + q0 + \(i)L) * \(b)L"
          w.line(BlockedKernels.store("acc\(j)_\(i)", at: at, epilogue: a.epilogue))
        }
      }
    }
  }

  /// Max pooling of a blocked input; padding never wins.
  func maxPool(_ node: Node, _ a: Pool2dAttributes, x xShape: [Int], _ w: inout CWriter) {
    let y = node.type.shape
    let (h, wd) = (xShape[2], xShape[3])
    w.line("const float *restrict x = a->in[0];")
    w.line("float *restrict y = a->out;")
    w.block("for (long plane = begin; plane < end; ++plane)") { w in
      w.block("for (long p = 0; p < \(y[2])L; ++p)") { w in
        w.block("for (long q = 0; q < \(y[3])L; ++q)") { w in
          w.line("vf m = (vf){0} - INFINITY;")
          w.block("for (long r = 0; r < \(a.kernel.h)L; ++r)") { w in
            w.line("const long ih = p * \(a.stride.h)L - \(a.padding.top)L + r * \(a.dilation.h)L;")
            w.line("if (ih < 0 || ih >= \(h)L) continue;")
            w.block("for (long s = 0; s < \(a.kernel.w)L; ++s)") { w in
              w.line("const long iw = q * \(a.stride.w)L - \(a.padding.left)L + s * \(a.dilation.w)L;")
              w.line("if (iw < 0 || iw >= \(wd)L) continue;")
              w.line("const vf v = *(const vf *)(x + ((plane * \(h)L + ih) * \(wd)L + iw) * \(b)L);")
              w.line("const vi more = v > m;")
              w.line("m = (vf)(((vi)v & more) | ((vi)m & ~more));")
            }
          }
          w.line("*(vf *)(y + ((plane * \(y[2])L + p) * \(y[3])L + q) * \(b)L) = m;")
        }
      }
    }
  }

  /// Global average pooling of a blocked input into (N,C,1,1), which is the plain layout; the
  /// result may go straight to a caller's buffer, so it is stored without assuming alignment.
  func globalAvgPool(_ node: Node, x xShape: [Int], _ w: inout CWriter) {
    let size = xShape[2] * xShape[3]
    w.line("const float *restrict x = a->in[0];")
    w.line("float *restrict y = a->out;")
    w.block("for (long plane = begin; plane < end; ++plane)") { w in
      w.line("vf sum = (vf){0};")
      w.line("for (long i = 0; i < \(size)L; ++i) sum += *(const vf *)(x + (plane * \(size)L + i) * \(b)L);")
      // y may be the caller's output buffer, which need not be vector-aligned.
      w.line("const vf mean = sum / (float)\(size);")
      w.line("memcpy(y + plane * \(b)L, &mean, sizeof mean);")
    }
  }

  /// `y = x·wᵀ + b` over output blocks `[begin, end)` of (n, ob); weights packed (O/B, I, B),
  /// the bias zero-padded to whole blocks; the last block stores only real outputs.
  func dense(_ node: Node, inputs: Int, _ w: inout CWriter) {
    let (outputs, blocks) = (node.type.shape[1], (node.type.shape[1] + b - 1) / b)
    w.line("const float *restrict x = a->in[0];")
    w.line("const float *restrict wp = a->in[1];")
    if node.operands.count == 3 { w.line("const float *restrict bias = a->in[2];") }
    w.line("float *restrict y = a->out;")
    w.block("for (long item = begin; item < end; ++item)") { w in
      w.line("const long n = item / \(blocks)L, ob = item % \(blocks)L;")
      w.line("vf acc0 = \(node.operands.count == 3 ? "*(const vf *)(bias + ob * \(b)L)" : "(vf){0}"), acc1 = (vf){0};")
      w.line("const float *xn = x + n * \(inputs)L;")
      w.line("const float *wo = wp + ob * \(inputs * b)L;")
      w.line("long i = 0;")
      w.block("for (; i + 1 < \(inputs)L; i += 2)") { w in
        w.line("acc0 += xn[i] * *(const vf *)(wo + i * \(b)L);")
        w.line("acc1 += xn[i + 1] * *(const vf *)(wo + (i + 1) * \(b)L);")
      }
      w.line("if (i < \(inputs)L) acc0 += xn[i] * *(const vf *)(wo + i * \(b)L);")
      w.line("acc0 += acc1;")
      w.line("const long valid = \(outputs)L - ob * \(b)L < \(b)L ? \(outputs)L - ob * \(b)L : \(b)L;")
      w.line("for (long k = 0; k < valid; ++k) y[n * \(outputs)L + ob * \(b)L + k] = acc0[k];")
    }
  }

  /// Plain (N,C,H,W) to blocked (`toBlocked`) or back, over planes (n, cb) in `[begin, end)`.
  func reorder(shape: [Int], toBlocked: Bool, _ w: inout CWriter) {
    let size = shape[2] * shape[3], cb = shape[1] / b
    w.line("const float *restrict x = a->in[0];")
    w.line("float *restrict y = a->out;")
    w.block("for (long plane = begin; plane < end; ++plane)") { w in
      w.line("const long n = plane / \(cb)L, cb = plane % \(cb)L;")
      w.block("for (long c = 0; c < \(b)L; ++c)") { w in
        let plain = "((n * \(shape[1])L) + cb * \(b)L + c) * \(size)L + i"
        let blocked = "(plane * \(size)L + i) * \(b)L + c"
        let (to, from) = toBlocked ? (blocked, plain) : (plain, blocked)
        w.line("for (long i = 0; i < \(size)L; ++i) y[\(to)] = x[\(from)];")
      }
    }
  }

  /// The store of one output vector `value` at float offset `at`, after the epilogue: the
  /// shortcut `res` added and ReLU applied as `epilogue` asks.
  static func store(_ value: String, at: String, epilogue: Epilogue) -> String {
    var v = value
    if epilogue.addsResidual { v += " + *(const vf *)(res + \(at))" }
    if epilogue == .relu || epilogue == .addReLU { v = "relu_v(\(v))" }
    return "*(vf *)(y + \(at)) = \(v);"
  }
}
