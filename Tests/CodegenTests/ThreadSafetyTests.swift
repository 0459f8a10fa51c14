import Foundation
import GraphIR
import Models
import Testing

@testable import Codegen

/// A C program that runs one instance from 8 threads at once, then with pools of 3, 2 and 1
/// threads started after those runs, and compares every output with a run made alone, bit
/// for bit.
let concurrencyHarness = #"""
  #include "m.h"
  #include <pthread.h>
  #include <stdio.h>
  #include <stdlib.h>
  #include <string.h>

  static resnetc_model *model;
  static float *input, *reference;
  static long in_count, out_count;
  static int mismatches;
  static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;

  static void *worker(void *arg) {
    (void)arg;
    float *out = malloc(sizeof(float) * (size_t)out_count);
    for (int round = 0; round < 3; ++round) {
      const float *ins[1] = {input};
      float *outs[1] = {out};
      if (resnetc_run(model, ins, outs) != RESNETC_OK || memcmp(out, reference, sizeof(float) * (size_t)out_count) != 0) {
        pthread_mutex_lock(&count_lock);
        ++mismatches;
        pthread_mutex_unlock(&count_lock);
      }
    }
    free(out);
    return NULL;
  }

  int main(int argc, char **argv) {
    int error = 0;
    model = resnetc_create(argc > 1 ? argv[1] : "m.weights", &error);
    if (!model) { fprintf(stderr, "%s\n", resnetc_error_string(error)); return 2; }
    resnetc_set_threads(model, 2);
    in_count = resnetc_input_elements(0);
    out_count = resnetc_output_elements(0);
    input = malloc(sizeof(float) * (size_t)in_count);
    reference = malloc(sizeof(float) * (size_t)out_count);
    for (long i = 0; i < in_count; ++i) input[i] = (float)((i * 7919) % 2001 - 1000) / 500.0f;
    const float *ins[1] = {input};
    float *outs[1] = {reference};
    resnetc_run(model, ins, outs);
    pthread_t threads[8];
    for (int t = 0; t < 8; ++t) pthread_create(&threads[t], NULL, worker, NULL);
    for (int t = 0; t < 8; ++t) pthread_join(threads[t], NULL);
    /* A pool started after runs: its workers wait for the next job (they once ran the last
       one again, with arguments from a returned stack frame). */
    for (int n = 3; n >= 1; --n) {
      resnetc_set_threads(model, n);
      float *again = malloc(sizeof(float) * (size_t)out_count);
      float *outs_again[1] = {again};
      if (resnetc_run(model, ins, outs_again) != RESNETC_OK ||
          memcmp(again, reference, sizeof(float) * (size_t)out_count) != 0)
        ++mismatches;
      free(again);
    }
    resnetc_destroy(model);
    free(input);
    free(reference);
    printf("mismatches %d\n", mismatches);
    return mismatches != 0;
  }
  """#

@Suite struct ThreadSafetyTests {
  /// One library instance used from 8 threads at once gives outputs bit-identical to one
  /// thread, with ThreadSanitizer watching the runtime, the pool and the kernels.
  @Test func oneInstanceFromEightThreadsUnderThreadSanitizer() throws {
    let dir = try scratchDirectory()
    let graph = try optimized(try ResNet.build(try ResNetSpec(name: "resnet20")))
    try Artifacts.build(graph, kind: .c, output: dir + "/m", compiler: nil, target: runnableTargets.last!)
    try concurrencyHarness.write(toFile: dir + "/harness.c", atomically: true, encoding: .utf8)
    // The Swift toolchain's clang links its ThreadSanitizer runtime against libdispatch and the
    // Blocks runtime, which live beside the Swift runtime.
    let cc = try compiler()
    let swiftLibraries = URL(fileURLWithPath: cc.path).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("lib/swift/linux").path
    let toolchainRuntime =
      FileManager.default.fileExists(atPath: swiftLibraries + "/libdispatch.so")
      ? ["-L" + swiftLibraries, "-Wl,-rpath," + swiftLibraries, "-ldispatch", "-lBlocksRuntime"] : []
    try cc.compile(
      sources: [dir + "/m.c", dir + "/harness.c"], output: dir + "/harness", shared: false,
      extra: runnableTargets.last!.flags + ["-fsanitize=thread", "-g"] + toolchainRuntime)
    let (status, out, errors) = try runProgram(dir + "/harness", [dir + "/m.weights"])
    #expect(status == 0, "\(out)\(errors)")
    #expect(out == "mismatches 0\n")
    #expect(!errors.contains("ThreadSanitizer"), "\(errors)")
  }
}
