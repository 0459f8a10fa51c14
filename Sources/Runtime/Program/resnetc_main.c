#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *program = "model";

static int error_exit(int status, const char *format, ...) {
  va_list args;
  va_start(args, format);
  fprintf(stderr, "%s: error: ", program);
  vfprintf(stderr, format, args);
  fputc('\n', stderr);
  va_end(args);
  return status;
}

static void usage(FILE *out) {
  fprintf(out,
          "USAGE: %s [--input x.npy ...] [--output y.npy ...] [--bench N [--json]] [--threads N]\n"
          "          [--weights PATH] [--input-seed S]\n\n"
          "Runs the compiled model. Inputs and outputs are NumPy .npy files of float32 in C order, one\n"
          "--input per model input and one --output per model output, in order. Without --input, a\n"
          "seeded standard-normal input is used (--input-seed, default 0); without --output, each\n"
          "output's shape and top-5 entries per row are printed.\n\n"
          "  --bench N      run N times after a warm-up and print the min and median latency\n"
          "  --json         with --bench, print {\"median_ms\", \"min_ms\", \"runs\"} instead\n"
          "  --threads N    threads to use (default: the processors online)\n"
          "  --profile      time every layer over the --bench runs (10 without --bench) and print a table\n"
          "  --weights PATH the weights file (default: this program's path + .weights)\n",
          program);
}

/* ---- a seeded input, the same numbers as resnetc run --input-seed ---- */

