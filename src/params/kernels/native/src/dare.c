/*
 * DARE and random selection on counter-based uniforms (counter-rng.h): every element's draw depends only
 * on (key, expert, index), so the passes split across the pool and vectorise. Per element the float32
 * operations are those of the TypeScript reference (src/params/kernels/reference-techniques.ts), in its order.
 */
#include "counter-rng.h"
#include "pool.h"
#include "store.h"
#include <math.h>
#include <stdlib.h>

#define TM_HOT __attribute__((target_clones("avx2", "default")))

/* ----- ordered L1 sums: within fixed blocks of TM_L1_BLOCK elements, 8 float64 lane sums (lane = offset
 * in the block mod 8, index order), combined as ((l0+l1)+(l2+l3))+((l4+l5)+(l6+l7)); block sums added in
 * order. The keep mask of a block is drawn first (vectorised), then the lanes accumulate. ----- */

typedef struct {
  const float *x, *base;
  size_t n;
  uint32_t cut;
  tm_ckey c;
  double *sums; /* 2 per block: all, kept */
} l1_job;

static inline double lanes8(const double l[8]) {
  return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}

static TM_HOT void l1_part(void *ctx, size_t b, size_t e, int part) {
  l1_job *j = ctx;
  float a[TM_L1_BLOCK], kv[TM_L1_BLOCK];
  for (size_t blk = (b + TM_L1_BLOCK - 1) / TM_L1_BLOCK; blk * TM_L1_BLOCK < e; blk++) {
    size_t i0 = blk * TM_L1_BLOCK, len = i0 + TM_L1_BLOCK < j->n ? TM_L1_BLOCK : j->n - i0;
    const float *x = j->x + i0;
    const uint32_t cut = j->cut, first = (uint32_t)i0;
    const tm_ckey c = j->c;
    if (j->base) {
      const float *bs = j->base + i0;
      for (size_t i = 0; i < len; i++) a[i] = fabsf(x[i] - bs[i]);
    } else
      for (size_t i = 0; i < len; i++) a[i] = fabsf(x[i]);
    for (size_t i = 0; i < len; i++) kv[i] = tm_counter_u32(c, first + (uint32_t)i) >= cut ? a[i] : 0.0f;
    for (size_t i = len; i < ((len + 7) & ~(size_t)7); i++) a[i] = kv[i] = 0.0f;
    double la[8] = {0}, lk[8] = {0};
    for (size_t i = 0; i < len; i += 8)
      for (int l = 0; l < 8; l++) {
        la[l] += (double)a[i + l];
        lk[l] += (double)kv[i + l];
      }
    j->sums[2 * blk] = lanes8(la);
    j->sums[2 * blk + 1] = lanes8(lk);
  }
}

void tm_dare_l1(const float *x, const float *base, size_t n, uint32_t cut, uint32_t key0, uint32_t key1, uint32_t k, double out[2]) {
  size_t blocks = (n + TM_L1_BLOCK - 1) / TM_L1_BLOCK;
  l1_job j = {.x = x, .base = base, .n = n, .cut = cut, .c = tm_expert_key(key0, key1, k), .sums = malloc((blocks ? blocks : 1) * 2 * sizeof(double))};
  tm_parallel(n, l1_part, &j);
  double all = 0, kept = 0;
  for (size_t b = 0; b < blocks; b++) {
    all += j.sums[2 * b];
    kept += j.sums[2 * b + 1];
  }
  free(j.sums);
  out[0] = all;
  out[1] = kept;
}

/* ----- drop in place: t_i = keep ? s·t_i : 0 ----- */

typedef struct {
  float *t;
  uint32_t cut;
  tm_ckey c;
  float s;
} drop_job;

static TM_HOT void drop_part(void *ctx, size_t b, size_t e, int part) {
  drop_job *j = ctx;
  float *t = j->t;
  const float s = j->s;
  const uint32_t cut = j->cut;
  const tm_ckey c = j->c;
  for (size_t i = b; i < e; i++) {
    uint32_t u = tm_counter_u32(c, (uint32_t)i);
    float v = s * t[i];
    t[i] = u >= cut ? v : 0.0f;
  }
}

void tm_dare_drop(float *t, size_t n, uint32_t cut, uint32_t key0, uint32_t key1, uint32_t k, float s) {
  drop_job j = {.t = t, .cut = cut, .c = tm_expert_key(key0, key1, k), .s = s};
  tm_parallel(n, drop_part, &j);
}

/* ----- fused dare-linear: out = base + λ·Σ_k w_k·(keep_k ? s_k·(x_k - base) : 0) ----- */

typedef struct {
  float *out;
  const float *base;
  const float *const *xs;
  const float *ws, *scales;
  size_t nk;
  float lambda;
  uint32_t cut, key0, key1;
  int stream;
  int bad[TM_MAX_PARTS];
} lin_job;

