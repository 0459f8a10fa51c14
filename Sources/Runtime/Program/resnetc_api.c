/* ---- runtime: weights loading, instances, queries ---- */

#define MAX_THREADS 256

struct worker {
  resnetc_model *model;
  int index;
  /* The generation when the worker started: one started after earlier runs waits for the
     next job instead of running the last one again with its dead arguments. */
  long start;
};

struct resnetc_model {
  float *weights;
  unsigned char *arena;
  /* The pool: threads - 1 workers; the caller of resnetc_run is share 0. */
  int threads;
  pthread_t handles[MAX_THREADS];
  struct worker workers[MAX_THREADS];
  pthread_mutex_t lock, run_lock;
  pthread_cond_t wake, done;
  atomic_long generation;
  atomic_int pending, stop;
  kernel_fn fn;
  const kernel_args *args;
  long total;
  /* Profiling. */
  int profiling;
  long profiled_runs;
  double step_ms[MODEL_STEPS > 0 ? MODEL_STEPS : 1];
  char *report;
};

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void profile_step(resnetc_model *model, int step, double start) {
  if (model->profiling) model->step_ms[step] += now_ms() - start;
}

static void run_share(resnetc_model *model, int index) {
  long begin = model->total * index / model->threads, end = model->total * (index + 1) / model->threads;
  if (begin < end) model->fn(model->args, begin, end);
}

/* Spin iterations before a thread waits on a condition variable: about a tenth of a
   millisecond, longer than the gap between two steps, so a running network never sleeps. */
#define SPIN_LIMIT 4000

static void spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

static void *worker_main(void *argument) {
  struct worker *self = argument;
  resnetc_model *model = self->model;
  long seen = self->start;
  for (;;) {
    for (int i = 0; i < SPIN_LIMIT && atomic_load_explicit(&model->generation, memory_order_acquire) == seen &&
                    !atomic_load(&model->stop); ++i)
      spin_pause();
    if (atomic_load_explicit(&model->generation, memory_order_acquire) == seen && !atomic_load(&model->stop)) {
      pthread_mutex_lock(&model->lock);
      while (atomic_load(&model->generation) == seen && !atomic_load(&model->stop)) pthread_cond_wait(&model->wake, &model->lock);
      pthread_mutex_unlock(&model->lock);
    }
    if (atomic_load(&model->stop)) break;
    seen = atomic_load_explicit(&model->generation, memory_order_acquire);
    run_share(model, self->index);
    if (atomic_fetch_sub(&model->pending, 1) == 1) {
      pthread_mutex_lock(&model->lock);
      pthread_cond_signal(&model->done);
      pthread_mutex_unlock(&model->lock);
    }
  }
  return NULL;
}

/* Splits [0, total) into one contiguous share per thread; returns when all are done. */
static void parallel_for(resnetc_model *model, long total, kernel_fn fn, const kernel_args *a) {
  if (model->threads <= 1 || total < 2) {
    fn(a, 0, total);
    return;
  }
  model->fn = fn;
  model->args = a;
  model->total = total;
  atomic_store(&model->pending, model->threads - 1);
  pthread_mutex_lock(&model->lock);
  atomic_fetch_add_explicit(&model->generation, 1, memory_order_release);
  pthread_cond_broadcast(&model->wake);
  pthread_mutex_unlock(&model->lock);
  run_share(model, 0);
  for (int i = 0; i < SPIN_LIMIT && atomic_load(&model->pending) > 0; ++i) spin_pause();
  if (atomic_load(&model->pending) > 0) {
    pthread_mutex_lock(&model->lock);
    while (atomic_load(&model->pending) > 0) pthread_cond_wait(&model->done, &model->lock);
    pthread_mutex_unlock(&model->lock);
  }
}

static void stop_workers(resnetc_model *model) {
  pthread_mutex_lock(&model->lock);
  atomic_store(&model->stop, 1);
  pthread_cond_broadcast(&model->wake);
  pthread_mutex_unlock(&model->lock);
  for (int i = 1; i < model->threads; ++i) pthread_join(model->handles[i], NULL);
  atomic_store(&model->stop, 0);
  model->threads = 1;
}

