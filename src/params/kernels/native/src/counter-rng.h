/*
 * Counter-based uniforms for DARE's drop mask and random selection's pick (the C twin of
 * src/params/counter-rng.ts). The draw for element i of expert k is a pure function of a per-tensor key
 * (two 32-bit words drawn from the tensor's seeded rng) and (k, i), so any range of elements can be drawn
 * by any thread and the loop auto-vectorises: only 32-bit multiply, xor, shift and add.
 *
 *   fmix32(h)      = murmur3's finaliser
 *   expert key     e0 = fmix32(key0 + 0x9e3779b9·(k + 1)),  e1 = fmix32(key1 ^ e0)
 *   u32(k, i)      = fmix32(fmix32(i ^ e0) + e1)            (i taken mod 2^32)
 */
#ifndef TM_COUNTER_RNG_H
#define TM_COUNTER_RNG_H
#include <stddef.h>
#include <stdint.h>

static inline uint32_t tm_fmix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

typedef struct {
  uint32_t e0, e1;
} tm_ckey;

static inline tm_ckey tm_expert_key(uint32_t key0, uint32_t key1, uint32_t k) {
  tm_ckey c;
  c.e0 = tm_fmix32(key0 + 0x9e3779b9u * (k + 1u));
  c.e1 = tm_fmix32(key1 ^ c.e0);
  return c;
}

static inline uint32_t tm_counter_u32(tm_ckey c, uint32_t i) {
  return tm_fmix32(tm_fmix32(i ^ c.e0) + c.e1);
}

/* Elements per block of the ordered L1 sums (see tm_dare_l1). */
#define TM_L1_BLOCK 4096

/* DARE: per element keep iff u32(k, i) >= cut, cut = floor(p·2^32). */
void tm_dare_l1(const float *x, const float *base, size_t n, uint32_t cut, uint32_t key0, uint32_t key1, uint32_t k, double out[2]);
void tm_dare_drop(float *t, size_t n, uint32_t cut, uint32_t key0, uint32_t key1, uint32_t k, float s);
int tm_dare_linear(float *out, const float *base, const float *const *xs, const float *ws, const float *scales, size_t nk, float lambda,
                   uint32_t cut, uint32_t key0, uint32_t key1, size_t n);
/* Random selection: expert e = #{j < nk-1 : cuts[j] <= u32(0, i)}; out_i = x_e[i] - base[i]. */
void tm_random_pick_counter(float *out, const float *base, const float *const *xs, size_t nk, const double *cuts, uint32_t key0, uint32_t key1,
                            size_t n);
#endif
