import GraphIR
import Testing

@testable import Models

@Suite struct PaperCountsTests {
  /// Parameters (with fc) of the paper's networks, as torchvision and the CIFAR reference
  /// implementation count them: weights, biases and BatchNorm scale and shift.
  @Test(arguments: [
    ("resnet18", 11_689_512), ("resnet34", 21_797_672), ("resnet50", 25_557_032), ("resnet101", 44_549_160),
    ("resnet152", 60_192_808), ("resnet20", 269_722), ("resnet32", 464_154), ("resnet44", 658_586),
    ("resnet56", 853_018), ("resnet110", 1_727_962), ("resnet1202", 19_421_274),
  ])
  func parameters(name: String, expected: Int) throws {
    #expect(try ResNet.build(try ResNetSpec(name: name)).parameterCount == expected)
  }

  /// Multiply-adds at 224x224, and the paper's approximate figure (Table 1, which
  /// truncates some and rounds others: 3.66 G is "3.6", 7.57 G is "7.6").
  @Test(arguments: [
    ("resnet18", 1_814_073_344, 1.8), ("resnet34", 3_663_761_408, 3.6), ("resnet50", 3_857_973_248, 3.8),
    ("resnet101", 7_570_194_432, 7.6), ("resnet152", 11_282_415_616, 11.3),
  ])
  func multiplyAdds(name: String, expected: Int, paper: Double) throws {
    let macs = try ResNet.build(try ResNetSpec(name: name)).multiplyAdds
    #expect(macs == expected)
    #expect(abs(Double(macs) / 1e9 - paper) < 0.07)
  }

  @Test func strideOnTheThreeByThree() throws {
    let v15 = try ResNet.build(try ResNetSpec(name: "resnet50-v1.5"))
    #expect(v15.multiplyAdds == 4_089_184_256)
    #expect(v15.parameterCount == 25_557_032)
    var spec = try ResNetSpec(name: "resnet50")
    spec.stride = .v1_5
    let same = try ResNet.build(spec) == v15
    #expect(same)
  }

  @Test func paperStridePlacementIsOnTheFirstOneByOne() throws {
    let g = try ResNet.build(try ResNetSpec(name: "resnet50"))
    let strides = Dictionary(
      uniqueKeysWithValues: g.nodes.compactMap { node -> (String, Int)? in
        guard case .conv2d(let a) = node.op else { return nil }
        return (node.name, a.stride.h)
      })
    #expect(strides["layer2.0.conv1"] == 2 && strides["layer2.0.conv2"] == 1)
    #expect(strides["layer2.0.downsample.0"] == 2)
  }
}

@Suite struct StructureTests {
  func ops(_ name: String, shortcut: ShortcutOption? = nil) throws -> [String: Int] {
    var spec = try ResNetSpec(name: name)
    spec.shortcut = shortcut
    var counts: [String: Int] = [:]
    for node in try ResNet.build(spec).nodes { counts[node.op.name, default: 0] += 1 }
    return counts
  }

  @Test func resnet50OptionB() throws {
    let c = try ops("resnet50")
    // 1 stem + 16 blocks x 3 + 4 projections.
    #expect(c["conv2d"] == 53 && c["batch_norm"] == 53 && c["add"] == 16 && c["relu"] == 49)
    #expect(c["max_pool2d"] == 1 && c["global_avg_pool"] == 1 && c["dense"] == 1 && c["softmax"] == 1)
  }

  @Test func shortcutOptions() throws {
    // resnet34: 16 blocks; B projects where shapes change (3 stages), C everywhere.
    #expect(try ops("resnet34", shortcut: .a)["conv2d"] == 33)
    #expect(try ops("resnet34", shortcut: .b)["conv2d"] == 36)
    #expect(try ops("resnet34", shortcut: .c)["conv2d"] == 49)
    let a = try ops("resnet34", shortcut: .a)
    #expect(a["subsample2d"] == 3 && a["pad_channels"] == 3)
    // Option A on bottlenecks also pads the first stage's 64 -> 256 channels (no subsampling).
    let a50 = try ops("resnet50", shortcut: .a)
    #expect(a50["subsample2d"] == 3 && a50["pad_channels"] == 4)
  }

