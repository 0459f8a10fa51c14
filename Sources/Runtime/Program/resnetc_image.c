/* Images for --image FILE and --preprocess imagenet|none in the C programs. This follows
   Sources/Formats/ResnetcInflate.swift, ResnetcImage.swift and ResnetcPreprocess.swift (the
   definitions resnetc run and the Swift programs are built with) step by step, with the same
   words; a test holds the three to the same pixels, inputs and messages. */

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Why an image was refused: one sentence after the file's name. */
static char image_why[512];

static int image_fail(const char *format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(image_why, sizeof image_why, format, args);
  va_end(args);
  return -1;
}

enum { IMAGE_MAX_PIXELS = 1 << 26, IMAGE_MAX_FILE_BYTES = 1 << 29 };

/* ---- inflate: ResnetcInflate ---- */

typedef struct {
  const uint8_t *data;
  size_t size, position;
  uint32_t bit_buffer;
  int bit_count;
  uint8_t *out;
  size_t used, limit;
} inflater;

/* A failure of the stream, as ResnetcInflate.Failure's descriptions. */
static int inflate_truncated(void) { return image_fail("ends inside the compressed data"); }
static int inflate_bad(const char *why) { return image_fail("holds invalid compressed data: %s", why); }
static int inflate_too_large(size_t limit) {
  return image_fail("inflates past %zu bytes, more than the image holds", limit);
}

static int inflate_bits(inflater *s, int count, int *value) {
  while (s->bit_count < count) {
    if (s->position >= s->size) return inflate_truncated();
    s->bit_buffer |= (uint32_t)s->data[s->position++] << s->bit_count;
    s->bit_count += 8;
  }
  *value = (int)(s->bit_buffer & ((1u << count) - 1u));
  s->bit_buffer = count == 32 ? 0 : s->bit_buffer >> count;
  s->bit_count -= count;
  return 0;
}

typedef struct {
  int counts[16];
  int symbols[320];
} huffman;

static int huffman_build(huffman *h, const int *lengths, int n) {
  memset(h->counts, 0, sizeof h->counts);
  for (int i = 0; i < n; ++i) h->counts[lengths[i]] += 1;
  h->counts[0] = 0;
  int left = 1;
  for (int length = 1; length < 16; ++length) {
    left <<= 1;
    left -= h->counts[length];
    if (left < 0) return inflate_bad("a Huffman code is over-subscribed");
  }
  int used = 0;
  for (int i = 0; i < n; ++i) used += lengths[i] != 0;
  if (left != 0 && used > 1) return inflate_bad("a Huffman code is incomplete");
  int offsets[16] = {0};
  for (int length = 1; length < 15; ++length) offsets[length + 1] = offsets[length] + h->counts[length];
  for (int symbol = 0; symbol < n; ++symbol)
    if (lengths[symbol] != 0) h->symbols[offsets[lengths[symbol]]++] = symbol;
  return 0;
}

static int huffman_decode(const huffman *h, inflater *s, int *symbol) {
  int code = 0, first = 0, index = 0;
  for (int length = 1; length < 16; ++length) {
    int bit = 0;
    if (inflate_bits(s, 1, &bit)) return -1;
    code |= bit;
    int count = h->counts[length];
    if (code - count < first) {
      *symbol = h->symbols[index + (code - first)];
      return 0;
    }
    index += count;
    first += count;
    first <<= 1;
    code <<= 1;
  }
  return inflate_bad("a code is not in its Huffman table");
}

static const int length_base[] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                  31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const int length_extra[] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const int distance_base[] = {1,    2,    3,    4,    5,    7,     9,     13,    17,    25,
                                    33,   49,   65,   97,   129,  193,   257,   385,   513,   769,
                                    1025, 1537, 2049, 3073, 4097, 6145,  8193,  12289, 16385, 24577};
static const int distance_extra[] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
static const int code_length_order[] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

