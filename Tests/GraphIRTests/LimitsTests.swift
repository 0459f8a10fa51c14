import Foundation
import Testing

@testable import GraphIR

/// Each documented limit (README, "Limits") holds at its boundary: the limit itself is
/// accepted, one past it refused.
@Suite struct LimitsTests {
  @Test func rank() throws {
    #expect(try checkedShapeProduct(Array(repeating: 1, count: maxRank), context: "t") == 1)
    #expect(throws: GraphError.rankTooLarge(context: "t", rank: maxRank + 1, limit: maxRank)) {
      try checkedShapeProduct(Array(repeating: 1, count: maxRank + 1), context: "t")
    }
  }

  @Test func elementCount() throws {
    #expect(try checkedShapeProduct([1 << 20, 1 << 20], context: "t") == maxElementCount)
    #expect(throws: GraphError.shapeTooLarge(context: "t", shape: [(1 << 20) + 1, 1 << 20], limit: maxElementCount)) {
      try checkedShapeProduct([(1 << 20) + 1, 1 << 20], context: "t")
    }
  }

  @Test func jsonNesting() throws {
    let deepest = String(repeating: "[", count: JSON.maxDepth + 1) + String(repeating: "]", count: JSON.maxDepth + 1)
    _ = try JSON.parse(Array(deepest.utf8))
    let past = "[" + deepest + "]"
    #expect(throws: JSONError.self) { try JSON.parse(Array(past.utf8)) }
  }

  @Test func safetensorsHeader() {
    var header = Array(repeating: UInt8(0), count: 8)
    let length = UInt64(SafeTensors.maxHeaderLength + 1)
    for i in 0..<8 { header[i] = UInt8(truncatingIfNeeded: length >> (8 * UInt64(i))) }
    #expect(throws: SafeTensorsError.headerTooLarge(length)) { try SafeTensors.readHeader(header) }
  }

  /// A sparse file one byte over the limit is refused from its size alone, unread.
  @Test func fileSizes() throws {
    let path = NSTemporaryDirectory() + "resnetc-limit-" + UUID().uuidString + ".gir"
    FileManager.default.createFile(atPath: path, contents: nil)
    let handle = try #require(FileHandle(forWritingAtPath: path))
    try handle.truncate(atOffset: UInt64(ModelFile.maxTextBytes + 1))
    try handle.close()
    defer { try? FileManager.default.removeItem(atPath: path) }
    #expect(throws: ModelFileError.self) { try ModelFile.readFile(path, limit: ModelFile.maxTextBytes) }
    do {
      _ = try ModelFile.readFile(path, limit: ModelFile.maxTextBytes)
    } catch {
      #expect("\(error)".contains("more than the limit of \(ModelFile.maxTextBytes)"))
    }
  }
}
