/// The C text that is the same for every model: the API header, the API's implementation
/// (weights loading and checking, the arena, shape queries) and the command-line program.
enum CRuntimeText {
  /// The header for a model with these sizes: its sizes, then the API header
  /// (`Sources/Runtime/Program/resnetc_api.h`) as it is.
  static func header(model: String, arenaBytes: Int, weightsBytes: Int, inputs: Int, outputs: Int) -> String {
    """
    /* resnetc: the compiled model \(model). Generated; do not edit. */
    #ifndef RESNETC_MODEL_H
    #define RESNETC_MODEL_H

    /* Bytes of intermediate values (the static memory plan's peak). */
    #define RESNETC_ARENA_BYTES \(arenaBytes)ULL
    /* Bytes of weight data in the weights file (after its 64-byte header). */
    #define RESNETC_WEIGHTS_BYTES \(weightsBytes)ULL
    #define RESNETC_INPUT_COUNT \(inputs)
    #define RESNETC_OUTPUT_COUNT \(outputs)

    """ + EmbeddedRuntime.resnetcApiH + "\n#endif\n"
  }

  /// The runtime after a model's kernels and `forward`: weights loading and checking, the
  /// worker pool, profiling and the C API (`Sources/Runtime/Program/resnetc_api.c`).
  static var api: String { EmbeddedRuntime.resnetcApiC }

  /// The command-line program: `.npy` in and out, a seeded random input when none is given,
  /// `--bench N` timing, `--threads N`, `--image` and `--labels`; follows `#include` of the
  /// model's header (`Sources/Runtime/Program/resnetc_image.c`, the image decoders and
  /// preprocessing, then `resnetc_main.c`).
  static var main: String { EmbeddedRuntime.resnetcImageC + "\n" + EmbeddedRuntime.resnetcMainC }
}
