import GraphIR

/// A constant of the weights file: a graph tensor as it is (`packing` nil) or repacked for
/// the kernel that reads it. It is packed only when the file is laid out, straight into the
/// file's data, so the compiler never holds a packed copy beside the file.
struct WeightsEntry: Sendable {
  let buffer: Buffer
  let source: Tensor
  let packing: Packing?

  /// The floats it takes in the file.
  var count: Int {
    let shape = source.type.shape
    switch packing {
    case nil, .conv, .stem: return source.data.count
    case .winograd: return 16 * shape[0] * shape[1]
    case .groupedConv(let b, let g):
      return shape[0] * ConvPlan.groupBlocks(channels: shape[0], groups: g, block: b) * b * shape[2] * shape[3]
    case .dense(let b): return (shape[0] + b - 1) / b * shape[1] * b
    case .paddedBias(let b): return (source.data.count + b - 1) / b * b
    case .pairs: return shape[0] * ((shape[1] + 1) / 2) * shape[2] * shape[3]
    case .quads: return shape[0] * ((shape[1] + 3) / 4) * shape[2] * shape[3]
    }
  }

  /// Writes its `count` floats into `out`.
  func write(into out: UnsafeMutableBufferPointer<Float>) {
    let w = source.data
    let shape = source.type.shape
    switch packing {
    case nil: _ = out.initialize(from: w)
    case .paddedBias:
      _ = out.initialize(from: w)
      for i in w.count..<out.count { out[i] = 0 }
    case .dense(let b):
      // (O,I) as (ceil(O/B), I, B), zero past O.
      let (o, i) = (shape[0], shape[1])
      out.initialize(repeating: 0)
      for output in 0..<o {
        for inner in 0..<i { out[((output / b) * i + inner) * b + output % b] = w[output * i + inner] }
      }
    case .conv(let b), .stem(let b):
      // (K,C,R,S) as (K/B, C/B, R, S, B[c], B[k]), or for a plain-input stem (K/B, R, S, C, B[k]).
      let plainInput = if case .stem = packing { true } else { false }
      let (k, c, r, s) = (shape[0], shape[1], shape[2], shape[3])
      for ko in 0..<k {
        let (kb, kk) = (ko / b, ko % b)
        for ci in 0..<c {
          for ri in 0..<r {
            for si in 0..<s {
              let index =
                plainInput
                ? (((kb * r + ri) * s + si) * c + ci) * b + kk
                : (((((kb * (c / b) + ci / b) * r + ri) * s + si) * b + ci % b) * b + kk)
              out[index] = w[((ko * c + ci) * r + ri) * s + si]
            }
          }
        }
      }
    case .winograd(let b): Winograd.transformWeights(source, block: b, into: out)
    case .pairs(let b):
      let (k, c, r, s) = (shape[0], shape[1], shape[2], shape[3])
      let c2 = (c + 1) / 2
      // The whole numbers of an integer constant (Lowering.floats), at most 2^24 in
      // magnitude; i8 and u8 weights fit in an int16.
      func half(_ ko: Int, _ ci: Int, _ ri: Int, _ si: Int) -> UInt32 {
        guard ci < c else { return 0 }
        return UInt32(UInt16(bitPattern: Int16(w[((ko * c + ci) * r + ri) * s + si])))
      }
      for ko in 0..<k {
        for pair in 0..<c2 {
          for ri in 0..<r {
            for si in 0..<s {
              let bits = half(ko, 2 * pair, ri, si) | half(ko, 2 * pair + 1, ri, si) << 16
              out[((((ko / b) * c2 + pair) * r + ri) * s + si) * b + ko % b] = Float(bitPattern: bits)
            }
          }
        }
      }
    case .quads(let b):
      let (k, c, r, s) = (shape[0], shape[1], shape[2], shape[3])
      let c4 = (c + 3) / 4
      // Signed bytes (i8 weights), zero past the last channel.
      func byte(_ ko: Int, _ ci: Int, _ ri: Int, _ si: Int) -> UInt32 {
        guard ci < c else { return 0 }
        return UInt32(UInt8(bitPattern: Int8(w[((ko * c + ci) * r + ri) * s + si])))
      }
      for ko in 0..<k {
        for quad in 0..<c4 {
          for ri in 0..<r {
            for si in 0..<s {
              var bits: UInt32 = 0
              for j in 0..<4 { bits |= byte(ko, 4 * quad + j, ri, si) << (8 * j) }
              out[((((ko / b) * c4 + quad) * r + ri) * s + si) * b + ko % b] = Float(bitPattern: bits)
            }
          }
        }
      }
    case .groupedConv(let b, let g):
      let (k, cg, r, s) = (shape[0], shape[1], shape[2], shape[3])
      let n = ConvPlan.groupBlocks(channels: k, groups: g, block: b)
      out.initialize(repeating: 0)
      for ko in 0..<k {
        let (kb, kk) = (ko / b, ko % b)
        for local in 0..<cg {
          // The input channel of the same group, and its place among the blocks kb reads.
          let ci = ko / (k / g) * cg + local
          let cbi = ci / b - ConvPlan.firstGroupBlock(kb, channels: k, groups: g, block: b)
          for ri in 0..<r {
            for si in 0..<s {
              out[(((((kb * n + cbi) * r + ri) * s + si) * b + ci % b) * b + kk)] =
                w[((ko * cg + local) * r + ri) * s + si]
            }
          }
        }
      }
    }
  }
}
