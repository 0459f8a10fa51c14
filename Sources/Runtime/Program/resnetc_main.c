#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
          "          [--profile [--json]] [--weights PATH] [--input-seed S] [--labels FILE]\n"
          "          [--image FILE [--preprocess imagenet|none]]\n\n"
          "Runs the compiled model. Inputs and outputs are NumPy .npy files of float32 in C order, one\n"
          "--input per model input and one --output per model output, in order. Without --input, a\n"
          "seeded standard-normal input is used (--input-seed, default 0); without --output, each\n"
          "output's shape and top-5 entries per row are printed.\n\n"
          "  --bench N      run N times after a warm-up and print the min and median latency\n"
          "  --json         with --bench, print {\"median_ms\", \"min_ms\", \"runs\"} instead; with --profile,\n"
          "                 the layer table as one object (resnetc view --profile reads it)\n"
          "  --threads N    threads to use (default: the processors online)\n"
          "  --profile      time every layer over the --bench runs (10 without --bench) and print a table:\n"
          "                 each layer's kernel, ms, GFLOP/s and %% of this machine's peak, measured first\n"
          "  --weights PATH the weights file (default: this program's path + .weights)\n"
          "  --labels FILE  class names, one per line, printed beside the top-5 (as many as the classes)\n"
          "  --image FILE   the input from a PNG or binary PPM/PGM image (a model whose one input is [1,3,H,W])\n"
          "  --preprocess imagenet|none\n"
          "                 imagenet: the shorter side to 256, a centre crop of 224, ImageNet's mean and std\n"
          "                 (the default for 224x224 inputs); none: the image as it is, x/255 (otherwise)\n",
          program);
}

/* ---- a seeded input: ResnetcSplitMix (Sources/Formats/ResnetcSeededInput.swift), the same
   numbers as resnetc run --input-seed ---- */

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

/* ---- .npy ----
   read_npy follows ResnetcNpy.layout (Sources/Formats/ResnetcNpy.swift, the format's one
   definition, which resnetc run and the Swift programs are built with) step by step, with the
   same words; a test holds all three to the same message for every bad file. */

enum { NPY_MAX_HEADER = 65536, NPY_MAX_RANK = 8 };
static const int64_t npy_max_elements = (int64_t)1 << 40;
/* Why the file was refused: a message of ResnetcNpyError's. */
static char npy_why[NPY_MAX_HEADER + 256];

static void format_dims(char *text, size_t size, int rank, const int64_t *dims) {
  size_t used = (size_t)snprintf(text, size, "[");
  for (int i = 0; i < rank && used < size; ++i)
    used += (size_t)snprintf(text + used, size - used, i ? ",%lld" : "%lld", (long long)dims[i]);
  if (used < size) snprintf(text + used, size - used, "]");
}

static int npy_fail(const char *format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(npy_why, sizeof npy_why, format, args);
  va_end(args);
  return -1;
}

/* The header dict's scanner (ResnetcNpyHeader.Scanner). */
typedef struct {
  const unsigned char *text;
  size_t length, index;
} npy_scanner;

/* A dict value: a string (a span of the header), a flag, or a tuple of ints (rank counts
   every item; the first NPY_MAX_RANK are kept). */
typedef struct {
  enum { NPY_STRING, NPY_BOOL, NPY_TUPLE } kind;
  const unsigned char *string;
  size_t string_length;
  int flag, rank;
  int64_t dims[NPY_MAX_RANK];
} npy_value;

static void npy_skip_space(npy_scanner *s) {
  while (s->index < s->length && (s->text[s->index] == ' ' || s->text[s->index] == '\n' || s->text[s->index] == '\t'))
    ++s->index;
}

static int npy_accept(npy_scanner *s, char c) {
  if (s->index >= s->length || s->text[s->index] != (unsigned char)c) return 0;
  ++s->index;
  return 1;
}

static int npy_expect(npy_scanner *s, char c) {
  if (npy_accept(s, c)) return 0;
  return npy_fail("invalid .npy header: expected '%c' at character %zu", c, s->index);
}

static int npy_starts_with(const npy_scanner *s, const char *word) {
  size_t n = strlen(word);
  return s->length - s->index >= n && memcmp(s->text + s->index, word, n) == 0;
}

