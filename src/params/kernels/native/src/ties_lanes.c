/*
 * The TIES merge pass 8 elements at a time in AVX2 registers, or AVX-512 with the selects as masks
 * (tm_simd_level picks the body; TIME_MERGE_SIMD caps it for tests). The block path of ties_fused.c runs
 * the same operations as separate loops over L1 arrays, and its stores and reloads between them make it
 * compute-bound; here one iteration loads θ0 and each x_k once, keeps everything in registers (the sweeps
 * over experts unroll for k ≤ 4) and writes the output once.
 *
 * Every operation is the reference's (float32 trim, float64 election and sums in expert order, the same
 * selects of +0.0), so the bits are those of the block path; the kernel tests check it. Two rewrites keep
 * the bits while saving work:
 *  - "keep |τ| > thr, or |τ| == thr before the index cut" is one comparison |τ| > thr' per segment
 *    between cuts, thr' = thr before the cut and the next float below thr after it (for |τ| ≥ 0 and NaN,
 *    |τ| > nextbelow(thr) is |τ| ≥ thr). The 8 elements around a cut go to the block path.
 *  - the election sum may start from the first voter's product instead of +0 + product: the two differ
 *    only in the sign of a zero, and a zero sum elects no sign either way.
 */
#include "ties_fused.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <math.h>
#include <pthread.h>
#include "simd.h"

#define LANES_TARGET __attribute__((target("avx2")))
#define PREFETCH 1024 /* floats ahead of the stream (4 KiB): the hardware prefetcher alone left it latency-bound */

/* -1, 0 or +1 per lane, zero as +0.0; NaN gives 0, as (x > 0) - (x < 0) does. */
LANES_TARGET static inline __m256d sign_pd(__m256d x) {
  const __m256d zero = _mm256_setzero_pd();
  const __m256d pos = _mm256_and_pd(_mm256_cmp_pd(x, zero, _CMP_GT_OQ), _mm256_set1_pd(1.0));
  const __m256d neg = _mm256_and_pd(_mm256_cmp_pd(x, zero, _CMP_LT_OQ), _mm256_set1_pd(-1.0));
  return _mm256_or_pd(pos, neg);
}

/* The elected sign, a zero (or NaN) vote replaced by fill (itself 0 when the tie rule skips). */
LANES_TARGET static inline __m256d elected(__m256d acc, __m256d fill) {
  const __m256d zero = _mm256_setzero_pd();
  const __m256d s = _mm256_blendv_pd(fill, _mm256_set1_pd(-1.0), _mm256_cmp_pd(acc, zero, _CMP_LT_OQ));
  return _mm256_blendv_pd(s, _mm256_set1_pd(1.0), _mm256_cmp_pd(acc, zero, _CMP_GT_OQ));
}

typedef struct {
  const float *xs[TM_LANES_MAX_K];
  float thr[TM_LANES_MAX_K]; /* per segment: the threshold, or the float below it where equal values are kept */
  int voter[TM_LANES_MAX_K]; /* election weight non-zero */
  int same;                  /* disjoint weights equal the election weights (weights applied before the election) */
} lanes_setup;

/* Software prefetch of θ0 and the experts PREFETCH floats ahead, once per 16 elements of the segment. */
LANES_TARGET static inline __attribute__((always_inline)) void prefetch_ahead(const float *base, const lanes_setup *ls, size_t k, size_t b, size_t i) {
  if (((i - b) & 15) != 0) return;
  _mm_prefetch((const char *)(base + i + PREFETCH), _MM_HINT_T0);
  for (size_t q = 0; q < k; q++) _mm_prefetch((const char *)(ls->xs[q] + i + PREFETCH), _MM_HINT_T0);
}

/* τ = x - θ0 (or x itself for task vectors) where |τ| > thr, else +0.0. */
LANES_TARGET static inline __attribute__((always_inline)) __m256 trimmed8(const float *x, __m256 th0, __m256 thr, int deltas) {
  const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256 xv = _mm256_loadu_ps(x);
  const __m256 t = deltas ? xv : _mm256_sub_ps(xv, th0);
  return _mm256_and_ps(t, _mm256_cmp_ps(_mm256_and_ps(t, absmask), thr, _CMP_GT_OQ));
}

