/*
 * Node-API bindings of the C kernels. Arguments are checked for type only; lengths and contracts are
 * checked in TypeScript before the call (src/params/kernels/api.ts), with the same errors on every
 * backend. Kernels work on the typed arrays' own memory: nothing is copied.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include "alloc.h"
#include "breadcrumbs_fused.h"
#include "counter-rng.h"
#include "kernels.h"
#include "map.h"
#include "pool.h"
#include <errno.h>

#define MAX_ARGS 16

typedef struct {
  napi_env env;
  napi_value argv[MAX_ARGS];
  size_t argc;
  int failed;
} args_t;

static int get_args(napi_env env, napi_callback_info info, args_t *a) {
  a->env = env;
  a->argc = MAX_ARGS;
  a->failed = 0;
  return napi_get_cb_info(env, info, &a->argc, a->argv, NULL, NULL) == napi_ok;
}

static void *typed(args_t *a, size_t i, napi_typedarray_type want, size_t *len) {
  napi_typedarray_type type;
  void *data = NULL;
  size_t n = 0;
  bool is = false;
  if (len) *len = 0;
  if (i >= a->argc || napi_is_typedarray(a->env, a->argv[i], &is) != napi_ok || !is ||
      napi_get_typedarray_info(a->env, a->argv[i], &type, &n, &data, NULL, NULL) != napi_ok || type != want) {
    if (!a->failed) napi_throw_type_error(a->env, NULL, "native kernel: bad typed-array argument");
    a->failed = 1;
    return NULL;
  }
  if (len) *len = n;
  return data;
}

static float *f32(args_t *a, size_t i, size_t *len) {
  return typed(a, i, napi_float32_array, len);
}

static double num(args_t *a, size_t i) {
  double v = 0;
  if (i >= a->argc || napi_get_value_double(a->env, a->argv[i], &v) != napi_ok) {
    if (!a->failed) napi_throw_type_error(a->env, NULL, "native kernel: bad number argument");
    a->failed = 1;
  }
  return v;
}

/* A JS array of Float32Arrays as data pointers (caller frees). */
static const float **f32_list(args_t *a, size_t i, size_t *count) {
  uint32_t k = 0;
  if (i >= a->argc || napi_get_array_length(a->env, a->argv[i], &k) != napi_ok) {
    if (!a->failed) napi_throw_type_error(a->env, NULL, "native kernel: bad array-list argument");
    a->failed = 1;
    return NULL;
  }
  const float **xs = malloc((k ? k : 1) * sizeof *xs);
  for (uint32_t e = 0; e < k && !a->failed; e++) {
    napi_value v;
    napi_typedarray_type type;
    void *data = NULL;
    size_t n;
    bool is = false;
    if (napi_get_element(a->env, a->argv[i], e, &v) != napi_ok || napi_is_typedarray(a->env, v, &is) != napi_ok || !is ||
        napi_get_typedarray_info(a->env, v, &type, &n, &data, NULL, NULL) != napi_ok || type != napi_float32_array) {
      napi_throw_type_error(a->env, NULL, "native kernel: bad array-list element");
      a->failed = 1;
    }
    xs[e] = data;
  }
  *count = k;
  return xs;
}

/* A JS array of numbers, as doubles (caller frees). */
static double *num_list(args_t *a, size_t i, size_t *count) {
  uint32_t k = 0;
  if (i >= a->argc || napi_get_array_length(a->env, a->argv[i], &k) != napi_ok) {
    if (!a->failed) napi_throw_type_error(a->env, NULL, "native kernel: bad number-list argument");
    a->failed = 1;
    return NULL;
  }
  double *ws = malloc((k ? k : 1) * sizeof *ws);
  for (uint32_t e = 0; e < k && !a->failed; e++) {
    napi_value v;
    if (napi_get_element(a->env, a->argv[i], e, &v) != napi_ok || napi_get_value_double(a->env, v, &ws[e]) != napi_ok) {
      napi_throw_type_error(a->env, NULL, "native kernel: bad number-list element");
      a->failed = 1;
    }
  }
  *count = k;
  return ws;
}