/* An optional '-' and decimal digits, within 64 bits. */
static int npy_integer(npy_scanner *s, int64_t *value) {
  size_t start = s->index;
  int negative = npy_accept(s, '-');
  int64_t magnitude = 0;
  int digits = 0;
  while (s->index < s->length && s->text[s->index] >= '0' && s->text[s->index] <= '9') {
    int d = s->text[s->index] - '0';
    if (magnitude > (INT64_MAX - d) / 10) return npy_fail("invalid .npy header: expected an integer at character %zu", start);
    magnitude = magnitude * 10 + d;
    ++digits;
    ++s->index;
  }
  if (!digits) return npy_fail("invalid .npy header: expected an integer at character %zu", start);
  *value = negative ? -magnitude : magnitude;
  return 0;
}

static int npy_value_at(npy_scanner *s, npy_value *v) {
  if (s->index >= s->length) return npy_fail("invalid .npy header: unexpected end");
  unsigned char c = s->text[s->index];
  if (c == '\'' || c == '"') {
    ++s->index;
    size_t start = s->index;
    while (s->index < s->length && s->text[s->index] != c) ++s->index;
    v->kind = NPY_STRING;
    v->string = s->text + start;
    v->string_length = s->index - start;
    return npy_expect(s, (char)c);
  }
  if (c == 'T' || c == 'F') {
    v->kind = NPY_BOOL;
    if (npy_starts_with(s, "True")) {
      s->index += 4;
      v->flag = 1;
      return 0;
    }
    if (npy_starts_with(s, "False")) {
      s->index += 5;
      v->flag = 0;
      return 0;
    }
    return npy_fail("invalid .npy header: unexpected word at character %zu", s->index);
  }
  if (c == '(') {
    ++s->index;
    v->kind = NPY_TUPLE;
    v->rank = 0;
    for (;;) {
      npy_skip_space(s);
      if (npy_accept(s, ')')) return 0;
      int64_t item = 0;
      if (npy_integer(s, &item)) return -1;
      if (v->rank < NPY_MAX_RANK) v->dims[v->rank] = item;
      ++v->rank;
      npy_skip_space(s);
      if (npy_accept(s, ')')) return 0;
      if (npy_expect(s, ',')) return -1;
    }
  }
  return npy_fail("invalid .npy header: unexpected character at %zu", s->index);
}

static int npy_is(const npy_value *v, const char *text) {
  return v->string_length == strlen(text) && memcmp(v->string, text, v->string_length) == 0;
}

/* The header dict's three fields (ResnetcNpyHeader.parse); keys holds room for every key. */
static int npy_parse_header(const unsigned char *text, size_t length, npy_value *keys, npy_value *descr,
                            npy_value *fortran, npy_value *shape) {
  npy_scanner s = {text, length, 0};
  int have_descr = 0, have_fortran = 0, have_shape = 0;
  size_t key_count = 0;
  if (npy_expect(&s, '{')) return -1;
  for (;;) {
    npy_skip_space(&s);
    if (npy_accept(&s, '}')) break;
    npy_value key = {0}, value = {0};
    if (npy_value_at(&s, &key)) return -1;
    if (key.kind != NPY_STRING) return npy_fail("invalid .npy header: dict keys must be strings");
    npy_skip_space(&s);
    if (npy_expect(&s, ':')) return -1;
    npy_skip_space(&s);
    if (npy_value_at(&s, &value)) return -1;
    for (size_t k = 0; k < key_count; ++k)
      if (keys[k].string_length == key.string_length && !memcmp(keys[k].string, key.string, key.string_length))
        return npy_fail("invalid .npy header: key '%.*s' appears twice", (int)key.string_length, key.string);
    keys[key_count++] = key;
    if (npy_is(&key, "descr") && value.kind == NPY_STRING) *descr = value, have_descr = 1;
    if (npy_is(&key, "fortran_order") && value.kind == NPY_BOOL) *fortran = value, have_fortran = 1;
    if (npy_is(&key, "shape") && value.kind == NPY_TUPLE) *shape = value, have_shape = 1;
    npy_skip_space(&s);
    if (npy_accept(&s, '}')) break;
    if (npy_expect(&s, ',')) return -1;
  }
  npy_skip_space(&s);
  if (s.index != s.length) return npy_fail("invalid .npy header: text after the dict");
  if (!have_descr) return npy_fail("invalid .npy header: no 'descr' string");
  if (!have_fortran) return npy_fail("invalid .npy header: no 'fortran_order' flag");
  if (!have_shape) return npy_fail("invalid .npy header: no 'shape' tuple");
  if (key_count != 3) return npy_fail("invalid .npy header: unexpected keys besides descr, fortran_order and shape");
  return 0;
}

