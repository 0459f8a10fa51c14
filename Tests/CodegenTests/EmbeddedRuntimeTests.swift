import Foundation
import GraphIR
import Models
import Testing

@testable import Codegen

/// The runtime of compiled programs is real source (`Sources/Runtime/Program`, `Sources/Formats`),
/// embedded by scripts/embed-runtime.sh and written verbatim into what `compile` produces.
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
    #expect(c.mainSource.hasSuffix(try Self.file("resnetc_image.c") + "\n" + Self.file("resnetc_main.c")))
    #expect(c.header.contains(try Self.file("resnetc_api.h")) && c.header.hasPrefix("/* resnetc: the compiled model"))
    let swift = try SwiftProgram(graph: graph, target: .generic)
    #expect(swift.modelSources[0].text.hasSuffix(try Self.file("ResnetcRuntime.swift")))
    let formats = URL(fileURLWithPath: Self.folder).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Formats").path
    let shared = try [
      "ResnetcNpy.swift", "ResnetcSeededInput.swift", "ResnetcLabels.swift", "ResnetcInflate.swift",
      "ResnetcImage.swift",
      "ResnetcPreprocess.swift",
    ].map {
      try String(contentsOfFile: formats + "/" + $0, encoding: .utf8)
    }
    #expect(swift.mainSource.text.hasSuffix(try Self.file("ResnetcMain.swift") + shared.joined()))
    #expect(swift.mainSource.text.contains(try Self.file("ResnetcImports.swift")))
  }

  /// The copy in Sources/Codegen/EmbeddedRuntime.swift (scripts/embed-runtime.sh) is the
  /// text of its sources, byte for byte, and covers all of them.
  @Test func embeddedTextEqualsItsSources() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    var sources: [String: String] = [:]
    for folder in ["Sources/Runtime/Program", "Sources/Formats"] {
      let path = root.appendingPathComponent(folder).path
      for name in try FileManager.default.contentsOfDirectory(atPath: path)
      where [".c", ".h", ".swift"].contains(where: name.hasSuffix) {
        sources[name] = try String(contentsOfFile: path + "/" + name, encoding: .utf8)
      }
    }
    #expect(sources.count >= 13)
    #expect(
      Set(EmbeddedRuntime.files.keys) == Set(sources.keys),
      "Sources/Codegen/EmbeddedRuntime.swift is out of date: run scripts/embed-runtime.sh")
    for (name, text) in sources {
      #expect(
        EmbeddedRuntime.files[name] == text,
        "\(name) differs from its copy in Sources/Codegen/EmbeddedRuntime.swift: run scripts/embed-runtime.sh")
    }
  }
}
