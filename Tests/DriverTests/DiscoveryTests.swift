import Codegen
import Foundation
import Testing

@testable import Driver

/// `--version`, `list` and the "did you mean" of unknown names.
@Suite struct DiscoveryTests {
  @Test func versionNamesTheReleaseAndTargets() {
    let run = resnetc("--version")
    #expect(run.status == 0)
    #expect(
      run.out
        == "resnetc \(Driver.version)\ntargets: generic, avx2, avx512, avx512vnni (native here: \(Target.native().rawValue))\n"
    )
  }

  @Test func listShowsEveryBuiltinWithItsCounts() throws {
    let table = resnetc("list")
    #expect(table.status == 0, "\(table.err)")
    let lines = table.out.split(separator: "\n")
    #expect(lines.count == builtinNames.count + 1)
    #expect(lines.contains { $0.hasPrefix("resnet50-v1.5 ") && $0.hasSuffix("25,557,032   4,089,184,256") }, "\(lines)")
    let json = resnetc("list", "--json")
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: [[String: Any]]])
    let models = try #require(object["models"])
    #expect(models.map { $0["name"] as? String } == builtinNames)
    // The paper's counts (RESNET.md): ResNet-18 11.69 M parameters, 1.8 G multiply-adds.
    let r18 = try #require(models.first { $0["name"] as? String == "resnet18" })
    #expect(r18["parameters"] as? Int == 11_689_512 && r18["multiplyAdds"] as? Int == 1_814_073_344)
    #expect(r18["input"] as? [Int] == [1, 3, 224, 224] && r18["dataset"] as? String == "ImageNet")
    let cifar = try #require(models.first { $0["name"] as? String == "plain20" })
    #expect(cifar["input"] as? [Int] == [1, 3, 32, 32] && cifar["shortcuts"] as? Bool == false)
    #expect(resnetc("list", "resnet50").status == 2)
  }

  @Test func nearMissesAreNamed() {
    let model = resnetc("info", "resnt50")
    #expect(
      model.status == 1 && model.err.contains("unknown model 'resnt50'; did you mean 'resnet50'?"), "\(model.err)")
    let v15 = resnetc("info", "resnet50-v15")
    #expect(v15.err.contains("did you mean 'resnet50-v1.5'?"), "\(v15.err)")
    let command = resnetc("cmopile", "resnet20")
    #expect(command.status == 2 && command.err.contains("unknown command 'cmopile'; did you mean 'compile'?"))
    let option = resnetc("run", "resnet20", "--ouput", "y.npy")
    #expect(option.status == 2 && option.err.contains("unknown option '--ouput'; did you mean '--output'?"))
    let far = resnetc("info", "alexnet")
    #expect(far.status == 1 && !far.err.contains("did you mean"), "\(far.err)")
    #expect(suggestion(for: "--thread", among: ["--threads", "--target"]) == "--threads")
    #expect(editDistance("resnet05", "resnet50") == 1, "a swap is one edit")
  }

  @Test func runHelpNamesTheV15Models() {
    #expect(resnetc("run", "--help").out.contains("resnet50-v1.5"))
  }
}
