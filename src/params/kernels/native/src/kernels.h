/* The C kernels behind the 'native' backend; contracts as in src/params/kernels/api.ts. n counts floats. */
#ifndef TM_KERNELS_H
#define TM_KERNELS_H
#include <stddef.h>
#include <stdint.h>

/* Elementwise (float32, same operations in the same order as the TypeScript reference). The int ones
 * return 1 when every value they wrote is finite. */
void tm_axpy(float *y, float a, const float *x, size_t n);
void tm_axpby(float *out, float a, const float *x, float b, const float *y, size_t n);
void tm_scale(float *y, float a, size_t n);
void tm_lerp(float *out, const float *a, const float *b, float t, size_t n);
int tm_weighted_sum(float *out, const float *const *xs, const float *ws, size_t k, size_t n);
void tm_weighted_delta_sum(float *out, const float *base, const float *const *xs, const float *ws, size_t k, size_t n);
int tm_task_arithmetic(float *out, const float *base, const float *const *xs, const float *ws, size_t k, float lambda, size_t n);
int tm_add_scaled(float *out, const float *base, float a, const float *x, size_t n);
void tm_sub(float *out, const float *a, const float *b, size_t n);
void tm_abs_max_select(float *out, const float *const *xs, size_t k, size_t n);
int tm_magmax(float *out, const float *base, const float *const *xs, size_t k, float lambda, int later_wins, size_t n);

/* Reductions. */
double tm_dot(const float *a, const float *b, size_t n);
double tm_sum_squares(const float *x, size_t n);
double tm_sum_abs_ordered(const float *x, size_t n);
ptrdiff_t tm_first_non_finite(const float *x, size_t n);

/* Selection (exact: radix selection on the float bits). */
void tm_abs_top_k(const float *x, size_t n, size_t k, float *threshold, size_t *ties, size_t *equal);
void tm_abs_top_k_pair(const float *x, size_t n, const size_t k[2], float thr[2], size_t ties[2], size_t equal[2]);
void tm_delta_top_k(const float *x, const float *base, size_t n, size_t k, float *threshold, size_t *ties, size_t *equal);
/* tm_delta_top_k by the radix passes alone (for a caller whose bracket pass has already missed). */
void tm_delta_top_k_radix(const float *x, const float *base, size_t n, size_t k, float *threshold, size_t *ties, size_t *equal);
void tm_delta_top_k_many(const float *const *xs, size_t ns, const float *base, size_t n, size_t k, float *thr, size_t *ties, size_t *equal);
size_t tm_trim_rule(float *x, size_t n, float threshold, size_t ties, int all_equal);
size_t tm_trim_band(float *x, size_t n, float outer_thr, size_t outer_ties, int outer_all, float inner_thr, size_t inner_ties, int inner_all);

/* TIES sign election. method: 0 sum, 1 count. */
void tm_elect_signs(int8_t *out, const float *const *vs, const double *ws, size_t k, int method, size_t n);
double tm_sign_total(const int8_t *s, size_t n);

/* TIES fused over θ0 and the experts (see ties_fused.c); returns the sign total it used (or 0) and
 * sets *finite to 1 when every value written is finite. */
double tm_ties_merge(float *out, const float *base, const float *const *xs, size_t k, const float *thr, const size_t *ties,
                     const int *all_equal_kept, const double *ws, const double *ew, int method, int8_t fill, int fill_from_total,
                     int have_total, double total, int mode, float lambda, int deltas, size_t n, int *finite);

#endif