static float *to_f32(const double *ws, size_t k) {
  float *f = malloc((k ? k : 1) * sizeof *f);
  for (size_t e = 0; e < k; e++) f[e] = (float)ws[e];
  return f;
}

static napi_value ret_bool(napi_env env, int v) {
  napi_value r;
  napi_get_boolean(env, v != 0, &r);
  return r;
}

static napi_value ret_num(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}

#define BEGIN            \
  args_t a;              \
  if (!get_args(env, info, &a)) return NULL;
#define CHECK if (a.failed) return NULL;

static napi_value js_axpy(napi_env env, napi_callback_info info) {
  BEGIN size_t n = 0;
  float *y = f32(&a, 0, &n);
  double s = num(&a, 1);
  float *x = f32(&a, 2, NULL);
  CHECK tm_axpy(y, (float)s, x, n);
  return NULL;
}

static napi_value js_axpby(napi_env env, napi_callback_info info) {
  BEGIN size_t n = 0;
  float *out = f32(&a, 0, &n);
  double s = num(&a, 1);
  float *x = f32(&a, 2, NULL);
  double t = num(&a, 3);
  float *y = f32(&a, 4, NULL);
  CHECK tm_axpby(out, (float)s, x, (float)t, y, n);
  return NULL;
}

static napi_value js_scale(napi_env env, napi_callback_info info) {
  BEGIN size_t n = 0;
  float *y = f32(&a, 0, &n);
  double s = num(&a, 1);
  CHECK tm_scale(y, (float)s, n);
  return NULL;
}

static napi_value js_lerp(napi_env env, napi_callback_info info) {
  BEGIN size_t n = 0;
  float *out = f32(&a, 0, &n);
  float *x = f32(&a, 1, NULL);
  float *y = f32(&a, 2, NULL);
  double t = num(&a, 3);
  CHECK tm_lerp(out, x, y, (float)t, n);
  return NULL;
}

static napi_value js_weighted_sum(napi_env env, napi_callback_info info) {
  BEGIN size_t n = 0, k = 0, kw = 0;
  float *out = f32(&a, 0, &n);
  const float **xs = f32_list(&a, 1, &k);
  double *ws = num_list(&a, 2, &kw);
  int finite = 0;
  if (!a.failed && k > 0) {
    float *wf = to_f32(ws, k);
    finite = tm_weighted_sum(out, xs, wf, k, n);
    free(wf);
  }
  free(xs);
  free(ws);
  return a.failed ? NULL : ret_bool(env, finite);
}

static napi_value js_weighted_delta_sum(napi_env env, napi_callback_info info) {
  BEGIN size_t n = 0, k = 0, kw = 0;
  float *out = f32(&a, 0, &n);
  float *base = f32(&a, 1, NULL);
  const float **xs = f32_list(&a, 2, &k);
  double *ws = num_list(&a, 3, &kw);
  if (!a.failed && k > 0) {
    float *wf = to_f32(ws, k);
    tm_weighted_delta_sum(out, base, xs, wf, k, n);
    free(wf);
  }
  free(xs);
  free(ws);
  return NULL;
}

static napi_value js_task_arithmetic(napi_env env, napi_callback_info info) {
  BEGIN size_t n = 0, k = 0, kw = 0;
  float *out = f32(&a, 0, &n);
  float *base = f32(&a, 1, NULL);
  const float **xs = f32_list(&a, 2, &k);
  double *ws = num_list(&a, 3, &kw);
  double lambda = num(&a, 4);
  int finite = 0;
  if (!a.failed && k > 0) {
    float *wf = to_f32(ws, k);
    finite = tm_task_arithmetic(out, base, xs, wf, k, (float)lambda, n);
    free(wf);
  }
  free(xs);
  free(ws);
  return a.failed ? NULL : ret_bool(env, finite);
}

