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
/// registers over the chunk's tiles, and `Aᵀ M A` plus bias, shortcut and ReLU is stored.
struct Winograd {
  let target: Target
  var b: Int { target.block! }

  /// Whether `node` (a conv2d reading `x`) runs as Winograd on `target`: 3×3, stride 1, at
  /// least 64 input channels (fewer leave the transforms too large a share), and maps of
  /// at least 12×12 (on smaller ones the 2×2 tiles waste too much of the registers and of the
  /// map's border; the direct kernel is faster there, as measured on 7×7).
  static func applies(_ a: Conv2dAttributes, weight: [Int], x: [Int], target: Target) -> Bool {
    guard let b = target.block else { return false }
    return weight[2] == 3 && weight[3] == 3 && a.stride == .square(1) && a.dilation == .square(1) && a.groups == 1
      && x[1] % b == 0 && weight[0] % b == 0 && x[1] >= 64 && x[2] >= 12 && x[3] >= 12
  }

  /// `U = G g Gᵀ` for every (k, c), packed (16, K/B, C/B, B[c], B[k]).
  static func transformWeights(_ w: Tensor, block b: Int) -> Tensor {
    let (k, c) = (w.type.shape[0], w.type.shape[1])
    let g: [[Double]] = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]
    var data = [Float](repeating: 0, count: 16 * k * c)
    for ko in 0..<k {
      for ci in 0..<c {
        let f = (0..<3).map { r in (0..<3).map { s in Double(w.data[((ko * c + ci) * 3 + r) * 3 + s]) } }
        // G f (4×3), then (G f) Gᵀ (4×4).
        let gf = (0..<4).map { i in (0..<3).map { j in (0..<3).reduce(0.0) { $0 + g[i][$1] * f[$1][j] } } }
        for i in 0..<4 {
          for j in 0..<4 {
            let u = (0..<3).reduce(0.0) { $0 + gf[i][$1] * g[j][$1] }
            let xi = i * 4 + j
            data[((((xi * (k / b) + ko / b) * (c / b) + ci / b) * b + ci % b) * b) + ko % b] = Float(u)
          }
        }
      }
    }
    return Tensor(type: TensorType([data.count]), data: data)
  }

  /// Tiles per chunk: at most the accumulators one (ξ, output block) keeps in registers,
  /// and as even a split of the map's tiles as that allows.
  func chunk(_ node: Node) -> Int {
    let tiles = ((node.type.shape[2] + 1) / 2) * ((node.type.shape[3] + 1) / 2)
    let chunks = (tiles + target.maxTile - 1) / target.maxTile
    return (tiles + chunks - 1) / chunks
  }

  /// Groups the output-channel blocks are split into, so that small maps (few chunks of
  /// tiles) still give every thread work; each group transforms its chunk's input again.
  func channelGroups(_ node: Node) -> Int {
    let y = node.type.shape
    let chunk = self.chunk(node)
    let chunks = y[0] * ((((y[2] + 1) / 2) * ((y[3] + 1) / 2) + chunk - 1) / chunk)
    let kb = y[1] / b
    guard chunks < 16 else { return 1 }
    return [8, 4, 2].first { kb % $0 == 0 } ?? 1
  }

  /// Units of parallel work: (image, chunk of tiles, group of output-channel blocks).
  func workItems(_ node: Node) -> Int {
    let y = node.type.shape
    let tiles = ((y[2] + 1) / 2) * ((y[3] + 1) / 2)
    let chunk = self.chunk(node)
    return y[0] * ((tiles + chunk - 1) / chunk) * channelGroups(node)
  }

  /// The kernel body over work items `[begin, end)`.
  func conv(_ node: Node, _ a: Conv2dAttributes, x xShape: [Int], _ w: inout CWriter) {
    let y = node.type.shape
    let (c, h, wd, k, p, q) = (xShape[1], xShape[2], xShape[3], y[1], y[2], y[3])
    let (cb, kb) = (c / b, k / b)
    let (tilesH, tilesW) = ((p + 1) / 2, (q + 1) / 2)
    let tiles = tilesH * tilesW
    let chunk = self.chunk(node)
    let chunks = (tiles + chunk - 1) / chunk
    let hasBias = node.operands.count == (a.epilogue.addsResidual ? 4 : 3)
    let groups = channelGroups(node)
    w.line("const float *restrict x = a->in[0];")
    w.line("const float *restrict u = a->in[1];")
    if hasBias { w.line("const float *restrict bias = a->in[2];") }
    if a.epilogue.addsResidual { w.line("const float *restrict res = a->in[\(hasBias ? 3 : 2)];") }
    w.line("float *restrict y = a->out;")
    w.line("float *v = aligned_alloc(64, sizeof(float) * \(16 * cb * chunk * b)L);")
    w.line("if (!v) abort();")
    w.block("for (long item = begin; item < end; ++item)") { w in
      w.line(
        "const long group = item % \(groups)L, n = item / \(groups)L / \(chunks)L, t0 = item / \(groups)L % \(chunks)L * \(chunk)L;"
      )
      w.line("const long count = \(tiles)L - t0 < \(chunk)L ? \(tiles)L - t0 : \(chunk)L;")
      // Input transform: V[ξ][cb][t] = (Bᵀ d B)[ξ] for each tile's 4×4 input window.
      w.block("for (long cb = 0; cb < \(cb)L; ++cb)") { w in
        w.block("for (long t = 0; t < count; ++t)") { w in
          w.line(
            "const long ih0 = (t0 + t) / \(tilesW)L * 2 - \(a.padding.top)L, iw0 = (t0 + t) % \(tilesW)L * 2 - \(a.padding.left)L;"
          )
          w.line("const float *xc = x + (n * \(cb)L + cb) * \(h * wd * b)L;")
          w.line("vf d[4][4];")
          w.block("for (int i = 0; i < 4; ++i)") { w in
            w.block("for (int j = 0; j < 4; ++j)") { w in
              w.line("const long ih = ih0 + i, iw = iw0 + j;")
              w.line(
                "d[i][j] = ih >= 0 && ih < \(h)L && iw >= 0 && iw < \(wd)L ? *(const vf *)(xc + (ih * \(wd)L + iw) * \(b)L) : (vf){0};"
              )
            }
          }
          w.line("vf s[4][4];")
          w.block("for (int j = 0; j < 4; ++j)") { w in
            w.line("s[0][j] = d[0][j] - d[2][j]; s[1][j] = d[1][j] + d[2][j];")
            w.line("s[2][j] = d[2][j] - d[1][j]; s[3][j] = d[1][j] - d[3][j];")
          }
          w.line("float *vt = v + (cb * \(chunk)L + t) * \(b)L;")
          w.block("for (int i = 0; i < 4; ++i)") { w in
            let stride = "\(cb * chunk * b)L"
            w.line("*(vf *)(vt + (i * 4 + 0) * \(stride)) = s[i][0] - s[i][2];")
            w.line("*(vf *)(vt + (i * 4 + 1) * \(stride)) = s[i][1] + s[i][2];")
            w.line("*(vf *)(vt + (i * 4 + 2) * \(stride)) = s[i][2] - s[i][1];")
            w.line("*(vf *)(vt + (i * 4 + 3) * \(stride)) = s[i][1] - s[i][3];")
          }
        }
      }
      w.block("for (long kb = group * \(kb / groups)L; kb < (group + 1) * \(kb / groups)L; ++kb)") { w in
        w.line("vf m[16][\(chunk)];")
        w.block("for (int xi = 0; xi < 16; ++xi)") { w in
          for t in 0..<chunk { w.line("vf acc\(t) = (vf){0};") }
          w.line("const float *uk = u + ((long)xi * \(kb)L + kb) * \(cb * b * b)L;")
          w.line("const float *vx = v + (long)xi * \(cb * chunk * b)L;")
          w.block("for (long cb = 0; cb < \(cb)L; ++cb)") { w in
            w.block("for (long ch = 0; ch < \(b)L; ++ch)") { w in
              w.line("const vf wv = *(const vf *)(uk + (cb * \(b)L + ch) * \(b)L);")
              w.line("const float *vc = vx + cb * \(chunk * b)L + ch;")
              for t in 0..<chunk { w.line("acc\(t) += vc[\(t * b)] * wv;") }
            }
          }
          for t in 0..<chunk { w.line("m[xi][\(t)] = acc\(t);") }
        }
        // Output transform: Y = Aᵀ M A, then the epilogue, for each tile of the chunk.
        w.block("for (long t = 0; t < count; ++t)") { w in
          w.line("const long oh = (t0 + t) / \(tilesW)L * 2, ow = (t0 + t) % \(tilesW)L * 2;")
          w.line("vf r[2][4];")
          w.block("for (int j = 0; j < 4; ++j)") { w in
            w.line("r[0][j] = m[0 + j][t] + m[4 + j][t] + m[8 + j][t];")
            w.line("r[1][j] = m[4 + j][t] - m[8 + j][t] - m[12 + j][t];")
          }
          w.block("for (int i = 0; i < 2; ++i)") { w in
            w.line("const vf out[2] = {r[i][0] + r[i][1] + r[i][2], r[i][1] - r[i][2] - r[i][3]};")
            w.block("for (int j = 0; j < 2; ++j)") { w in
              w.line("if (oh + i >= \(p)L || ow + j >= \(q)L) continue;")
              w.line("const long at = (((n * \(kb)L + kb) * \(p)L + oh + i) * \(q)L + ow + j) * \(b)L;")
              let value = "out[j]" + (hasBias ? " + *(const vf *)(bias + kb * \(b)L)" : "")
              w.line(BlockedKernels.store(value, at: "at", epilogue: a.epilogue))
            }
          }
        }
      }
    }
    w.line("free(v);")
  }
}
