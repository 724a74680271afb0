/*
 * Exact top-k by magnitude in one streaming pass (most of the time). The radix selection of select.c
 * makes two compute-bound histogram passes over |x| (or |x - base|). Here a fixed strided sample of the
 * bit patterns of |x| (non-negative floats order like their bits, compared as int32 since bit 31 is 0)
 * gives a bracket [lo, hi] that holds the k-th largest with high probability. One threaded, vectorised
 * pass then counts the elements above hi, equal to hi and equal to lo, and collects the bit patterns
 * strictly inside (lo, hi) into per-part buffers. The k-th largest is then found exactly inside that
 * small candidate set (tm_abs_top_k on the candidates' bits). When the counts show the k-th largest lies
 * outside the bracket, or a part's buffer overflows, the caller falls back to the radix path. Either way
 * threshold, ties and equal are exactly the radix path's: they depend only on the multiset of |x|, never
 * on the sample or the thread count (per-part counts are summed, candidates are a multiset).
 */
#include "select_bracket.h"
#include "kernels.h"
#include "pool.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TM_HOT __attribute__((target_clones("avx2", "default")))
#define SAMPLE_MAX ((size_t)1 << 17)
#define BLOCK 256
#define GROUP 8 /* compaction runs only over groups of GROUP elements holding a candidate */
#define MAX_RULES 2
#define SMALL_SORT ((size_t)1 << 16) /* candidate sets up to this size are sorted, larger ones radix-selected */

typedef struct {
  const float *x, *base; /* base NULL: bits of |x| */
  size_t n, m, stride;
  uint32_t *sample;
} sample_job;

static inline uint32_t bits_at(const float *x, const float *base, size_t i) {
  float t = base ? x[i] - base[i] : x[i];
  uint32_t u;
  memcpy(&u, &t, sizeof u);
  return u & 0x7fffffffu;
}

/* Sample j sits at j·stride + stride/2; each part takes the samples inside its own range. */
static void sample_part(void *c, size_t b, size_t e, int part) {
  sample_job *j = c;
  const size_t half = j->stride / 2;
  size_t s = b <= half ? 0 : (b - half + j->stride - 1) / j->stride;
  for (; s < j->m; s++) {
    size_t i = s * j->stride + half;
    if (i >= e) break;
    j->sample[s] = bits_at(j->x, j->base, i);
  }
}

/* Ascending LSD radix sort of values below 2^31 (three digits of 11, 11 and 9 bits). */
static void sort_bits(uint32_t *a, uint32_t *tmp, size_t m) {
  static const int shift[3] = {0, 11, 22};
  uint32_t *src = a, *dst = tmp;
  for (int d = 0; d < 3; d++) {
    size_t count[2048] = {0};
    for (size_t i = 0; i < m; i++) count[(src[i] >> shift[d]) & 2047]++;
    size_t sum = 0;
    for (int q = 0; q < 2048; q++) {
      size_t c = count[q];
      count[q] = sum;
      sum += c;
    }
    for (size_t i = 0; i < m; i++) dst[count[(src[i] >> shift[d]) & 2047]++] = src[i];
    uint32_t *t = src;
    src = dst;
    dst = t;
  }
  if (src != a) memcpy(a, src, m * sizeof *a); /* three passes: the result sits in tmp */
}

typedef struct {
  const float *x, *base;
  int nr;
  int32_t lo[MAX_RULES], hi[MAX_RULES];
  uint32_t *buf[MAX_RULES];
  double per[MAX_RULES]; /* buffer slots per element of a part's range */
  size_t above[TM_MAX_PARTS][MAX_RULES], eq_hi[TM_MAX_PARTS][MAX_RULES], eq_lo[TM_MAX_PARTS][MAX_RULES];
  size_t off[TM_MAX_PARTS][MAX_RULES], count[TM_MAX_PARTS][MAX_RULES];
  int overflow[TM_MAX_PARTS];
} count_job;

