import Models

/// The generator's random choices, from a seeded SplitMix64 so that a seed names the same
/// graph on every machine (no use of the standard library's unspecified sampling).
struct Dice {
  private var random: SeededRandom

  /// Dice for `seed`.
  init(seed: UInt64) {
    random = SeededRandom(seed: seed)
  }

  /// A uniform integer in `range`.
  mutating func int(_ range: ClosedRange<Int>) -> Int {
    range.lowerBound + Int(random.next() % UInt64(range.count))
  }

  /// True with probability `p`.
  mutating func chance(_ p: Double) -> Bool {
    Double(random.next() >> 11) * 0x1p-53 < p
  }

  /// One element of a non-empty array.
  mutating func pick<T>(_ items: [T]) -> T {
    precondition(!items.isEmpty, "picking from nothing")
    return items[int(0...(items.count - 1))]
  }

  /// A random order of `0..<count` (Fisher–Yates).
  mutating func permutation(_ count: Int) -> [Int] {
    var order = Array(0..<count)
    for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, int(0...i)) }
    return order
  }

  /// `count` floats uniform in `[low, high)`.
  mutating func floats(_ count: Int, _ low: Float, _ high: Float) -> [Float] {
    random.uniform(count: count, low, high)
  }

  /// The next raw 64 bits (to seed something else).
  mutating func bits() -> UInt64 { random.next() }
}
