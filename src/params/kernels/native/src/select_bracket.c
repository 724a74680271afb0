/*
 * Exact top-k by magnitude in one streaming pass (most of the time), for several streams at once, where
 * select.c's radix selection makes two compute-bound histogram passes. A sample of the bit patterns of
 * |x| (non-negative floats order like their bits) gives a bracket [lo, hi] that holds the k-th largest
 * with high probability; one threaded, vectorised pass counts the elements above hi, equal to hi and to
 * lo, and collects the patterns inside (lo, hi), among which the k-th largest is found exactly. When the
 * counts put it outside the bracket, or a part's buffer overflows, that lane falls back to the radix path.
 * Either way threshold, ties and equal are the radix path's: they depend only on the multiset of |x|.
 *
 * A lane is one (stream, rank) pair: TIES selects every expert's τ_s = x_s - θ0 in one pass that reads θ0
 * once, Breadcrumbs two ranks per expert. The sample is evenly spaced chunks of CHUNK contiguous elements
 * (single strided elements would each touch a cache line), and its quantiles and the exact candidate come
 * from radix selection, not sorting.
 */
#include "select_bracket.h"
#include "kernels.h"
#include "pool.h"
#include "simd.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TM_HOT __attribute__((target_clones("avx2", "default")))
#define SAMPLE_MAX ((size_t)1 << 17)
#define CHUNK 16
#define AHEAD 8 /* chunks prefetched ahead */
#define BLOCK 256
#define GROUP 8 /* compaction runs only over groups of GROUP elements holding a candidate */
#define SPREAD 5.0 /* bracket half-width in standard deviations of a sample quantile */
#define DIGITS 2048 /* radix selection: buckets per digit */

typedef struct {
  const float *base; /* NULL: bits of |x| */
  const float *const *xs;
  size_t ns, n, m, stride; /* m samples per stream in m / CHUNK chunks, one every `stride` elements */
  uint32_t *sample;        /* ns x m */
} sample_job;

/* Chunk c covers [c·stride, c·stride + CHUNK); each part takes the chunks that start inside its range. */
static void sample_part(void *ctx, size_t b, size_t e, int part) {
  sample_job *j = ctx;
  const size_t chunks = j->m / CHUNK;
  for (size_t c = (b + j->stride - 1) / j->stride; c < chunks && c * j->stride < e; c++) {
    const size_t i0 = c * j->stride;
    if (c + AHEAD < chunks) { /* chunks are a stride apart: no hardware prefetcher follows that */
      const size_t f = (c + AHEAD) * j->stride;
      if (j->base) __builtin_prefetch(j->base + f);
      for (size_t s = 0; s < j->ns; s++) __builtin_prefetch(j->xs[s] + f);
    }
    for (size_t s = 0; s < j->ns; s++) {
      const float *x = j->xs[s] + i0;
      uint32_t *out = j->sample + s * j->m + c * CHUNK;
      for (size_t i = 0; i < CHUNK; i++) {
        float t = j->base ? x[i] - j->base[i0 + i] : x[i];
        uint32_t u;
        memcpy(&u, &t, sizeof u);
        out[i] = u & 0x7fffffffu;
      }
    }
  }
}

/* Four counters per bucket, for elements i mod 4: runs of equal digits (values cluster) then update
 * different counters instead of waiting on each other. Short inputs use one (clearing four would cost
 * more than counting). The counts end up in h[0]. */
static void histogram(const uint32_t *a, size_t n, int shift, uint32_t h[4][DIGITS]) {
  const int copies = n >= 4 * DIGITS ? 4 : 1;
  memset(h, 0, (size_t)copies * DIGITS * sizeof h[0][0]);
  size_t i = 0;
  if (copies == 4) {
    for (; i + 4 <= n; i += 4)
      for (int q = 0; q < 4; q++) h[q][(a[i + q] >> shift) & (DIGITS - 1)]++;
    for (size_t d = 0; d < DIGITS; d++) h[0][d] += h[1][d] + h[2][d] + h[3][d];
  }
  for (; i < n; i++) h[0][(a[i] >> shift) & (DIGITS - 1)]++;
}

