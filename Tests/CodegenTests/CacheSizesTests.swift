import Foundation
import Testing

@testable import Codegen

/// The caches a plan is sized for: read from a cache description like Linux's, or the table.
@Suite struct CacheSizesTests {
  /// A folder laid out like `/sys/devices/system/cpu/cpu0/cache`, one `indexN` per cache.
  func cacheFolder(_ caches: [(level: String, type: String, size: String)]) throws -> String {
    let folder = try scratchDirectory()
    for (i, cache) in caches.enumerated() {
      let index = folder + "/index\(i)"
      try FileManager.default.createDirectory(atPath: index, withIntermediateDirectories: true)
      for (name, text) in [("level", cache.level), ("type", cache.type), ("size", cache.size)] {
        try (text + "\n").write(toFile: index + "/" + name, atomically: true, encoding: .utf8)
      }
    }
    return folder
  }

  @Test func readsTheDataCachesOfEachLevel() throws {
    let folder = try cacheFolder([
      ("1", "Data", "48K"), ("1", "Instruction", "32K"), ("2", "Unified", "2048K"), ("3", "Unified", "105M"),
    ])
    let caches = try #require(CacheSizes.native(folder: folder))
    #expect(caches.l1d == 48 << 10 && caches.l2 == 2 << 20 && caches.l3 == 105 << 20)
    #expect(caches.description == "L1d 48 KB, L2 2 MB, L3 105 MB (read from \(folder))")
  }

  @Test func refusesIncompleteOrGarbledDescriptions() throws {
    // No L3, a size that is not a number, a size of zero, an absurd size, no folder at all.
    for caches in [
      [("1", "Data", "32K"), ("2", "Unified", "512K")],
      [("1", "Data", "32K"), ("2", "Unified", "lots"), ("3", "Unified", "32M")],
      [("1", "Data", "0K"), ("2", "Unified", "512K"), ("3", "Unified", "32M")],
      [("1", "Data", "32K"), ("2", "Unified", "512K"), ("3", "Unified", "99999999999999G")],
    ] {
      #expect(CacheSizes.native(folder: try cacheFolder(caches)) == nil, "\(caches)")
    }
    #expect(CacheSizes.native(folder: "/nonexistent/cache") == nil)
  }

  @Test func parsesKernelSizes() {
    #expect(CacheSizes.bytes("32K") == 32768)
    #expect(CacheSizes.bytes("32768K") == 32 << 20)
    #expect(CacheSizes.bytes("1M") == 1 << 20)
    #expect(CacheSizes.bytes("4096") == 4096)
    for bad in ["", "K", "-4K", "4KB", "1.5M", "x"] { #expect(CacheSizes.bytes(bad) == nil, "\(bad)") }
  }

  /// The table and the chunk budget it gives: half of a 32 KB L1d, the size every blocked
  /// plan was measured with.
  @Test func tableSizesTheChunksAsMeasured() {
    for target in Target.allCases {
      let table = CacheSizes.table(for: target)
      #expect(table.l1d == 32 << 10 && table.l2 >= 256 << 10 && table.l3 >= table.l2, "\(target)")
      #expect(table.source == "table for \(target.rawValue)")
    }
    #expect(ConvPlan.chunkFloats(l1d: 32 << 10) == 4096)
    #expect(ConvPlan.chunkFloats(l1d: 48 << 10) == 6144)
  }
}
