import Codegen
import Foundation
import GraphIR
import ResnetCompiler

let viewCommand = Command(
  name: "view",
  summary: "Draw the graph (after the passes) as a self-contained HTML page, an SVG or Graphviz DOT.",
  usage: "MODEL -o graph.html|graph.svg|graph.dot [--profile FILE.json] [--target T] [options]",
  details: modelHelp + """

    The extension of -o picks the format. Each box is a graph input or a node: its name,
    op and window, output shape, and for a conv its epilogue (bias+add+relu), the kernel
    the program compiled for --target (default native) runs and the nodes fused into it;
    shortcut edges are red and dashed, outputs have a heavy border. resnetc lays the graph
    out itself (no Graphviz needed); the HTML page adds a search box (Enter goes to the next
    match) and shows a clicked box in full. -O0 draws the graph before any pass.
    --profile FILE.json colours boxes by time, from a compiled program's
    './prog --profile --json > FILE.json' for the same model and passes.
    """,
  options: [
    OptionSpec(names: ["--output", "-o"], value: "PATH", help: "the file to write: .html, .svg or .dot"),
    OptionSpec(
      names: ["--profile"], value: "FILE.json", help: "colour boxes by time from a program's --profile --json"),
    OptionSpec(
      names: ["--target"], value: "native|avx512vnni|avx512|avx2|generic",
      help: "show the kernels compiled for this instruction set (default native)"),
  ] + modelOptions
) { arguments, console in
  guard let output = arguments.value("--output") else { throw UsageError("missing -o PATH (.html, .svg or .dot)") }
  let format = URL(fileURLWithPath: output).pathExtension.lowercased()
  guard ["html", "svg", "dot"].contains(format) else {
    throw UsageError("-o must end in .html, .svg or .dot, got '\(output)'")
  }
  let (target, caches) = try parseTarget(arguments.value("--target"))
  let model = try modelArgument(arguments)
  try checkOutputFolder(output)
  let profile = try arguments.value("--profile").map { try readProfile($0) }
  let (graph, reports) = try loadModelReporting(model, arguments, console: console)
  var choices: [String: (kernel: String, layout: String)] = [:]
  do {
    choices = try ResnetCompiler.Model(graph: graph).kernelChoices(target: target, caches: caches)
  } catch {
    console.err("resnetc view: note: no kernels shown: \(error)\n")
  }
  var milliseconds: [String: Double]?
  if let profile {
    let names = Set(graph.nodes.map(\.name))
    let known = profile.layers.filter { names.contains($0.key) }
    guard !known.isEmpty else {
      throw DriverError.tensorFile(
        path: profile.path,
        reason:
          "no layer of this profile is a node of \(IRName.spelling(of: graph.name)) (profile the program compiled from the same model and passes)"
      )
    }
    milliseconds = known
  }
  let picture = GraphPicture(graph, choices: choices, fused: fusedNodes(reports), milliseconds: milliseconds)
  let text =
    switch format {
    case "dot": graphPictureDOT(picture)
    case "svg": GraphPictureSVG(picture: picture).svg
    default: GraphPictureSVG(picture: picture).html
    }
  do {
    try text.write(toFile: output, atomically: true, encoding: .utf8)
  } catch {
    throw DriverError.tensorFile(path: output, reason: "cannot be written")
  }
  console.out(
    "wrote \(output) (\(picture.boxes.count) boxes, \(picture.opCounts["conv2d"] ?? 0) conv2d, "
      + "\(picture.edges.count) edges, \(picture.edges.filter(\.isShortcut).count) shortcuts)\n")
}

/// A program's `--profile --json`: milliseconds per run by layer (steps of one layer summed).
struct ProfileTimes {
  var path: String
  var layers: [String: Double]
}

/// Reads and checks a profile written by `--profile --json`.
func readProfile(_ path: String) throws(DriverError) -> ProfileTimes {
  guard let data = FileManager.default.contents(atPath: path) else {
    var status = stat()
    let isFolder = stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR
    throw .tensorFile(path: path, reason: isFolder ? "is a directory" : "cannot be read")
  }
  guard data.count <= 64 << 20 else {
    throw .tensorFile(path: path, reason: "is \(data.count) bytes, more than a profile's limit of 64 MiB")
  }
  let json: JSON
  do {
    json = try JSON.parse([UInt8](data))
  } catch {
    throw .tensorFile(path: path, reason: "is not JSON: \(error)")
  }
  guard case .array(let layers)? = json["layers"] else {
    throw .tensorFile(
      path: path, reason: "has no \"layers\" array; expected the output of a compiled program's --profile --json")
  }
  var times: [String: Double] = [:]
  for (i, layer) in layers.enumerated() {
    guard case .string(let name)? = layer["layer"], let ms = number(layer["ms"]), ms >= 0, ms.isFinite else {
      throw .tensorFile(path: path, reason: "layer \(i) has no \"layer\" name and \"ms\" number ≥ 0")
    }
    times[name, default: 0] += ms
  }
  return ProfileTimes(path: path, layers: times)
}

private func number(_ value: JSON?) -> Double? {
  switch value {
  case .int(let n)?: Double(n)
  case .double(let d)?: d
  default: nil
  }
}