static napi_value js_add_scaled(napi_env env, napi_callback_info info) {
  BEGIN size_t n = 0;
  float *out = f32(&a, 0, &n);
  float *base = f32(&a, 1, NULL);
  double s = num(&a, 2);
  float *x = f32(&a, 3, NULL);
  CHECK return ret_bool(env, tm_add_scaled(out, base, (float)s, x, n));
}

static napi_value js_sub(napi_env env, napi_callback_info info) {
  BEGIN size_t n = 0;
  float *out = f32(&a, 0, &n);
  float *x = f32(&a, 1, NULL);
  float *y = f32(&a, 2, NULL);
  CHECK tm_sub(out, x, y, n);
  return NULL;
}

static napi_value js_abs_max_select(napi_env env, napi_callback_info info) {
  BEGIN size_t n = 0, k = 0;
  float *out = f32(&a, 0, &n);
  const float **xs = f32_list(&a, 1, &k);
  if (!a.failed && k > 0) tm_abs_max_select(out, xs, k, n);
  free(xs);
  return NULL;
}

static napi_value js_magmax(napi_env env, napi_callback_info info) {
  BEGIN size_t n = 0, k = 0;
  float *out = f32(&a, 0, &n);
  float *base = f32(&a, 1, NULL);
  const float **xs = f32_list(&a, 2, &k);
  double lambda = num(&a, 3);
  double later = num(&a, 4);
  int finite = 0;
  if (!a.failed && k > 0) finite = tm_magmax(out, base, xs, k, (float)lambda, later != 0, n);
  free(xs);
  return a.failed ? NULL : ret_bool(env, finite);
}

static napi_value js_dot(napi_env env, napi_callback_info info) {
  BEGIN size_t n = 0;
  float *x = f32(&a, 0, &n);
  float *y = f32(&a, 1, NULL);
  CHECK return ret_num(env, tm_dot(x, y, n));
}

static napi_value js_sum_squares(napi_env env, napi_callback_info info) {
  BEGIN size_t n = 0;
  float *x = f32(&a, 0, &n);
  CHECK return ret_num(env, tm_sum_squares(x, n));
}

static napi_value js_sum_abs(napi_env env, napi_callback_info info) {
  BEGIN size_t n = 0;
  float *x = f32(&a, 0, &n);
  CHECK return ret_num(env, tm_sum_abs_ordered(x, n));
}

static napi_value js_first_non_finite(napi_env env, napi_callback_info info) {
  BEGIN size_t n = 0;
  float *x = f32(&a, 0, &n);
  CHECK return ret_num(env, (double)tm_first_non_finite(x, n));
}

/* absTopK(x, k, out: Float64Array(3)) writes [threshold, ties, equal]. */
static napi_value js_abs_top_k(napi_env env, napi_callback_info info) {
  BEGIN size_t n = 0, three = 0;
  float *x = f32(&a, 0, &n);
  double k = num(&a, 1);
  double *out = typed(&a, 2, napi_float64_array, &three);
  CHECK if (three < 3 || k < 1 || k > (double)n) {
    napi_throw_range_error(env, NULL, "native absTopK: k outside 1..n");
    return NULL;
  }
  float thr;
  size_t ties, equal;
  tm_abs_top_k(x, n, (size_t)k, &thr, &ties, &equal);
  out[0] = thr;
  out[1] = (double)ties;
  out[2] = (double)equal;
  return NULL;
}

/* absTopKPair(x, k1, k2, out: Float64Array(6)) writes both rules as [threshold, ties, equal] x 2. */
static napi_value js_abs_top_k_pair(napi_env env, napi_callback_info info) {
  BEGIN size_t n = 0, six = 0;
  float *x = f32(&a, 0, &n);
  double k1 = num(&a, 1), k2 = num(&a, 2);
  double *out = typed(&a, 3, napi_float64_array, &six);
  CHECK if (six < 6 || k1 < 1 || k1 > (double)n || k2 < 1 || k2 > (double)n) {
    napi_throw_range_error(env, NULL, "native absTopKPair: k outside 1..n");
    return NULL;
  }
  size_t k[2] = {(size_t)k1, (size_t)k2}, ties[2], equal[2];
  float thr[2];
  tm_abs_top_k_pair(x, n, k, thr, ties, equal);
  for (int r = 0; r < 2; r++) {
    out[3 * r] = thr[r];
    out[3 * r + 1] = (double)ties[r];
    out[3 * r + 2] = (double)equal[r];
  }
  return NULL;
}