/* A part's slice of rule r's buffer: [per·b + 64·part, per·e + 64·(part + 1)), disjoint between parts. */
static size_t slot_begin(const count_job *j, int r, size_t b, int part) {
  return (size_t)(j->per[r] * (double)b) + (size_t)GROUP * 2 * (size_t)part;
}

static TM_HOT void count_part(void *c, size_t b, size_t e, int part) {
  count_job *j = c;
  int32_t v[BLOCK];
  uint32_t mask[BLOCK];
  for (int r = 0; r < j->nr; r++) {
    j->off[part][r] = slot_begin(j, r, b, part);
    j->count[part][r] = 0;
  }
  size_t cap[MAX_RULES], fill[MAX_RULES] = {0};
  for (int r = 0; r < j->nr; r++) cap[r] = slot_begin(j, r, e, part + 1) - j->off[part][r];
  size_t above[MAX_RULES] = {0}, eqh[MAX_RULES] = {0}, eql[MAX_RULES] = {0};
  const float *x = j->x, *base = j->base;
  for (size_t i0 = b; i0 < e; i0 += BLOCK) {
    size_t len = e - i0 < BLOCK ? e - i0 : BLOCK;
    if (base)
      for (size_t i = 0; i < len; i++) {
        float t = x[i0 + i] - base[i0 + i];
        uint32_t u;
        memcpy(&u, &t, sizeof u);
        v[i] = (int32_t)(u & 0x7fffffffu);
      }
    else
      for (size_t i = 0; i < len; i++) {
        uint32_t u;
        memcpy(&u, &x[i0 + i], sizeof u);
        v[i] = (int32_t)(u & 0x7fffffffu);
      }
    if (len < BLOCK) memset(v + len, 0xff, (BLOCK - len) * sizeof *v); /* -1: below every bracket, never counted */
    for (int r = 0; r < j->nr; r++) {
      const int32_t lo = j->lo[r], hi = j->hi[r];
      uint32_t a = 0, h = 0, l = 0, c = 0;
      for (size_t i = 0; i < BLOCK; i++) {
        int32_t s = v[i];
        a += (uint32_t)(s > hi);
        h += (uint32_t)(s == hi);
        l += (uint32_t)(s == lo);
        uint32_t in = (uint32_t)((s > lo) & (s < hi));
        mask[i] = in;
        c += in;
      }
      above[r] += a;
      eqh[r] += h;
      eql[r] += l;
      if (c) {
        if (fill[r] + c + GROUP > cap[r]) {
          j->overflow[part] = 1;
          return;
        }
        /* Branch-free compaction, only in groups of GROUP that hold a candidate. */
        uint32_t *out = j->buf[r] + j->off[part][r] + fill[r];
        size_t f = 0;
        for (size_t g = 0; g < BLOCK; g += GROUP) {
          uint32_t w = 0;
          for (size_t i = g; i < g + GROUP; i++) w |= mask[i];
          if (!w) continue;
          for (size_t i = g; i < g + GROUP; i++) {
            out[f] = (uint32_t)v[i];
            f += mask[i];
          }
        }
        fill[r] += f;
      }
    }
  }
  for (int r = 0; r < j->nr; r++) {
    j->above[part][r] = above[r];
    j->eq_hi[part][r] = eqh[r];
    j->eq_lo[part][r] = eql[r];
    j->count[part][r] = fill[r];
  }
}

