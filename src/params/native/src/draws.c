/*
 * Per-element seeded draws on the sfc32 stream of src/merge/uniform.ts (same state words, same update,
 * same u = t / 2^32), so DARE masks and random-selection picks are bit-identical to the TypeScript path.
 * One stream serves all experts in order, which makes these passes sequential.
 */
#include "kernels.h"

static inline uint32_t sfc32(uint32_t s[4]) {
  uint32_t t = s[0] + s[1] + s[3];
  s[3] += 1;
  s[0] = s[1] ^ (s[1] >> 9);
  s[1] = s[2] + (s[2] << 3);
  s[2] = (s[2] << 21) | (s[2] >> 11);
  s[2] += t;
  return t;
}

size_t tm_drop_bernoulli(float *t, size_t n, double p, uint32_t state[4]) {
  uint32_t s[4] = {state[0], state[1], state[2], state[3]};
  size_t kept = 0;
  for (size_t i = 0; i < n; i++) {
    double u = (double)sfc32(s) / 4294967296.0;
    if (u < p) t[i] = 0.0f;
    else kept++;
  }
  for (int q = 0; q < 4; q++) state[q] = s[q];
  return kept;
}

void tm_random_pick(float *out, const float *base, const float *const *xs, size_t k, const double *bounds, uint32_t state[4], size_t n) {
  uint32_t s[4] = {state[0], state[1], state[2], state[3]};
  for (size_t i = 0; i < n; i++) {
    double u = (double)sfc32(s) / 4294967296.0;
    size_t e = 0;
    while (u >= bounds[e] && e < k - 1) e++;
    out[i] = xs[e][i] - base[i];
  }
  for (int q = 0; q < 4; q++) state[q] = s[q];
}
