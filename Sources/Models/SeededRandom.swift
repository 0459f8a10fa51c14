/// A small deterministic generator (SplitMix64): the same seed gives the same weights and
/// inputs on every machine and Swift version, which `SystemRandomNumberGenerator` does not.
public struct SeededRandom: RandomNumberGenerator, Sendable {
  private var state: UInt64

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

  /// A float uniformly distributed in `[low, high)`.
  public mutating func uniform(_ low: Float, _ high: Float) -> Float {
    let unit = Float(next() >> 40) * (1.0 / 16_777_216.0)
    return low + (high - low) * unit
  }

  /// `count` floats uniform in `[low, high)`.
  public mutating func uniform(count: Int, _ low: Float, _ high: Float) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
      for i in 0..<count { buffer[i] = uniform(low, high) }
      initialized = count
    }
  }

  /// `count` floats from the standard normal distribution (Box–Muller).
  public mutating func normal(count: Int) -> [Float] {
    var values: [Float] = []
    values.reserveCapacity(count + 1)
    while values.count < count {
      let u1 = max(Double(next() >> 11) * 0x1p-53, 0x1p-53)
      let u2 = Double(next() >> 11) * 0x1p-53
      let radius = (-2 * log(u1)).squareRoot()
      values.append(Float(radius * cos(2 * Double.pi * u2)))
      values.append(Float(radius * sin(2 * Double.pi * u2)))
    }
    return Array(values.prefix(count))
  }
}

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