static const int SHIFT[3] = {20, 9, 0}; /* digits of 11, 11 and 9 bits */

/* The bucket of digit round r holding position pos of a histogram; *below = elements in lower buckets. */
static uint32_t bucket_at(const uint32_t h[DIGITS], size_t pos, size_t *below) {
  size_t b = 0;
  uint32_t d = 0;
  while (b + h[d] <= pos) b += h[d++];
  *below = b;
  return d;
}

/* Copies the elements of in[0, n) whose round-r digit is d to out (in place when out == in); returns how many. */
static size_t keep_bucket(const uint32_t *in, size_t n, int r, uint32_t d, uint32_t *out) {
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    out[m] = in[i];
    m += ((in[i] >> SHIFT[r]) & (DIGITS - 1)) == d;
  }
  return m;
}

/*
 * The values at positions pos[0, np) of a[0, n) in ascending order (values below 2^31), by radix
 * selection, most significant digit first: a histogram of the top digit (shared by every position) picks
 * the bucket holding a position, that bucket's elements are copied to scratch (n slots) and the next
 * digits are taken among them, in place. A few passes over a: far cheaper than sorting a sample or a
 * candidate set, which is all their callers used the order for.
 */
static void radix_select(const uint32_t *a, size_t n, const size_t *pos, int np, uint32_t *out, uint32_t *scratch) {
  uint32_t h[4][DIGITS];
  histogram(a, n, SHIFT[0], h);
  for (int q = 0; q < np; q++) {
    size_t below, p = pos[q];
    uint32_t d = bucket_at(h[0], p, &below);
    uint32_t prefix = d << SHIFT[0];
    size_t m = keep_bucket(a, n, 0, d, scratch);
    p -= below;
    for (int r = 1; r < 3; r++) {
      uint32_t hr[4][DIGITS];
      histogram(scratch, m, SHIFT[r], hr);
      d = bucket_at(hr[0], p, &below);
      prefix |= d << SHIFT[r];
      p -= below;
      if (r < 2) m = keep_bucket(scratch, m, r, d, scratch);
    }
    out[q] = prefix;
  }
}

typedef struct {
  const float *base;
  const float *const *xs;
  size_t ns;
  int nr;                /* lanes are (stream s, rank r) at index s·nr + r */
  int32_t lo[TM_BRACKET_LANES], hi[TM_BRACKET_LANES];
  uint32_t *buf[TM_BRACKET_LANES];
  double per[TM_BRACKET_LANES]; /* buffer slots per element of a part's range */
  size_t above[TM_MAX_PARTS][TM_BRACKET_LANES], eq_hi[TM_MAX_PARTS][TM_BRACKET_LANES], eq_lo[TM_MAX_PARTS][TM_BRACKET_LANES];
  size_t off[TM_MAX_PARTS][TM_BRACKET_LANES], count[TM_MAX_PARTS][TM_BRACKET_LANES];
  int overflow[TM_MAX_PARTS][TM_BRACKET_LANES];
} count_job;

/* A part's slice of lane l's buffer: [per·b + 2·GROUP·part, per·e + 2·GROUP·(part + 1)), disjoint between parts. */
static size_t slot_begin(const count_job *j, int l, size_t b, int part) {
  return (size_t)(j->per[l] * (double)b) + (size_t)GROUP * 2 * (size_t)part;
}

/* One part's running counts per lane, and its slice of each lane's candidate buffer. */
typedef struct {
  size_t cap[TM_BRACKET_LANES], fill[TM_BRACKET_LANES];
  size_t above[TM_BRACKET_LANES], eqh[TM_BRACKET_LANES], eql[TM_BRACKET_LANES];
  int dead[TM_BRACKET_LANES]; /* the lane overflowed its slice: it falls back */
} part_counts;

static void begin_part(count_job *j, size_t b, size_t e, int part, part_counts *c) {
  memset(c, 0, sizeof *c);
  for (int l = 0; l < (int)j->ns * j->nr; l++) {
    j->off[part][l] = slot_begin(j, l, b, part);
    c->cap[l] = slot_begin(j, l, e, part + 1) - j->off[part][l];
  }
}

