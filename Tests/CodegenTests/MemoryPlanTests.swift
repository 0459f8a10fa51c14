import GraphIR
import Models
import Testing

@testable import Codegen

@Suite struct MemoryPlanTests {
  /// x -> a -> b -> c -> d: two intermediate blocks suffice, reused alternately.
  @Test func chainReusesFreedSpace() throws {
    var b = GraphBuilder(name: "chain")
    var v = try b.input("x", TensorType([1, 100]))
    for name in ["a", "b", "c", "d"] { v = try b.node(name, .relu, [v]) }
    let plan = MemoryPlan(graph: try b.finish(outputs: [v]))
    #expect(plan.locations[.value("x")] == .input(0) && plan.locations[.value("d")] == .output(0))
    #expect(plan.locations[.value("a")] == .arena(offset: 0) && plan.locations[.value("b")] == .arena(offset: 448))
    #expect(plan.locations[.value("c")] == .arena(offset: 0))
    #expect(plan.arenaBytes == 896)
  }

  /// In every built-in model checked, no two values alive at once overlap, and every block
  /// is 64-byte aligned.
  @Test(arguments: ["resnet20", "resnet50", "resnet18"])
  func liveValuesNeverOverlap(name: String) throws {
    var spec = try ResNetSpec(name: name)
    if spec.isImageNet { spec.resolution = 64 }
    let graph = try ResNet.build(spec)
    let plan = MemoryPlan(graph: graph)
    var lastUse: [String: Int] = [:]
    for (i, node) in graph.nodes.enumerated() { for case .value(let v) in node.operands { lastUse[v] = i } }
    var live: [(name: String, range: Range<Int>, until: Int)] = []
    for (i, node) in graph.nodes.enumerated() {
      live.removeAll { $0.until < i }
      guard case .arena(let offset) = plan.locations[.value(node.name)] else { continue }
      #expect(offset % MemoryPlan.alignment == 0)
      let range = offset..<(offset + node.type.elementCount * 4)
      #expect(range.upperBound <= plan.arenaBytes)
      for other in live { #expect(!other.range.overlaps(range), "\(node.name) overlaps \(other.name)") }
      live.append((node.name, range, lastUse[node.name] ?? i))
    }
    let total = graph.nodes.reduce(0) { $0 + MemoryPlan.aligned($1.type.elementCount * 4) }
    #expect(plan.arenaBytes < total / 4, "reuse keeps the arena far below the sum of all values")
  }
}

@Suite struct WeightsBlobTests {
  @Test func layoutAndChecksum() throws {
    var b = GraphBuilder(name: "w")
    let x = try b.input("x", TensorType([1, 3]))
    let w = try b.constant("w", TensorType([2, 3]), [1, 2, 3, 4, 5, 6])
    let bias = try b.constant("b", TensorType([2]), [7, 8])
    let y = try b.node("y", .dense, [x, w, bias])
    var graph = try b.finish(outputs: [y])
    let blob = WeightsBlob(graph: graph)
    #expect(blob.offsets == [.constant("w"): 0, .constant("b"): 16])
    #expect(blob.byteCount == 128)
    let file = blob.fileBytes(tensorCount: 2)
    #expect(Array(file[0..<8]) == WeightsBlob.magic && file.count == 64 + 128)
    // The floats little-endian at their offsets, zeros between.
    let floats = stride(from: 64, to: file.count, by: 4).map { i in
      Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(file[i + $1]) << (8 * $1) })
    }
    #expect(Array(floats[0..<6]) == [1, 2, 3, 4, 5, 6] && floats[6..<16].allSatisfy { $0 == 0 })
    #expect(Array(floats[16..<18]) == [7, 8] && floats[18...].allSatisfy { $0 == 0 })
    #expect(file[8] == 128 && file[16] == UInt8(truncatingIfNeeded: blob.checksum))
    graph.constants.set("b", Tensor(type: TensorType([2]), data: [7, 9]))
    #expect(WeightsBlob(graph: graph).checksum != blob.checksum)
  }
}

@Suite struct CNameLiteralTests {
  @Test func stringLiteralsEscapeEverything() {
    #expect(CName.stringLiteral("a\"b\\c??/\n") == "\"a\\\"b\\\\c\\?\\?/\\012\"")
    #expect(CName.stringLiteral("é") == "\"\\303\\251\"")
  }
}
