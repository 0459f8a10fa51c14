import Foundation
import GraphIR
import Runtime
import Testing

@testable import Passes

/// The golden cases: `Golden/<pass>/<case>.input.gir` and `.expected.gir`. A case whose
/// name starts with `dont_` must leave the graph as it was; every other case must change it.
/// Set UPDATE_GOLDEN=1 to rewrite the expected files (then review the diff).
let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden").path

/// Deterministic constant data for a golden case: uniform in [0.5, 1.5), seeded by the
/// constant's name (FNV-1a), so BatchNorm variances are positive.
func goldenData(_ name: String, _ type: TensorType) -> [Float] {
  var hash: UInt64 = 0xcbf2_9ce4_8422_2325
  for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
  return (0..<type.elementCount).map { _ in
    hash = hash &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return 0.5 + Float(hash >> 40) / Float(1 << 24)
  }
}

/// A golden case's constant: `goldenData` for f32, scaled by 1/64 for quantization scales
/// (names starting `qs_`) and by 1/4 for the output scales of large products (`qso_`), so that
/// 8-bit results rarely saturate; integers of the same hash
/// within their type's range (i8 in [-64, 64), u8 in [0, 256), i32 in [-512, 512)).
func goldenTensor(_ name: String, _ type: TensorType) -> Tensor {
  let data = goldenData(name, type)
  switch type.dtype {
  case .f32:
    let scale: Float = name.hasPrefix("qs_") ? 1 / 64 : name.hasPrefix("qso_") ? 1 / 4 : 1
    return Tensor(type: type, data: data.map { $0 * scale })
  case .i8: return Tensor(type: type, integers: data.map { Int32((($0 - 1) * 128).rounded(.down)) })
  case .u8: return Tensor(type: type, integers: data.map { Int32((($0 - 0.5) * 256).rounded(.down)) })
  case .i32: return Tensor(type: type, integers: data.map { Int32((($0 - 1) * 1024).rounded(.down)) })
  }
}

/// Seeded inputs in [-1, 1) for `graph`.
func goldenInputs(_ graph: Graph) -> [Tensor] {
  graph.inputs.map { input in
    Tensor(type: input.type, data: goldenData("input:" + input.name, input.type).map { ($0 - 1) * 2 })
  }
}

/// Every (pass, case) pair on disk.
func goldenCases() -> [String] {
  let fm = FileManager.default
  let passes = (try? fm.contentsOfDirectory(atPath: goldenDirectory)) ?? []
  return passes.sorted().flatMap { pass in
    ((try? fm.contentsOfDirectory(atPath: goldenDirectory + "/" + pass)) ?? []).filter { $0.hasSuffix(".input.gir") }
      .sorted().map { pass + "/" + $0.dropLast(".input.gir".count) }
  }
}

@Suite struct GoldenTests {
  @Test func everyPassHasGoldenCasesThatChangeAndOnesThatMustNot() {
    let cases = goldenCases()
    for pass in Pipeline.all.map(\.name) {
      let mine = cases.filter { $0.hasPrefix(pass + "/") }
      #expect(mine.contains { !$0.contains("/dont_") }, "\(pass) has no case that must change")
      #expect(mine.contains { $0.contains("/dont_") }, "\(pass) has no dont_ case")
    }
  }

  @Test(arguments: goldenCases())
  func golden(_ path: String) throws {
    let passName = String(path.split(separator: "/")[0])
    let pass = try #require(Pipeline.all.first { $0.name == passName })
    let inputText = try String(contentsOfFile: goldenDirectory + "/" + path + ".input.gir", encoding: .utf8)
    let before = try IRParser.parse(inputText, constants: goldenTensor)
    var after = before
    let reports = try PassManager(passes: [pass], verifyAfterEachPass: true).run(&after)
    let text = IRPrinter.print(after)
    let expectedPath = goldenDirectory + "/" + path + ".expected.gir"
    if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
      try text.write(toFile: expectedPath, atomically: true, encoding: .utf8)
    }
    let expected = try String(contentsOfFile: expectedPath, encoding: .utf8)
    #expect(text == expected)
    if path.contains("/dont_") {
      #expect(text == IRPrinter.print(before), "a dont_ case changed")
      #expect(!reports[0].changed)
    } else {
      #expect(text != IRPrinter.print(before), "the case did not change")
      #expect(reports[0].changed)
    }
    // The rewrite computes the same numbers.
    let inputs = goldenInputs(before)
    let want = try Interpreter(graph: before).run(inputs)
    let got = try Interpreter(graph: after).run(inputs)
    #expect(got.count == want.count, "the rewritten graph has \(got.count) outputs, not \(want.count)")
    // fuse-quantized rounds once where the QDQ graph rounds twice: one step apart at most.
    let steps: Int32 = passName == "fuse-quantized" ? 1 : 0
    for (y, reference) in zip(got, want) {
      #expect(y.type == reference.type)
      #expect(y.integers.count == reference.integers.count)
      let apart = zip(y.integers, reference.integers).map { abs($0 - $1) }.max() ?? 0
      #expect(apart <= steps, "integer results \(apart) steps apart")
      let scale = max(reference.data.map(abs).max() ?? 0, 1e-30)
      #expect(zip(y.data, reference.data).map { abs($0 - $1) }.max() ?? 0 <= 1e-5 * scale)
    }
  }
}