/* A part's counts, as the lanes' finishing step reads them. */
static void publish(count_job *j, int part, const part_counts *c) {
  for (int l = 0; l < (int)j->ns * j->nr; l++) {
    j->above[part][l] = c->above[l];
    j->eq_hi[part][l] = c->eqh[l];
    j->eq_lo[part][l] = c->eql[l];
    j->count[part][l] = c->fill[l];
    j->overflow[part][l] = c->dead[l];
  }
}

static TM_HOT void count_part_scalar(void *ctx, size_t b, size_t e, int part) {
  count_job *j = ctx;
  int32_t v[BLOCK];
  uint32_t mask[BLOCK];
  part_counts pc;
  begin_part(j, b, e, part, &pc);
  size_t *const cap = pc.cap, *const fill = pc.fill, *const above = pc.above, *const eqh = pc.eqh, *const eql = pc.eql;
  int *const dead = pc.dead;
  const float *base = j->base;
  for (size_t i0 = b; i0 < e; i0 += BLOCK) {
    size_t len = e - i0 < BLOCK ? e - i0 : BLOCK;
    for (size_t s = 0; s < j->ns; s++) {
      const float *x = j->xs[s];
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
        const int l = (int)s * j->nr + r;
        if (dead[l]) continue;
        const int32_t lo = j->lo[l], hi = j->hi[l];
        uint32_t a = 0, h = 0, q = 0, c = 0;
        for (size_t i = 0; i < BLOCK; i++) {
          int32_t x = v[i];
          a += (uint32_t)(x > hi);
          h += (uint32_t)(x == hi);
          q += (uint32_t)(x == lo);
          uint32_t in = (uint32_t)((x > lo) & (x < hi));
          mask[i] = in;
          c += in;
        }
        above[l] += a;
        eqh[l] += h;
        eql[l] += q;
        if (!c) continue;
        if (fill[l] + c + GROUP > cap[l]) {
          dead[l] = 1; /* this lane falls back; the others go on */
          continue;
        }
        /* Branch-free compaction, only in groups of GROUP that hold a candidate. */
        uint32_t *out = j->buf[l] + j->off[part][l] + fill[l];
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
        fill[l] += f;
      }
    }
  }
  publish(j, part, &pc);
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <pthread.h>
#define AVX2 __attribute__((target("avx2")))

/* pack[m]: the indices of the set bits of m, ascending (left-packing 8 lanes by a movemask). */
static int32_t pack[256][8];

static void init_pack(void) {
  for (int m = 0; m < 256; m++) {
    int f = 0;
    for (int i = 0; i < 8; i++)
      if (m >> i & 1) pack[m][f++] = i;
    while (f < 8) pack[m][f++] = 0;
  }
}

/* The last few elements of a part (after the vector loop), one at a time. */
static void count_tail(count_job *j, size_t begin, size_t e, int part, part_counts *c) {
  size_t *const above = c->above, *const eqh = c->eqh, *const eql = c->eql, *const fill = c->fill, *const cap = c->cap;
  int *const dead = c->dead;
  const float *base = j->base;
  const int nr = j->nr;
  for (size_t i = begin; i < e; i++)
    for (size_t s = 0; s < j->ns; s++) {
      float t = base ? j->xs[s][i] - base[i] : j->xs[s][i];
      uint32_t u;
      memcpy(&u, &t, sizeof u);
      const int32_t v = (int32_t)(u & 0x7fffffffu);
      for (int r = 0; r < nr; r++) {
        const int l = (int)s * nr + r;
        above[l] += v > j->hi[l];
        eqh[l] += v == j->hi[l];
        eql[l] += v == j->lo[l];
        if ((v > j->lo[l]) & (v < j->hi[l]) && !dead[l]) {
          if (fill[l] + 1 > cap[l]) dead[l] = 1;
          else j->buf[l][j->off[part][l] + fill[l]++] = (uint32_t)v;
        }
      }
    }
}

/*
 * count_part with the block's |τ| bits computed in registers and compared 8 at a time: counts accumulate
 * in vector lanes (minus the all-ones compare masks), and candidates are left-packed with a permutation
 * chosen by the movemask and stored whole, the fill advancing by the popcount: no branch on the data.
 */