int tm_bracket_top_k(const float *x, const float *base, size_t n, int nr, const size_t *k, float *thr, size_t *ties, size_t *equal) {
  if (nr < 1 || nr > MAX_RULES || n < TM_BRACKET_MIN) return 0;
  size_t m = n / 32 < SAMPLE_MAX ? n / 32 : SAMPLE_MAX;
  sample_job sj = {.x = x, .base = base, .n = n, .m = m, .stride = n / m};
  uint32_t *sample = malloc(2 * m * sizeof *sample);
  if (!sample) return 0;
  sj.sample = sample;
  tm_parallel(n, sample_part, &sj);
  sort_bits(sample, sample + m, m); /* ascending */

  count_job j = {.x = x, .base = base, .nr = nr};
  int ok = 1;
  for (int r = 0; r < nr && ok; r++) {
    /* Sample rank of the k-th largest, widened by 4.5 standard deviations of a sample quantile (+ 8). */
    double p = (double)k[r] / (double)n, rank = p * (double)m;
    double d = 4.5 * sqrt((double)m * p * (1 - p)) + 8;
    double top_hi = floor(rank - d), top_lo = ceil(rank + d); /* ranks from the top, 0-based */
    j.hi[r] = top_hi < 0 ? INT32_MAX : (int32_t)sample[m - 1 - (size_t)top_hi]; /* INT32_MAX: a NaN, never present */
    j.lo[r] = top_lo >= (double)m ? -1 : (int32_t)sample[m - 1 - (size_t)top_lo];
    size_t inside = 0;
    for (size_t s = 0; s < m; s++) inside += (int32_t)sample[s] > j.lo[r] && (int32_t)sample[s] < j.hi[r];
    /* Buffer slots: twice the sampled share plus slack, and 2·GROUP per part boundary. */
    j.per[r] = 2.0 * ((double)inside + 4 * sqrt((double)inside) + 16) / (double)m;
    if (j.per[r] > 1) j.per[r] = 1;
    size_t slots = (size_t)(j.per[r] * (double)n) + (size_t)GROUP * 2 * (TM_MAX_PARTS + 1);
    j.buf[r] = malloc(slots * sizeof *j.buf[r]);
    if (!j.buf[r]) ok = 0;
  }
  free(sample);
  if (ok) tm_parallel(n, count_part, &j);
  int parts = tm_parts_for(n);
  for (int p = 0; p < parts; p++)
    if (j.overflow[p]) ok = 0;
  for (int r = 0; r < nr && ok; r++) {
    size_t above = 0, eqh = 0, eql = 0, nc = 0;
    uint32_t *buf = j.buf[r];
    for (int p = 0; p < parts; p++) {
      above += j.above[p][r];
      eqh += j.eq_hi[p][r];
      eql += j.eq_lo[p][r];
      memmove(buf + nc, buf + j.off[p][r], j.count[p][r] * sizeof *buf); /* compact the parts' slices */
      nc += j.count[p][r];
    }
    if (j.lo[r] == j.hi[r]) eql = 0; /* one value: counted once, as eq_hi */
    size_t want = k[r];
    uint32_t bits = 0;
    if (want <= above) ok = 0; /* the k-th largest lies above hi */
    else if (want <= above + eqh) {
      bits = (uint32_t)j.hi[r];
      ties[r] = want - above;
      equal[r] = eqh;
    } else if (want <= above + eqh + nc) {
      size_t kk = want - above - eqh, t_ties, t_equal;
      if (nc <= SMALL_SORT) {
        uint32_t *tmp = malloc(nc * sizeof *tmp);
        if (!tmp) {
          ok = 0;
          break;
        }
        sort_bits(buf, tmp, nc);
        free(tmp);
        bits = buf[nc - kk]; /* the kk-th largest */
        size_t gt = 0, eq = 0;
        for (size_t i = 0; i < nc; i++) {
          gt += buf[i] > bits;
          eq += buf[i] == bits;
        }
        t_ties = kk - gt;
        t_equal = eq;
      } else {
        float t;
        tm_abs_top_k((const float *)buf, nc, kk, &t, &t_ties, &t_equal); /* bits of non-negative floats */
        memcpy(&bits, &t, sizeof bits);
      }
      ties[r] = t_ties;
      equal[r] = t_equal;
    } else if (j.lo[r] >= 0 && want <= above + eqh + nc + eql) {
      bits = (uint32_t)j.lo[r];
      ties[r] = want - above - eqh - nc;
      equal[r] = eql;
    } else ok = 0; /* below lo */
    if (ok) memcpy(&thr[r], &bits, sizeof bits);
  }
  for (int r = 0; r < nr; r++) free(j.buf[r]);
  return ok;
}
