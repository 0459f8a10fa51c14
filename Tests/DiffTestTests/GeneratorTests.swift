import DiffTest
import Foundation
import GraphIR
import Testing

/// What the generator makes: valid graphs, the same for a seed, and over a few hundred seeds
/// every op and every feature the differential tests rely on, often.
@Suite struct GeneratorTests {
  static let seeds: [UInt64] = Array(1...300)
  static let graphs: [Graph] = seeds.map { seed in
    var generator = GraphGenerator(seed: seed)
    return generator.graph()
  }

  @Test func aSeedNamesOneValidGraph() throws {
    for seed: UInt64 in [1, 7, 12_345] {
      var a = GraphGenerator(seed: seed), b = GraphGenerator(seed: seed)
      let graph = a.graph()
      #expect(graph == b.graph())
      try Verifier.verify(graph)
    }
    var c = GraphGenerator(seed: 2)
    #expect(c.graph() != Self.graphs[0])
    for graph in Self.graphs { try Verifier.verify(graph) }
  }

  /// How many of the graphs have each feature.
  static func census() -> [String: Int] {
    var counts: [String: Int] = [:]
    for graph in graphs {
      var features: Set<String> = []
      let values = graph.valueTypes
      var readers: [String: [Node]] = [:]
      for node in graph.nodes { for case .value(let v) in node.operands { readers[v, default: []].append(node) } }
      let producer = Dictionary(graph.nodes.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
      func producerOp(_ operand: Operand) -> String? { producer[operand.name].map(\.op.name) }
      for node in graph.nodes {
        features.insert("op " + node.op.name)
        switch node.op {
        case .conv2d(let a):
          let channels =
            values[node.operands[0].name]?.shape[1] ?? graph.constants[node.operands[0].name]!.type.shape[1]
          if a.groups > 1, a.groups < channels { features.insert("grouped conv") }
          if a.groups == channels, channels > 1 { features.insert("depthwise conv") }
          if a.dilation != .square(1) { features.insert("dilated conv") }
          if a.stride != .square(1) { features.insert("strided conv") }
          if a.padding.top != a.padding.bottom || a.padding.left != a.padding.right {
            features.insert("asymmetric padding")
          }
          if node.operands.count == (a.epilogue.addsResidual ? 3 : 2) { features.insert("conv without bias") }
          if a.epilogue != .none { features.insert("conv with epilogue") }
          if !node.operands[1].isConstant { features.insert("computed weight") }
        case .batchNorm:
          if producerOp(node.operands[0]) == "batch_norm" { features.insert("bn -> bn") }
          if producerOp(node.operands[0]) != "conv2d" { features.insert("bn after no conv") }
        case .relu where producerOp(node.operands[0]) == "relu": features.insert("relu -> relu")
        case .add where node.operands.contains { producerOp($0) == "add" }: features.insert("add -> add")
        case .maxPool2d(let a), .avgPool2d(let a, _):
          if a.ceilMode { features.insert("ceil mode") }
        default: break
        }
        if case .avgPool2d(_, let include) = node.op { features.insert("count_include_pad \(include)") }
      }
      for (constant, _) in graph.constants.entries {
        let convs = graph.nodes.filter { node in
          if case .conv2d = node.op { node.operands[1] == .constant(constant) } else { false }
        }
        if convs.count >= 2,
          convs.allSatisfy({ c in readers[c.name, default: []].contains { $0.op.name == "batch_norm" } })
        {
          features.insert("weight shared by two convs, each with its BatchNorm")
        }
      }
      if readers.values.contains(where: { $0.count >= 2 }) { features.insert("fan-out") }
      if graph.outputs.contains(where: { readers[$0] != nil }) { features.insert("output read inside") }
      if graph.outputs.count >= 2 { features.insert("several outputs") }
      for type in values.values where type.rank == 4 {
        if type.shape[1] % 8 != 0 { features.insert("channels not a multiple of 8") }
        if type.shape[1] % 16 == 0 { features.insert("channels a multiple of 16") }
        if type.shape[2] == 1, type.shape[3] == 1 { features.insert("1x1 map") }
        if type.shape[2] != type.shape[3] { features.insert("non-square map") }
      }
      features.insert("batch \(graph.inputs[0].type.shape[0])")
      let names = graph.inputs.map(\.name) + graph.nodes.map(\.name) + graph.constants.names
      for mark in ["@", "%", ".", "-", "/", " ", "\"", "\\", "\n"] where names.contains(where: { $0.contains(mark) }) {
        features.insert("name with \(mark.debugDescription)")
      }
      if names.contains(where: { $0.unicodeScalars.contains { !$0.isASCII } }) { features.insert("non-ASCII name") }
      if names.contains(where: { $0.count >= 1000 }) { features.insert("name of 1000+ characters") }
      let sanitized = names.map {
        String(
          $0.unicodeScalars.map {
            $0.properties.isAlphabetic && $0.isASCII || ("0"..."9").contains($0) ? Character($0) : "_"
          })
      }
      if Set(sanitized).count < names.count { features.insert("names equal once sanitized") }
      for feature in features { counts[feature, default: 0] += 1 }
    }
    return counts
  }

  @Test func everyOpAndFeatureComesUpOften() {
    let counts = Self.census()
    let ops = [
      "conv2d", "batch_norm", "scale_shift", "relu", "add", "max_pool2d", "avg_pool2d", "global_avg_pool", "flatten",
      "dense", "softmax", "subsample2d", "pad_channels", "pad2d", "reshape",
    ]
    for op in ops {
      #expect(counts["op " + op, default: 0] >= 10, "op \(op) in \(counts["op " + op, default: 0]) graphs")
    }
    let often = [
      "fan-out", "output read inside", "several outputs", "bn -> bn", "relu -> relu", "add -> add", "bn after no conv",
      "channels not a multiple of 8", "channels a multiple of 16", "1x1 map", "non-square map", "grouped conv",
      "depthwise conv", "dilated conv", "strided conv", "asymmetric padding", "conv without bias", "conv with epilogue",
      "ceil mode", "count_include_pad true", "count_include_pad false", "batch 1", "batch 2", "batch 3", "batch 4",
      "name with \"@\"", "name with \"%\"", "name with \".\"", "name with \"-\"", "name with \"/\"", "name with \" \"",
      "name with \"\\\"\"", "name with \"\\\\\"", "name with \"\\n\"", "non-ASCII name", "names equal once sanitized",
    ]
    for feature in often {
      #expect(counts[feature, default: 0] >= 10, "\(feature) in \(counts[feature, default: 0]) of 300")
    }
    let rare = ["weight shared by two convs, each with its BatchNorm", "name of 1000+ characters", "computed weight"]
    for feature in rare {
      #expect(counts[feature, default: 0] >= 3, "\(feature) in \(counts[feature, default: 0]) of 300")
    }
  }
}
