/*
 * Exact top-k by magnitude. Non-negative float32 values order like their bit patterns, so the k-th
 * largest |x| is found by radix selection on the bits of |x|: a histogram of the high 16 bits picks the
 * bucket holding it, a histogram of the low 16 bits inside that bucket picks the value. Both passes are
 * split across the pool with per-part histograms. Trimming then keeps |x| > threshold and the first
 * `ties` elements equal to it (earliest index wins), a sequential rule. Large inputs first try the
 * one-pass sampled bracket of select_bracket.c (same results); this radix path is its fallback.
 */
#include "kernels.h"
#include "pool.h"
#include "select_bracket.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 65536

typedef struct {
  const uint32_t *u;
  const float *x, *base; /* delta form: bits of |x - base| (u unused) */
  uint32_t want_hi; /* pass 2: the high half to look inside */
  uint32_t *hist;   /* parts x BUCKETS */
} hist_job;

static inline uint32_t abs_bits(const hist_job *j, size_t i) {
  if (!j->x) return j->u[i] & 0x7fffffffu;
  float t = j->x[i] - j->base[i];
  uint32_t u;
  memcpy(&u, &t, sizeof u);
  return u & 0x7fffffffu;
}

/*
 * High halves: bit 31 of |x| is 0, so they index 32768 buckets, and the part's 65536-entry histogram holds
 * two copies, for even and odd elements: consecutive equal buckets (common, values cluster) then update
 * different counters instead of waiting on each other. The copies are summed afterwards.
 */
static void hi_part(void *c, size_t b, size_t e, int part) {
  hist_job *j = c;
  uint32_t *h = j->hist + (size_t)part * BUCKETS;
  uint32_t *h2 = h + BUCKETS / 2;
  size_t i = b;
  for (; i + 2 <= e; i += 2) {
    h[abs_bits(j, i) >> 16]++;
    h2[abs_bits(j, i + 1) >> 16]++;
  }
  for (; i < e; i++) h[abs_bits(j, i) >> 16]++;
  for (size_t q = 0; q < BUCKETS / 2; q++) {
    h[q] += h2[q];
    h2[q] = 0;
  }
}

/* Few elements fall in the wanted bucket: each block of 64 is checked branch-free first (vectorised). */
static void lo_part(void *c, size_t b, size_t e, int part) {
  hist_job *j = c;
  uint32_t *h = j->hist + (size_t)part * BUCKETS;
  const uint32_t want = j->want_hi;
  uint32_t v[64];
  for (size_t i0 = b; i0 < e; i0 += 64) {
    size_t len = e - i0 < 64 ? e - i0 : 64;
    uint32_t any = 0;
    if (j->x) {
      const float *x = j->x + i0, *base = j->base + i0;
      for (size_t i = 0; i < len; i++) {
        float t = x[i] - base[i];
        memcpy(&v[i], &t, sizeof t);
      }
    } else
      memcpy(v, j->u + i0, len * sizeof *v);
    for (size_t i = 0; i < len; i++) {
      v[i] &= 0x7fffffffu;
      any |= (uint32_t)((v[i] >> 16) == want);
    }
    if (any)
      for (size_t i = 0; i < len; i++)
        if ((v[i] >> 16) == want) h[v[i] & 0xffffu]++;
  }
}

/* Sums the per-part histograms into part 0's. */
static void fold(uint32_t *hist, int parts) {
  for (int p = 1; p < parts; p++)
    for (size_t b = 0; b < BUCKETS; b++) hist[b] += hist[(size_t)p * BUCKETS + b];
}

/* Highest bucket where the count from the top reaches k; *above = elements in higher buckets. */
static uint32_t bucket_of(const uint32_t *h, size_t k, size_t *above) {
  size_t cum = *above;
  for (int b = BUCKETS - 1; b >= 0; b--) {
    if (cum + h[b] >= k) {
      *above = cum;
      return (uint32_t)b;
    }
    cum += h[b];
  }
  *above = cum;
  return 0;
}

/* Pass 1: the folded histogram of high halves (caller frees). */
static uint32_t *hi_histogram(hist_job *j, size_t n, int parts) {
  uint32_t *hist = calloc((size_t)parts * BUCKETS, sizeof *hist);
  j->hist = hist;
  tm_parallel(n, hi_part, j);
  fold(hist, parts);
  return hist;
}

/* Pass 2 for one k, given pass 1's folded histogram `hi_hist` (left untouched). */
static void finish_top_k(hist_job j, size_t n, int parts, const uint32_t *hi_hist, size_t k, float *threshold, size_t *ties, size_t *equal) {
  size_t above = 0;
  uint32_t hi = bucket_of(hi_hist, k, &above);
  uint32_t *hist = calloc((size_t)parts * BUCKETS, sizeof *hist);
  j.hist = hist;
  j.want_hi = hi;
  tm_parallel(n, lo_part, &j);
  fold(hist, parts);
  uint32_t lo = bucket_of(hist, k, &above);
  if (equal) *equal = hist[lo];
  free(hist);
  uint32_t bits = (hi << 16) | lo;
  float t;
  memcpy(&t, &bits, sizeof t);
  *threshold = t;
  *ties = k - above;
}

/* The two radix passes alone: the bracket's fallback. */
static void radix_top_k(hist_job j, size_t n, size_t k, float *threshold, size_t *ties, size_t *equal) {
  int parts = tm_parts_for(n);
  uint32_t *hi = hi_histogram(&j, n, parts);
  finish_top_k(j, n, parts, hi, k, threshold, ties, equal);
  free(hi);
}

