import Codegen
import DiffTest
import Foundation
import GraphIR
import Models
import Passes
import Testing

#if canImport(FoundationXML)
  import FoundationXML
#endif

@testable import Driver

/// What a drawn graph holds, read back from its SVG as XML.
private struct DrawnGraph {
  var nodes: [[String: String]] = []
  var edges: [[String: String]] = []
}

private final class DrawnGraphReader: NSObject, XMLParserDelegate {
  var drawn = DrawnGraph()
  func parser(
    _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
    attributes: [String: String] = [:]
  ) {
    let classes = (attributes["class"] ?? "").split(separator: " ")
    if name == "g" && classes.contains("node") { drawn.nodes.append(attributes) }
    if name == "path" && classes.contains("edge") { drawn.edges.append(attributes) }
  }
}

/// Parses `svg` as XML (failing the test if it is not well formed) and returns its boxes and edges.
private func readSVG(_ svg: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> DrawnGraph {
  let parser = XMLParser(data: Data(svg.utf8))
  let reader = DrawnGraphReader()
  parser.delegate = reader
  #expect(
    parser.parse(), "not well-formed XML: \(String(describing: parser.parserError))", sourceLocation: sourceLocation)
  return reader.drawn
}

/// The `<svg>…</svg>` element inside an HTML page.
private func svgElement(of html: String) throws -> String {
  let start = try #require(html.range(of: "<svg "))
  let end = try #require(html.range(of: "</svg>"))
  return String(html[start.lowerBound..<end.upperBound])
}

/// How many values the nodes of `graph` read (one edge each).
private func valueReads(_ graph: Graph) -> Int {
  graph.nodes.reduce(0) { count, node in
    count + node.operands.filter { if case .value = $0 { true } else { false } }.count
  }
}

private func optimized(_ name: String) throws -> Graph {
  var graph = try ResNet.build(try ResNetSpec(name: name))
  _ = try PassManager.pipeline(.o1).run(&graph)
  return graph
}

