import GraphIR
import Models
import Passes
import Testing

@testable import Codegen

/// Steps whose kernels are the same share one function: a deeper network of the same blocks
/// compiles no more kernels, and every step still calls a kernel of its own shapes.
@Suite struct SharedKernelTests {
  static func lowered(_ name: String, target: Target) throws -> LoweredProgram {
    var graph = try ResNet.build(try ResNetSpec(name: name))
    try PassManager(passes: Pipeline.default).run(&graph)
    return try LoweredProgram(graph: graph, target: target)
  }

  @Test(arguments: [Target.generic, .avx2, .avx512])
  func deeperNetworksOfTheSameBlocksShareTheirKernels(target: Target) throws {
    let r56 = try Self.lowered("resnet56", target: target)
    let r110 = try Self.lowered("resnet110", target: target)
    let (k56, of56) = r56.sharedKernels(in: .c)
    let (k110, of110) = r110.sharedKernels(in: .c)
    #expect(of56.count == r56.steps.count && of110.count == r110.steps.count)
    #expect(r110.steps.count > r56.steps.count + 50)
    #expect(k110.count == k56.count)
    #expect(k56.count < 30)
    // Every step is served by exactly the kernel that lists it, and that kernel is the step's
    // own.
    for (step, k) in of110.enumerated() {
      #expect(k110[k].steps.contains(step))
      #expect(r110.kernel(of: r110.steps[step], in: .c) == k110[k].kernel)
    }
    #expect(k110.map(\.steps.count).reduce(0, +) == r110.steps.count)
  }

  /// The C program writes one function per distinct kernel and calls it once per step.
  @Test func theProgramWritesEachKernelOnce() throws {
    var graph = try ResNet.build(try ResNetSpec(name: "resnet50"))
    try PassManager(passes: Pipeline.default).run(&graph)
    let program = try CProgram(graph: graph, headerName: "m.h", target: .avx512)
    let source = program.source
    let definitions = source.split(separator: "\n").filter { $0.hasPrefix("static void kernel") }
    let (kernels, _) = try LoweredProgram(graph: graph, target: .avx512).sharedKernels(in: .c)
    #expect(definitions.count == kernels.count)
    #expect(kernels.count < 40)
    #expect(source.contains("also serves"))
  }
}