/* deltaTopK(x, base, k, out: Float64Array(3)) writes [threshold, ties, equal] of τ = x - base. */
static napi_value js_delta_top_k(napi_env env, napi_callback_info info) {
  BEGIN size_t n = 0, three = 0;
  float *x = f32(&a, 0, &n);
  float *base = f32(&a, 1, NULL);
  double k = num(&a, 2);
  double *out = typed(&a, 3, napi_float64_array, &three);
  CHECK if (three < 3 || k < 1 || k > (double)n) {
    napi_throw_range_error(env, NULL, "native deltaTopK: k outside 1..n");
    return NULL;
  }
  float thr;
  size_t ties, equal;
  tm_delta_top_k(x, base, n, (size_t)k, &thr, &ties, &equal);
  out[0] = thr;
  out[1] = (double)ties;
  out[2] = (double)equal;
  return NULL;
}

/* deltaTopKMany(xs, base, k, out: Float64Array(3·len(xs))) writes deltaTopK's triple for every x, one pass per 16 experts. */
static napi_value js_delta_top_k_many(napi_env env, napi_callback_info info) {
  BEGIN size_t n = 0, ns = 0, outn = 0;
  const float **xs = f32_list(&a, 0, &ns);
  float *base = f32(&a, 1, &n);
  double k = num(&a, 2);
  double *out = typed(&a, 3, napi_float64_array, &outn);
  if (!a.failed && (outn < 3 * ns || k < 1 || k > (double)n)) {
    free(xs);
    napi_throw_range_error(env, NULL, "native deltaTopKMany: k outside 1..n or output too short");
    return NULL;
  }
  if (!a.failed && ns > 0) {
    float *thr = malloc(ns * sizeof *thr);
    size_t *ties = malloc(ns * sizeof *ties), *equal = malloc(ns * sizeof *equal);
    tm_delta_top_k_many(xs, ns, base, n, (size_t)k, thr, ties, equal);
    for (size_t s = 0; s < ns; s++) {
      out[3 * s] = thr[s];
      out[3 * s + 1] = (double)ties[s];
      out[3 * s + 2] = (double)equal[s];
    }
    free(thr);
    free(ties);
    free(equal);
  }
  free(xs);
  return NULL;
}

/*
 * tiesMerge(out, base, xs, rules: Float64Array(3k) of [threshold, ties, equal (-1: unknown)], ws, ew,
 * method, fill, fillFromTotal, haveTotal, total, mode, lambda, deltas) -> [sign total used, all finite].
 */
static napi_value js_ties_merge(napi_env env, napi_callback_info info) {
  BEGIN size_t n = 0, k = 0, nr = 0, kw = 0, ke = 0;
  float *out = f32(&a, 0, &n);
  float *base = f32(&a, 1, NULL);
  const float **xs = f32_list(&a, 2, &k);
  double *rules = typed(&a, 3, napi_float64_array, &nr);
  double *ws = num_list(&a, 4, &kw);
  double *ew = num_list(&a, 5, &ke);
  double method = num(&a, 6), fill = num(&a, 7), from_total = num(&a, 8), have_total = num(&a, 9), total = num(&a, 10);
  double mode = num(&a, 11), lambda = num(&a, 12), deltas = num(&a, 13);
  napi_value result = NULL;
  if (!a.failed && nr >= 3 * k && kw >= k && ke >= k) {
    float *thr = malloc((k ? k : 1) * sizeof *thr);
    size_t *ties = malloc((k ? k : 1) * sizeof *ties);
    int *all = malloc((k ? k : 1) * sizeof *all);
    for (size_t e = 0; e < k; e++) {
      thr[e] = (float)rules[3 * e];
      ties[e] = (size_t)rules[3 * e + 1];
      all[e] = rules[3 * e + 2] >= 0 && rules[3 * e + 2] <= rules[3 * e + 1];
    }
    int finite = 0;
    double t = tm_ties_merge(out, base, xs, k, thr, ties, all, ws, ew, (int)method, (int8_t)fill, (int)from_total, have_total != 0, total,
                             (int)mode, (float)lambda, deltas != 0, n, &finite);
    /* [sign total, all written values finite] */
    napi_create_array_with_length(env, 2, &result);
    napi_set_element(env, result, 0, ret_num(env, t));
    napi_set_element(env, result, 1, ret_bool(env, finite));
    free(thr);
    free(ties);
    free(all);
  }
  free(xs);
  free(ws);
  free(ew);
  return result;
}