/* Checks the whole file's bytes (ResnetcNpy.layout): its shape into shape, and where the data
   starts; 0 on success, else -1 with npy_why set. */
static int npy_layout(const unsigned char *bytes, size_t size, size_t file_size, npy_value *shape,
                      size_t *data_start) {
  if (size < 10) return npy_fail("file is truncated: needs 10 bytes, has %zu", size);
  if (memcmp(bytes, "\x93NUMPY", 6) != 0) return npy_fail("not a .npy file (no \\x93NUMPY magic)");
  size_t length_size = bytes[6] == 1 ? 2 : (bytes[6] == 2 || bytes[6] == 3) ? 4 : 0;
  if (!length_size)
    return npy_fail(".npy format version %d.%d is not supported (1.0 to 3.0 are)", bytes[6], bytes[7]);
  if (size < 8 + length_size) return npy_fail("file is truncated: needs %zu bytes, has %zu", 8 + length_size, size);
  uint64_t header_length = 0;
  for (size_t b = length_size; b-- > 0;) header_length = (header_length << 8) | bytes[8 + b];
  size_t header_start = 8 + length_size;
  if (header_length > NPY_MAX_HEADER)
    return npy_fail("invalid .npy header: header length %llu is over the limit %d", (unsigned long long)header_length,
                    NPY_MAX_HEADER);
  if (header_start + header_length > size)
    return npy_fail("file is truncated: needs %llu bytes, has %zu", (unsigned long long)(header_start + header_length),
                    size);
  const unsigned char *header = bytes + header_start;
  for (size_t k = 0; k < header_length; ++k)
    if (header[k] >= 0x80) return npy_fail("invalid .npy header: the header is not ASCII text");
  npy_value descr = {0}, fortran = {0};
  npy_value *keys = malloc(sizeof(npy_value) * (header_length / 4 + 1));
  if (!keys) return npy_fail("out of memory");
  int failed = npy_parse_header(header, header_length, keys, &descr, &fortran, shape);
  free(keys);
  if (failed) return -1;
  if (!npy_is(&descr, "<f4")) {
    if (npy_is(&descr, ">f4"))
      return npy_fail("big-endian float32 ('>f4') is not supported; save the array as little-endian '<f4'");
  {
    /* NumPy's name of the dtype code (ResnetcNpy.dtypeName), when it has one. */
    static const char *const codes[][2] = {{"f2", "float16"}, {"f4", "float32"},   {"f8", "float64"}, {"f16", "float128"},
                                           {"i1", "int8"},    {"i2", "int16"},     {"i4", "int32"},   {"i8", "int64"},
                                           {"u1", "uint8"},   {"u2", "uint16"},    {"u4", "uint32"},  {"u8", "uint64"},
                                           {"b1", "bool"},    {"c8", "complex64"}, {"c16", "complex128"}};
    size_t skip = 0;
    while (skip < descr.string_length && descr.string[skip] && strchr("<>|=", descr.string[skip])) ++skip;
    const char *name = NULL;
    for (size_t k = 0; k < sizeof codes / sizeof codes[0]; ++k)
      if (strlen(codes[k][0]) == descr.string_length - skip &&
          memcmp(codes[k][0], descr.string + skip, descr.string_length - skip) == 0)
        name = codes[k][1];
    return npy_fail("holds %s%s('%.*s'), not float32 ('<f4'); save the array as float32", name ? name : "",
                    name ? " " : "", (int)descr.string_length, descr.string);
  }
  }
  if (fortran.flag) return npy_fail("the array is in Fortran order; save it in C order (numpy.ascontiguousarray)");
  if (shape->rank > NPY_MAX_RANK)
    return npy_fail("the array: rank %d is more than the supported %d", shape->rank, NPY_MAX_RANK);
  char text[256];
  format_dims(text, sizeof text, shape->rank, shape->dims);
  int64_t count = 1;
  for (int d = 0; d < shape->rank; ++d) {
    if (shape->dims[d] <= 0) return npy_fail("the array: shape %s has a dimension that is not positive", text);
    if (count > npy_max_elements / shape->dims[d])
      return npy_fail("the array: shape %s has more than %lld elements", text, (long long)npy_max_elements);
    count *= shape->dims[d];
  }
  *data_start = header_start + (size_t)header_length;
  uint64_t available = file_size - *data_start;
  if (available / 4 < (uint64_t)count)
    return npy_fail("file is truncated: needs %llu bytes, has %zu", (unsigned long long)(*data_start + (uint64_t)count * 4),
                    file_size);
  if (available != (uint64_t)count * 4)
    return npy_fail("%llu bytes follow the array's data", (unsigned long long)(available - (uint64_t)count * 4));
  return 0;
}