AVX2 static void count_part_avx2(void *ctx, size_t b, size_t e, int part) {
  count_job *j = ctx;
  const int lanes = (int)j->ns * j->nr, nr = j->nr;
  const __m256i absmask = _mm256_set1_epi32(0x7fffffff);
  part_counts pc;
  begin_part(j, b, e, part, &pc);
  size_t *const cap = pc.cap, *const fill = pc.fill;
  int *const dead = pc.dead;
  __m256i acc[TM_BRACKET_LANES][3]; /* above hi, equal to hi, equal to lo */
  __m256i lo[TM_BRACKET_LANES], hi[TM_BRACKET_LANES];
  for (int l = 0; l < lanes; l++) {
    acc[l][0] = acc[l][1] = acc[l][2] = _mm256_setzero_si256();
    lo[l] = _mm256_set1_epi32(j->lo[l]);
    hi[l] = _mm256_set1_epi32(j->hi[l]);
  }
  const float *base = j->base;
  const size_t end8 = b + (e - b) / 8 * 8;
  for (size_t i0 = b; i0 < end8; i0 += BLOCK) {
    const size_t stop = end8 - i0 < BLOCK ? end8 : i0 + BLOCK;
    for (size_t s = 0; s < j->ns; s++) {
      const float *x = j->xs[s];
      for (int r = 0; r < nr; r++) {
        const int l = (int)s * nr + r;
        __m256i a = acc[l][0], h = acc[l][1], q = acc[l][2];
        const __m256i lv = lo[l], hv = hi[l];
        uint32_t *out = j->buf[l] + j->off[part][l];
        size_t f = fill[l];
        int live = !dead[l];
        for (size_t i = i0; i < stop; i += 8) {
          __m256 t = _mm256_loadu_ps(x + i);
          if (base) t = _mm256_sub_ps(t, _mm256_loadu_ps(base + i));
          const __m256i v = _mm256_and_si256(_mm256_castps_si256(t), absmask);
          a = _mm256_sub_epi32(a, _mm256_cmpgt_epi32(v, hv));
          h = _mm256_sub_epi32(h, _mm256_cmpeq_epi32(v, hv));
          q = _mm256_sub_epi32(q, _mm256_cmpeq_epi32(v, lv));
          const __m256i in = _mm256_and_si256(_mm256_cmpgt_epi32(v, lv), _mm256_cmpgt_epi32(hv, v));
          const int m = _mm256_movemask_ps(_mm256_castsi256_ps(in));
          if (live) {
            if (f + 8 > cap[l]) live = 0; /* the store would pass this part's slice: the lane falls back */
            else {
              const __m256i idx = _mm256_loadu_si256((const __m256i *)pack[m]);
              _mm256_storeu_si256((__m256i *)(out + f), _mm256_permutevar8x32_epi32(v, idx));
              f += (size_t)__builtin_popcount((unsigned)m);
            }
          }
        }
        acc[l][0] = a;
        acc[l][1] = h;
        acc[l][2] = q;
        fill[l] = f;
        dead[l] = !live;
      }
    }
  }
  for (int l = 0; l < lanes; l++) {
    int32_t c[3][8];
    for (int k = 0; k < 3; k++) _mm256_storeu_si256((__m256i *)c[k], acc[l][k]);
    for (int i = 0; i < 8; i++) {
      pc.above[l] += (uint32_t)c[0][i];
      pc.eqh[l] += (uint32_t)c[1][i];
      pc.eql[l] += (uint32_t)c[2][i];
    }
  }
  count_tail(j, end8, e, part, &pc);
  publish(j, part, &pc);
}

#define WIDE __attribute__((target("avx2,avx512f,avx512vl,popcnt")))

/*
 * The count pass 16 elements at a time with AVX-512: compares into mask registers, counts by popcount,
 * candidates packed by vpcompressd (register form; the memory form is slow on Zen 4) and stored whole.
 * About half the instructions of the AVX2 pass, which was bound by them with several lanes per stream.
 */