/* breadcrumbsLinear(out, base, xs, ws, lambda, nBottom, nTop): Breadcrumbs' selection and linear step fused; returns finite. */
static napi_value js_breadcrumbs_linear(napi_env env, napi_callback_info info) {
  BEGIN size_t n = 0, k = 0, kw = 0;
  float *out = f32(&a, 0, &n);
  float *base = f32(&a, 1, NULL);
  const float **xs = f32_list(&a, 2, &k);
  double *ws = num_list(&a, 3, &kw);
  double lambda = num(&a, 4), n_bottom = num(&a, 5), n_top = num(&a, 6);
  int finite = 0;
  if (!a.failed && (k == 0 || kw < k || n_bottom < 0 || n_top < 0 || n_bottom + n_top >= (double)n)) {
    napi_throw_range_error(env, NULL, "native breadcrumbsLinear: needs experts, weights and nBottom + nTop < n");
    a.failed = 1;
  }
  if (!a.failed) {
    float *wf = to_f32(ws, k);
    finite = tm_breadcrumbs_linear(out, base, xs, wf, k, (float)lambda, (size_t)n_bottom, (size_t)n_top, n);
    free(wf);
  }
  free(xs);
  free(ws);
  return a.failed ? NULL : ret_bool(env, finite);
}

static napi_value js_trim_rule(napi_env env, napi_callback_info info) {
  BEGIN size_t n = 0;
  float *x = f32(&a, 0, &n);
  double thr = num(&a, 1), ties = num(&a, 2), all = num(&a, 3);
  CHECK return ret_num(env, (double)tm_trim_rule(x, n, (float)thr, (size_t)ties, all != 0));
}

static napi_value js_trim_band(napi_env env, napi_callback_info info) {
  BEGIN size_t n = 0;
  float *x = f32(&a, 0, &n);
  double ot = num(&a, 1), oties = num(&a, 2), oall = num(&a, 3), it = num(&a, 4), ities = num(&a, 5), iall = num(&a, 6);
  CHECK return ret_num(env, (double)tm_trim_band(x, n, (float)ot, (size_t)oties, oall != 0, (float)it, (size_t)ities, iall != 0));
}

static napi_value js_elect_signs(napi_env env, napi_callback_info info) {
  BEGIN size_t n = 0, k = 0, kw = 0;
  int8_t *out = typed(&a, 0, napi_int8_array, &n);
  const float **vs = f32_list(&a, 1, &k);
  double *ws = num_list(&a, 2, &kw);
  double method = num(&a, 3);
  if (!a.failed) tm_elect_signs(out, vs, ws, k, (int)method, n);
  free(vs);
  free(ws);
  return NULL;
}

static napi_value js_sign_total(napi_env env, napi_callback_info info) {
  BEGIN size_t n = 0;
  int8_t *s = typed(&a, 0, napi_int8_array, &n);
  CHECK return ret_num(env, tm_sign_total(s, n));
}

