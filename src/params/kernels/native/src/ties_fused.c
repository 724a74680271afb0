/*
 * TIES in one pass over memory after the selection passes. The reference pipeline materialises each task
 * vector, trims it, elects signs into an array and disjoint-merges into another, then adds θ0 + λ·δ:
 * about five times the memory traffic of the merge itself. Here each block of elements is taken from θ0
 * and the experts once: τ_k = x_k - θ0 (float32), the trim rule of expert k, the election (float64 sums
 * in expert order), the tie rule, the disjoint merge and θ0 + λ·δ, with the reference's operations in the
 * reference's order, so the output is bit-identical.
 *
 * Trim rules arrive as (threshold, ties): keep |τ| > threshold and the first `ties` elements equal to it.
 * The "first ties" part is turned into an index cut (keep equal elements before `cut`, cut.c), skipped
 * when the rule keeps every equal element or the threshold is 0 (a kept zero and a trimmed zero merge
 * alike: a zero never votes and never agrees with a sign).
 */
#include "kernels.h"
#include "pool.h"
#include "store.h"
#include "ties_fused.h"
#include "cut.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 512
#define TM_HOT __attribute__((target_clones("avx2", "default")))

/*
 * The loops are written without branches (selects instead of ifs) so that they vectorise and do not
 * mispredict on random signs. A select of +0.0 in place of a skipped addition gives the same bits: the
 * sums start at +0 and can never become -0 (x + -x rounds to +0), and y + +0 == y for every other y.
 */



static inline float trimmed(float t, float thr, size_t i, size_t cut) {
  float m = fabsf(t);
  return ((m > thr) | ((m == thr) & (i < cut))) ? t : 0.0f;
}

/* Elects the signs of block [i0, i0 + len) into s (before the tie rule), trimmed values into v (k x BLOCK). */
static inline void elect_block(const fused_job *j, size_t i0, size_t len, float *v, double *acc, int8_t *s) {
  const float *base = j->base + i0;
  for (size_t i = 0; i < len; i++) acc[i] = 0;
  for (size_t k = 0; k < j->k; k++) {
    const float *x = j->xs[k] + i0;
    float *vk = v + k * BLOCK;
    const float thr = j->thr[k];
    const size_t cut = j->cut[k];
    if (j->deltas)
      for (size_t i = 0; i < len; i++) vk[i] = trimmed(x[i], thr, i0 + i, cut);
    else
      for (size_t i = 0; i < len; i++) vk[i] = trimmed(x[i] - base[i], thr, i0 + i, cut);
    const double w = j->ew[k];
    if (w == 0) continue;
    if (j->method == 0)
      for (size_t i = 0; i < len; i++) acc[i] += w * (double)vk[i];
    else
      for (size_t i = 0; i < len; i++) {
        double e = w * (double)vk[i];
        acc[i] += (double)((e > 0) - (e < 0));
      }
  }
  for (size_t i = 0; i < len; i++) s[i] = (int8_t)((acc[i] > 0) - (acc[i] < 0));
}

static TM_HOT void total_part(void *c, size_t b, size_t e, int part) {
  fused_job *j = c;
  float *v = malloc(j->k * BLOCK * sizeof *v);
  double acc[BLOCK];
  int8_t s[BLOCK];
  int64_t t = 0;
  for (size_t i0 = b; i0 < e; i0 += BLOCK) {
    size_t len = e - i0 < BLOCK ? e - i0 : BLOCK;
    elect_block(j, i0, len, v, acc, s);
    for (size_t i = 0; i < len; i++) t += s[i];
  }
  j->totals[part] = t;
  free(v);
}

/* e·v agrees with the elected sign s (-1, 0, +1): same sign, neither zero; one comparison, so it vectorises. */
static inline int agrees(double ex, double s) {
  return ex * s > 0;
}

