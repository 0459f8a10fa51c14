import Foundation
import GraphIR
import Models
import Testing

@testable import Codegen

/// The runtime of compiled programs is real source (`Sources/Runtime/Program`), embedded at
/// build time and written verbatim into what `compile` produces.
@Suite struct EmbeddedRuntimeTests {
  static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Sources/Runtime/Program").path

  static func file(_ name: String) throws -> String {
    try String(contentsOfFile: folder + "/" + name, encoding: .utf8)
  }

  @Test func programsCarryTheRuntimeFilesVerbatim() throws {
    let graph = try ResNet.build(try ResNetSpec(name: "resnet20"))
    let c = try CProgram(graph: graph, headerName: "m.h", target: .generic)
    #expect(c.source.hasSuffix(try Self.file("resnetc_api.c")))
    #expect(c.mainSource.hasSuffix(try Self.file("resnetc_main.c")))
    #expect(c.header.contains(try Self.file("resnetc_api.h")) && c.header.hasPrefix("/* resnetc: the compiled model"))
    let swift = try SwiftProgram(graph: graph, target: .generic)
    #expect(swift.modelSources[0].text.hasSuffix(try Self.file("ResnetcRuntime.swift")))
    let formats = URL(fileURLWithPath: Self.folder).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Formats").path
    let shared = try ["ResnetcNpy.swift", "ResnetcSeededInput.swift"].map {
      try String(contentsOfFile: formats + "/" + $0, encoding: .utf8)
    }
    #expect(swift.mainSource.text.hasSuffix(try Self.file("ResnetcMain.swift") + shared.joined()))
    #expect(swift.mainSource.text.contains(try Self.file("ResnetcImports.swift")))
  }
}
