import Foundation
import GraphIR
import Testing

@testable import ONNX

@Suite struct ExternalDataTests {
  /// A folder holding `model.onnx` (a 1x1 conv whose weight lives in a side file named by
  /// `entries`) and `w.bin`, 16 bytes of weights.
  func folder(_ entries: [(String, String)]) throws -> String {
    let dir = NSTemporaryDirectory() + "resnetc-external-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
    let weight = B.tensor("w", dims: [2, 2, 1, 1], external: entries)
    let model = oneNode(B.node("Conv", ["x", "w"], ["y"], name: "c"), initializers: [weight])
    try Data(model).write(to: URL(fileURLWithPath: dir + "/model.onnx"))
    let floats: [Float] = [1, 0, 0, 2]
    try Data(floats.flatMap { f in (0..<4).map { UInt8(truncatingIfNeeded: f.bitPattern >> (8 * $0)) } })
      .write(to: URL(fileURLWithPath: dir + "/w.bin"))
    return dir
  }

  func load(_ dir: String) throws -> Graph { try ONNXImporter.load(path: dir + "/model.onnx") }

  @Test func readsWeightsFromTheSideFile() throws {
    let g = try load(try folder([("location", "w.bin"), ("offset", "0"), ("length", "16")]))
    #expect(g.constants["w"]?.data == [1, 0, 0, 2])
    let nested = try folder([("location", "sub/../w.bin")])
    #expect(
      throws: ONNXError.externalData(
        tensor: "w",
        reason: "location 'sub/../w.bin' has a '..' component; it must name a file inside the model's folder")
    ) {
      try load(nested)
    }
  }

  @Test func locationsThatLeaveTheFolderAreRefused() throws {
    let outside = NSTemporaryDirectory() + "resnetc-outside-" + UUID().uuidString + ".bin"
    try Data(count: 16).write(to: URL(fileURLWithPath: outside))
    #expect(
      throws: ONNXError.externalData(
        tensor: "w", reason: "location '../w.bin' has a '..' component; it must name a file inside the model's folder")
    ) {
      try load(try folder([("location", "../w.bin")]))
    }
    #expect(
      throws: ONNXError.externalData(
        tensor: "w", reason: "location '\(outside)' is absolute; it must be inside the model's folder")
    ) {
      try load(try folder([("location", outside)]))
    }
    let dir = try folder([("location", "link.bin")])
    try FileManager.default.createSymbolicLink(atPath: dir + "/link.bin", withDestinationPath: outside)
    #expect(throws: ONNXError.externalData(tensor: "w", reason: "location 'link.bin' leads out of the model's folder"))
    {
      try load(dir)
    }
  }

  @Test func rangesAreCheckedAgainstTheFile() throws {
    #expect(throws: ONNXError.externalData(tensor: "w", reason: "range 8..<24 lies past the end of 'w.bin' (16 bytes)"))
    {
      try load(try folder([("location", "w.bin"), ("offset", "8")]))
    }
    #expect(throws: ONNXError.externalData(tensor: "w", reason: "has length 12 but the tensor's shape needs 16 bytes"))
    {
      try load(try folder([("location", "w.bin"), ("length", "12")]))
    }
    #expect(throws: ONNXError.externalData(tensor: "w", reason: "has an invalid offset '-4'")) {
      try load(try folder([("location", "w.bin"), ("offset", "-4")]))
    }
    #expect(throws: ONNXError.externalData(tensor: "w", reason: "file 'missing.bin' cannot be read (no such file)")) {
      try load(try folder([("location", "missing.bin")]))
    }
    #expect(throws: ONNXError.externalData(tensor: "w", reason: "file 'sub' is not a regular file")) {
      try load(try folder([("location", "sub")]))
    }
  }

  @Test func modelsFromMemoryCannotReferenceFiles() throws {
    let weight = B.tensor("w", dims: [2, 2, 1, 1], external: [("location", "w.bin")])
    let model = oneNode(B.node("Conv", ["x", "w"], ["y"]), initializers: [weight])
    #expect(throws: ONNXError.externalData(tensor: "w", reason: "cannot be read: the model was not loaded from a file"))
    {
      try importBytes(model)
    }
  }
}
