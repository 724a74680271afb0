/* Writing a computed block to its destination: non-temporal stores for outputs too large to stay in cache. */
#ifndef TM_STORE_H
#define TM_STORE_H
#include <emmintrin.h>
#include <stddef.h>
#include <stdint.h>

/* Floats computed per block before they are written out (8 KiB stays in L1). */
#define TM_BLOCK 2048

/* Outputs of at least this many floats (16 MiB, half the L3 here) bypass the cache on the way out. */
#define TM_STREAM_MIN ((size_t)1 << 22)

/* Copies a block computed in L1 to dst with streaming stores (no read-for-ownership of dst). */
static inline void tm_stream_copy(float *dst, const float *src, size_t n) {
  size_t j = 0;
  while (j < n && ((uintptr_t)(dst + j) & 15) != 0) {
    dst[j] = src[j];
    j++;
  }
  for (; j + 4 <= n; j += 4) _mm_stream_ps(dst + j, _mm_loadu_ps(src + j));
  for (; j < n; j++) dst[j] = src[j];
}

/* out = base + lambda·d (float32, in that order) over a block; returns 1 when a value written is NaN or
 * ±Infinity (exponent bits all ones). The last step of the fused TIES and Breadcrumbs block passes. */
static inline int tm_store_merged(float *out, const float *base, float lambda, const float *d, size_t len) {
  uint32_t any = 0;
  for (size_t i = 0; i < len; i++) {
    float o = base[i] + lambda * d[i];
    uint32_t u;
    __builtin_memcpy(&u, &o, sizeof u);
    any |= (uint32_t)((u & 0x7f800000u) == 0x7f800000u);
    out[i] = o;
  }
  return any != 0;
}

#endif
