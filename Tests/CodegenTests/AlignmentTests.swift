import Foundation
import GraphIR
import Testing

@testable import Codegen

/// A C program that runs a model with input and output buffers at addresses 4 bytes past a
/// 64-byte boundary and compares the outputs with a run on aligned buffers, bit for bit.
let misalignedHarness = #"""
  #include "m.h"
  #include <stdio.h>
  #include <stdlib.h>
  #include <string.h>

  int main(int argc, char **argv) {
    int error = 0;
    resnetc_model *model = resnetc_create(argv[1], &error);
    if (!model || argc < 2) return 2;
    long in_count = resnetc_input_elements(0), out_count = resnetc_output_elements(0);
    float *in = aligned_alloc(64, 64 * (size_t)(in_count + 16)), *out = aligned_alloc(64, 64 * (size_t)(out_count + 16));
    float *reference = malloc(sizeof(float) * (size_t)out_count);
    for (long i = 0; i < in_count; ++i) in[i] = (float)((i * 7919) % 2001 - 1000) / 500.0f;
    const float *ins[1] = {in};
    float *outs[1] = {reference};
    if (resnetc_run(model, ins, outs) != RESNETC_OK) return 3;
    memmove(in + 1, in, sizeof(float) * (size_t)in_count);
    const float *odd_ins[1] = {in + 1};
    float *odd_outs[1] = {out + 1};
    if (resnetc_run(model, odd_ins, odd_outs) != RESNETC_OK) return 4;
    int same = memcmp(out + 1, reference, sizeof(float) * (size_t)out_count) == 0;
    printf(same ? "same\n" : "different\n");
    resnetc_destroy(model);
    return same ? 0 : 1;
  }
  """#

@Suite struct AlignmentTests {
  /// The caller's buffers need no alignment: a blocked global average pool writing a graph
  /// output once stored whole vectors there with aligned stores (a fault when malloc gave a
  /// 16-byte-aligned buffer to an AVX2 or AVX-512 kernel).
  @Test(arguments: runnableTargets)
  func callerBuffersNeedNoAlignment(target: Target) throws {
    var b = GraphBuilder(name: "pool-output")
    let x = try b.input("x", TensorType([2, 16, 3, 3]))
    let w = try b.constant("w", TensorType([16, 16, 3, 3]), values(2304, seed: 1))
    let c = try b.node("c", .conv2d(Conv2dAttributes(padding: .uniform(1), epilogue: .relu)), [x, w])
    let pool = try b.node("pool", .globalAvgPool, [c])
    let graph = try b.finish(outputs: [pool])
    let dir = try scratchDirectory()
    try Artifacts.build(graph, kind: .c, output: dir + "/m", compiler: nil, target: target)
    try misalignedHarness.write(toFile: dir + "/harness.c", atomically: true, encoding: .utf8)
    try compiler().compile(
      sources: [dir + "/m.c", dir + "/harness.c"], output: dir + "/harness", shared: false, extra: target.flags)
    let (status, out, errors) = try runProgram(dir + "/harness", [dir + "/m.weights"])
    #expect(status == 0 && out == "same\n", "\(target): status \(status) \(out)\(errors)")
  }
}
