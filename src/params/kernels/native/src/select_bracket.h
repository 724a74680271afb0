/* One-pass exact top-k by a sampled bracket (select_bracket.c); select.c's radix path is the fallback. */
#ifndef TM_SELECT_BRACKET_H
#define TM_SELECT_BRACKET_H
#include <stddef.h>

/* Below this many elements there is no sample: the bits are copied out and radix-selected directly. */
#define TM_BRACKET_MIN ((size_t)1 << 15)

/* Most lanes (stream x rank) one pass serves. */
#define TM_BRACKET_LANES 16

/*
 * The top-k rules (1 <= k[l] <= n) of |x_s| (base NULL) or |x_s - base| for ns streams and nr ranks per
 * stream, lane l = s·nr + r: writes thr[l], ties[l], equal[l] exactly as the radix selection would and
 * sets ok[l] = 1, or sets ok[l] = 0 (nothing written that the caller may use) where the bracket missed.
 * Returns whether any lane succeeded. Requires NaN-free input.
 */
int tm_bracket_top_k_many(const float *const *xs, size_t ns, const float *base, size_t n, int nr, const size_t *k, float *thr, size_t *ties,
                          size_t *equal, int *ok);

/* One stream, nr (1 or 2) ranks: returns 1 when every rank succeeded. */
int tm_bracket_top_k(const float *x, const float *base, size_t n, int nr, const size_t *k, float *thr, size_t *ties, size_t *equal);

#endif
