/// The Swift text that is the same for every model, kept as real source in
/// `Sources/Runtime/Program` and embedded at build time (`EmbeddedRuntime`).
enum SwiftRuntimeText {
  /// The imports of both files (the C library and, for the atomics, Synchronization).
  static var imports: String { EmbeddedRuntime.resnetcImportsSwift }
  /// The runtime: `ResnetcModel` (weights loading and checking, the arena, the worker pool,
  /// profiling) and the C API of `resnetc.h` as `@_cdecl` functions.
  static var api: String { EmbeddedRuntime.resnetcRuntimeSwift }
  /// The runtime without the C API: `ResnetcModel` alone, for a model compiled into a Swift
  /// package's target, where several models may share one program.
  static var runtime: String {
    let marker = "// The C API (resnetc.h), for programs in other languages and dlopen."
    guard let range = api.range(of: marker) else { preconditionFailure("the runtime's C API marker is missing") }
    return String(api[..<range.lowerBound])
  }
  /// The command-line program (`@main`), built on `ResnetcModel`.
  static var main: String { EmbeddedRuntime.resnetcMainSwift }
  /// The `.npy` format and the seeded numbers (`Sources/Formats`), which resnetc itself is
  /// built with: the program's `--input` and `--input-seed` are resnetc run's by construction.
  static var formats: String {
    EmbeddedRuntime.resnetcNpySwift + EmbeddedRuntime.resnetcSeededInputSwift + EmbeddedRuntime.resnetcLabelsSwift
      + EmbeddedRuntime.resnetcInflateSwift + EmbeddedRuntime.resnetcImageSwift + EmbeddedRuntime.resnetcPreprocessSwift
  }
}
