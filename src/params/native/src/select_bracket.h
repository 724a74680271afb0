/* One-pass exact top-k by a sampled bracket (select_bracket.c); select.c's radix path is the fallback. */
#ifndef TM_SELECT_BRACKET_H
#define TM_SELECT_BRACKET_H
#include <stddef.h>

/* Below this many elements the radix path runs directly. */
#define TM_BRACKET_MIN ((size_t)1 << 15)

/* The top-k rules (1 <= k[r] <= n) of |x| (base NULL) or |x - base| for nr (1 or 2) values of k: writes
 * thr, ties, equal exactly as the radix selection would and returns 1, or returns 0 (nothing written that
 * the caller may use) when the bracket missed. Requires NaN-free input. */
int tm_bracket_top_k(const float *x, const float *base, size_t n, int nr, const size_t *k, float *thr, size_t *ties, size_t *equal);

#endif
