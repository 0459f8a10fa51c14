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
  /// The data section.
  public let data: [UInt8]
  /// FNV-1a over `data`'s little-endian 64-bit words.
  public let checksum: UInt64

  /// Lays out `graph`'s constants.
  public init(graph: Graph) {
    self.init(constants: graph.constants.entries.map { (.constant($0.name), $0.constant) })
  }

  /// Lays out `constants` in order.
  public init(constants: [(buffer: Buffer, tensor: Tensor)]) {
    var offsets: [Buffer: Int] = [:]
    var data: [UInt8] = []
    for (buffer, tensor) in constants {
      offsets[buffer] = data.count / 4
      LittleEndianFloats.append(tensor.data, to: &data)
      data += Array(repeating: 0, count: MemoryPlan.aligned(data.count) - data.count)
    }
    self.offsets = offsets
    self.data = data
    checksum = WeightsBlob.fnv1a(data)
  }

  /// The file's 64-byte header.
  public func header(tensorCount: Int) -> [UInt8] {
    var header = WeightsBlob.magic
    for value in [UInt64(data.count), checksum, UInt64(tensorCount)] {
      header += (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }
    return header + Array(repeating: 0, count: WeightsBlob.headerBytes - header.count)
  }

  /// The whole file.
  public func fileBytes(tensorCount: Int) -> [UInt8] {
    header(tensorCount: tensorCount) + data
  }

  /// Writes the file at `path`: the header, then the data straight from memory (no copy of
  /// the weights is made).
  public func write(toFile path: String, tensorCount: Int) throws {
    let url = URL(fileURLWithPath: path)
    try Data(header(tensorCount: tensorCount)).write(to: url)
    guard !data.isEmpty else { return }
    let handle = try FileHandle(forWritingTo: url)
    defer { try? handle.close() }
    try handle.seekToEnd()
    try data.withUnsafeBytes { raw in
      try handle.write(
        contentsOf: Data(
          bytesNoCopy: UnsafeMutableRawPointer(mutating: raw.baseAddress!), count: raw.count, deallocator: .none))
    }
  }

  /// FNV-1a with 64-bit words as its units; `bytes.count` is a multiple of 8 (of 64, in
  /// fact). The generated loader computes the same.
  public static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
    precondition(bytes.count % 8 == 0, "checksummed data is whole 64-bit words")
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    bytes.withUnsafeBytes { raw in
      for i in stride(from: 0, to: raw.count, by: 8) {
        hash = (hash ^ UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))) &* 0x100_0000_01b3
      }
    }
    return hash
  }
}
