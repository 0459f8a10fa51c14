import Formats

/// A small deterministic generator (`ResnetcSplitMix`, shared with the compiled programs): the
/// same seed gives the same weights and inputs on every machine and Swift version, which
/// `SystemRandomNumberGenerator` does not.
public struct SeededRandom: RandomNumberGenerator, Sendable {
  private var generator: ResnetcSplitMix

  /// Starts the sequence for `seed`.
  public init(seed: UInt64) {
    generator = ResnetcSplitMix(seed: seed)
  }

  /// The next 64 random bits.
  public mutating func next() -> UInt64 { generator.next() }

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

  /// `count` floats from the standard normal distribution (Box–Muller), the numbers of
  /// `--input-seed`.
  public mutating func normal(count: Int) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
      if let base = buffer.baseAddress { generator.fillNormal(base, count: count) }
      initialized = count
    }
  }
}