/* out = θ0 + λ·δ, and lanes of *bad set where it is NaN or ±Infinity (exponent bits all ones). */
LANES_TARGET static inline __attribute__((always_inline)) void store_merged(float *out, __m256 th0, __m256 lambda, __m256 delta, __m256i *bad) {
  const __m256i expmask = _mm256_set1_epi32(0x7f800000);
  const __m256 o = _mm256_add_ps(th0, _mm256_mul_ps(lambda, delta));
  *bad = _mm256_or_si256(*bad, _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_castps_si256(o), expmask), expmask));
  _mm256_storeu_ps(out, o);
}

LANES_TARGET static inline __attribute__((always_inline)) void
lanes_body(fused_job *j, const lanes_setup *ls, size_t b, size_t e, __m256i *bad, const size_t k) {
  const int count = j->method == 1, mean = j->mode == 0, deltas = j->deltas;
  const int same = ls->same;
  const float *base = j->base;
  float *out = j->out;
  const __m256 lambda = _mm256_set1_ps(j->lambda);
  const __m256d fill = _mm256_set1_pd((double)j->fill), zero = _mm256_setzero_pd();
  __m256 thr[TM_LANES_MAX_K];
  __m256d ew[TM_LANES_MAX_K], ws[TM_LANES_MAX_K];
  for (size_t q = 0; q < k; q++) {
    thr[q] = _mm256_set1_ps(ls->thr[q]);
    ew[q] = _mm256_set1_pd(j->ew[q]);
    ws[q] = _mm256_set1_pd(j->ws[q]);
  }
  __m256i any_bad = *bad;
  for (size_t i = b; i + 8 <= e; i += 8) {
    prefetch_ahead(base, ls, k, b, i);
    const __m256 th0 = _mm256_loadu_ps(base + i);
    __m256d xl[TM_LANES_MAX_K], xh[TM_LANES_MAX_K], el[TM_LANES_MAX_K], eh[TM_LANES_MAX_K];
    __m256d acc_l = zero, acc_h = zero;
    int first = 1;
    for (size_t q = 0; q < k; q++) {
      const __m256 v = trimmed8(ls->xs[q] + i, th0, thr[q], deltas);
      xl[q] = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
      xh[q] = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
      el[q] = _mm256_mul_pd(ew[q], xl[q]);
      eh[q] = _mm256_mul_pd(ew[q], xh[q]);
      if (!ls->voter[q]) continue;
      const __m256d vl = count ? sign_pd(el[q]) : el[q], vh = count ? sign_pd(eh[q]) : eh[q];
      acc_l = first ? vl : _mm256_add_pd(acc_l, vl);
      acc_h = first ? vh : _mm256_add_pd(acc_h, vh);
      first = 0;
    }
    const __m256d s_l = elected(acc_l, fill), s_h = elected(acc_h, fill);
    __m256d num_l = zero, num_h = zero, den_l = zero, den_h = zero;
    for (size_t q = 0; q < k; q++) {
      /* e·s > 0: e has the elected sign and neither is zero */
      const __m256d a_l = _mm256_cmp_pd(_mm256_mul_pd(el[q], s_l), zero, _CMP_GT_OQ);
      const __m256d a_h = _mm256_cmp_pd(_mm256_mul_pd(eh[q], s_h), zero, _CMP_GT_OQ);
      const __m256d wx_l = same ? el[q] : _mm256_mul_pd(ws[q], xl[q]);
      const __m256d wx_h = same ? eh[q] : _mm256_mul_pd(ws[q], xh[q]);
      num_l = _mm256_add_pd(num_l, _mm256_and_pd(a_l, wx_l));
      num_h = _mm256_add_pd(num_h, _mm256_and_pd(a_h, wx_h));
      den_l = _mm256_add_pd(den_l, _mm256_and_pd(a_l, ws[q]));
      den_h = _mm256_add_pd(den_h, _mm256_and_pd(a_h, ws[q]));
    }
    __m128 d_l, d_h;
    if (mean) {
      d_l = _mm256_cvtpd_ps(_mm256_andnot_pd(_mm256_cmp_pd(den_l, zero, _CMP_EQ_OQ), _mm256_div_pd(num_l, den_l)));
      d_h = _mm256_cvtpd_ps(_mm256_andnot_pd(_mm256_cmp_pd(den_h, zero, _CMP_EQ_OQ), _mm256_div_pd(num_h, den_h)));
    } else {
      d_l = _mm256_cvtpd_ps(num_l);
      d_h = _mm256_cvtpd_ps(num_h);
    }
    store_merged(out + i, th0, lambda, _mm256_insertf128_ps(_mm256_castps128_ps256(d_l), d_h, 1), &any_bad);
  }
  *bad = any_bad;
}