static int inflate_codes(inflater *s, const huffman *literals, const huffman *distances) {
  for (;;) {
    int symbol = 0;
    if (huffman_decode(literals, s, &symbol)) return -1;
    if (symbol < 256) {
      if (s->used >= s->limit) return inflate_too_large(s->limit);
      s->out[s->used++] = (uint8_t)symbol;
    } else if (symbol == 256) {
      return 0;
    } else {
      int index = symbol - 257, extra = 0, code = 0;
      if (index >= 29) return inflate_bad("a length code is out of range");
      if (inflate_bits(s, length_extra[index], &extra)) return -1;
      int length = length_base[index] + extra;
      if (huffman_decode(distances, s, &code)) return -1;
      if (code >= 30) return inflate_bad("a distance code is out of range");
      if (inflate_bits(s, distance_extra[code], &extra)) return -1;
      size_t distance = (size_t)(distance_base[code] + extra);
      if (distance > s->used) return inflate_bad("a distance reaches before the start of the data");
      if (s->used + (size_t)length > s->limit) return inflate_too_large(s->limit);
      size_t start = s->used - distance;
      for (int k = 0; k < length; ++k) s->out[s->used++] = s->out[start + (size_t)k];
    }
  }
}

static int inflate_blocks(inflater *s) {
  int last = 0;
  while (!last) {
    int type = 0;
    if (inflate_bits(s, 1, &last) || inflate_bits(s, 2, &type)) return -1;
    if (type == 0) {
      s->bit_buffer = 0;
      s->bit_count = 0;
      size_t p = s->position;
      if (p + 4 > s->size) return inflate_truncated();
      size_t length = (size_t)s->data[p] | (size_t)s->data[p + 1] << 8;
      size_t check = (size_t)s->data[p + 2] | (size_t)s->data[p + 3] << 8;
      if (length != (~check & 0xFFFF)) return inflate_bad("a stored block's length does not match its complement");
      if (p + 4 + length > s->size) return inflate_truncated();
      if (s->used + length > s->limit) return inflate_too_large(s->limit);
      memcpy(s->out + s->used, s->data + p + 4, length);
      s->used += length;
      s->position = p + 4 + length;
    } else if (type == 1) {
      int lengths[288];
      for (int i = 0; i < 288; ++i) lengths[i] = i < 144 ? 8 : i < 256 ? 9 : i < 280 ? 7 : 8;
      int five[32];
      for (int i = 0; i < 32; ++i) five[i] = 5;
      huffman literals, distances;
      if (huffman_build(&literals, lengths, 288) || huffman_build(&distances, five, 32)) return -1;
      if (inflate_codes(s, &literals, &distances)) return -1;
    } else if (type == 2) {
      int literal_count = 0, distance_count = 0, code_length_count = 0;
      if (inflate_bits(s, 5, &literal_count) || inflate_bits(s, 5, &distance_count) ||
          inflate_bits(s, 4, &code_length_count))
        return -1;
      literal_count += 257;
      distance_count += 1;
      code_length_count += 4;
      if (literal_count > 286 || distance_count > 30) return inflate_bad("a block has too many codes");
      int code_lengths[19] = {0};
      for (int i = 0; i < code_length_count; ++i)
        if (inflate_bits(s, 3, &code_lengths[code_length_order[i]])) return -1;
      huffman length_code;
      if (huffman_build(&length_code, code_lengths, 19)) return -1;
      int lengths[320], count = 0, total = literal_count + distance_count;
      while (count < total) {
        int symbol = 0, extra = 0, repeat = 0, value = 0;
        if (huffman_decode(&length_code, s, &symbol)) return -1;
        if (symbol < 16) {
          lengths[count++] = symbol;
          continue;
        }
        if (symbol == 16) {
          if (count == 0) return inflate_bad("a length repeats before any length");
          if (inflate_bits(s, 2, &extra)) return -1;
          value = lengths[count - 1];
          repeat = 3 + extra;
        } else if (symbol == 17) {
          if (inflate_bits(s, 3, &extra)) return -1;
          repeat = 3 + extra;
        } else {
          if (inflate_bits(s, 7, &extra)) return -1;
          repeat = 11 + extra;
        }
        if (count + repeat > total) return inflate_bad("code lengths run past their count");
        for (int k = 0; k < repeat; ++k) lengths[count++] = value;
      }
      if (lengths[256] == 0) return inflate_bad("a block has no end-of-block code");
      huffman literals, distances;
      if (huffman_build(&literals, lengths, literal_count) ||
          huffman_build(&distances, lengths + literal_count, distance_count))
        return -1;
      if (inflate_codes(s, &literals, &distances)) return -1;
    } else {
      return inflate_bad("a block has the reserved type 3");
    }
  }
  return 0;
}

