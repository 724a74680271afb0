import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matmul, polar, svd, transpose, usv } from '../src/params/svd.js';

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};
const identity = (k: number) => {
  const e = new Float64Array(k * k);
  for (let i = 0; i < k; i++) e[i * k + i] = 1;
  return e;
};

describe('svd', () => {
  it('gives the singular values of hand-computed matrices', () => {
    // [[3, 0], [4, 5]]: AᵀA = [[25, 20], [20, 25]] has eigenvalues 45 and 5.
    expect([...svd(Float64Array.of(3, 0, 4, 5), 2, 2).s].map((x) => x * x)).toEqual([
      expect.closeTo(45, 12),
      expect.closeTo(5, 12),
    ]);
    // A rank-one 2×3 matrix u vᵀ with ‖u‖ = √5, ‖v‖ = √14: one value √70, the other 0.
    const d = svd(Float64Array.of(1, 2, 3, 2, 4, 6), 2, 3);
    expect(d.s[0]).toBeCloseTo(Math.sqrt(70), 12);
    expect(d.s[1]).toBeCloseTo(0, 12);
    // A diagonal matrix: its entries, sorted, in absolute value.
    expect([...svd(Float64Array.of(1, 0, 0, 0, -7, 0, 0, 0, 3), 3, 3).s]).toEqual([
      expect.closeTo(7, 12),
      expect.closeTo(3, 12),
      expect.closeTo(1, 12),
    ]);
  });

  it('reconstructs any matrix with orthonormal factors and descending values (tall, wide, square)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (m, n, seed) => {
          let s = seed || 1;
          const rand = () => ((s = (s * 48271) % 2147483647) / 2147483647) * 2 - 1;
          const a = Float64Array.from({ length: m * n }, rand);
          const d = svd(a, m, n);
          expect(maxAbs(usv(d.u, d.s, d.vt, m, d.k, n), a)).toBeLessThan(1e-12);
          expect(maxAbs(matmul(transpose(d.u, m, d.k), d.u, d.k, m, d.k), identity(d.k))).toBeLessThan(1e-12);
          expect(maxAbs(matmul(d.vt, transpose(d.vt, d.k, n), d.k, n, d.k), identity(d.k))).toBeLessThan(1e-12);
          for (let i = 1; i < d.k; i++) expect(d.s[i]).toBeLessThanOrEqual(d.s[i - 1]);
          expect(d.s[d.k - 1]).toBeGreaterThanOrEqual(0);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('polar gives orthonormal columns that span the same space, and is the identity on them', () => {
    const a = Float64Array.of(2, 0, 0, 3, 1, 1);
    const p = polar(a, 3, 2);
    expect(maxAbs(matmul(transpose(p, 3, 2), p, 2, 3, 2), identity(2))).toBeLessThan(1e-12);
    expect(maxAbs(polar(p, 3, 2), p)).toBeLessThan(1e-12);
  });
});