static int start_workers(resnetc_model *model, int threads);

int resnetc_set_threads(resnetc_model *model, int threads) {
  if (!model || threads < 1 || threads > MAX_THREADS) return RESNETC_ERROR_ARGUMENT;
  pthread_mutex_lock(&model->run_lock);
  int status = start_workers(model, threads);
  pthread_mutex_unlock(&model->run_lock);
  return status;
}

static int start_workers(resnetc_model *model, int threads) {
  stop_workers(model);
  for (int i = 1; i < threads; ++i) {
    model->workers[i].model = model;
    model->workers[i].index = i;
    model->workers[i].start = atomic_load(&model->generation);
    if (pthread_create(&model->handles[i], NULL, worker_main, &model->workers[i]) != 0) {
      model->threads = i;
      stop_workers(model);
      return RESNETC_ERROR_MEMORY;
    }
    model->threads = i + 1;
  }
  return RESNETC_OK;
}

void resnetc_set_profiling(resnetc_model *model, int on) {
  if (!model) return;
  pthread_mutex_lock(&model->run_lock);
  model->profiling = on;
  model->profiled_runs = 0;
  memset(model->step_ms, 0, sizeof model->step_ms);
  pthread_mutex_unlock(&model->run_lock);
}

static void *aligned_bytes(uint64_t bytes);

/* GFLOP/s (or GOP/s) of loop `kernel`, which does `per_item` operations on each thread at once
   reading `input`, measured now: after a first round that wakes the cores, the best of three. */
static double measure_loop(resnetc_model *model, kernel_fn kernel, const float *input, double per_item) {
  float *sums = aligned_bytes(sizeof(float) * MAX_THREADS * 64);
  if (!sums) return 0;
  const kernel_args args = {{input}, sums};
  double best = 0;
  for (int round = 0; round < 4; ++round) {
    double start = now_ms();
    parallel_for(model, model->threads, kernel, &args);
    double ms = now_ms() - start;
    double rate = ms > 0 ? model->threads * per_item / ms / 1e6 : 0;
    if (round > 0 && rate > best) best = rate;
  }
  free(sums);
  return best;
}

/* The peaks of the target's multiply-add loop (peak_kernel) and, where the model has integer
   layers, of its byte multiply-add loop (peak_int8_kernel, on zero bytes; else 0). */
static void measure_peaks(resnetc_model *model, double *peak, double *int8_peak) {
  static float factor[64] __attribute__((aligned(64)));
  static const float zeros[64] __attribute__((aligned(64)));
  for (int i = 0; i < 64; ++i) factor[i] = 1e-7f;
  *peak = measure_loop(model, peak_kernel, factor, MODEL_PEAK_FLOPS_PER_ITEM);
  *int8_peak = MODEL_INT8_PEAK_OPS_PER_ITEM > 0
                   ? measure_loop(model, peak_int8_kernel, zeros, MODEL_INT8_PEAK_OPS_PER_ITEM)
                   : 0;
}