static void top_k(hist_job j, size_t n, size_t k, float *threshold, size_t *ties, size_t *equal) {
  size_t eq;
  if (tm_bracket_top_k(j.x ? j.x : (const float *)j.u, j.x ? j.base : NULL, n, 1, &k, threshold, ties, &eq)) {
    if (equal) *equal = eq;
    return;
  }
  radix_top_k(j, n, k, threshold, ties, equal);
}

void tm_delta_top_k_radix(const float *x, const float *base, size_t n, size_t k, float *threshold, size_t *ties, size_t *equal) {
  hist_job j = {.x = x, .base = base};
  radix_top_k(j, n, k, threshold, ties, equal);
}

/* Two rules of the same x (Breadcrumbs' outer and inner) from one pass 1. */
void tm_abs_top_k_pair(const float *x, size_t n, const size_t k[2], float thr[2], size_t ties[2], size_t equal[2]) {
  if (tm_bracket_top_k(x, NULL, n, 2, k, thr, ties, equal)) return;
  hist_job j = {.u = (const uint32_t *)x};
  int parts = tm_parts_for(n);
  uint32_t *hi = hi_histogram(&j, n, parts);
  for (int r = 0; r < 2; r++) finish_top_k(j, n, parts, hi, k[r], &thr[r], &ties[r], &equal[r]);
  free(hi);
}

/* Requires 1 <= k <= n and NaN-free x. */
void tm_abs_top_k(const float *x, size_t n, size_t k, float *threshold, size_t *ties, size_t *equal) {
  hist_job j = {.u = (const uint32_t *)x};
  top_k(j, n, k, threshold, ties, equal);
}

/* The same rule for τ = x - base without materialising τ; *equal = elements with |τ| == threshold. */
void tm_delta_top_k(const float *x, const float *base, size_t n, size_t k, float *threshold, size_t *ties, size_t *equal) {
  hist_job j = {.x = x, .base = base};
  top_k(j, n, k, threshold, ties, equal);
}

/* tm_delta_top_k for every x_s with one k, θ0 read once per pass for up to TM_BRACKET_LANES experts. */
void tm_delta_top_k_many(const float *const *xs, size_t ns, const float *base, size_t n, size_t k, float *thr, size_t *ties, size_t *equal) {
  size_t ks[TM_BRACKET_LANES];
  int ok[TM_BRACKET_LANES];
  for (int l = 0; l < TM_BRACKET_LANES; l++) ks[l] = k;
  for (size_t s0 = 0; s0 < ns; s0 += TM_BRACKET_LANES) {
    const size_t g = ns - s0 < TM_BRACKET_LANES ? ns - s0 : TM_BRACKET_LANES;
    tm_bracket_top_k_many(xs + s0, g, base, n, 1, ks, thr + s0, ties + s0, equal + s0, ok);
    for (size_t s = 0; s < g; s++)
      if (!ok[s]) tm_delta_top_k_radix(xs[s0 + s], base, n, k, &thr[s0 + s], &ties[s0 + s], &equal[s0 + s]);
  }
}

/* Trimming when every element equal to a threshold is kept: elementwise, so split across the pool. */
typedef struct {
  float *x;
  float outer, inner; /* keep outer <= |x| and not inner <= |x| (inner NaN: no upper cut) */
  size_t kept[TM_MAX_PARTS];
} band_job;

static void band_part(void *c, size_t b, size_t e, int part) {
  band_job *j = c;
  size_t kept = 0;
  const float lo = j->outer, hi = j->inner;
  for (size_t i = b; i < e; i++) {
    float m = fabsf(j->x[i]);
    int keep = (m >= lo) & !(m >= hi);
    kept += (size_t)keep;
    j->x[i] = keep ? j->x[i] : 0.0f;
  }
  j->kept[part] = kept;
}

static size_t band_parallel(float *x, size_t n, float outer, float inner) {
  band_job j = {.x = x, .outer = outer, .inner = inner};
  tm_parallel(n, band_part, &j);
  size_t kept = 0;
  for (int p = 0; p < tm_parts_for(n); p++) kept += j.kept[p];
  return kept;
}

/* all_equal: the rule keeps every element equal to its threshold (ties >= that count). */
size_t tm_trim_rule(float *x, size_t n, float threshold, size_t ties, int all_equal) {
  if (all_equal) return band_parallel(x, n, threshold, NAN); /* m >= NaN is false: no upper cut */
  size_t kept = 0;
  for (size_t i = 0; i < n; i++) {
    float m = fabsf(x[i]);
    if (m > threshold) kept++;
    else if (m == threshold && ties > 0) {
      ties--;
      kept++;
    } else x[i] = 0.0f;
  }
  return kept;
}

size_t tm_trim_band(float *x, size_t n, float outer_thr, size_t outer_ties, int outer_all, float inner_thr, size_t inner_ties, int inner_all) {
  if (outer_all && inner_all) return band_parallel(x, n, outer_thr, inner_thr);
  size_t kept = 0;
  for (size_t i = 0; i < n; i++) {
    float m = fabsf(x[i]);
    int in_outer = m > outer_thr;
    if (!in_outer && m == outer_thr && outer_ties > 0) {
      outer_ties--;
      in_outer = 1;
    }
    int in_inner = m > inner_thr;
    if (!in_inner && m == inner_thr && inner_ties > 0) {
      inner_ties--;
      in_inner = 1;
    }
    if (in_outer && !in_inner) kept++;
    else x[i] = 0.0f;
  }
  return kept;
}
