#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// The seeded numbers of resnetc (SplitMix64, and standard-normal floats by Box–Muller from
/// it), the one definition that the built-in models' weights, `resnetc run --input-seed` and
/// every compiled Swift program's `--input-seed` use: this file is compiled into resnetc and
/// copied verbatim into each program. The C programs' `rng_next` and `fill_normal` (in
/// `Runtime/Program/resnetc_main.c`) compute the same numbers, and a test compares them.
///
/// The same seed gives the same numbers on every machine and Swift version, which
/// `SystemRandomNumberGenerator` does not.
public struct ResnetcSplitMix: Sendable {
  /// The generator's whole state.
  public var state: UInt64

  /// Starts the sequence for `seed`.
  public init(seed: UInt64) {
    state = seed
  }

  /// The next 64 random bits.
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// Fills `count` floats at `out` from the standard normal distribution: each pair of draws
  /// gives two floats (the second dropped when `count` is odd).
  public mutating func fillNormal(_ out: UnsafeMutablePointer<Float>, count: Int) {
    var i = 0
    while i < count {
      let u1 = max(Double(next() >> 11) * 0x1p-53, 0x1p-53)
      let u2 = Double(next() >> 11) * 0x1p-53
      let radius = sqrt(-2.0 * log(u1))
      out[i] = Float(radius * cos(2.0 * Double.pi * u2))
      i += 1
      if i < count {
        out[i] = Float(radius * sin(2.0 * Double.pi * u2))
        i += 1
      }
    }
  }
}
