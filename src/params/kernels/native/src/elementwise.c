/*
 * Elementwise kernels. Each pass is split across the pool and, within a part, walks blocks of TM_BLOCK
 * floats: a block is computed (into L1 scratch when the output is streamed) and then written once.
 * Per element the float32 operations are those of the TypeScript reference, in its order; the build uses
 * -ffp-contract=off so no multiply-add is fused, which keeps the results bit-identical.
 */
#include "kernels.h"
#include "pool.h"
#include "store.h"
#include <math.h>

#define TM_HOT __attribute__((target_clones("avx2", "default")))

typedef struct {
  float *out;
  const float *a, *b;
  const float *const *xs;
  const float *ws;
  size_t k;
  float s, t;
  int flag;
  int stream;
  int bad[TM_MAX_PARTS]; /* a part wrote a NaN or ±Infinity */
} ew_job;

/* Whether a block just computed (in L1) holds a NaN or ±Infinity: exponent bits all ones. */
static inline int block_bad(const float *d, size_t len) {
  const uint32_t *u = (const uint32_t *)d;
  uint32_t any = 0;
  for (size_t i = 0; i < len; i++) any |= (uint32_t)((u[i] & 0x7f800000u) == 0x7f800000u);
  return any != 0;
}

/* Runs `body` for each block [i0, i0 + len) of the part, with d pointing where the block's results go. */
#define FOR_BLOCKS(j, begin, end, ...)                                   \
  do {                                                                   \
    float tmp[TM_BLOCK];                                                 \
    for (size_t i0 = (begin); i0 < (end); i0 += TM_BLOCK) {              \
      size_t len = (end) - i0 < TM_BLOCK ? (end) - i0 : TM_BLOCK;        \
      float *d = (j)->stream ? tmp : (j)->out + i0;                      \
      __VA_ARGS__;                                                           \
      (j)->bad[part] |= block_bad(d, len);                               \
      if ((j)->stream) tm_stream_copy((j)->out + i0, tmp, len);          \
    }                                                                    \
    if ((j)->stream) _mm_sfence();                                       \
  } while (0)

/* Runs the pass; returns 1 when every value written is finite. */
static int run(ew_job *j, size_t n, tm_range_fn fn) {
  j->stream = n >= TM_STREAM_MIN;
  for (int p = 0; p < TM_MAX_PARTS; p++) j->bad[p] = 0;
  tm_parallel(n, fn, j);
  for (int p = 0; p < TM_MAX_PARTS; p++)
    if (j->bad[p]) return 0;
  return 1;
}

static TM_HOT void axpy_part(void *c, size_t b, size_t e, int part) {
  ew_job *j = c;
  const float a = j->s, *x = j->a, *y = j->out;
  FOR_BLOCKS(j, b, e, {
    for (size_t i = 0; i < len; i++) d[i] = y[i0 + i] + a * x[i0 + i];
  });
}

void tm_axpy(float *y, float a, const float *x, size_t n) {
  ew_job j = {.out = y, .a = x, .s = a};
  run(&j, n, axpy_part);
}

static TM_HOT void axpby_part(void *c, size_t b, size_t e, int part) {
  ew_job *j = c;
  const float s = j->s, t = j->t, *x = j->a, *y = j->b;
  FOR_BLOCKS(j, b, e, {
    for (size_t i = 0; i < len; i++) d[i] = s * x[i0 + i] + t * y[i0 + i];
  });
}

void tm_axpby(float *out, float a, const float *x, float b, const float *y, size_t n) {
  ew_job j = {.out = out, .a = x, .b = y, .s = a, .t = b};
  run(&j, n, axpby_part);
}

static TM_HOT void scale_part(void *c, size_t b, size_t e, int part) {
  ew_job *j = c;
  const float s = j->s, *y = j->out;
  FOR_BLOCKS(j, b, e, {
    for (size_t i = 0; i < len; i++) d[i] = s * y[i0 + i];
  });
}

void tm_scale(float *y, float a, size_t n) {
  ew_job j = {.out = y, .s = a};
  run(&j, n, scale_part);
}

static TM_HOT void lerp_part(void *c, size_t b, size_t e, int part) {
  ew_job *j = c;
  const float t = j->t, *pa = j->a, *pb = j->b;
  FOR_BLOCKS(j, b, e, {
    for (size_t i = 0; i < len; i++) {
      float ai = pa[i0 + i];
      d[i] = ai + t * (pb[i0 + i] - ai);
    }
  });
}

void tm_lerp(float *out, const float *a, const float *b, float t, size_t n) {
  ew_job j = {.out = out, .a = a, .b = b, .t = t};
  run(&j, n, lerp_part);
}

static TM_HOT void weighted_sum_part(void *c, size_t b, size_t e, int part) {
  ew_job *j = c;
  FOR_BLOCKS(j, b, e, {
    const float w0 = j->ws[0], *x0 = j->xs[0] + i0;
    for (size_t i = 0; i < len; i++) d[i] = w0 * x0[i];
    for (size_t k = 1; k < j->k; k++) {
      const float wk = j->ws[k], *x = j->xs[k] + i0;
      for (size_t i = 0; i < len; i++) d[i] = d[i] + wk * x[i];
    }
  });
}

