import Foundation
import GraphIR
import Testing

@testable import Codegen

/// The C runtime (`Sources/Runtime/Program/resnetc_api.c`) compiled as it is, against a
/// model written here by hand instead of by the code generator, and driven through its API:
/// weights loading and every refusal, runs on one and two threads, argument checks, queries.
@Suite struct RuntimeSourceTests {
  static let runtimeDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Sources/Runtime/Program").path

  /// The hand-written model's weights: `w[0..<4]` scales, `w[4]` shifts.
  static let weights = WeightsBlob(
    entries: [
      WeightsEntry(
        buffer: .constant("w"), source: Tensor(type: TensorType([5]), data: [1, 10, 100, 1000, 0.5]), packing: nil)
    ])

  /// Writes into `dir` the weights file (`good.weights`) and one for each refusal: `magic`,
  /// `short`, `long`, `checksum` and `header` (only 20 bytes).
  static func writeWeightsFiles(in dir: String) throws {
    let good = weights.fileBytes(tensorCount: 1)
    var badMagic = good
    badMagic[0] = UInt8(ascii: "X")
    var badChecksum = good
    badChecksum[64] ^= 1
    let files: [(String, [UInt8])] = [
      ("good.weights", good), ("magic.weights", badMagic), ("short.weights", Array(good.dropLast(4))),
      ("long.weights", good + [0, 0, 0, 0]), ("checksum.weights", badChecksum),
      ("header.weights", Array(good.prefix(20))),
    ]
    for (name, bytes) in files { try Data(bytes).write(to: URL(fileURLWithPath: dir + "/" + name)) }
  }

  /// A model of one input of 8 floats: `y[i] = x[i] * w[i % 4] + w[4]`, split into 8 work
  /// items over the pool. Then the runtime file, verbatim.
  static func modelSource(weights: WeightsBlob, runtime: String) -> String {
    """
    #define _POSIX_C_SOURCE 200809L
    #include "m.h"
    #include <math.h>
    #include <pthread.h>
    #include <stdatomic.h>
    #include <stdint.h>
    #include <stdio.h>
    #include <stdlib.h>
    #include <string.h>
    #include <time.h>
    #include <unistd.h>
    #define MODEL_WEIGHTS_BYTES \(weights.byteCount)ULL
    #define MODEL_WEIGHTS_MAGIC "\(String(decoding: WeightsBlob.magic, as: UTF8.self))"
    #define MODEL_WEIGHTS_CHECKSUM 0x\(String(weights.checksum, radix: 16))ULL
    #define MODEL_ARENA_BYTES 64ULL
    #define MODEL_STEPS 1
    #define MODEL_TARGET "test"
    #define MODEL_PEAK_FLOPS_PER_ITEM 2e6
    /* Its loop does fewer: a large count keeps three digits in the printed rate. */
    #define MODEL_INT8_PEAK_OPS_PER_ITEM 1e9
    typedef struct { const float *in[4]; float *out; } kernel_args;
    typedef void (*kernel_fn)(const kernel_args *a, long begin, long end);
    static void parallel_for(resnetc_model *model, long total, kernel_fn fn, const kernel_args *a);
    static void profile_step(resnetc_model *model, int step, double start);
    static void peak_kernel(const kernel_args *a, long begin, long end);
    static void peak_int8_kernel(const kernel_args *a, long begin, long end);
    static double now_ms(void);
    static const int64_t input_dims_0[] = {2, 4};
    static const char *const input_names[] = {"x"};
    static const int input_ranks[] = {2};
    static const int64_t *const input_dims[] = {input_dims_0};
    static const int64_t input_counts[] = {8};
    static const int64_t output_dims_0[] = {2, 4};
    static const char *const output_names[] = {"y"};
    static const int output_ranks[] = {2};
    static const int64_t *const output_dims[] = {output_dims_0};
    static const int64_t output_counts[] = {8};
    static const char *const step_labels[][2] = {{"scale", "scale_shift"}};
    static const double step_flops[] = {1.6e7};
    static const unsigned char step_integer[] = {1};
    static const char *const step_kernels[] = {"by hand"};
    static void peak_kernel(const kernel_args *a, long begin, long end) {
      for (long item = begin; item < end; ++item) {
        float s = a->in[0][0];
        for (long i = 0; i < 1000000; ++i) s = s * 0.5f + a->in[0][0];
        a->out[item] = s;
      }
    }
    static void peak_int8_kernel(const kernel_args *a, long begin, long end) {
      for (long item = begin; item < end; ++item) {
        unsigned s = (unsigned)a->in[0][0];
        for (long i = 0; i < 1000000; ++i) s = s * 3u + (unsigned)a->in[0][1];
        a->out[item] = (float)s;
      }
    }
    static void scale(const kernel_args *a, long begin, long end) {
      for (long i = begin; i < end; ++i) a->out[i] = a->in[0][i] * a->in[1][i % 4] + a->in[1][4];
    }
    static void forward(resnetc_model *model, const float *weights, unsigned char *arena, const float *const *inputs, float *const *outputs) {
      (void)arena;
      double start = now_ms();
      const kernel_args args = {{inputs[0], weights}, outputs[0]};
      parallel_for(model, 8, scale, &args);
      profile_step(model, 0, start);
    }

    """ + runtime
  }