/* DARE / random selection on counter-based draws (dare.c). Keys and cuts arrive as doubles holding integers. */
static napi_value js_dare_l1(napi_env env, napi_callback_info info) {
  BEGIN size_t n = 0, nb = 0, two = 0;
  float *x = f32(&a, 0, &n);
  bool has_base = false;
  float *base = NULL;
  if (a.argc > 1 && napi_is_typedarray(env, a.argv[1], &has_base) == napi_ok && has_base) base = f32(&a, 1, &nb);
  double cut = num(&a, 2), k0 = num(&a, 3), k1 = num(&a, 4), k = num(&a, 5);
  double *out = typed(&a, 6, napi_float64_array, &two);
  CHECK tm_dare_l1(x, base, n, (uint32_t)cut, (uint32_t)k0, (uint32_t)k1, (uint32_t)k, out);
  return NULL;
}

static napi_value js_dare_drop(napi_env env, napi_callback_info info) {
  BEGIN size_t n = 0;
  float *t = f32(&a, 0, &n);
  double cut = num(&a, 1), k0 = num(&a, 2), k1 = num(&a, 3), k = num(&a, 4), s = num(&a, 5);
  CHECK tm_dare_drop(t, n, (uint32_t)cut, (uint32_t)k0, (uint32_t)k1, (uint32_t)k, (float)s);
  return NULL;
}

static napi_value js_dare_linear(napi_env env, napi_callback_info info) {
  BEGIN size_t n = 0, k = 0, kw = 0, ks = 0;
  float *out = f32(&a, 0, &n);
  float *base = f32(&a, 1, NULL);
  const float **xs = f32_list(&a, 2, &k);
  double *ws = num_list(&a, 3, &kw);
  double *sc = num_list(&a, 4, &ks);
  double lambda = num(&a, 5), cut = num(&a, 6), k0 = num(&a, 7), k1 = num(&a, 8);
  int finite = 0;
  if (!a.failed && k > 0) {
    float *wf = to_f32(ws, k), *sf = to_f32(sc, k);
    finite = tm_dare_linear(out, base, xs, wf, sf, k, (float)lambda, (uint32_t)cut, (uint32_t)k0, (uint32_t)k1, n);
    free(wf);
    free(sf);
  }
  free(xs);
  free(ws);
  free(sc);
  return a.failed ? NULL : ret_bool(env, finite);
}

static napi_value js_random_pick_counter(napi_env env, napi_callback_info info) {
  BEGIN size_t n = 0, k = 0, nc = 0;
  float *out = f32(&a, 0, &n);
  float *base = f32(&a, 1, NULL);
  const float **xs = f32_list(&a, 2, &k);
  double *cuts = typed(&a, 3, napi_float64_array, &nc);
  double k0 = num(&a, 4), k1 = num(&a, 5);
  if (!a.failed && k > 0) tm_random_pick_counter(out, base, xs, k, cuts, (uint32_t)k0, (uint32_t)k1, n);
  free(xs);
  return NULL;
}

static void unmap_finalize(napi_env env, void *data, void *hint) {
  tm_unmap_file(data, (size_t)(uintptr_t)hint);
}

/* mapFile(fd, length): the file's first `length` bytes as an ArrayBuffer over a private mapping, unmapped
   when the buffer is collected (so no view can outlive it). Throws when the file is shorter or mmap fails. */
static napi_value js_map_file(napi_env env, napi_callback_info info) {
  BEGIN double fd = num(&a, 0), length = num(&a, 1);
  CHECK if (!(fd >= 0) || !(length >= 1) || length > 9007199254740991.0) {
    napi_throw_range_error(env, NULL, "mapFile: bad fd or length");
    return NULL;
  }
  void *p = tm_map_file((int)fd, (size_t)length);
  if (!p) {
    napi_throw_error(env, NULL, errno == ERANGE ? "mapFile: the file is shorter than the mapping" : strerror(errno));
    return NULL;
  }
  napi_value ab;
  if (napi_create_external_arraybuffer(env, p, (size_t)length, unmap_finalize, (void *)(uintptr_t)(size_t)length, &ab) !=
      napi_ok) {
    tm_unmap_file(p, (size_t)length);
    napi_throw_error(env, NULL, "mapFile: the runtime refused an external ArrayBuffer");
    return NULL;
  }
  return ab;
}

