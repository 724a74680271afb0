/**
 * The TypeScript reference backend: every kernel in plain float32 arithmetic, as a float32 merge in
 * PyTorch would do it. Scalars are rounded to float32 first and every product and sum is rounded
 * (Math.fround), in the order written here; the other backends reproduce these bits. Reductions (dot,
 * sumSquares) accumulate in float64. The technique kernels are in ./reference-techniques.ts. Lengths are
 * checked by ./api.ts before any backend runs.
 */
import type { KernelImpl } from './contract.js';
import { tsMergeKernels } from './reference-techniques.js';

const f = Math.fround;

export const tsKernels: KernelImpl = {
  axpy(y, a, x) {
    const fa = f(a);
    for (let i = 0; i < y.length; i++) y[i] = f(y[i] + f(fa * x[i]));
  },
  axpby(out, a, x, b, y) {
    const fa = f(a);
    const fb = f(b);
    for (let i = 0; i < out.length; i++) out[i] = f(f(fa * x[i]) + f(fb * y[i]));
  },
  scale(y, a) {
    const fa = f(a);
    for (let i = 0; i < y.length; i++) y[i] = f(fa * y[i]);
  },
  lerp(out, a, b, t) {
    const ft = f(t);
    for (let i = 0; i < out.length; i++) {
      const ai = a[i];
      out[i] = f(ai + f(ft * f(b[i] - ai)));
    }
  },
  weightedSum(out, xs, ws) {
    if (xs.length === 0) {
      out.fill(0);
      return;
    }
    const w0 = f(ws[0]);
    const x0 = xs[0];
    for (let i = 0; i < out.length; i++) out[i] = f(w0 * x0[i]);
    for (let k = 1; k < xs.length; k++) {
      const wk = f(ws[k]);
      const x = xs[k];
      for (let i = 0; i < out.length; i++) out[i] = f(out[i] + f(wk * x[i]));
    }
  },
  weightedDeltaSum(out, base, xs, ws) {
    if (xs.length === 0) {
      out.fill(0);
      return;
    }
    const w0 = f(ws[0]);
    const x0 = xs[0];
    for (let i = 0; i < out.length; i++) out[i] = f(w0 * f(x0[i] - base[i]));
    for (let k = 1; k < xs.length; k++) {
      const wk = f(ws[k]);
      const x = xs[k];
      for (let i = 0; i < out.length; i++) out[i] = f(out[i] + f(wk * f(x[i] - base[i])));
    }
  },
  addScaled(out, base, a, x) {
    const fa = f(a);
    for (let i = 0; i < out.length; i++) out[i] = f(base[i] + f(fa * x[i]));
  },
  sub(out, a, b) {
    for (let i = 0; i < out.length; i++) out[i] = f(a[i] - b[i]);
  },
  dot(a, b) {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i] * b[i];
    return s;
  },
  sumSquares(x) {
    let s = 0;
    for (let i = 0; i < x.length; i++) s += x[i] * x[i];
    return s;
  },
  firstNonFinite(x) {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      if (v - v !== 0) return i; // NaN - NaN and ±Inf - ±Inf are NaN; finite v - v is 0
    }
    return -1;
  },
  absMaxSelect(out, xs) {
    const x0 = xs[0];
    if (out !== x0) for (let i = 0; i < out.length; i++) out[i] = x0[i];
    for (let k = 1; k < xs.length; k++) {
      const x = xs[k];
      // >= so that ties go to the later array
      for (let i = 0; i < out.length; i++) if (Math.abs(x[i]) >= Math.abs(out[i])) out[i] = x[i];
    }
  },
  ...tsMergeKernels,
};