  static let harness = """
    #include "m.h"
    #include <stdio.h>
    #include <string.h>
    static void create(const char *path) {
      int error = -1;
      resnetc_model *m = resnetc_create(path, &error);
      printf("%s: %s %d %s\\n", strrchr(path, '/') + 1, m ? "model" : "null", error, resnetc_error_string(error));
      if (m) resnetc_destroy(m);
    }
    int main(int argc, char **argv) {
      for (int i = 2; i < argc; ++i) create(argv[i]);
      int error = -1;
      resnetc_model *m = resnetc_create(argv[1], &error);
      if (!m) { printf("good file refused: %d\\n", error); return 1; }
      const float x[8] = {1, 2, 3, 4, -1, -2, -3, -4};
      float y[8] = {0};
      const float *in[1] = {x};
      float *out[1] = {y};
      for (int threads = 1; threads <= 2; ++threads) {
        printf("threads %d: %d", threads, resnetc_set_threads(m, threads));
        printf(" run %d:", resnetc_run(m, in, out));
        for (int i = 0; i < 8; ++i) printf(" %g", y[i]);
        printf("\\n");
      }
      printf("null run %d, null inputs %d\\n", resnetc_run(NULL, in, out), resnetc_run(m, NULL, out));
      printf("inputs %d outputs %d; %s rank %d dims %lld %lld elements %lld; %s; out of range %p %d %lld\\n",
             resnetc_input_count(), resnetc_output_count(), resnetc_input_name(0), resnetc_input_rank(0),
             (long long)resnetc_input_dims(0)[0], (long long)resnetc_input_dims(0)[1],
             (long long)resnetc_input_elements(0), resnetc_output_name(0), (const void *)resnetc_input_name(1),
             resnetc_output_rank(-1), (long long)resnetc_output_elements(1));
      resnetc_set_profiling(m, 1);
      resnetc_run(m, in, out);
      printf("profile:\\n%s", resnetc_profile_report(m));
      resnetc_destroy(m);
      return 0;
    }

    """