#define WIDE_TARGET __attribute__((target("avx2,avx512f,avx512dq,avx512vl")))

/* (x > 0) - (x < 0) per lane, zero (and NaN) as +0.0. */
WIDE_TARGET static inline __m512d sign512(__m512d x) {
  const __m512d zero = _mm512_setzero_pd();
  const __m512d pos = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(x, zero, _CMP_GT_OQ), zero, _mm512_set1_pd(1.0));
  return _mm512_mask_blend_pd(_mm512_cmp_pd_mask(x, zero, _CMP_LT_OQ), pos, _mm512_set1_pd(-1.0));
}

/*
 * lanes_body with the 8 float64 lanes in one AVX-512 register and the selects as mask operations: the
 * same operations on the same values (a masked add leaves num where the AVX2 path adds +0.0, and num is
 * never -0.0, so the bits agree), about half the instructions.
 */
WIDE_TARGET static inline __attribute__((always_inline)) void
wide_body(fused_job *j, const lanes_setup *ls, size_t b, size_t e, __m256i *bad, const size_t k) {
  const int count = j->method == 1, mean = j->mode == 0, deltas = j->deltas;
  const int same = ls->same;
  const float *base = j->base;
  float *out = j->out;
  const __m256 lambda = _mm256_set1_ps(j->lambda);
  const __m512d fill = _mm512_set1_pd((double)j->fill), zero = _mm512_setzero_pd();
  const __m512d one = _mm512_set1_pd(1.0), minus_one = _mm512_set1_pd(-1.0);
  __m256 thr[TM_LANES_MAX_K];
  __m512d ew[TM_LANES_MAX_K], ws[TM_LANES_MAX_K];
  for (size_t q = 0; q < k; q++) {
    thr[q] = _mm256_set1_ps(ls->thr[q]);
    ew[q] = _mm512_set1_pd(j->ew[q]);
    ws[q] = _mm512_set1_pd(j->ws[q]);
  }
  __m256i any_bad = *bad;
  for (size_t i = b; i + 8 <= e; i += 8) {
    prefetch_ahead(base, ls, k, b, i);
    const __m256 th0 = _mm256_loadu_ps(base + i);
    __m512d x[TM_LANES_MAX_K], ex[TM_LANES_MAX_K];
    __m512d acc = zero;
    int first = 1;
    for (size_t q = 0; q < k; q++) {
      x[q] = _mm512_cvtps_pd(trimmed8(ls->xs[q] + i, th0, thr[q], deltas));
      ex[q] = _mm512_mul_pd(ew[q], x[q]);
      if (!ls->voter[q]) continue;
      const __m512d vote = count ? sign512(ex[q]) : ex[q];
      acc = first ? vote : _mm512_add_pd(acc, vote);
      first = 0;
    }
    __m512d s = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(acc, zero, _CMP_LT_OQ), fill, minus_one);
    s = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(acc, zero, _CMP_GT_OQ), s, one);
    __m512d num = zero, den = zero;
    for (size_t q = 0; q < k; q++) {
      const __mmask8 a = _mm512_cmp_pd_mask(_mm512_mul_pd(ex[q], s), zero, _CMP_GT_OQ);
      num = _mm512_mask_add_pd(num, a, num, same ? ex[q] : _mm512_mul_pd(ws[q], x[q]));
      den = _mm512_mask_add_pd(den, a, den, ws[q]);
    }
    const __m256 delta = mean ? _mm512_cvtpd_ps(_mm512_maskz_div_pd(_mm512_cmp_pd_mask(den, zero, _CMP_NEQ_UQ), num, den)) : _mm512_cvtpd_ps(num);
    store_merged(out + i, th0, lambda, delta, &any_bad);
  }
  *bad = any_bad;
}