/* Reads input i from path into dst, with resnetc run's words for every bad file; 0 on success. */
static int read_npy(const char *path, int i, float *dst) {
  const int rank = resnetc_input_rank(i);
  const int64_t *dims = resnetc_input_dims(i);
  const int64_t count = resnetc_input_elements(i);
  FILE *file = fopen(path, "rb");
  if (!file) return error_exit(1, "%s: %s", path, errno == ENOENT ? "no such file" : "cannot be opened");
  struct stat status;
  const char *refusal = NULL;
  if (fstat(fileno(file), &status) != 0)
    refusal = "cannot be read";
  else if (S_ISDIR(status.st_mode))
    refusal = "is a directory";
  else if (!S_ISREG(status.st_mode))
    refusal = "not a regular file";
  if (refusal) {
    fclose(file);
    return error_exit(1, "%s: %s", path, refusal);
  }
  long long size = (long long)status.st_size;
  long long limit = (long long)count * 4 + NPY_MAX_HEADER + 16;
  /* A file too large for the input is read as far as its header, to name what it holds. */
  long long held = size > limit ? (size < NPY_MAX_HEADER + 16 ? size : NPY_MAX_HEADER + 16) : size;
  unsigned char *bytes = malloc((size_t)held + 1);
  if (!bytes) {
    fclose(file);
    return error_exit(1, "%s: out of memory", path);
  }
  size_t got = fread(bytes, 1, (size_t)held, file);
  fclose(file);
  int result = 1;
  npy_value shape = {0};
  size_t data_start = 0;
  if (got != (size_t)held) {
    error_exit(1, "%s: cannot be read", path);
  } else if (npy_layout(bytes, (size_t)held, (size_t)size, &shape, &data_start)) {
    error_exit(1, "%s: %s", path, npy_why);
  } else {
    int same = shape.rank == rank;
    for (int d = 0; same && d < rank; ++d) same = shape.dims[d] == dims[d];
    if (!same) {
      char want[256], have[256];
      format_dims(want, sizeof want, rank, dims);
      format_dims(have, sizeof have, shape.rank, shape.dims);
      error_exit(1, "%s: holds f32%s but input '%s' is f32%s", path, have, resnetc_input_name(i), want);
    } else if (held < size) {
      error_exit(1, "%s: is %lld bytes, more than the limit of %lld", path, size, limit);
    } else {
      memcpy(dst, bytes + data_start, (size_t)count * 4);
      result = 0;
    }
  }
  free(bytes);
  return result;
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
  if (!file) {
    if (errno == EISDIR) return error_exit(1, "%s: is a directory", path);
    if (errno == ENOENT || errno == ENOTDIR) {
      /* The folder part of the path, as resnetc names it: "." for none, "/" for the root. */
      char folder[4096];
      const char *slash = strrchr(path, '/');
      size_t length = slash ? (size_t)(slash - path) : 0;
      if (length >= sizeof folder) length = sizeof folder - 1;
      if (slash && length == 0) length = 1;
      memcpy(folder, slash ? path : ".", slash ? length : 1);
      folder[slash ? length : 1] = 0;
      return error_exit(1, errno == ENOENT ? "%s: no such directory %s" : "%s: %s is not a directory", path, folder);
    }
    return error_exit(1, "%s: cannot write: %s", path, strerror(errno));
  }
  unsigned char prefix[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(length & 0xff), (unsigned char)(length >> 8)};
  size_t count = (size_t)resnetc_output_elements(i);
  int ok = fwrite(prefix, 1, 10, file) == 10 && fwrite(header, 1, (size_t)length, file) == (size_t)length &&
           fwrite(data, sizeof(float), count, file) == count;
  ok = fclose(file) == 0 && ok;
  return ok ? 0 : error_exit(1, "%s: cannot write", path);
}

/* ---- summary and timing ---- */

/* The bytes of the regular file at `path` into *bytes (malloc'd; one spare byte after them),
   refused in resnetc run's words when it is missing, a directory or larger than `limit`,
   `kind`'s limit ("a labels file"). */