  @Test func theCRuntimeRunsAHandWrittenModel() throws {
    let dir = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let weights = RuntimeSourceTests.weights
    let runtime = try String(contentsOfFile: Self.runtimeDirectory + "/resnetc_api.c", encoding: .utf8)
    try CRuntimeText.header(model: "hand", arenaBytes: 64, weightsBytes: weights.byteCount, inputs: 1, outputs: 1)
      .write(toFile: dir + "/m.h", atomically: true, encoding: .utf8)
    try Self.modelSource(weights: weights, runtime: runtime).write(
      toFile: dir + "/m.c", atomically: true, encoding: .utf8)
    try Self.harness.write(toFile: dir + "/harness.c", atomically: true, encoding: .utf8)
    try RuntimeSourceTests.writeWeightsFiles(in: dir)
    try CompilerError.run(
      try compiler().path,
      CCompiler.flags + [dir + "/m.c", dir + "/harness.c", "-o", dir + "/harness", "-pthread", "-lm"],
      language: "C")
    let names = ["magic", "short", "long", "checksum", "header", "missing"].map { dir + "/\($0).weights" }
    let (status, out, _) = try runProgram(dir + "/harness", [dir + "/good.weights"] + names)
    #expect(status == 0)
    let lines = out.split(separator: "\n").map(String.init)
    #expect(lines.first { $0.hasPrefix("magic.weights") }?.hasPrefix("magic.weights: null 2 ") == true)
    #expect(lines.first { $0.hasPrefix("short.weights") }?.hasPrefix("short.weights: null 3 ") == true)
    #expect(lines.first { $0.hasPrefix("long.weights") }?.hasPrefix("long.weights: null 3 ") == true)
    #expect(lines.first { $0.hasPrefix("checksum.weights") }?.hasPrefix("checksum.weights: null 4 ") == true)
    #expect(lines.first { $0.hasPrefix("header.weights") }?.contains(": null ") == true)
    #expect(lines.first { $0.hasPrefix("missing.weights") }?.hasPrefix("missing.weights: null 1 ") == true)
    let expected = " run 0: 1.5 20.5 300.5 4000.5 -0.5 -19.5 -299.5 -3999.5"
    #expect(lines.contains("threads 1: 0" + expected), "\(out)")
    #expect(lines.contains("threads 2: 0" + expected), "\(out)")
    #expect(lines.contains("null run 6, null inputs 6"), "\(out)")
    #expect(
      lines.contains("inputs 1 outputs 1; x rank 2 dims 2 4 elements 8; y; out of range (nil) -1 -1")
        || lines.contains("inputs 1 outputs 1; x rank 2 dims 2 4 elements 8; y; out of range 0 -1 -1"), "\(out)")
    Self.expectProfile(lines, out)
  }

  /// The profile's peak lines (the model's loops on 2 threads, measured rates) and its step
  /// row with the kernel's name, its percentage of the int8 peak (the step is marked integer).
  static func expectProfile(_ lines: [String], _ out: String) {
    let peak = lines.first { $0.hasPrefix("peak ") } ?? ""
    #expect(peak.hasSuffix(" GFLOP/s: the test multiply-add loop on 2 threads, measured now"), "\(out)")
    let rate = Double(peak.dropFirst(5).prefix { $0 != " " }) ?? 0
    #expect(rate > 0, "\(out)")
    let int8 = lines.first { $0.hasPrefix("int8 peak ") } ?? ""
    #expect(
      int8.hasSuffix(
        " GOP/s: the test byte multiply-add loop on 2 threads, measured now; integer layers' % peak is of it"),
      "\(out)")
    let int8Rate = Double(int8.dropFirst(10).prefix { $0 != " " }) ?? 0
    #expect(int8Rate > 0, "\(out)")
    let row = lines.first { $0.hasPrefix("scale ") }?.split(separator: " ", omittingEmptySubsequences: true) ?? []
    #expect(row.count == 7 && row[1] == "scale_shift" && row[2] == "by" && row[3] == "hand", "\(out)")
    // The row's percentage is of the int8 peak (both printed rounded to 0.1).
    let (gflops, percent) = (Double(row.count == 7 ? row[5] : "") ?? 0, Double(row.count == 7 ? row[6] : "") ?? -1)
    #expect(gflops > 0 && abs(percent - gflops / int8Rate * 100) <= 0.1 + percent * 0.02, "\(out)")
  }
}

/// The Swift runtime (`Sources/Runtime/Program/ResnetcRuntime.swift`) compiled as it is,
/// after a model written here by hand, and driven through its public class and C API.
@Suite struct SwiftRuntimeSourceTests {
  /// The model of `RuntimeSourceTests` in Swift, then the runtime file, verbatim.
  static func modelSource(weights: WeightsBlob, imports: String, runtime: String) -> String {
    imports + """

      private let modelWeightsBytes = \(weights.byteCount)
      private let modelWeightsMagic = "\(String(decoding: WeightsBlob.magic, as: UTF8.self))"
      private let modelWeightsChecksum: UInt64 = 0x\(String(weights.checksum, radix: 16))
      private let modelArenaBytes = 64
      private let modelInputs: [(name: String, shape: [Int])] = [("x", [2, 4])]
      private let modelOutputs: [(name: String, shape: [Int])] = [("y", [2, 4])]
      private let stepLabels: [(String, String)] = [("scale", "scale_shift")]
      private let stepFlops: [Double] = [1.6e7]
      private let stepIntegers: [Bool] = [true]
      private let stepKernels: [String] = ["by hand"]
      private let modelTarget = "test"
      private let modelPeakFlopsPerItem = 2e6
      private let modelInt8PeakOpsPerItem = 1e9

      func resnetcPeakKernel(_ a: ResnetcKernelArgs, _ begin: Int, _ end: Int) {
        for item in begin..<end {
          var s = a.in0[0]
          for _ in 0..<1_000_000 { s = s * 0.5 + a.in0[0] }
          a.out[item] = s
        }
      }

      func resnetcPeakInt8Kernel(_ a: ResnetcKernelArgs, _ begin: Int, _ end: Int) {
        for item in begin..<end {
          var s = UInt32(a.in0[0])
          for _ in 0..<1_000_000 { s = s &* 3 &+ UInt32(a.in0[1]) }
          a.out[item] = Float(s)
        }
      }

      func scale(_ a: ResnetcKernelArgs, _ begin: Int, _ end: Int) {
        for i in begin..<end { a.out[i] = a.in0[i] * a.in1[i % 4] + a.in1[4] }
      }

      private func forward(
        _ model: ResnetcModel, _ weights: UnsafePointer<Float>, _ arena: UnsafeMutableRawPointer,
        _ inputs: [UnsafePointer<Float>], _ outputs: [UnsafeMutablePointer<Float>]
      ) {
        _ = arena
        let start = resnetcMilliseconds()
        model.parallelFor(8, scale, ResnetcKernelArgs(in0: inputs[0], in1: weights, in2: weights, in3: weights, out: outputs[0]))
        model.profileStep(0, since: start)
      }

      """ + runtime
  }

