import Foundation

/// The data caches a program's plans are sized for, in bytes per core (L3: per cache as the
/// CPU reports it). For `--target native` they are read from the CPU (Linux's
/// `/sys/devices/system/cpu/cpu0/cache`); for a named target, or where that cannot be read,
/// they come from a table of the smallest caches of the CPUs of that instruction set.
///
/// Only the L1 data cache sizes a plan today: the input-channel chunks of blocks-outer
/// convolutions keep their weights in half of it (`ConvPlan.chunkBlocks`). L2 and L3 are
/// reported beside it.
public struct CacheSizes: Hashable, Sendable {
  public let l1d: Int
  public let l2: Int
  public let l3: Int
  /// Where the sizes came from, for messages: `read from /sys/...` or `table for avx2`.
  public let source: String

  public init(l1d: Int, l2: Int, l3: Int, source: String) {
    self.l1d = l1d
    self.l2 = l2
    self.l3 = l3
    self.source = source
  }

  /// The table's sizes for `target`: 32 KB L1d (every AVX2 and AVX-512 core from Haswell and
  /// Zen 1 on has at least that), 256 KB L2 (Haswell to Skylake client; Zen has 512 KB, the
  /// AVX-512 server cores 1–2 MB) and 8 MB L3.
  public static func table(for target: Target) -> CacheSizes {
    switch target {
    case .generic, .avx2: CacheSizes(l1d: 32 << 10, l2: 256 << 10, l3: 8 << 20, source: "table for \(target.rawValue)")
    case .avx512, .avx512vnni:
      CacheSizes(l1d: 32 << 10, l2: 1 << 20, l3: 8 << 20, source: "table for \(target.rawValue)")
    }
  }

  /// The sizes of this machine's first core's caches, from the kernel's cache description in
  /// `folder` (one `indexN` folder per cache with `level`, `type` and `size`); nil unless the L1
  /// data, L2 and L3 caches are all there with sizes that parse.
  public static func native(folder: String = "/sys/devices/system/cpu/cpu0/cache") -> CacheSizes? {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
    var sizes: [String: Int] = [:]
    for entry in entries where entry.hasPrefix("index") {
      func field(_ name: String) -> String? {
        (try? String(contentsOfFile: folder + "/" + entry + "/" + name, encoding: .utf8))?
          .trimmingCharacters(in: .whitespacesAndNewlines)
      }
      guard let level = field("level"), let type = field("type"), let size = field("size").flatMap(bytes) else {
        continue
      }
      switch (level, type) {
      case ("1", "Data"), ("2", "Unified"), ("3", "Unified"): sizes[level] = size
      default: continue
      }
    }
    guard let l1d = sizes["1"], let l2 = sizes["2"], let l3 = sizes["3"] else { return nil }
    return CacheSizes(l1d: l1d, l2: l2, l3: l3, source: "read from \(folder)")
  }

  /// The bytes of a size as the kernel writes it: `32K`, `1024K`, `32M`, or a plain count.
  static func bytes(_ text: String) -> Int? {
    let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
    let (digits, unit) = text.last.flatMap { units[$0] }.map { (text.dropLast(), $0) } ?? (Substring(text), 1)
    guard let count = Int(digits), count > 0, count <= (1 << 40) / unit else { return nil }
    return count * unit
  }

  /// `L1d 32 KB, L2 512 KB, L3 32 MB (read from ...)`.
  public var description: String {
    func size(_ bytes: Int) -> String { bytes >= 1 << 20 ? "\(bytes >> 20) MB" : "\(bytes >> 10) KB" }
    return "L1d \(size(l1d)), L2 \(size(l2)), L3 \(size(l3)) (\(source))"
  }
}
