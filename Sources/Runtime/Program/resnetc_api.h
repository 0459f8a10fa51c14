/* The API of a model compiled by resnetc. The model's header (OUT.h) defines its sizes
 * (RESNETC_ARENA_BYTES, RESNETC_WEIGHTS_BYTES, RESNETC_INPUT_COUNT, RESNETC_OUTPUT_COUNT)
 * and then holds this file as it is.
 *
 * Usage: create an instance from the weights file, run it on buffers you own (one per
 * input and output, float32, row-major, of the shapes the queries below give), destroy it.
 * An instance holds the weights and one arena of RESNETC_ARENA_BYTES for intermediate
 * values. Threading contract: every function may be called from any thread; calls of
 * resnetc_run on one instance from several threads are serialized (each completes whole,
 * with the same results as alone); to run inferences in parallel, create one instance per
 * thread: distinct instances share nothing. Do not destroy an instance while it runs.
 */
#ifndef RESNETC_API_H
#define RESNETC_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

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
/* Threads an instance uses (default: the processors online); its workers sleep between runs. */
int resnetc_set_threads(resnetc_model *model, int threads);
/* With profiling on, resnetc_run times every step; the report is a table of mean times per
   layer, GFLOP/s and percent of the machine's peak (integer layers: of its int8 peak), valid
   until the next call. */
void resnetc_set_profiling(resnetc_model *model, int on);
const char *resnetc_profile_report(resnetc_model *model);
/* The same as one JSON object: target, threads, runs, peak_gflops, peak_int8_gops (0 for a
   model without integer layers), total_ms, gflops and layers (each with layer, op, kernel, ms
   and gflops), valid until the next call. */
const char *resnetc_profile_json(resnetc_model *model);
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
