import Foundation
import GraphIR
import Testing

@testable import Driver

@Suite struct PassOptionTests {
  @Test func passesSelectsAndOrders() throws {
    let onlyBN = try JSON.parse(Array(resnetc("info", "resnet20", "--passes", "fold-batchnorm", "--json").out.utf8))
    #expect(
      onlyBN["ops"]?["batch_norm"] == nil && onlyBN["ops"]?["relu"] == .int(19) && onlyBN["ops"]?["add"] == .int(9))
    expectFailure(
      resnetc("info", "resnet20", "--passes", "fold-batchnorm,fuse-gelu"), status: 2,
      mentioning: "unknown pass 'fuse-gelu' (passes: fuse-quantized, fold-constants,")
    expectFailure(
      resnetc("info", "resnet20", "--passes", "fuse-relu", "-O0"), status: 2, mentioning: "--passes replaces -O0/-O1")
    expectFailure(
      resnetc("info", "resnet20", "--print-after", "nope"), status: 2, mentioning: "--print-after: unknown pass 'nope'")
  }

  @Test func printAfterShowsTheIRBetweenPasses() {
    let one = resnetc("info", "resnet20", "--print-after", "fold-batchnorm", "--json")
    #expect(one.status == 0)
    #expect(one.err.hasPrefix("// IR after fold-batchnorm\ngraph @resnet20("))
    #expect(!one.err.contains("batch_norm(") && one.err.contains("relu("))
    let all = resnetc("info", "resnet20", "--print-after-all", "--json")
    #expect(all.err.components(separatedBy: "// IR after ").count == 10)
  }

  @Test func statsSayWhatEachPassChanged() {
    let run = resnetc("info", "resnet50", "--stats", "--json")
    #expect(
      run.err == """
        fuse-quantized: no change
        fold-constants: no change
        remove-identities: no change
        fold-pad: no change
        fold-batchnorm: 53 folded into conv2d
        fold-input-scale: no change
        fuse-shortcut-add: 16 fused into conv2d
        fuse-relu: 49 fused into conv2d
        eliminate-dead-nodes: no change

        """)
  }

  @Test func explainNamesWhatFiredAndWhatDidNot() throws {
    let run = resnetc("explain", "resnet20")
    #expect(run.status == 0)
    #expect(run.out.contains("%layer1.0.bn2 (batch_norm): fold-batchnorm: folded into %layer1.0.conv2\n"))
    #expect(run.out.contains("%layer1.0.add (add): fuse-shortcut-add: fused into %layer1.0.conv2 (shortcut %relu)\n"))
    #expect(run.out.contains("%layer1.0.relu (relu): fuse-relu: fused into %layer1.0.conv2 (epilogue add_relu)\n"))
    #expect(run.out.contains("%maxpool") == false)
    // Each host conv says what it absorbed, by which pass.
    #expect(
      run.out.contains(
        "%layer1.0.conv2 (conv2d): absorbed %layer1.0.bn2 (fold-batchnorm), %layer1.0.add (fuse-shortcut-add), %layer1.0.relu (fuse-relu)\n"
      ))
    #expect(!run.out.contains("%conv1 (conv2d): no pass changes it"))
    #expect(run.out.hasSuffix("nodes: 74 before, 27 after\n"))
    // A model where fusion must refuse: a ReLU whose conv result has two readers.
    let dir = try temporaryDirectory()
    let text = """
      graph @g(%x: f32[1,1,4,4]) -> (f32[1,1,4,4]) {
        const @w: f32[1,1,1,1]
        %c = conv2d(%x, @w) : f32[1,1,4,4]
        %r = relu(%c) : f32[1,1,4,4]
        %s = add(%r, %c) : f32[1,1,4,4]
        return %s
      }

      """
    try text.write(toFile: dir + "/g.gir", atomically: true, encoding: .utf8)
    try Data(SafeTensors.write([("w", Tensor(type: TensorType([1, 1, 1, 1]), data: [2]))])).write(
      to: URL(fileURLWithPath: dir + "/g.safetensors"))
    let refused = resnetc("explain", dir + "/g.gir")
    #expect(refused.out.contains("%r (relu): fuse-relu: not fused: conv result %c has 2 users\n"))
    #expect(
      refused.out.contains(
        "%s (add): fuse-shortcut-add: not fused: operand %r is produced by relu; conv result %c has 2 users\n"))
  }
}