static int read_whole_file(const char *path, long long limit, const char *kind, unsigned char **bytes, size_t *size) {
  FILE *file = fopen(path, "rb");
  if (!file) return error_exit(1, "%s: %s", path, errno == ENOENT ? "no such file" : "cannot be opened");
  struct stat status;
  const char *why = NULL;
  if (fstat(fileno(file), &status) != 0) why = "cannot be read";
  else if (S_ISDIR(status.st_mode)) why = "is a directory";
  else if (!S_ISREG(status.st_mode)) why = "not a regular file";
  if (why) {
    fclose(file);
    return error_exit(1, "%s: %s", path, why);
  }
  if (status.st_size > limit) {
    fclose(file);
    return error_exit(1, "%s: is %lld bytes, more than %s's limit of %lld", path, (long long)status.st_size, kind, limit);
  }
  *size = (size_t)status.st_size;
  *bytes = malloc(*size + 1);
  if (!*bytes) {
    fclose(file);
    return error_exit(1, "out of memory");
  }
  size_t got = fread(*bytes, 1, *size, file);
  fclose(file);
  if (got != *size) {
    free(*bytes);
    *bytes = NULL;
    return error_exit(1, "%s: cannot be read", path);
  }
  return 0;
}

/* The image at `path` as input i, with resnetc run's words for every bad file. */
static int read_image(const char *path, int i, int imagenet, float *buffer) {
  unsigned char *bytes = NULL;
  size_t size = 0;
  if (read_whole_file(path, IMAGE_MAX_FILE_BYTES, "an image file", &bytes, &size)) return 1;
  rgb_image im = {0, 0, NULL};
  int failed = decode_image(bytes, size, &im) ||
               image_to_input(&im, imagenet, resnetc_input_name(i), resnetc_input_rank(i), resnetc_input_dims(i), buffer);
  free(bytes);
  free(im.rgb);
  return failed ? error_exit(1, "%s: %s", path, image_why) : 0;
}

/* ---- labels: ResnetcLabels (Sources/Formats/ResnetcLabels.swift) step by step, with the
   same words ---- */

enum { LABELS_LIMIT = 16 << 20 };
static char *labels_text;
static char **labels; /* NULL without --labels */
static long labels_count;

/* Whether bytes [start, end) are well-formed UTF-8 (ResnetcLabels.isUTF8). */
static int is_utf8(const unsigned char *p, size_t start, size_t end) {
  size_t i = start;
  while (i < end) {
    unsigned char lead = p[i], low = 0x80, high = 0xBF;
    int length = 0;
    if (lead <= 0x7F) length = 1;
    else if (lead >= 0xC2 && lead <= 0xDF) length = 2;
    else if (lead == 0xE0) length = 3, low = 0xA0;
    else if (lead == 0xED) length = 3, high = 0x9F;
    else if (lead >= 0xE1 && lead <= 0xEF) length = 3;
    else if (lead == 0xF0) length = 4, low = 0x90;
    else if (lead == 0xF4) length = 4, high = 0x8F;
    else if (lead >= 0xF1 && lead <= 0xF3) length = 4;
    if (length == 0 || end - i < (size_t)length) return 0;
    for (int k = 1; k < length; ++k) {
      unsigned char byte = p[i + (size_t)k];
      if (byte < (k == 1 ? low : 0x80) || byte > (k == 1 ? high : 0xBF)) return 0;
    }
    i += (size_t)length;
  }
  return 1;
}

