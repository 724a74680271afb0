import { Matrix, SingularValueDecomposition } from 'ml-matrix';

/**
 * Dense float64 linear algebra for the SVD-based merges (TSV-M, Iso-C/CTS, OPCM, DoP). Matrices are
 * row-major Float64Arrays with their shape passed alongside. The SVD itself is ml-matrix's Golub-Kahan
 * bidiagonalisation with implicit QR (the JAMA algorithm, pure JavaScript, no install-time build): the
 * methods need every singular vector of a tensor (DoP's energy threshold, Iso-CTS's task-specific
 * spaces, OPCM's diagonal), so a truncated or randomized SVD would not give their results.
 */

/** The thin SVD a = u·diag(s)·vt: u is m×k, s has k values (descending, >= 0), vt is k×n, k = min(m, n). */
export interface Svd {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly u: Float64Array;
  readonly s: Float64Array;
  readonly vt: Float64Array;
}

export function svd(a: ArrayLike<number>, m: number, n: number): Svd {
  const k = Math.min(m, n);
  if (a.length !== m * n) throw new Error(`svd: ${a.length} values for a ${m}×${n} matrix`);
  const rows: number[][] = [];
  for (let i = 0; i < m; i++) rows.push(Array.from({ length: n }, (_, j) => a[i * n + j]));
  const d = new SingularValueDecomposition(new Matrix(rows), {
    computeLeftSingularVectors: true,
    computeRightSingularVectors: true,
    autoTranspose: true,
  });
  const U = d.leftSingularVectors;
  const V = d.rightSingularVectors;
  const sv = d.diagonal;
  // ml-matrix returns the values in descending order; the vectors past k (square U or V) are dropped.
  const u = new Float64Array(m * k);
  const vt = new Float64Array(k * n);
  const s = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    s[j] = sv[j];
    for (let i = 0; i < m; i++) u[i * k + j] = U.get(i, j);
    for (let i = 0; i < n; i++) vt[j * n + i] = V.get(i, j);
  }
  return { m, n, k, u, s, vt };
}

/** a (m×p) · b (p×n). */
export function matmul(a: Float64Array, b: Float64Array, m: number, p: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const row = i * n;
    for (let l = 0; l < p; l++) {
      const x = a[i * p + l];
      if (x === 0) continue;
      const brow = l * n;
      for (let j = 0; j < n; j++) out[row + j] += x * b[brow + j];
    }
  }
  return out;
}

/** aᵀ (n×m) of a (m×n). */
export function transpose(a: Float64Array, m: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[j * m + i] = a[i * n + j];
  return out;
}

/** u·diag(s)·vt for u (m×k), s (k), vt (k×n). */
export function usv(
  u: Float64Array,
  s: ArrayLike<number>,
  vt: Float64Array,
  m: number,
  k: number,
  n: number,
): Float64Array {
  const us = new Float64Array(m * k);
  for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) us[i * k + j] = u[i * k + j] * s[j];
  return matmul(us, vt, m, k, n);
}

/**
 * The orthogonal polar factor U·Vᵀ of a (m×n, from its thin SVD): the nearest matrix with orthonormal
 * columns (rows when m < n). TSV-M and Iso-CTS decorrelate stacked singular vectors with it.
 */
export function polar(a: Float64Array, m: number, n: number): Float64Array {
  const d = svd(a, m, n);
  return matmul(d.u, d.vt, m, d.k, n);
}

/** A float32 tensor as float64. */
export function toFloat64(x: Float32Array): Float64Array {
  return Float64Array.from(x);
}
