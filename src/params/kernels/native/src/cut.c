/*
 * Finding a rule's index cut: the position of the ties-th element equal to the threshold. It is a
 * sequential question, and on real checkpoints (bf16 weights have few distinct magnitudes) the answer
 * is often far into the tensor, so one element at a time cost a scalar pass over θ0 and x per expert.
 * Here 8 elements are compared at once and the equal ones counted by popcount; only the vector that
 * holds the cut is looked at lane by lane.
 */
#include "cut.h"
#include <math.h>
#include <stdint.h>

static size_t cut_scalar(const float *x, const float *base, size_t i, size_t n, float thr, size_t ties) {
  for (; i < n; i++)
    if (fabsf(base ? x[i] - base[i] : x[i]) == thr && --ties == 0) return i + 1;
  return n;
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

__attribute__((target("avx2,popcnt"))) static size_t cut_avx2(const float *x, const float *base, size_t n, float thr, size_t ties) {
  const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256 t = _mm256_set1_ps(thr);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i);
    if (base) v = _mm256_sub_ps(v, _mm256_loadu_ps(base + i));
    const unsigned m = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_and_ps(v, absmask), t, _CMP_EQ_OQ));
    const size_t c = (size_t)__builtin_popcount(m);
    if (c >= ties) return cut_scalar(x, base, i, n, thr, ties); /* the cut is in these 8 */
    ties -= c;
  }
  return cut_scalar(x, base, i, n, thr, ties);
}

size_t tm_cut_after(const float *x, const float *base, size_t n, float thr, size_t ties) {
  if (__builtin_cpu_supports("avx2")) return cut_avx2(x, base, n, thr, ties);
  return cut_scalar(x, base, 0, n, thr, ties);
}
#else
size_t tm_cut_after(const float *x, const float *base, size_t n, float thr, size_t ties) {
  return cut_scalar(x, base, 0, n, thr, ties);
}
#endif