const char *resnetc_profile_report(resnetc_model *model) {
  if (!model) return "";
  pthread_mutex_lock(&model->run_lock);
  free(model->report);
  size_t size = 768 + (size_t)MODEL_STEPS * 224, used = 0;
  model->report = malloc(size);
  if (!model->report) {
    pthread_mutex_unlock(&model->run_lock);
    return "";
  }
  long runs = model->profiled_runs > 0 ? model->profiled_runs : 1;
  double total = 0, flops = 0, at_peak = 0, peak, int8_peak;
  measure_peaks(model, &peak, &int8_peak);
  if (peak <= 0) peak = 1;
  const char *plural = model->threads == 1 ? "" : "s";
  used += (size_t)snprintf(model->report + used, size - used,
                           "peak %.1f GFLOP/s: the " MODEL_TARGET " multiply-add loop on %d thread%s, measured now\n",
                           peak, model->threads, plural);
  if (int8_peak > 0)
    used += (size_t)snprintf(model->report + used, size - used,
                             "int8 peak %.1f GOP/s: the " MODEL_TARGET
                             " byte multiply-add loop on %d thread%s, measured now; integer layers' %% peak is of it\n",
                             int8_peak, model->threads, plural);
  used += (size_t)snprintf(model->report + used, size - used, "%-40s %-16s %-26s %9s %9s %7s\n", "layer", "op", "kernel", "ms",
                           "GFLOP/s", "% peak");
  for (int i = 0; i < MODEL_STEPS; ++i) {
    double ms = model->step_ms[i] / (double)runs, rate = ms > 0 ? step_flops[i] / ms / 1e6 : 0;
    double step_peak = step_integer[i] && int8_peak > 0 ? int8_peak : peak;
    total += ms;
    flops += step_flops[i];
    at_peak += step_flops[i] / step_peak / 1e6;
    used += (size_t)snprintf(model->report + used, size - used, "%-40.40s %-16.16s %-26.26s %9.3f %9.1f %7.1f\n",
                             step_labels[i][0], step_labels[i][1], step_kernels[i], ms, rate, rate / step_peak * 100);
  }
  /* The total's percentage: the time every step would take at its peak, over the time taken. */
  double rate = total > 0 ? flops / total / 1e6 : 0;
  snprintf(model->report + used, size - used, "%-40s %-16s %-26s %9.3f %9.1f %7.1f\n", "total", "", "", total, rate,
           total > 0 ? at_peak / total * 100 : 0);
  pthread_mutex_unlock(&model->run_lock);
  return model->report;
}

/* Appends `text` to `out` as a JSON string (quotes, backslashes and control characters
   escaped; other bytes, UTF-8 included, as they are); returns the bytes it needs. */
static size_t json_string(char *out, size_t size, const char *text) {
  size_t used = 0;
  if (used < size) out[used] = '"';
  ++used;
  for (const unsigned char *p = (const unsigned char *)text; *p; ++p) {
    char escaped[8];
    int n;
    if (*p == '"' || *p == '\\') n = snprintf(escaped, sizeof escaped, "\\%c", *p);
    else if (*p < 0x20) n = snprintf(escaped, sizeof escaped, "\\u%04x", *p);
    else n = snprintf(escaped, sizeof escaped, "%c", *p);
    for (int i = 0; i < n; ++i, ++used)
      if (used < size) out[used] = escaped[i];
  }
  if (used < size) out[used] = '"';
  return used + 1;
}

const char *resnetc_profile_json(resnetc_model *model) {
  if (!model) return "";
  pthread_mutex_lock(&model->run_lock);
  free(model->report);
  size_t size = 512;
  for (int i = 0; i < MODEL_STEPS; ++i)
    size += 160 + 6 * (strlen(step_labels[i][0]) + strlen(step_labels[i][1]) + strlen(step_kernels[i]));
  size_t used = 0;
  model->report = malloc(size);
  if (!model->report) {
    pthread_mutex_unlock(&model->run_lock);
    return "";
  }
  char *r = model->report;
  long runs = model->profiled_runs > 0 ? model->profiled_runs : 1;
  double total = 0, flops = 0, peak, int8_peak;
  measure_peaks(model, &peak, &int8_peak);
  used += (size_t)snprintf(r + used, size - used,
                           "{\"target\": \"" MODEL_TARGET "\", \"threads\": %d, \"runs\": %ld, \"peak_gflops\": %.3f, "
                           "\"peak_int8_gops\": %.3f, \"layers\": [",
                           model->threads, runs, peak, int8_peak);
  for (int i = 0; i < MODEL_STEPS; ++i) {
    double ms = model->step_ms[i] / (double)runs, rate = ms > 0 ? step_flops[i] / ms / 1e6 : 0;
    total += ms;
    flops += step_flops[i];
    used += (size_t)snprintf(r + used, size - used, "%s\n  {\"layer\": ", i ? "," : "");
    used += json_string(r + used, size - used, step_labels[i][0]);
    used += (size_t)snprintf(r + used, size - used, ", \"op\": ");
    used += json_string(r + used, size - used, step_labels[i][1]);
    used += (size_t)snprintf(r + used, size - used, ", \"kernel\": ");
    used += json_string(r + used, size - used, step_kernels[i]);
    used += (size_t)snprintf(r + used, size - used, ", \"ms\": %.6f, \"gflops\": %.3f}", ms, rate);
  }
  snprintf(r + used, size - used, "],\n \"total_ms\": %.6f, \"gflops\": %.3f}\n", total,
           total > 0 ? flops / total / 1e6 : 0);
  pthread_mutex_unlock(&model->run_lock);
  return model->report;
}