  static let harness = """
    for name in CommandLine.arguments.dropFirst(2) {
      do {
        _ = try ResnetcModel(weightsPath: name)
        print("\\(name.split(separator: "/").last!): model")
      } catch {
        print("\\(name.split(separator: "/").last!): \\(error.code) \\(error)")
      }
    }
    let model = try! ResnetcModel(weightsPath: CommandLine.arguments[1])
    let x: [Float] = [1, 2, 3, 4, -1, -2, -3, -4]
    var y = [Float](repeating: 0, count: 8)
    for threads in 1...2 {
      let set = model.setThreads(threads)
      x.withUnsafeBufferPointer { xp in
        y.withUnsafeMutableBufferPointer { yp in model.run(inputs: [xp.baseAddress!], outputs: [yp.baseAddress!]) }
      }
      print("threads \\(threads): \\(set) run:", y.map { "\\($0)" }.joined(separator: " "))
    }
    print("null run \\(resnetcRun(nil, nil, nil)); inputs \\(ResnetcModel.inputs.map(\\.name)) \\(ResnetcModel.inputs.map(\\.shape))")
    print("out of range \\(resnetcInputName(1) == nil) \\(resnetcOutputRank(-1)) \\(resnetcOutputElements(1))")
    model.setProfiling(true)
    x.withUnsafeBufferPointer { xp in
      y.withUnsafeMutableBufferPointer { yp in model.run(inputs: [xp.baseAddress!], outputs: [yp.baseAddress!]) }
    }
    print("profile:\\n" + model.profileReport(), terminator: "")

    """

  @Test func theSwiftRuntimeRunsAHandWrittenModel() throws {
    let dir = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let weights = RuntimeSourceTests.weights
    let read = { (name: String) in
      try String(contentsOfFile: RuntimeSourceTests.runtimeDirectory + "/" + name, encoding: .utf8)
    }
    let model = Self.modelSource(
      weights: weights, imports: try read("ResnetcImports.swift"), runtime: try read("ResnetcRuntime.swift"))
    try model.write(toFile: dir + "/model.swift", atomically: true, encoding: .utf8)
    try Self.harness.write(toFile: dir + "/main.swift", atomically: true, encoding: .utf8)
    try RuntimeSourceTests.writeWeightsFiles(in: dir)
    try CompilerError.run(
      try swiftCompiler().path, ["-Onone", dir + "/model.swift", dir + "/main.swift", "-o", dir + "/harness"],
      language: "Swift")
    let names = ["magic", "short", "long", "checksum", "header", "missing"].map { dir + "/\($0).weights" }
    let (status, out, _) = try runProgram(dir + "/harness", [dir + "/good.weights"] + names)
    #expect(status == 0)
    let lines = out.split(separator: "\n").map(String.init)
    #expect(lines.contains { $0.hasPrefix("magic.weights: 2 ") }, "\(out)")
    #expect(lines.contains { $0.hasPrefix("short.weights: 3 ") }, "\(out)")
    #expect(lines.contains { $0.hasPrefix("checksum.weights: 4 ") }, "\(out)")
    #expect(lines.contains { $0.hasPrefix("long.weights: 3 ") }, "\(out)")
    #expect(lines.contains { $0.hasPrefix("header.weights: 2 ") }, "\(out)")
    #expect(lines.contains { $0.hasPrefix("missing.weights: 1 ") }, "\(out)")
    let expected = " run: 1.5 20.5 300.5 4000.5 -0.5 -19.5 -299.5 -3999.5"
    #expect(lines.contains("threads 1: true" + expected), "\(out)")
    #expect(lines.contains("threads 2: true" + expected), "\(out)")
    #expect(lines.contains("null run 6; inputs [\"x\"] [[2, 4]]"), "\(out)")
    #expect(lines.contains("out of range true -1 -1"), "\(out)")
    RuntimeSourceTests.expectProfile(lines, out)
  }
}