WIDE_TARGET static void wide_segment(fused_job *j, const lanes_setup *ls, size_t b, size_t e, __m256i *bad) {
  switch (j->k) {
  case 1: wide_body(j, ls, b, e, bad, 1); break;
  case 2: wide_body(j, ls, b, e, bad, 2); break;
  case 3: wide_body(j, ls, b, e, bad, 3); break;
  case 4: wide_body(j, ls, b, e, bad, 4); break;
  default: wide_body(j, ls, b, e, bad, j->k); break;
  }
}

static int wide; /* the CPU has the AVX-512 subsets wide_body uses (init_simd) */

/* [b, e) with every expert's keep-equal choice fixed: the length rounded down to 8 by lanes, the rest by blocks. */
LANES_TARGET static void lanes_segment(fused_job *j, const lanes_setup *ls, size_t b, size_t e, int part, __m256i *bad) {
  if (wide) wide_segment(j, ls, b, e, bad);
  else switch (j->k) {
  case 1: lanes_body(j, ls, b, e, bad, 1); break;
  case 2: lanes_body(j, ls, b, e, bad, 2); break;
  case 3: lanes_body(j, ls, b, e, bad, 3); break;
  case 4: lanes_body(j, ls, b, e, bad, 4); break;
  default: lanes_body(j, ls, b, e, bad, j->k); break;
  }
  size_t done = b + (e - b) / 8 * 8;
  if (done < e) tm_ties_block_range(j, done, e, part);
}

LANES_TARGET static void lanes_part(fused_job *j, size_t b, size_t e, int part) {
  lanes_setup ls;
  const size_t k = j->k;
  for (size_t q = 0; q < k; q++) {
    ls.xs[q] = j->xs[q];
    ls.voter[q] = j->ew[q] != 0;
  }
  ls.same = 1;
  for (size_t q = 0; q < k; q++) ls.same &= j->ws[q] == j->ew[q];
  __m256i bad = _mm256_setzero_si256();
  size_t i = b;
  while (i < e) {
    /* The segment runs to the next index cut inside (i, e); each expert keeps equal values before its cut. */
    size_t stop = e;
    for (size_t q = 0; q < k; q++)
      if (j->cut[q] > i && j->cut[q] < stop) stop = j->cut[q];
    for (size_t q = 0; q < k; q++) {
      const float t = j->thr[q];
      ls.thr[q] = j->cut[q] > i ? nextafterf(t, -INFINITY) : t;
    }
    lanes_segment(j, &ls, i, stop, part, &bad);
    i = stop;
  }
  if (!_mm256_testz_si256(bad, bad)) j->bad[part] = 1;
}

static int avx2;
static pthread_once_t simd_once = PTHREAD_ONCE_INIT;

static void init_simd(void) {
  const int level = tm_simd_level();
  avx2 = level >= 1;
  wide = level >= 2;
}

int tm_ties_lanes_part(fused_job *j, size_t b, size_t e, int part) {
  pthread_once(&simd_once, init_simd); /* pool threads call this concurrently */
  if (!avx2 || j->k > TM_LANES_MAX_K || j->mode > 1 || j->method > 1) return 0;
  lanes_part(j, b, e, part);
  return 1;
}

#else

int tm_ties_lanes_part(fused_job *j, size_t b, size_t e, int part) {
  (void)j, (void)b, (void)e, (void)part;
  return 0;
}

#endif