int tm_weighted_sum(float *out, const float *const *xs, const float *ws, size_t k, size_t n) {
  ew_job j = {.out = out, .xs = xs, .ws = ws, .k = k};
  return run(&j, n, weighted_sum_part);
}

/* d = Σ_k w_k·(x_k - base) over one block, accumulated in expert order. */
static inline void delta_sum_block(const ew_job *j, size_t i0, size_t len, float *d) {
  const float *base = j->a + i0;
  const float w0 = j->ws[0], *x0 = j->xs[0] + i0;
  for (size_t i = 0; i < len; i++) d[i] = w0 * (x0[i] - base[i]);
  for (size_t k = 1; k < j->k; k++) {
    const float wk = j->ws[k], *x = j->xs[k] + i0;
    for (size_t i = 0; i < len; i++) d[i] = d[i] + wk * (x[i] - base[i]);
  }
}

static TM_HOT void weighted_delta_sum_part(void *c, size_t b, size_t e, int part) {
  ew_job *j = c;
  FOR_BLOCKS(j, b, e, delta_sum_block(j, i0, len, d));
}

void tm_weighted_delta_sum(float *out, const float *base, const float *const *xs, const float *ws, size_t k, size_t n) {
  ew_job j = {.out = out, .a = base, .xs = xs, .ws = ws, .k = k};
  run(&j, n, weighted_delta_sum_part);
}

/* weightedDeltaSum then addScaled, per block: the same operations per element, one pass over memory. */
static TM_HOT void task_arithmetic_part(void *c, size_t b, size_t e, int part) {
  ew_job *j = c;
  const float lambda = j->s;
  FOR_BLOCKS(j, b, e, {
    const float *base = j->a + i0;
    delta_sum_block(j, i0, len, d);
    for (size_t i = 0; i < len; i++) d[i] = base[i] + lambda * d[i];
  });
}

int tm_task_arithmetic(float *out, const float *base, const float *const *xs, const float *ws, size_t k, float lambda, size_t n) {
  ew_job j = {.out = out, .a = base, .xs = xs, .ws = ws, .k = k, .s = lambda};
  return run(&j, n, task_arithmetic_part);
}

static TM_HOT void add_scaled_part(void *c, size_t b, size_t e, int part) {
  ew_job *j = c;
  const float s = j->s, *base = j->a, *x = j->b;
  FOR_BLOCKS(j, b, e, {
    for (size_t i = 0; i < len; i++) d[i] = base[i0 + i] + s * x[i0 + i];
  });
}

int tm_add_scaled(float *out, const float *base, float a, const float *x, size_t n) {
  ew_job j = {.out = out, .a = base, .b = x, .s = a};
  return run(&j, n, add_scaled_part);
}

static TM_HOT void sub_part(void *c, size_t b, size_t e, int part) {
  ew_job *j = c;
  const float *pa = j->a, *pb = j->b;
  FOR_BLOCKS(j, b, e, {
    for (size_t i = 0; i < len; i++) d[i] = pa[i0 + i] - pb[i0 + i];
  });
}

void tm_sub(float *out, const float *a, const float *b, size_t n) {
  ew_job j = {.out = out, .a = a, .b = b};
  run(&j, n, sub_part);
}

static TM_HOT void abs_max_part(void *c, size_t b, size_t e, int part) {
  ew_job *j = c;
  FOR_BLOCKS(j, b, e, {
    const float *x0 = j->xs[0] + i0;
    for (size_t i = 0; i < len; i++) d[i] = x0[i];
    for (size_t k = 1; k < j->k; k++) {
      const float *x = j->xs[k] + i0;
      /* >= so that ties go to the later array */
      for (size_t i = 0; i < len; i++) d[i] = fabsf(x[i]) >= fabsf(d[i]) ? x[i] : d[i];
    }
  });
}

void tm_abs_max_select(float *out, const float *const *xs, size_t k, size_t n) {
  ew_job j = {.out = out, .xs = xs, .k = k};
  run(&j, n, abs_max_part);
}

/* MagMax in one pass: τ_max (ties by rule) from θ_k - θ0, then θ0 + λ·τ_max. */
static TM_HOT void magmax_part(void *c, size_t b, size_t e, int part) {
  ew_job *j = c;
  const float lambda = j->s;
  FOR_BLOCKS(j, b, e, {
    const float *base = j->a + i0, *x0 = j->xs[0] + i0;
    for (size_t i = 0; i < len; i++) d[i] = x0[i] - base[i];
    for (size_t k = 1; k < j->k; k++) {
      const float *x = j->xs[k] + i0;
      if (j->flag)
        for (size_t i = 0; i < len; i++) {
          float t = x[i] - base[i];
          d[i] = fabsf(t) >= fabsf(d[i]) ? t : d[i];
        }
      else
        for (size_t i = 0; i < len; i++) {
          float t = x[i] - base[i];
          d[i] = fabsf(t) > fabsf(d[i]) ? t : d[i];
        }
    }
    for (size_t i = 0; i < len; i++) d[i] = base[i] + lambda * d[i];
  });
}

int tm_magmax(float *out, const float *base, const float *const *xs, size_t k, float lambda, int later_wins, size_t n) {
  ew_job j = {.out = out, .a = base, .xs = xs, .k = k, .s = lambda, .flag = later_wins};
  return run(&j, n, magmax_part);
}
