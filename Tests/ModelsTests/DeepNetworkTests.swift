import GraphIR
import Runtime
import Testing

@testable import Models

@Suite struct DeepNetworkTests {
  /// The deepest network keeps its activations finite and its output a distribution.
  @Test func resnet1202RunsToAFiniteDistribution() throws {
    let g = try ResNet.build(try ResNetSpec(name: "resnet1202"))
    var random = SeededRandom(seed: 3)
    let x = Tensor(type: g.inputs[0].type, data: random.normal(count: g.inputs[0].type.elementCount))
    let y = try Interpreter(graph: g).run([x])[0]
    #expect(y.type.shape == [1, 10])
    #expect(y.data.allSatisfy { $0.isFinite && $0 >= 0 })
    #expect(abs(y.data.reduce(0, +) - 1) < 1e-5)
    // Not a one-hot: the logits stayed in a range where several classes matter.
    #expect(y.data.max()! < 0.999)
  }
}
