/// The C text that is the same for every model: the API header, the API's implementation
/// (weights loading and checking, the arena, shape queries) and the command-line program.
enum CRuntimeText {
  /// The header for a model with these sizes.
  static func header(model: String, arenaBytes: Int, weightsBytes: Int, inputs: Int, outputs: Int) -> String {
    #"""
    /* resnetc: the compiled model \#(model). Generated; do not edit.
     *
     * Usage: create an instance from the weights file, run it on buffers you own (one per
     * input and output, float32, row-major, of the shapes the queries below give), destroy it.
     * An instance holds the weights and one arena of RESNETC_ARENA_BYTES for intermediate
     * values: it runs one inference at a time. Use one instance per thread to run in
     * parallel; distinct instances share nothing.
     */
    #ifndef RESNETC_MODEL_H
    #define RESNETC_MODEL_H

    #include <stddef.h>
    #include <stdint.h>

    #ifdef __cplusplus
    extern "C" {
    #endif

    /* Bytes of intermediate values (the static memory plan's peak). */
    #define RESNETC_ARENA_BYTES \#(arenaBytes)ULL
    /* Bytes of weight data in the weights file (after its 64-byte header). */
    #define RESNETC_WEIGHTS_BYTES \#(weightsBytes)ULL
    #define RESNETC_INPUT_COUNT \#(inputs)
    #define RESNETC_OUTPUT_COUNT \#(outputs)

    enum {
      RESNETC_OK = 0,
      RESNETC_ERROR_OPEN = 1,     /* the weights file cannot be opened or read */
      RESNETC_ERROR_FORMAT = 2,   /* it is not a resnetc weights file */
      RESNETC_ERROR_SIZE = 3,     /* its size is not this model's */
      RESNETC_ERROR_CHECKSUM = 4, /* its data is not this model's */
      RESNETC_ERROR_MEMORY = 5,   /* out of memory */
      RESNETC_ERROR_ARGUMENT = 6  /* a null pointer or an index out of range */
    };

    typedef struct resnetc_model resnetc_model;

    /* Loads and checks the weights; returns NULL and sets *error (if not NULL) on failure. */
    resnetc_model *resnetc_create(const char *weights_path, int *error);
    /* Runs the model: inputs[i] and outputs[i] point to buffers of the shapes below. */
    int resnetc_run(resnetc_model *model, const float *const *inputs, float *const *outputs);
    void resnetc_destroy(resnetc_model *model);
    /* A sentence for an error code. */
    const char *resnetc_error_string(int error);

    int resnetc_input_count(void);
    int resnetc_output_count(void);
    /* Name, rank, dimensions and element count of input or output i; NULL or -1 out of range. */
    const char *resnetc_input_name(int i);
    int resnetc_input_rank(int i);
    const int64_t *resnetc_input_dims(int i);
    int64_t resnetc_input_elements(int i);
    const char *resnetc_output_name(int i);
    int resnetc_output_rank(int i);
    const int64_t *resnetc_output_dims(int i);
    int64_t resnetc_output_elements(int i);

    #ifdef __cplusplus
    }
    #endif

    #endif

    """#
  }

  /// The API's implementation; follows the model's tables and `forward` in the same file.
  static let api = #"""
    /* ---- runtime: weights loading, instances, queries ---- */

    struct resnetc_model {
      float *weights;
      unsigned char *arena;
    };

    static const unsigned char weights_magic[8] = {'R', 'S', 'N', 'C', 'W', 'T', '0', '1'};

    static uint64_t read_u64(const unsigned char *p) {
      uint64_t v = 0;
      for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
      return v;
    }

    static uint64_t checksum(const unsigned char *data, uint64_t bytes) {
      uint64_t hash = 0xcbf29ce484222325ULL;
      for (uint64_t i = 0; i < bytes; i += 8) hash = (hash ^ read_u64(data + i)) * 0x100000001b3ULL;
      return hash;
    }

    static void *aligned_bytes(uint64_t bytes) {
      uint64_t rounded = (bytes + 63) / 64 * 64;
      return aligned_alloc(64, rounded > 0 ? rounded : 64);
    }

    static resnetc_model *fail(resnetc_model *model, FILE *file, int code, int *error) {
      if (file) fclose(file);
      resnetc_destroy(model);
      if (error) *error = code;
      return NULL;
    }

    resnetc_model *resnetc_create(const char *weights_path, int *error) {
      if (error) *error = RESNETC_OK;
      if (!weights_path) return fail(NULL, NULL, RESNETC_ERROR_ARGUMENT, error);
      FILE *file = fopen(weights_path, "rb");
      if (!file) return fail(NULL, NULL, RESNETC_ERROR_OPEN, error);
      unsigned char header[64];
      if (fread(header, 1, sizeof header, file) != sizeof header) return fail(NULL, file, RESNETC_ERROR_FORMAT, error);
      if (memcmp(header, weights_magic, sizeof weights_magic) != 0) return fail(NULL, file, RESNETC_ERROR_FORMAT, error);
      if (read_u64(header + 8) != MODEL_WEIGHTS_BYTES) return fail(NULL, file, RESNETC_ERROR_SIZE, error);
      if (fseek(file, 0, SEEK_END) != 0) return fail(NULL, file, RESNETC_ERROR_OPEN, error);
      long size = ftell(file);
      if (size < 0 || (uint64_t)size != 64 + MODEL_WEIGHTS_BYTES) return fail(NULL, file, RESNETC_ERROR_SIZE, error);
      if (fseek(file, 64, SEEK_SET) != 0) return fail(NULL, file, RESNETC_ERROR_OPEN, error);
      resnetc_model *model = calloc(1, sizeof *model);
      if (!model) return fail(NULL, file, RESNETC_ERROR_MEMORY, error);
      model->weights = aligned_bytes(MODEL_WEIGHTS_BYTES);
      model->arena = aligned_bytes(MODEL_ARENA_BYTES);
      if (!model->weights || !model->arena) return fail(model, file, RESNETC_ERROR_MEMORY, error);
      if (fread(model->weights, 1, MODEL_WEIGHTS_BYTES, file) != MODEL_WEIGHTS_BYTES) return fail(model, file, RESNETC_ERROR_OPEN, error);
      fclose(file);
      if (read_u64(header + 16) != MODEL_WEIGHTS_CHECKSUM ||
          checksum((const unsigned char *)model->weights, MODEL_WEIGHTS_BYTES) != MODEL_WEIGHTS_CHECKSUM)
        return fail(model, NULL, RESNETC_ERROR_CHECKSUM, error);
      return model;
    }

    int resnetc_run(resnetc_model *model, const float *const *inputs, float *const *outputs) {
      if (!model || !inputs || !outputs) return RESNETC_ERROR_ARGUMENT;
      for (int i = 0; i < RESNETC_INPUT_COUNT; ++i) if (!inputs[i]) return RESNETC_ERROR_ARGUMENT;
      for (int i = 0; i < RESNETC_OUTPUT_COUNT; ++i) if (!outputs[i]) return RESNETC_ERROR_ARGUMENT;
      forward(model->weights, model->arena, inputs, outputs);
      return RESNETC_OK;
    }

    void resnetc_destroy(resnetc_model *model) {
      if (!model) return;
      free(model->weights);
      free(model->arena);
      free(model);
    }

    const char *resnetc_error_string(int error) {
      switch (error) {
      case RESNETC_OK: return "no error";
      case RESNETC_ERROR_OPEN: return "the weights file cannot be opened or read";
      case RESNETC_ERROR_FORMAT: return "the file is not a resnetc weights file";
      case RESNETC_ERROR_SIZE: return "the weights file's size does not match this model";
      case RESNETC_ERROR_CHECKSUM: return "the weights file's checksum does not match this model";
      case RESNETC_ERROR_MEMORY: return "out of memory";
      case RESNETC_ERROR_ARGUMENT: return "a null pointer or an index out of range";
      default: return "unknown error";
      }
    }

    int resnetc_input_count(void) { return RESNETC_INPUT_COUNT; }
    int resnetc_output_count(void) { return RESNETC_OUTPUT_COUNT; }
    const char *resnetc_input_name(int i) { return i >= 0 && i < RESNETC_INPUT_COUNT ? input_names[i] : NULL; }
    int resnetc_input_rank(int i) { return i >= 0 && i < RESNETC_INPUT_COUNT ? input_ranks[i] : -1; }
    const int64_t *resnetc_input_dims(int i) { return i >= 0 && i < RESNETC_INPUT_COUNT ? input_dims[i] : NULL; }
    int64_t resnetc_input_elements(int i) { return i >= 0 && i < RESNETC_INPUT_COUNT ? input_counts[i] : -1; }
    const char *resnetc_output_name(int i) { return i >= 0 && i < RESNETC_OUTPUT_COUNT ? output_names[i] : NULL; }
    int resnetc_output_rank(int i) { return i >= 0 && i < RESNETC_OUTPUT_COUNT ? output_ranks[i] : -1; }
    const int64_t *resnetc_output_dims(int i) { return i >= 0 && i < RESNETC_OUTPUT_COUNT ? output_dims[i] : NULL; }
    int64_t resnetc_output_elements(int i) { return i >= 0 && i < RESNETC_OUTPUT_COUNT ? output_counts[i] : -1; }

    """#
}
