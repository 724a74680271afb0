/*
 * TIES sign election and disjoint merge (contracts in src/merge/sign.ts and src/merge/disjoint.ts).
 * Per element the float64 sums run over experts in order, exactly as the reference does, so results are
 * bit-identical; parts of the array run on the pool.
 */
#include "kernels.h"
#include "pool.h"
#include <math.h>

#define BLOCK 1024

typedef struct {
  float *out;
  int8_t *signs;
  const float *const *vs;
  const double *ws, *ew;
  size_t k;
  int mode;
  int8_t fill;
} ties_job;

static void elect_part(void *c, size_t b, size_t e, int part) {
  ties_job *j = c;
  double acc[BLOCK];
  for (size_t i0 = b; i0 < e; i0 += BLOCK) {
    size_t len = e - i0 < BLOCK ? e - i0 : BLOCK;
    for (size_t i = 0; i < len; i++) acc[i] = 0;
    for (size_t k = 0; k < j->k; k++) {
      const double w = j->ws[k];
      const float *v = j->vs[k] + i0;
      if (w == 0) continue;
      if (j->mode == 0)
        for (size_t i = 0; i < len; i++) acc[i] += w * (double)v[i];
      else
        for (size_t i = 0; i < len; i++) {
          double x = w * (double)v[i];
          acc[i] += x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0;
        }
    }
    int8_t *s = j->signs + i0;
    for (size_t i = 0; i < len; i++) s[i] = acc[i] > 0 ? 1 : acc[i] < 0 ? -1 : 0;
  }
}

void tm_elect_signs(int8_t *out, const float *const *vs, const double *ws, size_t k, int method, size_t n) {
  ties_job j = {.signs = out, .vs = vs, .ws = ws, .k = k, .mode = method};
  tm_parallel(n, elect_part, &j);
}

double tm_sign_total(const int8_t *s, size_t n) {
  int64_t t = 0;
  for (size_t i = 0; i < n; i++) t += s[i];
  return (double)t;
}

void tm_resolve_ties(int8_t *s, int8_t fill, size_t n) {
  for (size_t i = 0; i < n; i++) s[i] = s[i] == 0 ? fill : s[i];
}

static inline int agrees(double ex, int8_t s) {
  return (ex > 0 && s > 0) || (ex < 0 && s < 0);
}

static void disjoint_part(void *c, size_t b, size_t e, int part) {
  ties_job *j = c;
  const int8_t *signs = j->signs;
  if (j->mode == 2) {
    for (size_t i = b; i < e; i++) j->out[i] = 0.0f;
    for (size_t k = 0; k < j->k; k++) {
      const float *v = j->vs[k];
      const double ek = j->ew[k];
      float *out = j->out;
      for (size_t i = b; i < e; i++) {
        float x = v[i];
        if (agrees(ek * (double)x, signs[i]) && fabsf(x) >= fabsf(out[i])) out[i] = x;
      }
    }
    return;
  }
  double num[BLOCK], den[BLOCK];
  const int mean = j->mode == 0;
  for (size_t i0 = b; i0 < e; i0 += BLOCK) {
    size_t len = e - i0 < BLOCK ? e - i0 : BLOCK;
    const int8_t *s = signs + i0;
    for (size_t i = 0; i < len; i++) num[i] = den[i] = 0;
    for (size_t k = 0; k < j->k; k++) {
      const float *v = j->vs[k] + i0;
      const double wk = j->ws[k], ek = j->ew[k];
      for (size_t i = 0; i < len; i++) {
        double x = (double)v[i];
        if (agrees(ek * x, s[i])) {
          num[i] += wk * x;
          den[i] += wk;
        }
      }
    }
    float *out = j->out + i0;
    if (mean)
      for (size_t i = 0; i < len; i++) out[i] = den[i] == 0 ? 0.0f : (float)(num[i] / den[i]);
    else
      for (size_t i = 0; i < len; i++) out[i] = (float)num[i];
  }
}

void tm_disjoint_merge(float *out, const float *const *vs, const double *ws, const double *ew, size_t k, const int8_t *signs,
                       int mode, size_t n) {
  ties_job j = {.out = out, .signs = (int8_t *)signs, .vs = vs, .ws = ws, .ew = ew, .k = k, .mode = mode};
  tm_parallel(n, disjoint_part, &j);
}
