import Foundation
import GraphIR

/// The binary file of a compiled model's constants, loaded by the generated program.
///
/// Layout (little-endian): a 64-byte header — the magic `RSNCWT01`, the data size in bytes
/// (u64), the checksum of the data (u64, FNV-1a over its 64-bit words), the number of
/// tensors (u64), zeros —
/// then the data: each constant's floats at a 64-byte-aligned offset, in graph order.
/// The program knows the size and checksum it was compiled for and refuses any other file.
public struct WeightsBlob: Sendable {
  /// The magic at the start of the file.
  public static let magic = Array("RSNCWT01".utf8)
  /// Header size in bytes.
  public static let headerBytes = 64

  /// Each constant buffer's offset in floats from the start of the data.
  public let offsets: [Buffer: Int]
  /// The data section as the file holds it: little-endian floats (byte-swapped on a
  /// big-endian host).
  let floats: [Float]
  /// FNV-1a over the data's little-endian 64-bit words.
  public let checksum: UInt64

  /// The data section's size in bytes.
  public var byteCount: Int { floats.count * 4 }

  /// Lays out `graph`'s constants.
  public init(graph: Graph) {
    self.init(
      entries: graph.constants.entries.map {
        WeightsEntry(buffer: .constant($0.name), source: $0.constant, packing: nil)
      }
    )
  }

  /// Lays out `entries` in order, each packed straight into the data at a 64-byte-aligned
  /// offset, zeros between.
  init(entries: [WeightsEntry]) {
    var offsets: [Buffer: Int] = [:]
    var starts: [Int] = []
    var end = 0
    for entry in entries {
      starts.append(end)
      offsets[entry.buffer] = end
      end = MemoryPlan.aligned(4 * (end + entry.count)) / 4
    }
    let floats = [Float](unsafeUninitializedCapacity: end) { out, initialized in
      out.initialize(repeating: 0)
      for (entry, start) in zip(entries, starts) {
        let part = UnsafeMutableBufferPointer(rebasing: out[start..<start + entry.count])
        entry.write(into: part)
        #if _endian(big)
          for i in part.indices { part[i] = Float(bitPattern: part[i].bitPattern.byteSwapped) }
        #endif
      }
      initialized = end
    }
    self.offsets = offsets
    self.floats = floats
    checksum = floats.withUnsafeBytes(WeightsBlob.fnv1a)
  }

  /// The file's 64-byte header.
  public func header(tensorCount: Int) -> [UInt8] {
    var header = WeightsBlob.magic
    for value in [UInt64(byteCount), checksum, UInt64(tensorCount)] {
      header += (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }
    return header + Array(repeating: 0, count: WeightsBlob.headerBytes - header.count)
  }

  /// The whole file.
  public func fileBytes(tensorCount: Int) -> [UInt8] {
    header(tensorCount: tensorCount) + floats.withUnsafeBytes { Array($0) }
  }

  /// Writes the file at `path`: the header, then the data straight from memory (no copy of
  /// the weights is made).
  public func write(toFile path: String, tensorCount: Int) throws {
    let url = URL(fileURLWithPath: path)
    try Data(header(tensorCount: tensorCount)).write(to: url)
    guard !floats.isEmpty else { return }
    let handle = try FileHandle(forWritingTo: url)
    defer { try? handle.close() }
    try handle.seekToEnd()
    try floats.withUnsafeBytes { raw in
      try handle.write(
        contentsOf: Data(
          bytesNoCopy: UnsafeMutableRawPointer(mutating: raw.baseAddress!), count: raw.count, deallocator: .none))
    }
  }

  /// FNV-1a with 64-bit words as its units; `bytes.count` is a multiple of 8 (of 64, in
  /// fact). The generated loader computes the same.
  public static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
    bytes.withUnsafeBytes(fnv1a)
  }

  /// FNV-1a over the 64-bit words of `raw`.
  static func fnv1a(_ raw: UnsafeRawBufferPointer) -> UInt64 {
    precondition(raw.count % 8 == 0, "checksummed data is whole 64-bit words")
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for i in stride(from: 0, to: raw.count, by: 8) {
      hash = (hash ^ UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))) &* 0x100_0000_01b3
    }
    return hash
  }
}
