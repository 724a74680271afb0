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

#endif
