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
    case .winogradPairs: return 8 * shape[0] * shape[1]
    case .groupedConv(let b, let g):
      return shape[0] * ConvPlan.groupBlocks(channels: shape[0], groups: g, block: b) * b * shape[2] * shape[3]
    case .dense(let b): return (shape[0] + b - 1) / b * shape[1] * b
    case .paddedBias(let b): return (source.data.count + b - 1) / b * b
    case .pairs: return shape[0] * ((shape[1] + 1) / 2) * shape[2] * shape[3]
    case .quads: return shape[0] * ((shape[1] + 3) / 4) * shape[2] * shape[3]
    case .tapPairs: return shape[0] * ((shape[3] * shape[1] + 1) / 2) * shape[2]
    case .tapQuads: return shape[0] * ((shape[3] * shape[1] + 3) / 4) * shape[2]
    case .bytes: return (source.data.count + 3) / 4
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
    case .winogradPairs(let b): QWinograd.transformWeights(source, block: b, into: out)
    case .bytes(let offset):
      for i in 0..<out.count {
        var bits: UInt32 = 0
        for j in 0..<4 where 4 * i + j < w.count {
          bits |= (UInt32(truncatingIfNeeded: Int32(w[4 * i + j]) + Int32(offset)) & 0xFF) << (8 * j)
        }
        out[i] = Float(bitPattern: bits)
      }
    case .pairs(let b), .quads(let b), .tapPairs(let b), .tapQuads(let b):
      // Groups of `g` input channels, each a `32 / g`-bit two's complement field of one
      // float's bits (the lowest channel lowest), zero past the last channel. The whole
      // numbers are those of an i8 or u8 constant: they fit in 16 bits, and i8 ones in 8.
      // Tap packings group a filter row's S·C elements as the channels of one tap: element
      // `s·C + c` is w[k, c, r, s].
      let (g, taps) =
        switch packing {
        case .pairs: (2, false)
        case .tapPairs: (2, true)
        case .tapQuads: (4, true)
        default: (4, false)
        }
      let (k, c, r, sw) = (shape[0], shape[1], shape[2], shape[3])
      let (channels, s) = taps ? (sw * c, 1) : (c, sw)
      let weight = { (ko: Int, channel: Int, ri: Int, si: Int) -> Float in
        taps ? w[((ko * c + channel % c) * r + ri) * sw + channel / c] : w[((ko * c + channel) * r + ri) * sw + si]
      }
      let (groups, width) = ((channels + g - 1) / g, 32 / g)
      let mask: UInt32 = (1 << width) - 1
      for ko in 0..<k {
        for group in 0..<groups {
          for ri in 0..<r {
            for si in 0..<s {
              var bits: UInt32 = 0
              for j in 0..<g where g * group + j < channels {
                let v = Int32(weight(ko, g * group + j, ri, si))
                bits |= (UInt32(bitPattern: v) & mask) << (width * j)
              }
              out[((((ko / b) * groups + group) * r + ri) * s + si) * b + ko % b] = Float(bitPattern: bits)
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
