import GraphIR
import Models

let listCommand = Command(
  name: "list",
  summary: "List the built-in models with their input shape, parameters and multiply-adds.",
  usage: "[--json]",
  details: """
    Every built-in model by the name the other commands take, as built with its default
    options (batch 1, the paper's shortcut option: B for ImageNet, A for CIFAR-10). Counts are
    those of 'resnetc info MODEL -O0'. Any CIFAR depth 6n+2 builds too; the list holds the
    paper's. With --json, one object: {"models": [{"name", "dataset", "input", "parameters",
    "multiplyAdds", "shortcuts"}, ...]}.
    """,
  options: [OptionSpec(names: ["--json"], value: nil, help: "print one JSON object instead of a table")]
) { arguments, console in
  if let extra = arguments.positionals.first { throw UsageError("unexpected argument '\(extra)'") }
  let models = try builtinNames.map { name throws -> BuiltinSummary in
    let spec = try ResNetSpec(name: name)
    let graph = try ResNet.build(spec)
    return BuiltinSummary(
      name: name, dataset: spec.isImageNet ? "ImageNet" : "CIFAR-10", input: graph.inputs[0].type.shape,
      parameters: graph.parameterCount, multiplyAdds: graph.multiplyAdds, shortcuts: !spec.plain)
  }
  if arguments.flags.contains("--json") {
    console.out(JSON.object([("models", .array(models.map(\.json)))]).serialized + "\n")
    return
  }
  var rows = [["model", "dataset", "input", "parameters", "multiply-adds"]]
  for m in models {
    rows.append([
      m.name, m.dataset, "f32" + "[" + m.input.map(String.init).joined(separator: ",") + "]", grouped(m.parameters),
      grouped(m.multiplyAdds),
    ])
  }
  let widths = (0..<5).map { c in rows.map { $0[c].count }.max() ?? 0 }
  console.out(
    rows.map { row in
      row.enumerated().map { c, text in
        c < 3
          ? text.padding(toLength: widths[c], withPad: " ", startingAt: 0)
          : String(repeating: " ", count: widths[c] - text.count) + text
      }.joined(separator: "  ")
    }.joined(separator: "\n") + "\n")
}

/// The built-in names `list` shows: the paper's ImageNet and CIFAR-10 depths, torchvision's
/// v1.5 stride placement for the bottleneck ones, and the plain counterparts.
let builtinNames: [String] =
  ResNetSpec.imageNetDepths.map { "resnet\($0)" }
  + ResNetSpec.imageNetDepths.filter { $0 >= 50 }.map { "resnet\($0)-v1.5" }
  + ResNetSpec.cifarDepths.map { "resnet\($0)" }
  + (ResNetSpec.imageNetDepths + ResNetSpec.cifarDepths).map { "plain\($0)" }

/// One row of `list`.
struct BuiltinSummary {
  var name: String
  var dataset: String
  var input: [Int]
  var parameters: Int
  var multiplyAdds: Int
  var shortcuts: Bool

  var json: JSON {
    .object([
      ("name", .string(name)), ("dataset", .string(dataset)), ("input", .array(input.map { .int($0) })),
      ("parameters", .int(parameters)), ("multiplyAdds", .int(multiplyAdds)), ("shortcuts", .bool(shortcuts)),
    ])
  }
}
