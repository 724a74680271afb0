/* Breadcrumbs' selection and linear step fused (breadcrumbs_fused.c). */
#ifndef TM_BREADCRUMBS_FUSED_H
#define TM_BREADCRUMBS_FUSED_H
#include <stddef.h>

/* out = base + λ·Σ_k w_k·band_k(x_k - base), band_k keeping the ranks [n_top, n - n_bottom) of |x_k - base|
 * (ties to the earliest index), with weightedSum's and addScaled's float32 operations in their order;
 * k >= 1, n_bottom + n_top < n, NaN-free inputs. Returns 1 when every value written is finite. */
int tm_breadcrumbs_linear(float *out, const float *base, const float *const *xs, const float *ws, size_t k, float lambda, size_t n_bottom, size_t n_top,
                          size_t n);

#endif