static int read_labels(const char *path) {
  unsigned char *text = NULL;
  size_t size = 0;
  if (read_whole_file(path, LABELS_LIMIT, "a labels file", &text, &size)) return 1;
  labels_text = (char *)text;
  const unsigned char *bytes = (const unsigned char *)labels_text;
  long line = 1;
  for (size_t i = 0, start = 0; i <= size; ++i) {
    if (i < size && bytes[i] != '\n') {
      if (bytes[i] == 0) return error_exit(1, "%s: line %ld holds a NUL byte", path, line);
      continue;
    }
    if (!is_utf8(bytes, start, i)) return error_exit(1, "%s: line %ld is not UTF-8 text", path, line);
    ++line;
    start = i + 1;
  }
  labels_count = 0;
  for (size_t i = 0; i < size; ++i) labels_count += labels_text[i] == '\n';
  if (size > 0 && labels_text[size - 1] != '\n') ++labels_count;
  labels = malloc(sizeof(char *) * (size_t)(labels_count + 1));
  if (!labels) return error_exit(1, "out of memory");
  long n = 0;
  size_t start = 0;
  for (size_t i = 0; i <= size; ++i) {
    if (i < size && labels_text[i] != '\n') continue;
    if (i == size && start == size) break;
    labels_text[i] = 0;
    if (i > start && labels_text[i - 1] == '\r') labels_text[i - 1] = 0;
    labels[n++] = labels_text + start;
    start = i + 1;
  }
  int matrices = 0;
  for (int o = 0; o < RESNETC_OUTPUT_COUNT; ++o) {
    if (resnetc_output_rank(o) != 2) continue;
    ++matrices;
    long long classes = (long long)resnetc_output_dims(o)[1];
    if (labels_count != classes)
      return error_exit(1, "%s: holds %ld names but output '%s' has %lld classes", path, labels_count,
                        resnetc_output_name(o), classes);
  }
  if (!matrices) {
    char text[256];
    format_dims(text, sizeof text, resnetc_output_rank(0), resnetc_output_dims(0));
    return error_exit(1, "%s: names the classes of a [rows, classes] output, but output '%s' is f32%s", path,
                      resnetc_output_name(0), text);
  }
  return 0;
}

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
      printf(labels ? "  row %lld top-5:\n" : "  row %lld top-5: ", (long long)row);
      for (; n < 5 && n < dims[1]; ++n) {
        int64_t best = -1;
        for (int64_t j = 0; j < dims[1]; ++j) {
          int taken = 0;
          for (int t = 0; t < n; ++t) taken |= chosen[t] == j;
          if (!taken && (best < 0 || v[j] > v[best])) best = j;
        }
        chosen[n] = best;
        if (labels)
          printf("    %lld (%.4g) %s\n", (long long)best, (double)v[best], labels[best]);
        else
          printf(n ? ", %lld (%.4g)" : "%lld (%.4g)", (long long)best, (double)v[best]);
      }
      if (!labels) printf("\n");
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
  const char *weights = NULL, *labels_path = NULL, *image_path = NULL, *preprocess = NULL;
  int seed_given = 0;
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
    } else if (!strcmp(arg, "--labels")) {
      labels_path = value;
    } else if (!strcmp(arg, "--image")) {
      image_path = value;
    } else if (!strcmp(arg, "--preprocess")) {
      preprocess = value;
    } else if (!strcmp(arg, "--threads")) {
      if (parse_count("--threads", value, 1, 1024, &threads)) return 2;
    } else if (!strcmp(arg, "--bench")) {
      if (parse_count("--bench", value, 1, 1000000, &bench)) return 2;
    } else if (!strcmp(arg, "--input-seed")) {
      if (parse_count("--input-seed", value, 0, 2147483647L, &seed)) return 2;
      seed_given = 1;
    } else {
      return error_exit(2, "unknown option '%s' (see --help)", arg);
    }
  }
  if (input_files != 0 && input_files != RESNETC_INPUT_COUNT)
    return error_exit(2, "the model takes %d inputs but %d --input files were given", RESNETC_INPUT_COUNT, input_files);
  if (output_files != 0 && output_files != RESNETC_OUTPUT_COUNT)
    return error_exit(2, "the model has %d outputs but %d --output paths were given", RESNETC_OUTPUT_COUNT, output_files);
  if (json && !bench && !profile) return error_exit(2, "--json goes with --bench or --profile");
  if (profile && !bench) bench = 10;
  if (labels_path && read_labels(labels_path)) return 1;
  int imagenet = -1; /* the default for the input's shape */
  if (preprocess) {
    if (!image_path) return error_exit(2, "--preprocess goes with --image");
    if (!strcmp(preprocess, "imagenet")) imagenet = 1;
    else if (!strcmp(preprocess, "none")) imagenet = 0;
    else return error_exit(2, "--preprocess expects imagenet or none, got '%s'", preprocess);
  }
  if (image_path) {
    if (input_files || seed_given) return error_exit(2, "--image replaces --input and --input-seed; give one or the other");
    if (RESNETC_INPUT_COUNT != 1)
      return error_exit(2, "--image fills a model's one input; this model has %d", RESNETC_INPUT_COUNT);
    if (imagenet < 0) {
      const int64_t *dims = resnetc_input_dims(0);
      imagenet = resnetc_input_rank(0) == 4 && dims[2] == 224 && dims[3] == 224;
    }
  }

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
    if (image_path) {
      if (read_image(image_path, i, imagenet, in[i])) goto done;
    } else if (input_files) {
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
    if (profile) fputs(json ? resnetc_profile_json(model) : resnetc_profile_report(model), stdout);
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
  free(labels);
  free(labels_text);
  resnetc_destroy(model);
  return status;
}