  @Test func cifarUsesOptionA() throws {
    let c = try ops("resnet20")
    #expect(c["conv2d"] == 19 && c["subsample2d"] == 2 && c["pad_channels"] == 2 && c["add"] == 9)
    #expect(c["max_pool2d"] == nil)
  }

  @Test func plainNetworksHaveNoShortcuts() throws {
    let c = try ops("plain34")
    #expect(c["add"] == nil && c["conv2d"] == 33)
    #expect(try ops("plain20")["add"] == nil)
  }

  @Test func batchAndResolution() throws {
    var spec = try ResNetSpec(name: "resnet18")
    spec.batch = 3
    spec.resolution = 64
    let g = try ResNet.build(spec)
    #expect(g.inputs[0].type == TensorType([3, 3, 64, 64]))
    #expect(g.valueTypes[g.outputs[0]] == TensorType([3, 1000]))
  }

  @Test func paddingKeepsTinyInputsValid() throws {
    // Every conv and pool pads, so even a 1x1 input flows through as 1x1 maps.
    var spec = try ResNetSpec(name: "resnet50")
    spec.resolution = 1
    let g = try ResNet.build(spec)
    #expect(g.nodes.allSatisfy { $0.type.rank != 4 || ($0.type.shape[2] == 1 && $0.type.shape[3] == 1) })
  }
}

@Suite struct WeightTests {
  @Test func seedsAreDeterministicAndDistinct() throws {
    var spec = try ResNetSpec(name: "resnet20")
    let a = try ResNet.build(spec)
    let same = try ResNet.build(spec) == a
    #expect(same)
    spec.seed = 1
    let b = try ResNet.build(spec)
    #expect(a.constants["conv1.weight"]!.data != b.constants["conv1.weight"]!.data)
  }

  @Test func batchNormIsNotTheIdentity() throws {
    let g = try ResNet.build(try ResNetSpec(name: "resnet20"))
    for suffix in ["weight", "bias", "running_mean", "running_var"] {
      let values = g.constants["layer1.0.bn1.\(suffix)"]!.data
      #expect(Set(values).count == values.count, "\(suffix) varies per channel")
    }
    #expect(g.constants["bn1.running_mean"]!.data.contains { abs($0) > 0.05 })
    #expect(g.constants["bn1.running_var"]!.data.contains { abs($0 - 1) > 0.2 })
  }

  @Test func heInitialization() throws {
    // Uniform He initialization: variance 2 / fan-in.
    let g = try ResNet.build(try ResNetSpec(name: "resnet18"))
    let w = g.constants["layer3.0.conv2.weight"]!.data
    let variance = w.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(w.count)
    let expected = 2.0 / Double(256 * 9)
    #expect(abs(variance / expected - 1) < 0.02)
  }
}

@Suite struct SpecTests {
  @Test func names() throws {
    #expect(try ResNetSpec(name: "resnet1202").depth == 1202)
    #expect(try ResNetSpec(name: "resnet26").depth == 26)
    #expect(try ResNetSpec(name: "plain56").plain)
    #expect(try ResNetSpec(name: "resnet101-v1.5").stride == .v1_5)
    for bad in ["resnet", "resnet19", "resnet-50", "vgg16", "resnet50x", "plain", "resnet0", "resnet2"] {
      #expect(throws: ModelSpecError.unknownModel(bad)) { try ResNetSpec(name: bad) }
    }
    #expect(throws: ModelSpecError.strideNeedsBottleneck("resnet18-v1.5")) { try ResNetSpec(name: "resnet18-v1.5") }
  }

  @Test func optionChecks() throws {
    var spec = try ResNetSpec(name: "plain18")
    spec.shortcut = .b
    #expect(throws: ModelSpecError.shortcutOnPlain("plain18")) { try spec.validate() }
    spec = try ResNetSpec(name: "resnet18")
    spec.batch = 0
    #expect(throws: ModelSpecError.outOfRange(option: "batch", value: 0, range: "1...4096")) { try spec.validate() }
  }
}