static TM_HOT void lin_part(void *ctx, size_t b, size_t e, int part) {
  lin_job *j = ctx;
  float tmp[TM_BLOCK];
  const uint32_t cut = j->cut;
  for (size_t i0 = b; i0 < e; i0 += TM_BLOCK) {
    size_t len = e - i0 < TM_BLOCK ? e - i0 : TM_BLOCK;
    float *d = j->stream ? tmp : j->out + i0;
    const float *base = j->base + i0;
    for (size_t k = 0; k < j->nk; k++) {
      const float w = j->ws[k], s = j->scales[k], *x = j->xs[k] + i0;
      const tm_ckey c = tm_expert_key(j->key0, j->key1, (uint32_t)k);
      const uint32_t first = (uint32_t)i0;
      if (k == 0)
        for (size_t i = 0; i < len; i++) {
          uint32_t u = tm_counter_u32(c, first + (uint32_t)i);
          float v = s * (x[i] - base[i]);
          v = u >= cut ? v : 0.0f;
          d[i] = w * v;
        }
      else
        for (size_t i = 0; i < len; i++) {
          uint32_t u = tm_counter_u32(c, first + (uint32_t)i);
          float v = s * (x[i] - base[i]);
          v = u >= cut ? v : 0.0f;
          d[i] = d[i] + w * v;
        }
    }
    const float lambda = j->lambda;
    uint32_t any = 0;
    for (size_t i = 0; i < len; i++) {
      float r = base[i] + lambda * d[i];
      d[i] = r;
      uint32_t bits;
      __builtin_memcpy(&bits, &r, 4);
      any |= (uint32_t)((bits & 0x7f800000u) == 0x7f800000u);
    }
    j->bad[part] |= any != 0;
    if (j->stream) tm_stream_copy(j->out + i0, tmp, len);
  }
  if (j->stream) _mm_sfence();
}

int tm_dare_linear(float *out, const float *base, const float *const *xs, const float *ws, const float *scales, size_t nk, float lambda,
                   uint32_t cut, uint32_t key0, uint32_t key1, size_t n) {
  lin_job j = {.out = out, .base = base, .xs = xs, .ws = ws, .scales = scales, .nk = nk, .lambda = lambda, .cut = cut, .key0 = key0, .key1 = key1,
               .stream = n >= TM_STREAM_MIN};
  for (int p = 0; p < TM_MAX_PARTS; p++) j.bad[p] = 0;
  tm_parallel(n, lin_part, &j);
  for (int p = 0; p < TM_MAX_PARTS; p++)
    if (j.bad[p]) return 0;
  return 1;
}

/* ----- random selection ----- */

typedef struct {
  float *out;
  const float *base;
  const float *const *xs;
  size_t m;       /* experts 1..m can be picked: cuts[j-1] < 2^32 */
  uint32_t *cuts; /* cuts[j-1] as 32-bit integers */
  tm_ckey c;
} pick_job;

/* Per element v = x_0, then for j = 1..m: v = x_j where u >= cuts[j-1]. With nondecreasing cuts the last
 * j that passes is the count of cuts <= u, as the reference picks; the blend form vectorises. */
static TM_HOT void pick_part(void *ctx, size_t b, size_t e, int part) {
  pick_job *j = ctx;
  const tm_ckey c = j->c;
  float tmp[TM_BLOCK];
  for (size_t i0 = b; i0 < e; i0 += TM_BLOCK) {
    size_t len = e - i0 < TM_BLOCK ? e - i0 : TM_BLOCK;
    const float *x0 = j->xs[0] + i0;
    for (size_t i = 0; i < len; i++) tmp[i] = x0[i];
    for (size_t q = 1; q <= j->m; q++) {
      const float *x = j->xs[q] + i0;
      const uint32_t cut = j->cuts[q - 1], first = (uint32_t)i0;
      for (size_t i = 0; i < len; i++) tmp[i] = tm_counter_u32(c, first + (uint32_t)i) >= cut ? x[i] : tmp[i];
    }
    const float *base = j->base + i0;
    float *o = j->out + i0;
    for (size_t i = 0; i < len; i++) o[i] = tmp[i] - base[i];
  }
}

void tm_random_pick_counter(float *out, const float *base, const float *const *xs, size_t nk, const double *cuts, uint32_t key0, uint32_t key1,
                            size_t n) {
  uint32_t *c32 = malloc(nk * sizeof *c32);
  size_t m = 0;
  while (m + 1 < nk && cuts[m] < 4294967296.0) {
    c32[m] = (uint32_t)cuts[m];
    m++;
  }
  pick_job j = {.out = out, .base = base, .xs = xs, .m = m, .cuts = c32, .c = tm_expert_key(key0, key1, 0)};
  tm_parallel(n, pick_part, &j);
  free(c32);
}