static uint64_t rng_next(uint64_t *state) {
  *state += 0x9E3779B97F4A7C15ULL;
  uint64_t z = *state;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static void fill_normal(uint64_t *state, float *out, int64_t count) {
  const double pi = 3.141592653589793;
  int64_t i = 0;
  while (i < count) {
    double u1 = (double)(rng_next(state) >> 11) * 0x1p-53;
    if (u1 < 0x1p-53) u1 = 0x1p-53;
    double u2 = (double)(rng_next(state) >> 11) * 0x1p-53;
    double radius = sqrt(-2.0 * log(u1));
    out[i++] = (float)(radius * cos(2.0 * pi * u2));
    if (i < count) out[i++] = (float)(radius * sin(2.0 * pi * u2));
  }
}

/* ---- .npy ---- */

static void format_dims(char *text, size_t size, int rank, const int64_t *dims) {
  size_t used = (size_t)snprintf(text, size, "[");
  for (int i = 0; i < rank && used < size; ++i)
    used += (size_t)snprintf(text + used, size - used, i ? ",%lld" : "%lld", (long long)dims[i]);
  if (used < size) snprintf(text + used, size - used, "]");
}

/* The value of 'key' in a .npy header dict, or NULL. */
static const char *npy_field(const char *header, const char *key) {
  const char *at = strstr(header, key);
  if (!at) return NULL;
  at += strlen(key);
  while (*at == ' ') ++at;
  if (*at != ':') return NULL;
  ++at;
  while (*at == ' ') ++at;
  return at;
}

/* Reads input i from path into dst, checking dtype, order and shape; 0 on success. */
static int read_npy(const char *path, int i, float *dst) {
  const int rank = resnetc_input_rank(i);
  const int64_t *dims = resnetc_input_dims(i);
  const int64_t count = resnetc_input_elements(i);
  FILE *file = fopen(path, "rb");
  if (!file) return error_exit(1, "%s: cannot open: %s", path, strerror(errno));
  if (fseek(file, 0, SEEK_END) != 0) { fclose(file); return error_exit(1, "%s: cannot read", path); }
  long size = ftell(file);
  rewind(file);
  if (size < 10) { fclose(file); return error_exit(1, "%s: not a .npy file (%ld bytes)", path, size); }
  if ((uint64_t)size > (uint64_t)count * 4 + 65536 + 16) {
    fclose(file);
    return error_exit(1, "%s: %ld bytes is more than input '%s' needs", path, size, resnetc_input_name(i));
  }
  unsigned char *bytes = malloc((size_t)size + 1);
  if (!bytes) { fclose(file); return error_exit(1, "%s: out of memory", path); }
  size_t got = fread(bytes, 1, (size_t)size, file);
  fclose(file);
  int status = 1;
  char header[65537];
  if (got != (size_t)size) { error_exit(1, "%s: cannot read", path); goto done; }
  if (memcmp(bytes, "\x93NUMPY", 6) != 0) { error_exit(1, "%s: not a .npy file (no \\x93NUMPY magic)", path); goto done; }
  size_t length_size = bytes[6] == 1 ? 2 : (bytes[6] == 2 || bytes[6] == 3) ? 4 : 0;
  if (!length_size) { error_exit(1, "%s: .npy version %d is not supported", path, bytes[6]); goto done; }
  if ((size_t)size < 8 + length_size) { error_exit(1, "%s: file is truncated", path); goto done; }
  size_t header_length = 0;
  for (size_t b = length_size; b-- > 0;) header_length = (header_length << 8) | bytes[8 + b];
  size_t data_start = 8 + length_size + header_length;
  if (header_length > 65536 || data_start > (size_t)size) { error_exit(1, "%s: file is truncated", path); goto done; }
  memcpy(header, bytes + 8 + length_size, header_length);
  header[header_length] = 0;
  const char *descr = npy_field(header, "'descr'");
  if (!descr || strncmp(descr, "'<f4'", 5) != 0) {
    /* The same words as `resnetc run`'s for the same file. */
    const char *end = descr && *descr == '\'' ? strchr(descr + 1, '\'') : NULL;
    if (descr && strncmp(descr, "'>f4'", 5) == 0)
      error_exit(1, "%s: big-endian float32 ('>f4') is not supported; save the array as little-endian '<f4'", path);
    else if (end && end - descr - 1 <= 32)
      error_exit(1, "%s: dtype '%.*s' is not supported; save the array as float32 ('<f4')", path,
                 (int)(end - descr - 1), descr + 1);
    else
      error_exit(1, "%s: invalid .npy header (no dtype)", path);
    goto done;
  }
  const char *fortran = npy_field(header, "'fortran_order'");
  if (!fortran || strncmp(fortran, "False", 5) != 0) { error_exit(1, "%s: the array is in Fortran order; save it in C order (numpy.ascontiguousarray)", path); goto done; }
  const char *shape = npy_field(header, "'shape'");
  if (!shape || *shape != '(') { error_exit(1, "%s: invalid .npy header (no shape)", path); goto done; }
  int64_t found[8];
  int found_rank = 0;
  const char *at = shape + 1;
  for (;;) {
    while (*at == ' ') ++at;
    if (*at == ')') break;
    char *end;
    long long v = strtoll(at, &end, 10);
    if (end == at || v <= 0 || found_rank == 8) { error_exit(1, "%s: invalid shape in the .npy header", path); goto done; }
    found[found_rank++] = v;
    at = end;
    while (*at == ' ') ++at;
    if (*at == ',') ++at;
    else if (*at != ')') { error_exit(1, "%s: invalid shape in the .npy header", path); goto done; }
  }
  int same = found_rank == rank;
  for (int d = 0; same && d < rank; ++d) same = found[d] == dims[d];
  if (!same) {
    char want[256], have[256];
    format_dims(want, sizeof want, rank, dims);
    format_dims(have, sizeof have, found_rank, found);
    error_exit(1, "%s: holds f32%s but input '%s' is f32%s", path, have, resnetc_input_name(i), want);
    goto done;
  }
  /* The words of resnetc's own reader (Npy): a short file, or bytes past the data. */
  if ((uint64_t)size - data_start < (uint64_t)count * 4) {
    error_exit(1, "%s: file is truncated: needs %llu bytes, has %llu", path,
               (unsigned long long)(data_start + (uint64_t)count * 4), (unsigned long long)size);
    goto done;
  }
  if ((uint64_t)size - data_start > (uint64_t)count * 4) {
    error_exit(1, "%s: %llu bytes follow the array's data", path,
               (unsigned long long)((uint64_t)size - data_start - (uint64_t)count * 4));
    goto done;
  }
  memcpy(dst, bytes + data_start, (size_t)count * 4);
  status = 0;
done:
  free(bytes);
  return status;
}

static int write_npy(const char *path, int i, const float *data) {
  const int rank = resnetc_output_rank(i);
  const int64_t *dims = resnetc_output_dims(i);
  char shape[256] = "(";
  size_t used = 1;
  for (int d = 0; d < rank; ++d)
    used += (size_t)snprintf(shape + used, sizeof shape - used, d ? ", %lld" : "%lld", (long long)dims[d]);
  snprintf(shape + used, sizeof shape - used, rank == 1 ? ",)" : ")");
  char header[512];
  int length = snprintf(header, sizeof header, "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }", shape);
  while ((10 + length + 1) % 64 != 0) header[length++] = ' ';
  header[length++] = '\n';
  FILE *file = fopen(path, "wb");
  if (!file) return error_exit(1, "%s: cannot write: %s", path, strerror(errno));
  unsigned char prefix[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(length & 0xff), (unsigned char)(length >> 8)};
  size_t count = (size_t)resnetc_output_elements(i);
  int ok = fwrite(prefix, 1, 10, file) == 10 && fwrite(header, 1, (size_t)length, file) == (size_t)length &&
           fwrite(data, sizeof(float), count, file) == count;
  ok = fclose(file) == 0 && ok;
  return ok ? 0 : error_exit(1, "%s: cannot write", path);
}

/* ---- summary and timing ---- */

static void summarize(int i, const float *data) {
  const int rank = resnetc_output_rank(i);
  const int64_t *dims = resnetc_output_dims(i);
  char text[256];
  format_dims(text, sizeof text, rank, dims);
  printf("output %%%s: f32%s\n", resnetc_output_name(i), text);
  const int64_t count = resnetc_output_elements(i);
  if (rank == 2) {
    for (int64_t row = 0; row < dims[0]; ++row) {
      const float *v = data + row * dims[1];
      int64_t chosen[5];
      int n = 0;
      printf("  row %lld top-5: ", (long long)row);
      for (; n < 5 && n < dims[1]; ++n) {
        int64_t best = -1;
        for (int64_t j = 0; j < dims[1]; ++j) {
          int taken = 0;
          for (int t = 0; t < n; ++t) taken |= chosen[t] == j;
          if (!taken && (best < 0 || v[j] > v[best])) best = j;
        }
        chosen[n] = best;
        printf(n ? ", %lld (%.4g)" : "%lld (%.4g)", (long long)best, (double)v[best]);
      }
      printf("\n");
    }
  } else {
    float low = data[0], high = data[0];
    double sum = 0;
    for (int64_t j = 0; j < count; ++j) {
      if (data[j] < low) low = data[j];
      if (data[j] > high) high = data[j];
      sum += data[j];
    }
    printf("  min %.4g, max %.4g, mean %.4g\n", (double)low, (double)high, (double)(float)(sum / (double)count));
  }
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int parse_count(const char *option, const char *text, long low, long high, long *value) {
  char *end;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno || *end || end == text || v < low || v > high)
    return error_exit(2, "%s expects a whole number in %ld...%ld, got '%s'", option, low, high, text);
  *value = v;
  return 0;
}

int main(int argc, char **argv) {
  program = argc > 0 ? argv[0] : "model";
  const char *inputs_paths[RESNETC_INPUT_COUNT + 1] = {0}, *output_paths[RESNETC_OUTPUT_COUNT + 1] = {0};
  int input_files = 0, output_files = 0, json = 0;
  long bench = 0, threads = 0, seed = 0;
  int profile = 0;
  const char *weights = NULL;
  for (int a = 1; a < argc; ++a) {
    const char *arg = argv[a];
    if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
      usage(stdout);
      return 0;
    }
    if (!strcmp(arg, "--json")) { json = 1; continue; }
    if (!strcmp(arg, "--profile")) { profile = 1; continue; }
    if (a + 1 >= argc) return error_exit(2, "unknown option or missing value: '%s' (see --help)", arg);
    const char *value = argv[++a];
    if (!strcmp(arg, "--input")) {
      if (input_files == RESNETC_INPUT_COUNT) return error_exit(2, "the model takes %d inputs", RESNETC_INPUT_COUNT);
      inputs_paths[input_files++] = value;
    } else if (!strcmp(arg, "--output")) {
      if (output_files == RESNETC_OUTPUT_COUNT) return error_exit(2, "the model has %d outputs", RESNETC_OUTPUT_COUNT);
      output_paths[output_files++] = value;
    } else if (!strcmp(arg, "--weights")) {
      weights = value;
    } else if (!strcmp(arg, "--threads")) {
      if (parse_count("--threads", value, 1, 1024, &threads)) return 2;
    } else if (!strcmp(arg, "--bench")) {
      if (parse_count("--bench", value, 1, 1000000, &bench)) return 2;
    } else if (!strcmp(arg, "--input-seed")) {
      if (parse_count("--input-seed", value, 0, 2147483647L, &seed)) return 2;
    } else {
      return error_exit(2, "unknown option '%s' (see --help)", arg);
    }
  }
  if (input_files != 0 && input_files != RESNETC_INPUT_COUNT)
    return error_exit(2, "the model takes %d inputs but %d --input files were given", RESNETC_INPUT_COUNT, input_files);
  if (output_files != 0 && output_files != RESNETC_OUTPUT_COUNT)
    return error_exit(2, "the model has %d outputs but %d --output paths were given", RESNETC_OUTPUT_COUNT, output_files);
  if (json && !bench) return error_exit(2, "--json goes with --bench");
  if (profile && !bench) bench = 10;

  char default_weights[4096];
  if (!weights) {
    ssize_t n = readlink("/proc/self/exe", default_weights, sizeof default_weights - 16);
    if (n <= 0) {
      snprintf(default_weights, sizeof default_weights, "%s", program);
      n = (ssize_t)strlen(default_weights);
    }
    snprintf(default_weights + n, sizeof default_weights - (size_t)n, ".weights");
    weights = default_weights;
  }
  int error = 0;
  resnetc_model *model = resnetc_create(weights, &error);
  if (!model) return error_exit(1, "%s: %s", weights, resnetc_error_string(error));
  if (threads && resnetc_set_threads(model, (int)threads) != RESNETC_OK) {
    resnetc_destroy(model);
    return error_exit(1, "cannot start %ld threads", threads);
  }

  float *in[RESNETC_INPUT_COUNT + 1] = {0}, *out[RESNETC_OUTPUT_COUNT + 1] = {0};
  int status = 1;
  uint64_t state = (uint64_t)seed;
  for (int i = 0; i < RESNETC_INPUT_COUNT; ++i) {
    in[i] = malloc(sizeof(float) * (size_t)resnetc_input_elements(i));
    if (!in[i]) { error_exit(1, "out of memory"); goto done; }
    if (input_files) {
      if (read_npy(inputs_paths[i], i, in[i])) goto done;
    } else {
      fill_normal(&state, in[i], resnetc_input_elements(i));
    }
  }
  for (int i = 0; i < RESNETC_OUTPUT_COUNT; ++i) {
    out[i] = malloc(sizeof(float) * (size_t)resnetc_output_elements(i));
    if (!out[i]) { error_exit(1, "out of memory"); goto done; }
  }
  if (resnetc_run(model, (const float *const *)in, out) != RESNETC_OK) { error_exit(1, "run failed"); goto done; }
  if (bench) {
    double *times = malloc(sizeof(double) * (size_t)bench);
    if (!times) { error_exit(1, "out of memory"); goto done; }
    /* Warm up for at least 3 runs and 0.1 s: the first runs after start wake idle cores and threads. */
    double until = now_ms() + 100.0;
    for (int w = 0; w < 3 || now_ms() < until; ++w) resnetc_run(model, (const float *const *)in, out);
    for (long r = 0; r < bench; ++r) {
      double start = now_ms();
      resnetc_run(model, (const float *const *)in, out);
      times[r] = now_ms() - start;
    }
    if (profile) resnetc_set_profiling(model, 1);
    for (long r = 0; profile && r < bench; ++r) resnetc_run(model, (const float *const *)in, out);
    if (profile) fputs(resnetc_profile_report(model), stdout);
    qsort(times, (size_t)bench, sizeof(double), compare_doubles);
    double median = bench % 2 ? times[bench / 2] : (times[bench / 2 - 1] + times[bench / 2]) / 2;
    if (json && !profile)
      printf("{\"median_ms\": %.6f, \"min_ms\": %.6f, \"runs\": %ld}\n", median, times[0], bench);
    else if (!profile)
      printf("latency over %ld runs after a warm-up: min %.3f ms, median %.3f ms\n", bench, times[0], median);
    free(times);
  }
  for (int i = 0; i < RESNETC_OUTPUT_COUNT; ++i) {
    if (output_files) {
      if (write_npy(output_paths[i], i, out[i])) goto done;
    } else if (!bench) {
      summarize(i, out[i]);
    }
  }
  status = 0;
done:
  for (int i = 0; i < RESNETC_INPUT_COUNT; ++i) free(in[i]);
  for (int i = 0; i < RESNETC_OUTPUT_COUNT; ++i) free(out[i]);
  resnetc_destroy(model);
  return status;
}

