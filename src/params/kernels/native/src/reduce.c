/*
 * Reductions. dot and sumSquares accumulate float64 in 8 lanes per part (a different order from the
 * reference, within its documented bound); sumAbs keeps the reference's single sequential float64 sum so
 * that the L1 rescale factors built from it are bit-identical.
 */
#include "kernels.h"
#include "pool.h"
#include <math.h>
#include <string.h>

typedef struct {
  const float *a, *b;
  double partial[TM_MAX_PARTS];
  ptrdiff_t first[TM_MAX_PARTS];
} red_job;

static void dot_part(void *c, size_t b, size_t e, int part) {
  red_job *j = c;
  double s[8] = {0};
  size_t i = b;
  for (; i + 8 <= e; i += 8)
    for (int l = 0; l < 8; l++) s[l] += (double)j->a[i + l] * (double)j->b[i + l];
  for (; i < e; i++) s[0] += (double)j->a[i] * (double)j->b[i];
  j->partial[part] = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

static double sum_parts(red_job *j, size_t n) {
  double s = 0;
  int parts = tm_parts_for(n);
  for (int p = 0; p < parts; p++) s += j->partial[p];
  return s;
}

double tm_dot(const float *a, const float *b, size_t n) {
  red_job j;
  memset(&j, 0, sizeof j);
  j.a = a;
  j.b = b;
  tm_parallel(n, dot_part, &j);
  return sum_parts(&j, n);
}

double tm_sum_squares(const float *x, size_t n) {
  return tm_dot(x, x, n);
}

double tm_sum_abs_ordered(const float *x, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += fabs((double)x[i]);
  return s;
}

static void non_finite_part(void *c, size_t b, size_t e, int part) {
  red_job *j = c;
  const uint32_t *u = (const uint32_t *)j->a;
  j->first[part] = -1;
  for (size_t i0 = b; i0 < e; i0 += 1024) {
    size_t end = e - i0 < 1024 ? e : i0 + 1024;
    uint32_t any = 0;
    /* exponent all ones: NaN or ±Infinity; scan a block branch-free, then find the index */
    for (size_t i = i0; i < end; i++) any |= (uint32_t)((u[i] & 0x7f800000u) == 0x7f800000u);
    if (any) {
      for (size_t i = i0; i < end; i++)
        if ((u[i] & 0x7f800000u) == 0x7f800000u) {
          j->first[part] = (ptrdiff_t)i;
          return;
        }
    }
  }
}

ptrdiff_t tm_first_non_finite(const float *x, size_t n) {
  red_job j;
  memset(&j, 0, sizeof j);
  j.a = x;
  for (int p = 0; p < TM_MAX_PARTS; p++) j.first[p] = -1;
  tm_parallel(n, non_finite_part, &j);
  int parts = tm_parts_for(n);
  for (int p = 0; p < parts; p++)
    if (j.first[p] >= 0) return j.first[p];
  return -1;
}
