import fc from 'fast-check';
import { tensorRng } from '../src/merge/engine.js';
import { getTechnique } from '../src/merge/registry.js';

/** Values with plenty of exact ties (small integers and halves) mixed with arbitrary floats. */
export const value = fc.oneof(
  fc.integer({ min: -4, max: 4 }).map((v) => v / 2),
  fc.double({ min: -100, max: 100, noNaN: true, noDefaultInfinity: true }).map((v) => Math.fround(v) + 0),
);

/** A base and 1..maxExperts experts, all of length 1..maxLen. */
export function mergeCase(minExperts = 1, maxExperts = 5, maxLen = 40) {
  return fc
    .record({ n: fc.integer({ min: 1, max: maxLen }), k: fc.integer({ min: minExperts, max: maxExperts }) })
    .chain(({ n, k }) =>
      fc.record({
        base: fc.array(value, { minLength: n, maxLength: n }),
        experts: fc.array(fc.array(value, { minLength: n, maxLength: n }), { minLength: k, maxLength: k }),
        weights: fc.array(fc.double({ min: 0.125, max: 8, noNaN: true }), { minLength: k, maxLength: k }),
        seed: fc.integer({ min: 0, max: 1_000_000 }),
      }),
    );
}

export interface Case {
  base: number[];
  experts: number[][];
  weights: number[];
  seed: number;
}

/** One technique on one tensor, straight through parse + merge. */
export function mergeOne(
  technique: string,
  params: Record<string, unknown>,
  c: Case,
  rng = tensorRng(c.seed, 'w'),
  expertParams?: readonly Record<string, number>[],
): Float32Array {
  const t = getTechnique(technique);
  return t.merge(
    {
      name: 'w',
      shape: [c.base.length],
      base: Float32Array.from(c.base),
      experts: c.experts.map((e) => Float32Array.from(e)),
      weights: c.weights,
      rng,
      expertParams,
    },
    t.parse(params),
  );
}

/** Equal as numbers (+0 and -0 alike), element by element. */
export function sameValues(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!(a[i] === b[i])) return false;
  return true;
}

/** Equal up to float32 rounding of sums: |a-b| <= tol·(1 + scale). */
export function nearlyEqual(a: ArrayLike<number>, b: ArrayLike<number>, scale: number, tol = 2e-5): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i] - b[i]) <= tol * (1 + scale))) return false;
  return true;
}

export function maxAbs(c: Case): number {
  let m = 0;
  for (const v of c.base) m = Math.max(m, Math.abs(v));
  for (const e of c.experts) for (const v of e) m = Math.max(m, Math.abs(v));
  return m;
}