WIDE static void count_part_wide(void *ctx, size_t b, size_t e, int part) {
  count_job *j = ctx;
  const int nr = j->nr;
  const __m512i absmask = _mm512_set1_epi32(0x7fffffff);
  part_counts pc;
  begin_part(j, b, e, part, &pc);
  size_t *const cap = pc.cap, *const fill = pc.fill, *const above = pc.above, *const eqh = pc.eqh, *const eql = pc.eql;
  int *const dead = pc.dead;
  const float *base = j->base;
  const size_t end16 = b + (e - b) / 16 * 16;
  for (size_t i0 = b; i0 < end16; i0 += BLOCK) {
    const size_t stop = end16 - i0 < BLOCK ? end16 : i0 + BLOCK;
    for (size_t s = 0; s < j->ns; s++) {
      const float *x = j->xs[s];
      for (int r = 0; r < nr; r++) {
        const int l = (int)s * nr + r;
        const __m512i lv = _mm512_set1_epi32(j->lo[l]), hv = _mm512_set1_epi32(j->hi[l]);
        uint32_t *out = j->buf[l] + j->off[part][l];
        size_t f = fill[l], a = 0, h = 0, q = 0;
        int live = !dead[l];
        for (size_t i = i0; i < stop; i += 16) {
          __m512 t = _mm512_loadu_ps(x + i);
          if (base) t = _mm512_sub_ps(t, _mm512_loadu_ps(base + i));
          const __m512i v = _mm512_and_si512(_mm512_castps_si512(t), absmask);
          a += (size_t)__builtin_popcount(_mm512_cmpgt_epi32_mask(v, hv));
          h += (size_t)__builtin_popcount(_mm512_cmpeq_epi32_mask(v, hv));
          q += (size_t)__builtin_popcount(_mm512_cmpeq_epi32_mask(v, lv));
          const __mmask16 in = _mm512_mask_cmpgt_epi32_mask(_mm512_cmpgt_epi32_mask(v, lv), hv, v);
          if (live) {
            if (f + 16 > cap[l]) live = 0; /* the store would pass this part's slice: the lane falls back */
            else {
              _mm512_storeu_si512((void *)(out + f), _mm512_maskz_compress_epi32(in, v));
              f += (size_t)__builtin_popcount(in);
            }
          }
        }
        above[l] += a;
        eqh[l] += h;
        eql[l] += q;
        fill[l] = f;
        dead[l] = !live;
      }
    }
  }
  count_tail(j, end16, e, part, &pc);
  publish(j, part, &pc);
}

static pthread_once_t pack_once = PTHREAD_ONCE_INIT;
static int use_avx2, use_wide;

static void init_count(void) {
  init_pack();
  use_avx2 = tm_simd_level() >= 1;
  use_wide = tm_simd_level() >= 2;
}

/* The count pass for this CPU (first call from the calling thread, before any pool worker runs it). */
static tm_range_fn count_pass(void) {
  pthread_once(&pack_once, init_count);
  return use_wide ? count_part_wide : use_avx2 ? count_part_avx2 : count_part_scalar;
}
#else
static tm_range_fn count_pass(void) {
  return count_part_scalar;
}
#endif

/* The top-kk rule of the bit patterns a[0, n) whose kk-th largest is v: threshold v, ties = kk minus the
 * elements above v, equal = the elements equal to v. */
static void rule_at(const uint32_t *a, size_t n, size_t kk, uint32_t v, float *thr, size_t *ties, size_t *equal) {
  size_t gt = 0, eq = 0;
  for (size_t i = 0; i < n; i++) {
    gt += a[i] > v;
    eq += a[i] == v;
  }
  memcpy(thr, &v, sizeof v);
  *ties = kk - gt;
  *equal = eq;
}

