// swift-tools-version: 6.0
import PackageDescription

// Modules depend one way: GraphIR <- Passes, GraphIR <- Codegen, GraphIR <- Runtime,
// GraphIR <- Models, GraphIR <- ONNX, Formats (no dependencies) <- Runtime and Models; Driver (the command-line logic) sits on top, and the `resnetc`
// executable only calls Driver. DiffTest (generated graphs run through every path) sits beside
// Driver, for the tests and the `resnetc-difftest` tool. No third-party packages.

/// The reference interpreter and the model builder run whole networks; they are built
/// optimized even in debug builds so that `swift test` stays fast.
let optimized: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
  name: "resnetc",
  platforms: [.macOS(.v13)],
  products: [
    .executable(name: "resnetc", targets: ["resnetc"]),
    .executable(name: "resnetc-difftest", targets: ["resnetc-difftest"]),
    .library(name: "GraphIR", targets: ["GraphIR"]),
    // Load, optimize, interpret and compile models from Swift: what the command line does.
    .library(name: "ResnetCompiler", targets: ["ResnetCompiler"]),
    // Compiles a target's model file into it at build time (see examples/swiftpm-app).
    .plugin(name: "ResnetcModelPlugin", targets: ["ResnetcModelPlugin"]),
  ],
  targets: [
    .target(name: "GraphIR", swiftSettings: optimized),
    // The .npy format and the seeded numbers, also copied verbatim into compiled Swift programs.
    .target(name: "Formats", swiftSettings: optimized),
    // fold-constants computes with the reference interpreter's kernels.
    .target(name: "Passes", dependencies: ["GraphIR", "Runtime"]),
    // The runtime of compiled programs is real source in Runtime/Program, embedded into
    // Codegen's EmbeddedRuntime.swift by scripts/embed-runtime.sh (a test holds them equal; a
    // build plugin cannot do it, as resnetc is itself the tool of ResnetcModelPlugin).
    .target(name: "Codegen", dependencies: ["GraphIR"], swiftSettings: optimized),
    .target(name: "Runtime", dependencies: ["GraphIR", "Formats"], exclude: ["Program"], swiftSettings: optimized),
    .executableTarget(name: "resnetc-embed"),
    .target(name: "Models", dependencies: ["GraphIR", "Formats"], swiftSettings: optimized),
    .target(name: "ONNX", dependencies: ["GraphIR"], swiftSettings: optimized),
    // Post-training static quantization: calibration, QDQ insertion, the error report.
    .target(name: "Quantization", dependencies: ["GraphIR", "Passes", "Runtime"], swiftSettings: optimized),
    .target(
      name: "ResnetCompiler", dependencies: ["GraphIR", "Passes", "Codegen", "Runtime", "Models", "ONNX"]),
    .target(
      name: "Driver",
      dependencies: [
        "GraphIR", "Formats", "Passes", "Codegen", "Runtime", "Models", "ONNX", "ResnetCompiler", "Quantization",
      ]),
    .executableTarget(name: "resnetc", dependencies: ["Driver"]),
    .plugin(name: "ResnetcModelPlugin", capability: .buildTool(), dependencies: ["resnetc"]),
    .target(
      name: "DiffTest", dependencies: ["GraphIR", "Passes", "Codegen", "Runtime", "Models", "ONNX"],
      swiftSettings: optimized),
    .executableTarget(name: "resnetc-difftest", dependencies: ["DiffTest", "Codegen", "GraphIR"]),
    .testTarget(name: "GraphIRTests", dependencies: ["GraphIR", "Models"]),
    .testTarget(name: "PassesTests", dependencies: ["Passes", "GraphIR", "Runtime", "Models", "ONNX"]),
    .testTarget(name: "CodegenTests", dependencies: ["Codegen", "GraphIR", "Runtime", "Models", "ONNX"]),
    .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "GraphIR", "Formats"], resources: [.copy("Fixtures")]),
    .testTarget(name: "ModelsTests", dependencies: ["Models", "GraphIR", "Runtime"]),
    .testTarget(
      name: "DiffTestTests",
      dependencies: ["DiffTest", "GraphIR", "Passes", "Codegen", "Runtime", "ONNX", "Quantization"],
      resources: [.copy("Regressions"), .copy("Unusual"), .copy("Backend"), .copy("Legacy")]),
    .testTarget(
      name: "DriverTests",
      dependencies: ["Driver", "GraphIR", "Runtime", "Codegen", "Models", "Passes", "DiffTest", "Formats"]),
    .testTarget(name: "ResnetCompilerTests", dependencies: ["ResnetCompiler"]),
    .testTarget(
      name: "QuantizationTests", dependencies: ["Quantization", "ONNX", "GraphIR", "Runtime", "Passes", "Formats"],
      resources: [.copy("Fixtures")]),
    .testTarget(
      name: "ONNXTests", dependencies: ["ONNX", "GraphIR", "Runtime", "Formats", "Passes", "Codegen"],
      resources: [.copy("Fixtures"), .copy("Quantized")]),
  ]
)
