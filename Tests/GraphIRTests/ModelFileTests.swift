import Foundation
import Testing

@testable import GraphIR

/// A fresh empty directory under the system's temporary directory.
func temporaryDirectory() throws -> String {
  let path = NSTemporaryDirectory() + "resnetc-test-" + UUID().uuidString
  try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  return path
}

@Suite struct ModelFileTests {
  @Test func savesAndLoads() throws {
    let dir = try temporaryDirectory()
    let g = smallGraph()
    let paths = try ModelFile.save(g, base: dir + "/small")
    #expect(paths.ir == dir + "/small.gir")
    #expect(paths.weights == dir + "/small.safetensors")
    #expect(try ModelFile.load(irPath: paths.ir) == g)
  }

  @Test func missingWeightsFile() throws {
    let dir = try temporaryDirectory()
    try ModelFile.save(smallGraph(), base: dir + "/m")
    try FileManager.default.removeItem(atPath: dir + "/m.safetensors")
    #expect(throws: ModelFileError.cannotRead(path: dir + "/m.safetensors", reason: "no such file")) {
      try ModelFile.load(irPath: dir + "/m.gir")
    }
  }

  @Test func missingIRFile() {
    #expect(throws: ModelFileError.cannotRead(path: "/nonexistent/x.gir", reason: "no such file")) {
      try ModelFile.load(irPath: "/nonexistent/x.gir")
    }
  }

  @Test func weightsMustMatchDeclarations() throws {
    let dir = try temporaryDirectory()
    var g = smallGraph()
    try ModelFile.save(g, base: dir + "/m")

    // A tensor the IR does not declare.
    g.constants.set("extra", Tensor(type: TensorType([1]), data: [0]))
    try ModelFile.writeFile(dir + "/m.safetensors", SafeTensors.write(g.constants.entries))
    #expect(
      throws: ModelFileError.invalid(
        path: dir + "/m.safetensors", reason: #"tensor "extra" is not declared in \#(dir)/m.gir"#)
    ) {
      try ModelFile.load(irPath: dir + "/m.gir")
    }

    // A declared constant with no tensor.
    g.constants.remove("extra")
    g.constants.remove("b")
    try ModelFile.writeFile(dir + "/m.safetensors", SafeTensors.write(g.constants.entries))
    #expect(throws: ModelFileError.invalid(path: dir + "/m.safetensors", reason: "has no tensor for constant @b")) {
      try ModelFile.load(irPath: dir + "/m.gir")
    }

    // A tensor of another shape than declared.
    g.constants.set("b", Tensor(type: TensorType([2, 4]), data: Array(repeating: 0, count: 8)))
    try ModelFile.writeFile(dir + "/m.safetensors", SafeTensors.write(g.constants.entries))
    #expect(
      throws: ModelFileError.invalid(
        path: dir + "/m.safetensors", reason: #"tensor "b" is f32[2,4] but \#(dir)/m.gir declares f32[8]"#)
    ) {
      try ModelFile.load(irPath: dir + "/m.gir")
    }
  }

  @Test func parseErrorsNameFileLineAndColumn() throws {
    let dir = try temporaryDirectory()
    try ModelFile.save(smallGraph(), base: dir + "/m")
    let text = IRPrinter.print(smallGraph()).replacingOccurrences(of: "relu(%c)", with: "relu(%q)")
    try ModelFile.writeFile(dir + "/m.gir", Array(text.utf8))
    #expect(throws: ModelFileError.invalid(path: dir + "/m.gir:5:3", reason: "node %r reads %q, which is not defined"))
    {
      try ModelFile.load(irPath: dir + "/m.gir")
    }
  }
}