/* Lane l's exact rule from the pass's counts and candidates; 0 when the k-th largest lies outside the bracket. */
static int finish_lane(count_job *j, int l, int parts, size_t want, float *thr, size_t *ties, size_t *equal) {
  size_t above = 0, eqh = 0, eql = 0, nc = 0;
  uint32_t *buf = j->buf[l];
  for (int p = 0; p < parts; p++) {
    if (j->overflow[p][l]) return 0;
    above += j->above[p][l];
    eqh += j->eq_hi[p][l];
    eql += j->eq_lo[p][l];
    memmove(buf + nc, buf + j->off[p][l], j->count[p][l] * sizeof *buf); /* compact the parts' slices */
    nc += j->count[p][l];
  }
  if (j->lo[l] == j->hi[l]) eql = 0; /* one value: counted once, as eq_hi */
  uint32_t bits;
  if (want <= above) return 0; /* the k-th largest lies above hi */
  if (want <= above + eqh) {
    bits = (uint32_t)j->hi[l];
    *ties = want - above;
    *equal = eqh;
  } else if (want <= above + eqh + nc) {
    const size_t kk = want - above - eqh; /* the kk-th largest candidate */
    uint32_t *scratch = malloc(nc * sizeof *scratch);
    if (!scratch) return 0;
    const size_t at = nc - kk;
    radix_select(buf, nc, &at, 1, &bits, scratch);
    free(scratch);
    rule_at(buf, nc, kk, bits, thr, ties, equal);
  } else if (j->lo[l] >= 0 && want <= above + eqh + nc + eql) {
    bits = (uint32_t)j->lo[l];
    *ties = want - above - eqh - nc;
    *equal = eql;
  } else
    return 0; /* below lo */
  memcpy(thr, &bits, sizeof bits);
  return 1;
}

/*
 * Below TM_BRACKET_MIN elements: the |τ| bits of each stream copied out and radix-selected at every
 * rank, then one scan for the counts. (The radix path's 65536-bucket histograms cost far more to clear
 * than a bias vector of a thousand elements costs to select.)
 */
static int small_top_k(const float *const *xs, size_t ns, const float *base, size_t n, int nr, const size_t *k, float *thr, size_t *ties,
                       size_t *equal, int *ok) {
  uint32_t *bits = malloc(2 * n * sizeof *bits);
  if (!bits) return 0;
  for (size_t s = 0; s < ns; s++) {
    for (size_t i = 0; i < n; i++) {
      float t = base ? xs[s][i] - base[i] : xs[s][i];
      uint32_t u;
      memcpy(&u, &t, sizeof u);
      bits[i] = u & 0x7fffffffu;
    }
    size_t pos[2];
    uint32_t at[2];
    for (int r = 0; r < nr; r++) pos[r] = n - k[s * (size_t)nr + (size_t)r];
    radix_select(bits, n, pos, nr, at, bits + n);
    for (int r = 0; r < nr; r++) {
      const size_t l = s * (size_t)nr + (size_t)r;
      rule_at(bits, n, k[l], at[r], &thr[l], &ties[l], &equal[l]);
      ok[l] = 1;
    }
  }
  free(bits);
  return 1;
}

/* The bracket steps between the passes, one task per stream (the sample quantiles) or per lane (the
 * finish), run across the pool: they are serial and independent, and the pool's threads are idle then. */
typedef struct {
  count_job *j;
  const size_t *k;
  size_t n, m;
  uint32_t *sample; /* ns x m samples, then ns x m scratch */
  int ready[TM_BRACKET_LANES];
  int parts;
  float *thr;
  size_t *ties, *equal;
  int *ok;
} bracket_job;