TM_HOT void tm_ties_block_range(fused_job *j, size_t b, size_t e, int part) {
  float *v = malloc(j->k * BLOCK * sizeof *v);
  double acc[BLOCK], num[BLOCK], den[BLOCK], sd[BLOCK];
  int8_t s[BLOCK];
  float delta[BLOCK];
  for (size_t i0 = b; i0 < e; i0 += BLOCK) {
    size_t len = e - i0 < BLOCK ? e - i0 : BLOCK;
    elect_block(j, i0, len, v, acc, s);
    const int8_t fill = j->fill;
    for (size_t i = 0; i < len; i++) sd[i] = (double)(s[i] == 0 ? fill : s[i]);
    if (j->mode == 2) {
      for (size_t i = 0; i < len; i++) delta[i] = 0.0f;
      for (size_t k = 0; k < j->k; k++) {
        const float *vk = v + k * BLOCK;
        const double ek = j->ew[k];
        for (size_t i = 0; i < len; i++) {
          float x = vk[i];
          delta[i] = (agrees(ek * (double)x, sd[i]) & (fabsf(x) >= fabsf(delta[i]))) ? x : delta[i];
        }
      }
    } else {
      for (size_t i = 0; i < len; i++) num[i] = den[i] = 0;
      for (size_t k = 0; k < j->k; k++) {
        const float *vk = v + k * BLOCK;
        const double wk = j->ws[k], ek = j->ew[k];
        for (size_t i = 0; i < len; i++) {
          double x = (double)vk[i];
          int a = agrees(ek * x, sd[i]);
          num[i] += a ? wk * x : 0.0;
          den[i] += a ? wk : 0.0;
        }
      }
      if (j->mode == 0)
        for (size_t i = 0; i < len; i++) delta[i] = den[i] == 0 ? 0.0f : (float)(num[i] / den[i]);
      else
        for (size_t i = 0; i < len; i++) delta[i] = (float)num[i];
    }
    const float *base = j->base + i0;
    j->bad[part] |= tm_store_merged(j->out + i0, base, j->lambda, delta, len);
  }
  free(v);
}

static void merge_part(void *c, size_t b, size_t e, int part) {
  fused_job *j = c;
  if (!tm_ties_lanes_part(j, b, e, part)) tm_ties_block_range(j, b, e, part);
}

double tm_ties_merge(float *out, const float *base, const float *const *xs, size_t k, const float *thr, const size_t *ties,
                     const int *all_equal_kept, const double *ws, const double *ew, int method, int8_t fill, int fill_from_total,
                     int have_total, double total, int mode, float lambda, int deltas, size_t n, int *finite) {
  size_t *cut = malloc((k ? k : 1) * sizeof *cut);
  for (size_t e = 0; e < k; e++)
    cut[e] = (all_equal_kept[e] || thr[e] == 0.0f || !isfinite(thr[e])) ? (ties[e] > 0 ? n : 0)
                                                                       : (ties[e] == 0 ? 0 : tm_cut_after(xs[e], deltas ? NULL : base, n, thr[e], ties[e]));
  fused_job j = {.out = out, .base = base, .xs = xs, .k = k, .thr = thr, .cut = cut, .ws = ws, .ew = ew,
                 .method = method, .mode = mode, .fill_from_total = fill_from_total, .deltas = deltas, .fill = fill, .lambda = lambda};
  if (fill_from_total != 0) {
    if (!have_total) {
      memset(j.totals, 0, sizeof j.totals);
      tm_parallel(n, total_part, &j);
      total = 0;
      for (int p = 0; p < TM_MAX_PARTS; p++) total += (double)j.totals[p];
    }
    int8_t majority = total < 0 ? -1 : 1;
    j.fill = fill_from_total > 0 ? majority : (int8_t)-majority;
  }
  memset(j.bad, 0, sizeof j.bad);
  tm_parallel(n, merge_part, &j);
  *finite = 1;
  for (int p = 0; p < TM_MAX_PARTS; p++)
    if (j.bad[p]) *finite = 0;
  free(cut);
  return total;
}
