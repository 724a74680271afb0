/*
 * Breadcrumbs (linear form, per tensor, no rescale) in one pass over memory after the selection. The
 * reference materialises each task vector τ_k = x_k - θ0, trims it to the band of ranks [nTop, n - nBottom)
 * by |τ| (trimBand: outer rule top-(n - nBottom), inner rule top-nTop, ties to the earliest index), then
 * runs weightedSum and addScaled. Here both rules of up to 8 experts come from one selection pass over
 * the x_k and θ0 (select_bracket.c, radix fallback), and one threaded pass computes per element τ_k, the
 * band test, Σ w_k·τ̃_k and θ0 + λ·Σ with the reference's float32 operations in its order, so the output is
 * bit-identical. The "first `ties` equal elements" part of a rule becomes an index cut (cut.c), skipped
 * when the rule keeps every equal element (or none).
 */
#include "breadcrumbs_fused.h"
#include "cut.h"
#include "kernels.h"
#include "pool.h"
#include "store.h"
#include "select_bracket.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 512
#define TM_HOT __attribute__((target_clones("avx2", "default")))

typedef struct {
  float thr;
  size_t cut; /* equal elements before this index are in the rule */
} band_rule;

typedef struct {
  float *out;
  const float *base;
  const float *const *xs;
  const float *ws;
  size_t k;
  const band_rule *outer, *inner;
  float lambda;
  int bad[TM_MAX_PARTS];
} band_job;

/* A rule's threshold over a stretch of indices all before its cut (equal values kept: the next float
 * below, since |τ| > nextbelow(t) is |τ| >= t) or all at or after it. */
static inline float thr_at(band_rule r, size_t i) {
  return i < r.cut ? nextafterf(r.thr, -INFINITY) : r.thr;
}

/* [b, e) with every rule's keep-equal choice fixed: plain float compares, so the loops vectorise. */
static TM_HOT void band_segment(band_job *j, size_t b, size_t e, int part) {
  float d[BLOCK];
  for (size_t i0 = b; i0 < e; i0 += BLOCK) {
    size_t len = e - i0 < BLOCK ? e - i0 : BLOCK;
    const float *base = j->base + i0;
    for (size_t k = 0; k < j->k; k++) {
      const float *x = j->xs[k] + i0;
      const float o = thr_at(j->outer[k], b), in = thr_at(j->inner[k], b), w = j->ws[k];
      for (size_t i = 0; i < len; i++) {
        float t = x[i] - base[i];
        float m = fabsf(t);
        float v = ((m > o) & !(m > in)) ? t : 0.0f;
        float p = w * v;
        d[i] = k == 0 ? p : d[i] + p;
      }
    }
    j->bad[part] |= tm_store_merged(j->out + i0, base, j->lambda, d, len);
  }
}

/* A part split at every rule's index cut inside it. */
static void band_linear_part(void *c, size_t b, size_t e, int part) {
  band_job *j = c;
  size_t i = b;
  while (i < e) {
    size_t stop = e;
    for (size_t k = 0; k < j->k; k++) {
      if (j->outer[k].cut > i && j->outer[k].cut < stop) stop = j->outer[k].cut;
      if (j->inner[k].cut > i && j->inner[k].cut < stop) stop = j->inner[k].cut;
    }
    band_segment(j, i, stop, part);
    i = stop;
  }
}

/* The rule top-kk of |x - base| as (threshold, cut); kk <= 0 keeps nothing, kk >= n everything. */
static band_rule make_rule(const float *x, const float *base, size_t n, size_t kk, float thr, size_t ties, size_t equal) {
  band_rule r;
  if (kk == 0) {
    r.thr = INFINITY;
    r.cut = 0;
  } else if (kk >= n) {
    r.thr = -INFINITY;
    r.cut = 0;
  } else {
    r.thr = thr;
    r.cut = ties == 0 ? 0 : equal <= ties ? n : tm_cut_after(x, base, n, thr, ties);
  }
  return r;
}

int tm_breadcrumbs_linear(float *out, const float *base, const float *const *xs, const float *ws, size_t k, float lambda, size_t n_bottom, size_t n_top,
                          size_t n) {
  band_rule *rules = malloc(2 * (k ? k : 1) * sizeof *rules);
  band_rule *outer = rules, *inner = rules + (k ? k : 1);
  size_t outer_k = n - n_bottom, inner_k = n_top;
  const int sel0 = outer_k > 0 && outer_k < n, sel1 = inner_k > 0 && inner_k < n;
  /* Both rules of up to 8 experts per selection pass (16 lanes), θ0 read once per pass. */
  for (size_t e0 = 0; e0 < k; e0 += TM_BRACKET_LANES / 2) {
    const size_t g = k - e0 < TM_BRACKET_LANES / 2 ? k - e0 : TM_BRACKET_LANES / 2;
    float thr[TM_BRACKET_LANES] = {0};
    size_t ties[TM_BRACKET_LANES] = {0}, equal[TM_BRACKET_LANES] = {0}, kk[TM_BRACKET_LANES];
    int ok[TM_BRACKET_LANES] = {0};
    for (size_t s = 0; s < g; s++) {
      kk[2 * s] = outer_k;
      kk[2 * s + 1] = inner_k;
    }
    if (sel0 && sel1) tm_bracket_top_k_many(xs + e0, g, base, n, 2, kk, thr, ties, equal, ok);
    for (size_t s = 0; s < g; s++) {
      for (int r = 0; r < 2; r++) {
        const size_t l = 2 * s + (size_t)r;
        if (ok[l] || !(r == 0 ? sel0 : sel1)) continue;
        /* a pair pass that ran and missed this lane goes straight to the radix path; one that could not run (a rule
         * at 0 or n) leaves the other rule to the ordinary selection */
        if (sel0 && sel1) tm_delta_top_k_radix(xs[e0 + s], base, n, kk[l], &thr[l], &ties[l], &equal[l]);
        else tm_delta_top_k(xs[e0 + s], base, n, kk[l], &thr[l], &ties[l], &equal[l]);
      }
      outer[e0 + s] = make_rule(xs[e0 + s], base, n, outer_k, thr[2 * s], ties[2 * s], equal[2 * s]);
      inner[e0 + s] = make_rule(xs[e0 + s], base, n, inner_k, thr[2 * s + 1], ties[2 * s + 1], equal[2 * s + 1]);
    }
  }
  band_job j = {.out = out, .base = base, .xs = xs, .ws = ws, .k = k, .outer = outer, .inner = inner, .lambda = lambda};
  memset(j.bad, 0, sizeof j.bad);
  tm_parallel(n, band_linear_part, &j);
  free(rules);
  for (int p = 0; p < TM_MAX_PARTS; p++)
    if (j.bad[p]) return 0;
  return 1;
}