static uint32_t adler32(const uint8_t *bytes, size_t count) {
  uint32_t a = 1, b = 0;
  size_t i = 0;
  while (i < count) {
    size_t end = i + 5552 < count ? i + 5552 : count;
    for (; i < end; ++i) {
      a += bytes[i];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return b << 16 | a;
}

/* Inflates the zlib stream `data` into `out`, which holds `limit` bytes; sets *used. */
static int inflate_zlib(const uint8_t *data, size_t size, uint8_t *out, size_t limit, size_t *used) {
  if (size < 2) return inflate_truncated();
  uint8_t cmf = data[0], flg = data[1];
  if ((cmf & 0x0F) != 8) return image_fail("is not a zlib stream: its method is %d, not 8 (deflate)", cmf & 0x0F);
  if (cmf >> 4 > 7)
    return image_fail("is not a zlib stream: its window is 2^%d bytes, more than 32768", (cmf >> 4) + 8);
  if (((int)cmf << 8 | flg) % 31 != 0) return image_fail("is not a zlib stream: its header check bits are wrong");
  if (flg & 0x20) return image_fail("is not a zlib stream: it needs a preset dictionary");
  inflater s = {data, size, 2, 0, 0, out, 0, limit};
  if (inflate_blocks(&s)) return -1;
  size_t p = s.position;
  if (p + 4 > size) return inflate_truncated();
  uint32_t stored = (uint32_t)data[p] << 24 | (uint32_t)data[p + 1] << 16 | (uint32_t)data[p + 2] << 8 | data[p + 3];
  uint32_t computed = adler32(out, s.used);
  if (stored != computed)
    return image_fail("has the Adler-32 checksum 0x%08x, but its data's is 0x%08x", (unsigned)stored, (unsigned)computed);
  *used = s.used;
  return 0;
}

/* ---- PNG, PPM and PGM: ResnetcImage ---- */

typedef struct {
  int width, height;
  uint8_t *rgb; /* row-major RGB */
} rgb_image;

static int check_size(long long width, long long height) {
  if (width <= 0 || height <= 0) return image_fail("is %lldx%lld pixels, an empty image", width, height);
  if (width > IMAGE_MAX_PIXELS || height > IMAGE_MAX_PIXELS || width * height > IMAGE_MAX_PIXELS)
    return image_fail("is %lldx%lld pixels, more than the limit of %d pixels", width, height, IMAGE_MAX_PIXELS);
  return 0;
}

static uint32_t crc_table[256];

static uint32_t crc32_of(const uint8_t *bytes, size_t count) {
  if (!crc_table[1])
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      crc_table[n] = c;
    }
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < count; ++i) c = crc_table[(c ^ bytes[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static int png_unfilter(uint8_t filter, uint8_t *row, const uint8_t *up, size_t count, size_t bpp) {
  switch (filter) {
  case 0: break;
  case 1:
    for (size_t i = bpp; i < count; ++i) row[i] = (uint8_t)(row[i] + row[i - bpp]);
    break;
  case 2:
    for (size_t i = 0; i < count; ++i) row[i] = (uint8_t)(row[i] + up[i]);
    break;
  case 3:
    for (size_t i = 0; i < count; ++i) row[i] = (uint8_t)(row[i] + ((i >= bpp ? row[i - bpp] : 0) + up[i]) / 2);
    break;
  case 4:
    for (size_t i = 0; i < count; ++i) {
      int a = i >= bpp ? row[i - bpp] : 0, b = up[i], c = i >= bpp ? up[i - bpp] : 0;
      int estimate = a + b - c, pa = abs(estimate - a), pb = abs(estimate - b), pc = abs(estimate - c);
      row[i] = (uint8_t)(row[i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c));
    }
    break;
  default: return image_fail("has a row with the unknown filter type %d", filter);
  }
  return 0;
}

static int png_palette(int index, const uint8_t *palette, int palette_bytes, uint8_t *rgb) {
  if (3 * index + 2 >= palette_bytes)
    return image_fail("has the palette index %d, past the %d colours of its PLTE chunk", index, palette_bytes / 3);
  memcpy(rgb, palette + 3 * index, 3);
  return 0;
}

static int png_colour(const uint8_t *row, int x, int depth, int colour_type, const uint8_t *palette, int palette_bytes,
                      uint8_t *rgb) {
  if (depth < 8) {
    int per_byte = 8 / depth, byte = row[x / per_byte], shift = 8 - depth * (x % per_byte + 1);
    int value = (byte >> shift) & ((1 << depth) - 1);
    if (colour_type == 3) return png_palette(value, palette, palette_bytes, rgb);
    rgb[0] = rgb[1] = rgb[2] = (uint8_t)(value * 255 / ((1 << depth) - 1));
    return 0;
  }
  switch (colour_type) {
  case 0: rgb[0] = rgb[1] = rgb[2] = row[x]; break;
  case 3: return png_palette(row[x], palette, palette_bytes, rgb);
  case 4: rgb[0] = rgb[1] = rgb[2] = row[2 * x]; break;
  case 2: memcpy(rgb, row + 3 * x, 3); break;
  default: memcpy(rgb, row + 4 * x, 3); break;
  }
  return 0;
}

static int is_letter(uint8_t c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

static int decode_png(const uint8_t *b, size_t size, rgb_image *out) {
  size_t p = 8, compressed_size = 0;
  int width = 0, height = 0, depth = 0, colour_type = 0, interlaced = 0, saw_header = 0, saw_end = 0, palette_bytes = 0;
  uint8_t palette[768];
  uint8_t *compressed = malloc(size);
  uint8_t *raw = NULL;
  int status = -1;
  if (!compressed) return image_fail("cannot be held in memory");
  while (!saw_end) {
    if (p + 8 > size) {
      image_fail("ends after %zu bytes, before its IEND chunk", size);
      goto done;
    }
    size_t length = be32(b + p);
    if (!is_letter(b[p + 4]) || !is_letter(b[p + 5]) || !is_letter(b[p + 6]) || !is_letter(b[p + 7])) {
      image_fail("has a chunk whose type is not four letters at byte %zu", p);
      goto done;
    }
    char type[5] = {(char)b[p + 4], (char)b[p + 5], (char)b[p + 6], (char)b[p + 7], 0};
    if (size < p + 12 || length > size - p - 12) {
      image_fail("ends after %zu bytes, inside its %s chunk of %zu bytes at byte %zu", size, type, length, p);
      goto done;
    }
    size_t data = p + 8;
    uint32_t stored = be32(b + data + length), computed = crc32_of(b + p + 4, length + 4);
    if (stored != computed) {
      image_fail("chunk %s at byte %zu has the CRC 0x%08x, but its data's is 0x%08x", type, p, (unsigned)stored,
                 (unsigned)computed);
      goto done;
    }
    if (!saw_header && strcmp(type, "IHDR") != 0) {
      image_fail("starts with a %s chunk, not IHDR", type);
      goto done;
    }
    if (!strcmp(type, "IHDR")) {
      if (saw_header) {
        image_fail("has a second IHDR chunk at byte %zu", p);
        goto done;
      }
      if (length != 13) {
        image_fail("has an IHDR chunk of %zu bytes, not 13", length);
        goto done;
      }
      saw_header = 1;
      uint32_t w = be32(b + data), h = be32(b + data + 4);
      if (w > INT32_MAX || h > INT32_MAX) {
        image_fail("is %ux%u pixels, more than the limit of %d pixels", (unsigned)w, (unsigned)h, IMAGE_MAX_PIXELS);
        goto done;
      }
      width = (int)w, height = (int)h, depth = b[data + 8], colour_type = b[data + 9];
      if (check_size(width, height)) goto done;
      int allowed = 0;
      switch (colour_type) {
      case 0: allowed = depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16; break;
      case 3: allowed = depth == 1 || depth == 2 || depth == 4 || depth == 8; break;
      case 2: case 4: case 6: allowed = depth == 8 || depth == 16; break;
      }
      if (!allowed) {
        image_fail("has colour type %d with bit depth %d, which PNG does not define", colour_type, depth);
        goto done;
      }
      if (depth == 16) {
        image_fail("is a 16-bit PNG; resnetc reads 8-bit ones (save it with 8 bits per channel)");
        goto done;
      }
      if (b[data + 10] != 0 || b[data + 11] != 0) {
        image_fail("has an unknown compression or filter method");
        goto done;
      }
      if (b[data + 12] > 1) {
        image_fail("has the unknown interlace method %d", b[data + 12]);
        goto done;
      }
      interlaced = b[data + 12] == 1;
    } else if (!strcmp(type, "PLTE")) {
      if (length % 3 != 0 || length == 0 || length > 768) {
        image_fail("has a PLTE chunk of %zu bytes, not 3 to 768 in threes", length);
        goto done;
      }
      memcpy(palette, b + data, length);
      palette_bytes = (int)length;
    } else if (!strcmp(type, "IDAT")) {
      memcpy(compressed + compressed_size, b + data, length);
      compressed_size += length;
    } else if (!strcmp(type, "IEND")) {
      saw_end = 1;
    }
    p = data + length + 4;
  }
  if (colour_type == 3 && palette_bytes == 0) {
    image_fail("is a palette image without a PLTE chunk");
    goto done;
  }
  if (compressed_size == 0) {
    image_fail("has no IDAT chunk");
    goto done;
  }
  static const int adam7[7][4] = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4},
                                  {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};
  static const int whole[1][4] = {{0, 0, 1, 1}};
  const int(*passes)[4] = interlaced ? adam7 : whole;
  int pass_count = interlaced ? 7 : 1;
  int channels = colour_type == 0 || colour_type == 3 ? 1 : colour_type == 4 ? 2 : colour_type == 2 ? 3 : 4;
  int bits_per_pixel = channels * depth;
  size_t expected = 0;
  for (int k = 0; k < pass_count; ++k) {
    size_t w = (size_t)((width - passes[k][0] + passes[k][2] - 1) / passes[k][2]);
    size_t h = (size_t)((height - passes[k][1] + passes[k][3] - 1) / passes[k][3]);
    if (w && h) expected += h * (1 + (w * (size_t)bits_per_pixel + 7) / 8);
  }
  raw = malloc(expected ? expected : 1);
  out->rgb = malloc((size_t)width * (size_t)height * 3);
  if (!raw || !out->rgb) {
    image_fail("cannot be held in memory");
    goto done;
  }
  size_t got = 0;
  if (inflate_zlib(compressed, compressed_size, raw, expected, &got)) {
    char why[sizeof image_why];
    snprintf(why, sizeof why, "%s", image_why);
    image_fail("IDAT data %s", why);
    goto done;
  }
  if (got != expected) {
    image_fail("IDAT data holds %zu bytes, fewer than the %zu a %dx%d image needs", got, expected, width, height);
    goto done;
  }
  size_t offset = 0, bpp = bits_per_pixel / 8 > 1 ? (size_t)(bits_per_pixel / 8) : 1;
  for (int k = 0; k < pass_count; ++k) {
    int w = (width - passes[k][0] + passes[k][2] - 1) / passes[k][2];
    int h = (height - passes[k][1] + passes[k][3] - 1) / passes[k][3];
    if (!w || !h) continue;
    size_t stride = ((size_t)w * (size_t)bits_per_pixel + 7) / 8;
    uint8_t *zeros = calloc(stride, 1);
    if (!zeros) {
      image_fail("cannot be held in memory");
      goto done;
    }
    const uint8_t *previous = zeros;
    for (int y = 0; y < h; ++y) {
      uint8_t filter = raw[offset];
      uint8_t *row = raw + offset + 1;
      if (png_unfilter(filter, row, previous, stride, bpp)) {
        free(zeros);
        goto done;
      }
      offset += 1 + stride;
      for (int x = 0; x < w; ++x) {
        size_t pixel = ((size_t)(passes[k][1] + y * passes[k][3]) * (size_t)width + (size_t)(passes[k][0] + x * passes[k][2])) * 3;
        if (png_colour(row, x, depth, colour_type, palette, palette_bytes, out->rgb + pixel)) {
          free(zeros);
          goto done;
        }
      }
      previous = row;
    }
    free(zeros);
  }
  out->width = width;
  out->height = height;
  status = 0;
done:
  free(compressed);
  free(raw);
  if (status) {
    free(out->rgb);
    out->rgb = NULL;
  }
  return status;
}

static int pnm_space(uint8_t c) { return c == ' ' || (c >= 0x09 && c <= 0x0D); }

static int decode_pnm(const uint8_t *b, size_t size, rgb_image *out) {
  int gray = b[1] == '5';
  size_t p = 2;
  long long fields[3];
  for (int f = 0; f < 3; ++f) {
    while (p < size && (pnm_space(b[p]) || b[p] == '#')) {
      if (b[p] == '#') {
        while (p < size && b[p] != '\n' && b[p] != '\r') ++p;
      } else {
        ++p;
      }
    }
    if (p >= size) return image_fail("ends after %zu bytes, inside its header", size);
    if (b[p] < '0' || b[p] > '9') return image_fail("has a header field that is not a whole number at byte %zu", p);
    long long value = 0;
    while (p < size && b[p] >= '0' && b[p] <= '9') {
      value = value * 10 + (b[p] - '0');
      if (value > 1LL << 30) return image_fail("has a header number too large at byte %zu", p);
      ++p;
    }
    fields[f] = value;
  }
  if (p >= size) return image_fail("ends after %zu bytes, inside its header", size);
  if (!pnm_space(b[p])) return image_fail("has a header field that is not a whole number at byte %zu", p);
  ++p;
  long long width = fields[0], height = fields[1], maxval = fields[2];
  if (check_size(width, height)) return -1;
  if (maxval > 255)
    return image_fail("has maxval %lld, 16 bits a sample; resnetc reads 8-bit ones (maxval up to 255)", maxval);
  if (maxval < 1) return image_fail("has maxval 0");
  size_t samples = (size_t)(width * height * (gray ? 1 : 3));
  if (size - p < samples)
    return image_fail("holds %zu bytes of pixels, fewer than the %zu a %lldx%lld image needs", size - p, samples, width,
                      height);
  out->rgb = malloc((size_t)(width * height * 3));
  if (!out->rgb) return image_fail("cannot be held in memory");
  for (size_t i = 0; i < (size_t)(width * height * 3); ++i) {
    size_t at = p + (gray ? i / 3 : i);
    int sample = b[at];
    if (sample > maxval) {
      free(out->rgb);
      out->rgb = NULL;
      return image_fail("has the sample %d at byte %zu, more than its maxval %lld", sample, at, maxval);
    }
    out->rgb[i] = (uint8_t)(maxval == 255 ? sample : (sample * 255 + maxval / 2) / maxval);
  }
  out->width = (int)width;
  out->height = (int)height;
  return 0;
}

static int decode_image(const uint8_t *b, size_t size, rgb_image *out) {
  static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  out->rgb = NULL;
  if (size >= 8 && !memcmp(b, signature, 8)) return decode_png(b, size, out);
  if (size >= 2 && b[0] == 'P' && (b[1] == '6' || b[1] == '5')) return decode_pnm(b, size, out);
  return image_fail("is not a PNG or binary PPM (P6) or PGM (P5) image");
}

/* ---- preprocessing: ResnetcPreprocess ---- */

enum { PRECISION_BITS = 32 - 8 - 2 };

static uint8_t clip8(long long sum) {
  long long value = sum >> PRECISION_BITS;
  return (uint8_t)(value < 0 ? 0 : value > 255 ? 255 : value);
}

/* For each output pixel, its first input pixel, how many it reads and their fixed-point
   weights (`size` a pixel apart): PIL's triangle filter, widened by the scale when shrinking. */
static int resize_coefficients(int input, int output, int *starts, int *counts, int **weights, int *size) {
  double scale = (double)input / (double)output, filter_scale = scale > 1.0 ? scale : 1.0, support = filter_scale;
  *size = (int)ceil(support) * 2 + 1;
  *weights = calloc((size_t)output * (size_t)*size, sizeof(int));
  double *k = malloc(sizeof(double) * (size_t)*size);
  if (!*weights || !k) {
    free(k);
    return image_fail("cannot be held in memory");
  }
  for (int xx = 0; xx < output; ++xx) {
    double center = ((double)xx + 0.5) * scale, ss = 1.0 / filter_scale, total = 0;
    int xmin = (int)(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = (int)(center + support + 0.5);
    if (xmax > input) xmax = input;
    xmax -= xmin;
    if (xmax > *size) xmax = *size;
    for (int x = 0; x < xmax; ++x) {
      double t = fabs(((double)(x + xmin) - center + 0.5) * ss), w = t < 1.0 ? 1.0 - t : 0.0;
      k[x] = w;
      total += w;
    }
    for (int x = 0; x < xmax; ++x) {
      double normalized = total != 0 ? k[x] / total : k[x], bits = (double)(1 << PRECISION_BITS);
      (*weights)[(size_t)xx * (size_t)*size + (size_t)x] =
          normalized < 0 ? (int)(normalized * bits - 0.5) : (int)(normalized * bits + 0.5);
    }
    starts[xx] = xmin;
    counts[xx] = xmax;
  }
  free(k);
  return 0;
}

/* PIL's resize((width, height), BILINEAR) of an RGB image: a horizontal pass, then a
   vertical one, each rounding to 8 bits. Replaces *im. */
static int resize_image(rgb_image *im, int width, int height) {
  if (width != im->width) {
    int *starts = malloc(sizeof(int) * (size_t)width), *counts = malloc(sizeof(int) * (size_t)width), *weights = NULL;
    int size = 0;
    uint8_t *rgb = malloc((size_t)width * (size_t)im->height * 3);
    if (!starts || !counts || !rgb || resize_coefficients(im->width, width, starts, counts, &weights, &size)) {
      free(starts), free(counts), free(rgb), free(weights);
      return image_fail("cannot be held in memory");
    }
    for (int y = 0; y < im->height; ++y)
      for (int x = 0; x < width; ++x)
        for (int c = 0; c < 3; ++c) {
          long long sum = 1LL << (PRECISION_BITS - 1);
          for (int k = 0; k < counts[x]; ++k)
            sum += (long long)im->rgb[((size_t)y * (size_t)im->width + (size_t)(starts[x] + k)) * 3 + (size_t)c] *
                   weights[(size_t)x * (size_t)size + (size_t)k];
          rgb[((size_t)y * (size_t)width + (size_t)x) * 3 + (size_t)c] = clip8(sum);
        }
    free(starts), free(counts), free(weights), free(im->rgb);
    im->rgb = rgb;
    im->width = width;
  }
  if (height != im->height) {
    int *starts = malloc(sizeof(int) * (size_t)height), *counts = malloc(sizeof(int) * (size_t)height), *weights = NULL;
    int size = 0;
    uint8_t *rgb = malloc((size_t)width * (size_t)height * 3);
    if (!starts || !counts || !rgb || resize_coefficients(im->height, height, starts, counts, &weights, &size)) {
      free(starts), free(counts), free(rgb), free(weights);
      return image_fail("cannot be held in memory");
    }
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x)
        for (int c = 0; c < 3; ++c) {
          long long sum = 1LL << (PRECISION_BITS - 1);
          for (int k = 0; k < counts[y]; ++k)
            sum += (long long)im->rgb[((size_t)(starts[y] + k) * (size_t)width + (size_t)x) * 3 + (size_t)c] *
                   weights[(size_t)y * (size_t)size + (size_t)k];
          rgb[((size_t)y * (size_t)width + (size_t)x) * 3 + (size_t)c] = clip8(sum);
        }
    free(starts), free(counts), free(weights), free(im->rgb);
    im->rgb = rgb;
    im->height = height;
  }
  return 0;
}

/* Python's round(d / 2.0), halves to even, as torchvision's centre crop takes it. */
static int round_half_even(int d) {
  int half = d / 2;
  return d % 2 == 0 || half % 2 == 0 ? half : half + 1;
}

static const float imagenet_mean[3] = {0.485f, 0.456f, 0.406f}, imagenet_std[3] = {0.229f, 0.224f, 0.225f};

/* The image as input `name` of `dims` (rank `rank`) into `out`: imagenet (imagenet = 1) or
   none (0). */
static int image_to_input(rgb_image *im, int imagenet, const char *name, int rank, const int64_t *dims, float *out) {
  if (rank != 4 || dims[0] != 1 || dims[1] != 3) {
    char text[256];
    size_t used = (size_t)snprintf(text, sizeof text, "[");
    for (int i = 0; i < rank && used < sizeof text; ++i)
      used += (size_t)snprintf(text + used, sizeof text - used, i ? ",%lld" : "%lld", (long long)dims[i]);
    if (used < sizeof text) snprintf(text + used, sizeof text - used, "]");
    return image_fail("is an image, but input '%s' is f32%s, not [1,3,H,W]", name, text);
  }
  int height = (int)dims[2], width = (int)dims[3];
  if (!imagenet) {
    if (im->height != height || im->width != width)
      return image_fail("is %dx%d pixels, but input '%s' is %dx%d and --preprocess none takes the image as it is "
                        "(--preprocess imagenet resizes and crops)",
                        im->width, im->height, name, width, height);
    size_t plane = (size_t)height * (size_t)width;
    for (size_t i = 0; i < plane; ++i)
      for (int c = 0; c < 3; ++c) out[(size_t)c * plane + i] = (float)im->rgb[i * 3 + (size_t)c] / 255.0f;
    return 0;
  }
  int side = (height < width ? height : width) * 256 / 224, w = im->width, h = im->height;
  int new_width = w <= h ? side : (int)((double)side * (double)w / (double)h);
  int new_height = w <= h ? (int)((double)side * (double)h / (double)w) : side;
  if (resize_image(im, new_width > width ? new_width : width, new_height > height ? new_height : height)) return -1;
  int top = round_half_even(im->height - height), left = round_half_even(im->width - width);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x) {
        float value = (float)im->rgb[((size_t)(top + y) * (size_t)im->width + (size_t)(left + x)) * 3 + (size_t)c] / 255.0f;
        out[((size_t)c * (size_t)height + (size_t)y) * (size_t)width + (size_t)x] =
            (value - imagenet_mean[c]) / imagenet_std[c];
      }
  return 0;
}