/* The weights file's magic comes with the model (MODEL_WEIGHTS_MAGIC), from the one
   definition the compiler writes the file with. */
static const char weights_magic[] = MODEL_WEIGHTS_MAGIC;

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
  if (memcmp(header, weights_magic, sizeof weights_magic - 1) != 0) return fail(NULL, file, RESNETC_ERROR_FORMAT, error);
  if (read_u64(header + 8) != MODEL_WEIGHTS_BYTES) return fail(NULL, file, RESNETC_ERROR_SIZE, error);
  if (fseek(file, 0, SEEK_END) != 0) return fail(NULL, file, RESNETC_ERROR_OPEN, error);
  long size = ftell(file);
  if (size < 0 || (uint64_t)size != 64 + MODEL_WEIGHTS_BYTES) return fail(NULL, file, RESNETC_ERROR_SIZE, error);
  if (fseek(file, 64, SEEK_SET) != 0) return fail(NULL, file, RESNETC_ERROR_OPEN, error);
  resnetc_model *model = calloc(1, sizeof *model);
  if (!model) return fail(NULL, file, RESNETC_ERROR_MEMORY, error);
  model->threads = 1;
  pthread_mutex_init(&model->lock, NULL);
  pthread_mutex_init(&model->run_lock, NULL);
  pthread_cond_init(&model->wake, NULL);
  pthread_cond_init(&model->done, NULL);
  model->weights = aligned_bytes(MODEL_WEIGHTS_BYTES);
  model->arena = aligned_bytes(MODEL_ARENA_BYTES);
  if (!model->weights || !model->arena) return fail(model, file, RESNETC_ERROR_MEMORY, error);
  if (fread(model->weights, 1, MODEL_WEIGHTS_BYTES, file) != MODEL_WEIGHTS_BYTES) return fail(model, file, RESNETC_ERROR_OPEN, error);
  fclose(file);
  if (read_u64(header + 16) != MODEL_WEIGHTS_CHECKSUM ||
      checksum((const unsigned char *)model->weights, MODEL_WEIGHTS_BYTES) != MODEL_WEIGHTS_CHECKSUM)
    return fail(model, NULL, RESNETC_ERROR_CHECKSUM, error);
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  resnetc_set_threads(model, online < 1 ? 1 : online > MAX_THREADS ? MAX_THREADS : (int)online);
  return model;
}

int resnetc_run(resnetc_model *model, const float *const *inputs, float *const *outputs) {
  if (!model || !inputs || !outputs) return RESNETC_ERROR_ARGUMENT;
  for (int i = 0; i < RESNETC_INPUT_COUNT; ++i) if (!inputs[i]) return RESNETC_ERROR_ARGUMENT;
  for (int i = 0; i < RESNETC_OUTPUT_COUNT; ++i) if (!outputs[i]) return RESNETC_ERROR_ARGUMENT;
  pthread_mutex_lock(&model->run_lock);
  forward(model, model->weights, model->arena, inputs, outputs);
  if (model->profiling) model->profiled_runs++;
  pthread_mutex_unlock(&model->run_lock);
  return RESNETC_OK;
}

void resnetc_destroy(resnetc_model *model) {
  if (!model) return;
  if (model->threads > 1) stop_workers(model);
  pthread_mutex_destroy(&model->lock);
  pthread_mutex_destroy(&model->run_lock);
  pthread_cond_destroy(&model->wake);
  pthread_cond_destroy(&model->done);
  free(model->report);
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