@Suite struct ViewCommandTests {
  @Test func resnet50HtmlSvgAndDotHoldEveryNodeAndEdge() throws {
    let dir = try temporaryDirectory()
    let graph = try optimized("resnet50")
    let boxes = graph.inputs.count + graph.nodes.count
    for format in ["html", "svg"] {
      let run = resnetc("view", "resnet50", "-o", dir + "/g." + format)
      #expect(run.status == 0, "\(run.err)")
      #expect(
        run.out == "wrote \(dir)/g.\(format) (\(boxes) boxes, 53 conv2d, \(valueReads(graph)) edges, 16 shortcuts)\n")
      let text = try String(contentsOfFile: dir + "/g." + format, encoding: .utf8)
      let drawn = readSVG(format == "svg" ? text : try svgElement(of: text))
      #expect(drawn.nodes.count == boxes)
      #expect(drawn.edges.count == valueReads(graph))
      let convs = drawn.nodes.filter { $0["data-op"] == "conv2d" }
      #expect(convs.count == 53)
      // Every conv says what it does after its sums and which kernel computes it.
      #expect(convs.allSatisfy { !($0["data-epilogue"] ?? "").isEmpty && !($0["data-kernel"] ?? "").isEmpty })
      #expect(convs.filter { $0["data-epilogue"] == "bias+add+relu" }.count == 16)
      #expect(convs.filter { $0["data-epilogue"] == "bias+relu" }.count == 33)
      // One shortcut per residual block, into the conv that adds it.
      let shortcuts = drawn.edges.filter { ($0["class"] ?? "").contains("shortcut") }
      #expect(shortcuts.count == 16)
      let ids = Dictionary(uniqueKeysWithValues: drawn.nodes.map { ($0["id"] ?? "", $0) })
      #expect(shortcuts.allSatisfy { ids[$0["data-to"] ?? ""]?["data-epilogue"] == "bias+add+relu" })
      // Edges join boxes that exist, from earlier to later ones.
      #expect(
        drawn.edges.allSatisfy { edge in
          guard let from = edge["data-from"], let to = edge["data-to"], ids[from] != nil, ids[to] != nil else {
            return false
          }
          return Int(from.dropFirst())! < Int(to.dropFirst())!
        })
      #expect(text.contains("fused layer1.0.bn1, layer1.0.relu1"))
      #expect(!text.contains("http://") || !text.contains("src=\"http"), "the page loads nothing from elsewhere")
    }
    let html = try String(contentsOfFile: dir + "/g.html", encoding: .utf8)
    #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains("<input id=\"search\"") && html.contains("<script>"))
    #expect(!html.contains("<script src") && !html.contains("<link "))

    let dot = resnetc("view", "resnet50", "-o", dir + "/g.dot")
    #expect(dot.status == 0, "\(dot.err)")
    let lines = try String(contentsOfFile: dir + "/g.dot", encoding: .utf8).split(separator: "\n")
    #expect(lines.first == "digraph \"resnet50\" {" && lines.last == "}")
    #expect(lines.filter { $0.contains(" [label=\"") }.count == boxes)
    #expect(lines.filter { $0.contains(" -> ") }.count == valueReads(graph))
    #expect(lines.filter { $0.contains("class=\"shortcut\"") }.count == 16)
  }

  @Test func unoptimizedGraphShowsEveryBatchNormAndAdd() throws {
    let dir = try temporaryDirectory()
    let run = resnetc("view", "resnet50", "-O0", "-o", dir + "/g.svg")
    #expect(run.status == 0, "\(run.err)")
    let graph = try ResNet.build(try ResNetSpec(name: "resnet50"))
    let drawn = readSVG(try String(contentsOfFile: dir + "/g.svg", encoding: .utf8))
    #expect(drawn.nodes.count == graph.inputs.count + graph.nodes.count)
    #expect(drawn.edges.count == valueReads(graph))
    let ops = drawn.nodes.reduce(into: [String: Int]()) { $0[$1["data-op"] ?? "", default: 0] += 1 }
    #expect(ops["conv2d"] == 53 && ops["batch_norm"] == 53 && ops["add"] == 16)
    #expect(drawn.nodes.filter { $0["data-op"] == "conv2d" }.allSatisfy { $0["data-epilogue"] == "none" })
    // Each add has one shortcut edge in, from the shallower of its two inputs.
    let shortcuts = drawn.edges.filter { ($0["class"] ?? "").contains("shortcut") }
    let adds = Set(drawn.nodes.filter { $0["data-op"] == "add" }.compactMap { $0["id"] })
    #expect(shortcuts.count == 16 && shortcuts.allSatisfy { adds.contains($0["data-to"] ?? "") })
  }

  @Test func generatedGraphsWithHostileNamesDrawAsWellFormedFiles() throws {
    for seed in UInt64(1)...30 {
      var generator = GraphGenerator(seed: seed)
      let graph = generator.graph()
      let choices = (try? CProgram.kernelChoices(graph: graph, target: .avx2)) ?? [:]
      let picture = GraphPicture(graph, choices: choices)
      let drawn = readSVG(GraphPictureSVG(picture: picture).svg)
      #expect(drawn.nodes.count == graph.inputs.count + graph.nodes.count, "seed \(seed)")
      #expect(drawn.edges.count == valueReads(graph), "seed \(seed)")
      #expect(
        drawn.nodes.map { $0["data-name"] ?? "" } == graph.inputs.map { IRName.spelling(of: $0.name) }
          + graph.nodes.map { IRName.spelling(of: $0.name) }, "seed \(seed)")
      // Boxes never overlap: one per (row, column).
      let cells = picture.boxes.map { "\($0.rank),\($0.column)" }
      #expect(Set(cells).count == cells.count, "seed \(seed)")
      #expect(readSVG(try svgElement(of: GraphPictureSVG(picture: picture).html)).nodes.count == drawn.nodes.count)
      // DOT: every line a box, an edge or the frame; no raw line break inside a label.
      let dot = graphPictureDOT(picture).split(separator: "\n", omittingEmptySubsequences: false)
      #expect(dot.filter { $0.hasPrefix("  n") && $0.contains(" [label=\"") }.count == drawn.nodes.count)
      #expect(dot.filter { $0.contains(" -> ") }.count == drawn.edges.count)
      #expect(dot.count == 4 + 1 + drawn.nodes.count + drawn.edges.count + 1, "seed \(seed)")
    }
  }

  @Test func profileColoursBoxesByTime() throws {
    let dir = try temporaryDirectory()
    #expect(resnetc("compile", "resnet20", "-o", dir + "/r20").status == 0)
    let (status, json, err) = try execute(dir + "/r20", ["--profile", "--json", "--bench", "3"])
    #expect(status == 0, "\(err)")
    try json.write(toFile: dir + "/profile.json", atomically: true, encoding: .utf8)
    let parsed = try JSON.parse(Array(json.utf8))
    guard case .array(let layers)? = parsed["layers"] else {
      Issue.record("no layers in \(json)")
      return
    }
    #expect(layers.count >= 20 && parsed["total_ms"] != nil && parsed["threads"] != nil)

    let run = resnetc("view", "resnet20", "--profile", dir + "/profile.json", "-o", dir + "/g.svg")
    #expect(run.status == 0, "\(run.err)")
    let svg = try String(contentsOfFile: dir + "/g.svg", encoding: .utf8)
    let drawn = readSVG(svg)
    let convs = drawn.nodes.filter { $0["data-op"] == "conv2d" }
    #expect(convs.count == 19 && convs.allSatisfy { Double($0["data-ms"] ?? "") != nil })
    #expect(svg.contains("colour: time per run") && svg.contains(" ms ("))

    // A profile of another model, a file that is no profile, a missing one.
    #expect(resnetc("compile", "resnet18", "-o", dir + "/r18", "--emit", "c").status == 0)
    try "{\"layers\": [{\"layer\": \"conv1x\", \"ms\": 1}]}".write(
      toFile: dir + "/other.json", atomically: true, encoding: .utf8)
    expectFailure(
      resnetc("view", "resnet20", "--profile", dir + "/other.json", "-o", dir + "/x.svg"), status: 1,
      mentioning: "\(dir)/other.json: no layer of this profile is a node of resnet20")
    try "{\"median_ms\": 1}".write(toFile: dir + "/bench.json", atomically: true, encoding: .utf8)
    expectFailure(
      resnetc("view", "resnet20", "--profile", dir + "/bench.json", "-o", dir + "/x.svg"), status: 1,
      mentioning:
        "\(dir)/bench.json: has no \"layers\" array; expected the output of a compiled program's --profile --json"
    )
    try "peak 12 GFLOP/s".write(toFile: dir + "/table.txt", atomically: true, encoding: .utf8)
    expectFailure(
      resnetc("view", "resnet20", "--profile", dir + "/table.txt", "-o", dir + "/x.svg"), status: 1,
      mentioning: "\(dir)/table.txt: is not JSON")
    expectFailure(
      resnetc("view", "resnet20", "--profile", dir + "/missing.json", "-o", dir + "/x.svg"), status: 1,
      mentioning: "\(dir)/missing.json: cannot be read")
    expectFailure(
      resnetc("view", "resnet20", "--profile", dir, "-o", dir + "/x.svg"), status: 1,
      mentioning: "\(dir): is a directory")
    #expect(!FileManager.default.fileExists(atPath: dir + "/x.svg"))
  }

  /// The C program's --profile --json keeps names with quotes, backslashes and line breaks
  /// intact, and the view finds each node's time by them.
  @Test func profileOfHostileNamesIsJSON() throws {
    let hostile = { (name: String) in name.contains("\"") || name.contains("\\") || name.contains("\n") }
    let found = (UInt64(1)...200).lazy.map { seed -> Graph in
      var generator = GraphGenerator(seed: seed)
      return generator.graph()
    }.first { graph in graph.nodes.contains { hostile($0.name) && !$0.name.contains("\u{0}") } }
    let graph = try #require(found, "no generated graph with such names")
    let dir = try temporaryDirectory()
    try Artifacts.build(graph, kind: .exe, output: dir + "/g", compiler: try CCompiler.locate(), target: .avx2)
    let (status, json, err) = try execute(dir + "/g", ["--profile", "--json", "--bench", "2"])
    #expect(status == 0, "\(err)")
    try json.write(toFile: dir + "/profile.json", atomically: true, encoding: .utf8)
    let profile = try readProfile(dir + "/profile.json")
    let named = graph.nodes.map(\.name).filter { !$0.contains("\u{0}") }
    #expect(named.filter(hostile).allSatisfy { profile.layers[$0] != nil }, "\(profile.layers.keys)")
    let picture = GraphPicture(graph, milliseconds: profile.layers)
    #expect(picture.boxes.filter { $0.milliseconds != nil }.count >= named.filter(hostile).count)
  }

  @Test func badOutputPathsAreRefused() throws {
    let dir = try temporaryDirectory()
    expectFailure(
      resnetc("view", "resnet20", "-o", dir + "/g.png"), status: 2,
      mentioning: "-o must end in .html, .svg or .dot, got '\(dir)/g.png'")
    expectFailure(resnetc("view", "resnet20"), status: 2, mentioning: "missing -o PATH (.html, .svg or .dot)")
    expectFailure(
      resnetc("view", "resnet20", "-o", dir + "/missing/g.svg"), status: 1,
      mentioning: "\(dir)/missing/g.svg: no such directory \(dir)/missing")
    expectFailure(resnetc("view", "resnt20", "-o", dir + "/g.svg"), status: 1, mentioning: "did you mean 'resnet20'?")
  }
}
