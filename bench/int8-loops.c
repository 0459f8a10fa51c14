/* The inner loops of resnetc's AVX2 integer tiles without memory traffic, in cycles per
   step of the CPU's own clock, to see what an exact int16-pair tile can reach against a
   saturating byte-pair one on this CPU:
     cc -O2 -mavx2 bench/int8-loops.c -o /tmp/int8-loops && /tmp/int8-loops
   int16 pairs (6 pixels x 2 blocks, as QConvPlan on AVX2): 6 broadcasts, 12 vpmaddwd, 12 adds;
   the same without the adds, to show what the adds cost; byte pairs (4 pixels x 2 blocks):
   4 broadcasts, 8 vpmaddubsw, 8 vpmaddwd by ones, 8 adds. Products per cycle compare them. */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

static int lanes[64] __attribute__((aligned(64)));

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Cycles per second: a chain of dependent integer adds, one a cycle. */
static double clock_rate(void) {
  const long n = 200000000;
  long x = 0;
  double best = 1e9;
  for (int round = 0; round < 3; ++round) {
    double start = now();
    for (long i = 0; i < n; ++i) __asm__ volatile("add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0" : "+r"(x));
    double t = now() - start;
    if (t < best) best = t;
  }
  return 4.0 * (double)n / best;
}

#define PAIR(acc, w) "vpmaddwd " #w ", %%ymm12, %%ymm15\n\tvpaddd %%ymm15, " #acc ", " #acc "\n\t"
#define PAIR_ONLY(out, w) "vpmaddwd " #w ", %%ymm12, " #out "\n\t"
#define SPLAT(offset) "vpbroadcastd " #offset "(%[p]), %%ymm12\n\t"
#define BYTES(acc, w) "vpmaddubsw " #w ", %%ymm12, %%ymm15\n\tvpmaddwd %%ymm14, %%ymm15, %%ymm15\n\tvpaddd %%ymm15, " #acc ", " #acc "\n\t"
#define CLOBBERS "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm15", "memory"

enum loop { int16_pairs, int16_pairs_without_adds, byte_pairs };

static double seconds(enum loop loop, long n) {
  double start = now();
  for (long i = 0; i < n; ++i) {
    switch (loop) {
    case int16_pairs:
      __asm__ volatile(SPLAT(0) PAIR(%%ymm0, %%ymm13) PAIR(%%ymm1, %%ymm14) SPLAT(4) PAIR(%%ymm2, %%ymm13)
                       PAIR(%%ymm3, %%ymm14) SPLAT(8) PAIR(%%ymm4, %%ymm13) PAIR(%%ymm5, %%ymm14) SPLAT(12)
                       PAIR(%%ymm6, %%ymm13) PAIR(%%ymm7, %%ymm14) SPLAT(16) PAIR(%%ymm8, %%ymm13)
                       PAIR(%%ymm9, %%ymm14) SPLAT(20) PAIR(%%ymm10, %%ymm13) PAIR(%%ymm11, %%ymm14)
                       :
                       : [p] "r"(lanes)
                       : CLOBBERS);
      break;
    case int16_pairs_without_adds:
      __asm__ volatile(SPLAT(0) PAIR_ONLY(%%ymm0, %%ymm13) PAIR_ONLY(%%ymm1, %%ymm14) SPLAT(4)
                       PAIR_ONLY(%%ymm2, %%ymm13) PAIR_ONLY(%%ymm3, %%ymm14) SPLAT(8) PAIR_ONLY(%%ymm4, %%ymm13)
                       PAIR_ONLY(%%ymm5, %%ymm14) SPLAT(12) PAIR_ONLY(%%ymm6, %%ymm13) PAIR_ONLY(%%ymm7, %%ymm14)
                       SPLAT(16) PAIR_ONLY(%%ymm8, %%ymm13) PAIR_ONLY(%%ymm9, %%ymm14) SPLAT(20)
                       PAIR_ONLY(%%ymm10, %%ymm13) PAIR_ONLY(%%ymm11, %%ymm14)
                       :
                       : [p] "r"(lanes)
                       : CLOBBERS);
      break;
    case byte_pairs:
      __asm__ volatile(SPLAT(0) BYTES(%%ymm0, %%ymm13) BYTES(%%ymm1, %%ymm11) SPLAT(4) BYTES(%%ymm2, %%ymm13)
                       BYTES(%%ymm3, %%ymm11) SPLAT(8) BYTES(%%ymm4, %%ymm13) BYTES(%%ymm5, %%ymm11) SPLAT(12)
                       BYTES(%%ymm6, %%ymm13) BYTES(%%ymm7, %%ymm11)
                       :
                       : [p] "r"(lanes)
                       : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm12", "xmm15",
                         "memory");
      break;
    }
  }
  return now() - start;
}

int main(void) {
  const long n = 50000000;
  const double hz = clock_rate();
  const struct {
    enum loop loop;
    const char *name;
    double products;
  } loops[] = {
    {int16_pairs, "int16 pairs, 6x2 (exact)", 12 * 16},
    {int16_pairs_without_adds, "int16 pairs without the adds", 12 * 16},
    {byte_pairs, "byte pairs, 4x2 (saturating)", 8 * 32},
  };
  printf("clock %.2f GHz (dependent adds)\n", hz / 1e9);
  for (int i = 0; i < 3; ++i) {
    double best = 1e9;
    for (int round = 0; round < 5; ++round) {
      double t = seconds(loops[i].loop, n);
      if (t < best) best = t;
    }
    double cycles = best / (double)n * hz;
    printf("%-30s %5.2f cycles a step, %5.1f products a cycle\n", loops[i].name, cycles, loops[i].products / cycles);
  }
  return 0;
}