/* mappedCut(buffer): whether the file behind a mapFile buffer was truncated under a read of it (map.c). */
static napi_value js_mapped_cut(napi_env env, napi_callback_info info) {
  BEGIN void *data = NULL;
  size_t n = 0;
  bool is = false;
  CHECK if (napi_is_arraybuffer(env, a.argv[0], &is) != napi_ok || !is ||
            napi_get_arraybuffer_info(env, a.argv[0], &data, &n) != napi_ok) {
    napi_throw_type_error(env, NULL, "mappedCut: bad ArrayBuffer");
    return NULL;
  }
  napi_value out;
  napi_get_boolean(env, tm_map_cut(data) != 0, &out);
  return out;
}

/* releasePages(buffer, offset, length): drops the mapped pages of a range already used. */
static napi_value js_release_pages(napi_env env, napi_callback_info info) {
  BEGIN double offset = num(&a, 1), length = num(&a, 2);
  void *data = NULL;
  size_t n = 0;
  bool is = false;
  CHECK if (napi_is_arraybuffer(env, a.argv[0], &is) != napi_ok || !is ||
            napi_get_arraybuffer_info(env, a.argv[0], &data, &n) != napi_ok) {
    napi_throw_type_error(env, NULL, "releasePages: bad ArrayBuffer");
    return NULL;
  }
  if (offset >= 0 && length >= 0 && offset + length <= (double)n) tm_release_pages(data, (size_t)offset, (size_t)length);
  return NULL;
}

/* startWriteback(fd, offset, length): asks the kernel to start writing a range of a file out. */
static napi_value js_start_writeback(napi_env env, napi_callback_info info) {
  BEGIN double fd = num(&a, 0), offset = num(&a, 1), length = num(&a, 2);
  CHECK if (fd >= 0 && offset >= 0 && length > 0) tm_start_writeback((int)fd, (size_t)offset, (size_t)length);
  return NULL;
}

static napi_value js_threads(napi_env env, napi_callback_info info) {
  return ret_num(env, (double)tm_parts_for(TM_PARALLEL_MIN));
}

#define FN(name, fn) {name, NULL, fn, NULL, NULL, NULL, napi_default, NULL}

static napi_value init(napi_env env, napi_value exports) {
  tm_keep_freed_memory();
  napi_property_descriptor props[] = {
      FN("axpy", js_axpy),
      FN("axpby", js_axpby),
      FN("scale", js_scale),
      FN("lerp", js_lerp),
      FN("weightedSum", js_weighted_sum),
      FN("weightedDeltaSum", js_weighted_delta_sum),
      FN("addScaled", js_add_scaled),
      FN("taskArithmetic", js_task_arithmetic),
      FN("sub", js_sub),
      FN("absMaxSelect", js_abs_max_select),
      FN("magmax", js_magmax),
      FN("dot", js_dot),
      FN("sumSquares", js_sum_squares),
      FN("sumAbs", js_sum_abs),
      FN("firstNonFinite", js_first_non_finite),
      FN("absTopK", js_abs_top_k),
      FN("absTopKPair", js_abs_top_k_pair),
      FN("deltaTopK", js_delta_top_k),
      FN("deltaTopKMany", js_delta_top_k_many),
      FN("tiesMerge", js_ties_merge),
      FN("trimRule", js_trim_rule),
      FN("trimBand", js_trim_band),
      FN("breadcrumbsLinear", js_breadcrumbs_linear),
      FN("electSigns", js_elect_signs),
      FN("signTotal", js_sign_total),
      FN("dareL1", js_dare_l1),
      FN("dareDrop", js_dare_drop),
      FN("dareLinear", js_dare_linear),
      FN("randomPickCounter", js_random_pick_counter),
      FN("threads", js_threads),
      FN("mapFile", js_map_file),
      FN("mappedCut", js_mapped_cut),
      FN("releasePages", js_release_pages),
      FN("startWriteback", js_start_writeback),
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