/* Stream s's bracket [lo, hi] for each of its ranks, from sample quantiles, and its candidate buffers. */
static void bracket_stream(void *ctx, size_t s, size_t end, int part) {
  bracket_job *b = ctx;
  count_job *j = b->j;
  const size_t m = b->m, n = b->n;
  const int nr = j->nr;
  uint32_t *a = b->sample + s * m, *scratch = b->sample + (j->ns + s) * m;
  /* Sample ranks of each lane's k-th largest, widened by SPREAD standard deviations of a sample quantile (+ 16). */
  size_t pos[4] = {0, 0, 0, 0};
  int np = 0;
  double top[2][2];
  int hi_at[2] = {0, 0}, lo_at[2] = {0, 0};
  for (int r = 0; r < nr; r++) {
    const int l = (int)s * nr + r;
    double p = (double)b->k[l] / (double)n, rank = p * (double)m;
    double d = SPREAD * sqrt((double)m * p * (1 - p)) + 16;
    top[r][0] = floor(rank - d); /* ranks from the top, 0-based: hi */
    top[r][1] = ceil(rank + d);  /* lo */
    if (top[r][0] >= 0) {
      hi_at[r] = np;
      pos[np++] = m - 1 - (size_t)top[r][0];
    }
    if (top[r][1] < (double)m) {
      lo_at[r] = np;
      pos[np++] = m - 1 - (size_t)top[r][1];
    }
  }
  uint32_t at[4];
  radix_select(a, m, pos, np, at, scratch);
  b->ready[s] = 1;
  for (int r = 0; r < nr; r++) {
    const int l = (int)s * nr + r;
    j->hi[l] = top[r][0] < 0 ? INT32_MAX : (int32_t)at[hi_at[r]]; /* INT32_MAX: a NaN, never present */
    j->lo[l] = top[r][1] >= (double)m ? -1 : (int32_t)at[lo_at[r]];
    /* Samples strictly inside (lo, hi) sit strictly between the two ranks: a bound that needs no scan. */
    const double top_hi = top[r][0] < 0 ? -1 : top[r][0], top_lo = top[r][1] >= (double)m ? (double)m : top[r][1];
    const double inside = top_lo - top_hi - 1 > 0 ? top_lo - top_hi - 1 : 0;
    /* Buffer slots: twice the sampled share plus slack, and 2·GROUP per part boundary. */
    j->per[l] = 2.0 * ((double)inside + 4 * sqrt((double)inside) + 16) / (double)m;
    if (j->per[l] > 1) j->per[l] = 1;
    size_t slots = (size_t)(j->per[l] * (double)n) + (size_t)GROUP * 2 * (TM_MAX_PARTS + 1);
    j->buf[l] = malloc(slots * sizeof *j->buf[l]);
    if (!j->buf[l]) b->ready[s] = 0;
  }
}

static void finish_task(void *ctx, size_t l, size_t end, int part) {
  bracket_job *b = ctx;
  b->ok[l] = finish_lane(b->j, (int)l, b->parts, b->k[l], &b->thr[l], &b->ties[l], &b->equal[l]);
}

int tm_bracket_top_k_many(const float *const *xs, size_t ns, const float *base, size_t n, int nr, const size_t *k, float *thr, size_t *ties,
                          size_t *equal, int *ok) {
  const int lanes = (int)ns * nr;
  for (int l = 0; l < lanes; l++) ok[l] = 0;
  if (nr < 1 || nr > 2 || ns < 1 || lanes > TM_BRACKET_LANES || n < 1) return 0;
  if (n < TM_BRACKET_MIN) return small_top_k(xs, ns, base, n, nr, k, thr, ties, equal, ok);
  size_t m = (n / 32 < SAMPLE_MAX ? n / 32 : SAMPLE_MAX) / CHUNK * CHUNK;
  sample_job sj = {.base = base, .xs = xs, .ns = ns, .n = n, .m = m, .stride = n / (m / CHUNK)};
  uint32_t *sample = malloc(2 * ns * m * sizeof *sample);
  if (!sample) return 0;
  sj.sample = sample;
  tm_parallel(n, sample_part, &sj);

  count_job j = {.base = base, .xs = xs, .ns = ns, .nr = nr};
  bracket_job bj = {.j = &j, .k = k, .n = n, .m = m, .sample = sample, .parts = tm_parts_for(n),
                    .thr = thr, .ties = ties, .equal = equal, .ok = ok};
  tm_parallel_tasks(ns, bracket_stream, &bj);
  free(sample);
  int ready = 1, any = 0;
  for (size_t s = 0; s < ns; s++) ready &= bj.ready[s];
  if (ready) {
    tm_parallel(n, count_pass(), &j);
    tm_parallel_tasks((size_t)lanes, finish_task, &bj);
    for (int l = 0; l < lanes; l++) any |= ok[l];
  }
  for (int l = 0; l < lanes; l++) free(j.buf[l]);
  return any;
}

int tm_bracket_top_k(const float *x, const float *base, size_t n, int nr, const size_t *k, float *thr, size_t *ties, size_t *equal) {
  int ok[2] = {0, 0};
  if (nr < 1 || nr > 2) return 0;
  tm_bracket_top_k_many(&x, 1, base, n, nr, k, thr, ties, equal, ok);
  return ok[0] && (nr < 2 || ok[1]);
}
