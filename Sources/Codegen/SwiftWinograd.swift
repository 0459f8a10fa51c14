import GraphIR

/// Winograd F(2×2, 3×3) in Swift: the plan and transforms of `Winograd` (chunks of tiles,
/// groups of output-channel blocks, weights transformed at compile time), with the 4×4
/// transforms unrolled into `VF` locals and the products `M` kept in a per-call scratch
/// buffer beside the transformed input `V`.
struct SwiftWinograd {
  let target: Target
  var b: Int { target.block! }

  /// The kernel body over work items `[begin, end)`.
  func conv(_ node: Node, _ a: Conv2dAttributes, x xShape: [Int], _ w: inout CWriter) {
    let plan = Winograd(target: target)
    let y = node.type.shape
    let (c, h, wd, k, p, q) = (xShape[1], xShape[2], xShape[3], y[1], y[2], y[3])
    let (cb, kb) = (c / b, k / b)
    let tilesW = (q + 1) / 2
    let tiles = ((p + 1) / 2) * tilesW
    let chunk = plan.chunk(node)
    let chunks = (tiles + chunk - 1) / chunk
    let hasBias = node.operands.count == (a.epilogue.addsResidual ? 4 : 3)
    let groups = plan.channelGroups(node)
    SwiftBlockedKernels.bind(
      ["x", "u", hasBias ? "bias" : nil, a.epilogue.addsResidual ? "res" : nil].filter { $0 != nil }, &w)
    let vStride = cb * chunk * b
    w.line("let v = UnsafeMutablePointer<Float>.allocate(capacity: \(16 * vStride + 16 * chunk * b))")
    w.line("defer { v.deallocate() }")
    w.line("let m = v + \(16 * vStride)")
    w.block("for item in begin..<end") { w in
      w.line(
        "let group = item % \(groups), n = item / \(groups) / \(chunks), t0 = item / \(groups) % \(chunks) * \(chunk)")
      w.line("let count = min(\(tiles) - t0, \(chunk))")
      // Input transform: V[ξ][cb][t] = (Bᵀ d B)[ξ] for each tile's 4×4 input window.
      w.block("for cb in 0..<\(cb)") { w in
        w.line("let xc = x + (n * \(cb) + cb) * \(h * wd * b)")
        w.block("for t in 0..<count") { w in
          w.line(
            "let ih0 = (t0 + t) / \(tilesW) * 2 - \(a.padding.top), iw0 = (t0 + t) % \(tilesW) * 2 - \(a.padding.left)")
          w.line("let x0 = (ih0 * \(wd) + iw0) * \(b)")
          for i in 0..<4 { w.line("let row\(i) = ih0 >= \(-i) && ih0 < \(h - i)") }
          for j in 0..<4 { w.line("let col\(j) = iw0 >= \(-j) && iw0 < \(wd - j)") }
          for i in 0..<4 {
            for j in 0..<4 {
              w.line("let d\(i)\(j) = row\(i) && col\(j) ? vload(xc, x0 + \((i * wd + j) * b)) : VF()")
            }
          }
          for j in 0..<4 {
            w.line("let s0\(j) = d0\(j) - d2\(j), s1\(j) = d1\(j) + d2\(j)")
            w.line("let s2\(j) = d2\(j) - d1\(j), s3\(j) = d1\(j) - d3\(j)")
          }
          w.line("let vt = v + (cb * \(chunk) + t) * \(b)")
          for i in 0..<4 {
            w.line("vstore(s\(i)0 - s\(i)2, vt, \((i * 4 + 0) * vStride))")
            w.line("vstore(s\(i)1 + s\(i)2, vt, \((i * 4 + 1) * vStride))")
            w.line("vstore(s\(i)2 - s\(i)1, vt, \((i * 4 + 2) * vStride))")
            w.line("vstore(s\(i)1 - s\(i)3, vt, \((i * 4 + 3) * vStride))")
          }
        }
      }
      w.block("for kb in group * \(kb / groups)..<(group + 1) * \(kb / groups)") { w in
        w.block("for xi in 0..<16") { w in
          for t in 0..<chunk { w.line("var acc\(t) = VF()") }
          w.line("let uk = u + (xi * \(kb) + kb) * \(cb * b * b)")
          w.line("let vx = v + xi * \(vStride)")
          w.block("for cb in 0..<\(cb)") { w in
            w.block("for ch in 0..<\(b)") { w in
              w.line("let wv = vload(uk, (cb &* \(b) &+ ch) &* \(b))")
              w.line("let vc = vx + (cb &* \(chunk * b) &+ ch)")
              for t in 0..<chunk { w.line("acc\(t).addProduct(vc[\(t * b)], wv)") }
            }
          }
          w.line("let mx = m + xi * \(chunk * b)")
          for t in 0..<chunk { w.line("vstore(acc\(t), mx, \(t * b))") }
        }
        // Output transform: Y = Aᵀ M A, then the epilogue, for each tile of the chunk.
        let bias = hasBias ? " + biasK" : ""
        if hasBias { w.line("let biasK = vload(bias, kb * \(b))") }
        w.block("for t in 0..<count") { w in
          w.line("let oh = (t0 + t) / \(tilesW) * 2, ow = (t0 + t) % \(tilesW) * 2")
          w.line("let mt = m + t * \(b)")
          for xi in 0..<16 { w.line("let m\(xi) = vload(mt, \(xi * chunk * b))") }
          for j in 0..<4 {
            w.line("let r0\(j) = m\(j) + m\(4 + j) + m\(8 + j), r1\(j) = m\(4 + j) - m\(8 + j) - m\(12 + j)")
          }
          for i in 0..<2 {
            w.line("let out\(i)0 = r\(i)0 + r\(i)1 + r\(i)2\(bias), out\(i)1 = r\(i)1 - r\(i)2 - r\(i)3\(bias)")
          }
          w.line("let out = (((n * \(kb) + kb) * \(p) + oh) * \(q) + ow) * \(b)")
          w.line("let yo = y + out" + (a.epilogue.addsResidual ? ", ro = res + out" : ""))
          w.line("let secondRow = oh + 1 < \(p), secondColumn = ow + 1 < \(q)")
          for i in 0..<2 {
            for j in 0..<2 {
              let store = SwiftBlockedKernels.store("out\(i)\(j)", at: "\((i * q + j) * b)", epilogue: a.epilogue)
              let conditions = (i == 1 ? ["secondRow"] : []) + (j == 1 ? ["secondColumn"] : [])
              w.line(conditions.isEmpty ? store : "if \(conditions.joined(separator: " && ")) { \(store) }")
            }
          }
        }
      }
    }
  }
}
