import Models
import Testing

@testable import GraphIR

@Suite struct BuiltinRoundTripTests {
  static let models =
    ResNetSpec.imageNetDepths.map { "resnet\($0)" } + ResNetSpec.cifarDepths.map { "resnet\($0)" }
    + ["plain18", "plain34", "plain20", "plain56", "resnet50-v1.5", "resnet152-v1.5"]

  /// IR text and weights written, read back and compared, for every built-in model.
  @Test(arguments: models)
  func roundTrip(name: String) throws {
    let g = try ResNet.build(try ResNetSpec(name: name))
    let weights = try SafeTensors.readConstants(SafeTensors.write(g.constants.entries))
    var byName: [String: Tensor] = [:]
    for (name, tensor) in weights { byName[name] = tensor }
    let text = IRPrinter.print(g)
    let parsed = try IRParser.parse(text) { name, _ in byName[name]!.data }
    let same = parsed == g  // compared apart: a failure would print both graphs
    #expect(same)
    #expect(IRPrinter.print(parsed) == text)
  }

  @Test(arguments: ShortcutOption.allCases)
  func shortcutOptionsRoundTrip(option: ShortcutOption) throws {
    for name in ["resnet18", "resnet50", "resnet20"] {
      var spec = try ResNetSpec(name: name)
      spec.shortcut = option
      spec.batch = 2
      spec.resolution = name == "resnet20" ? 40 : 96
      let g = try ResNet.build(spec)
      let parsed = try IRParser.parse(IRPrinter.print(g)) { name, _ in g.constants[name]!.data }
      let same = parsed == g
      #expect(same, "\(name) with option \(option)")
    }
  }
}
