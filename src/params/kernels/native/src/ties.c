/*
 * TIES sign election on its own (the model-scope tie rule sums the elected signs of every tensor; the
 * merge itself runs in ties_fused.c). Per element the float64 sums run over experts in order, exactly as
 * the reference does, so results are bit-identical; parts of the array run on the pool.
 */
#include "kernels.h"
#include "pool.h"
#include <math.h>

#define BLOCK 1024

typedef struct {
  int8_t *signs;
  const float *const *vs;
  const double *ws;
  size_t k;
  int mode;
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
