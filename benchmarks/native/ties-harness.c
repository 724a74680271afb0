/*
 * TIES through the native kernels alone, without Node: per tensor, the selection pass (every expert's
 * top-k rule of τ = x - θ0, tm_delta_top_k_many) and the merge pass (tm_ties_merge), on the benchmark
 * layout (tensors of 1M floats, 2 experts, density 0.2), cold (100 distinct tensors, each used once per
 * round) or hot (one tensor used every time, so much of it is still in cache). Prints milliseconds per tensor and the merge's ratio to a memcpy of the
 * same bytes, the figures docs/benchmarks.md quotes. Build and run: npm run bench:harness.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../../src/params/kernels/native/src/alloc.h"
#include "../../src/params/kernels/native/src/kernels.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* xorshift32: deterministic inputs, no libc rand state. */
static uint32_t rng = 2463534242u;
static float uniform(void) {
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return (float)(rng >> 8) / 16777216.0f;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return v[n / 2];
}

enum { K = 2, ROUNDS = 5 };

int main(int argc, char **argv) {
  const size_t n = (size_t)1 << 20;
  const int tensors = argc > 1 ? atoi(argv[1]) : 100;
  const int hot = argc > 2 && strcmp(argv[2], "hot") == 0;
  const int distinct = hot ? 1 : tensors;
  if (tensors < 1) {
    fprintf(stderr, "usage: ties-harness [tensors (default 100)] [hot]\n");
    return 2;
  }
  tm_keep_freed_memory();
  float **base = malloc((size_t)distinct * sizeof *base), **out = malloc((size_t)distinct * sizeof *out);
  float **xs = malloc((size_t)distinct * K * sizeof *xs);
  for (int t = 0; t < distinct; t++) {
    base[t] = malloc(n * sizeof(float));
    out[t] = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) base[t][i] = uniform() - 0.5f, out[t][i] = 0.0f;
    for (int e = 0; e < K; e++) {
      xs[t * K + e] = malloc(n * sizeof(float));
      for (size_t i = 0; i < n; i++) xs[t * K + e][i] = base[t][i] + 0.01f * (uniform() - 0.5f);
    }
  }
  const size_t k = n / 5; /* density 0.2 */
  const double ws[K] = {0.5, 0.5}, ew[K] = {0.5, 0.5};
  float thr[K];
  size_t ties[K], equal[K];
  int all[K];
  double sel[ROUNDS], merge[ROUNDS], copy[ROUNDS];
  for (int r = 0; r < ROUNDS; r++) {
    double s = 0, m = 0;
    for (int i = 0; i < tensors; i++) {
      const int t = i % distinct;
      const float *const *x = (const float *const *)&xs[t * K];
      double t0 = now();
      tm_delta_top_k_many(x, K, base[t], n, k, thr, ties, equal);
      double t1 = now();
      for (int e = 0; e < K; e++) all[e] = equal[e] <= ties[e];
      int finite = 0;
      tm_ties_merge(out[t], base[t], x, K, thr, ties, all, ws, ew, 0, 0, 0, 0, 0.0, 0, 1.0f, 0, n, &finite);
      double t2 = now();
      s += t1 - t0;
      m += t2 - t1;
    }
    double c0 = now();
    for (int i = 0; i < tensors; i++) memcpy(out[i % distinct], xs[(i % distinct) * K], n * sizeof(float));
    copy[r] = (now() - c0) / tensors;
    sel[r] = s / tensors;
    merge[r] = m / tensors;
  }
  const double ms = median(merge, ROUNDS), ss = median(sel, ROUNDS), cs = median(copy, ROUNDS);
  /* bytes: selection reads θ0 and the experts; the merge reads them again and writes out. memcpy: 1 read + 1 write. */
  const double copy_gbps = 2.0 * n * sizeof(float) / cs / 1e9;
  const double ties_gbps = (2.0 * (1 + K) + 1) * n * sizeof(float) / (ss + ms) / 1e9;
  printf("ties harness: %d tensors of %zu floats, %d experts, density 0.2, %s, median of %d rounds\n", tensors, n, K, hot ? "hot" : "cold", ROUNDS);
  printf("selection %.3f ms, merge %.3f ms per tensor; copy %.2f GB/s; TIES (selection + merge) %.2f GB/s, ratio to copy %.3f\n", ss * 1e3,
         ms * 1e3, copy_gbps, ties_gbps, ties_gbps / copy_gbps);
  return 0;
}
