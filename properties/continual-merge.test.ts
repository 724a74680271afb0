/**
 * Laws of the continual merges (OPCM, DoP) over random models of a linear weight and a bias:
 * - OPCM of one expert returns it;
 * - a task vector orthogonal to the running merge's top singular subspace (no component on its diagonal
 *   or in the top-left block) passes through OPCM's projection unchanged;
 * - the running form the TIME trackers keep (one two-model step per expert) equals a re-run of the merge
 *   from scratch over the same experts in the same order, after every step.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeModels } from '../src/merge/engine.js';
import { DopRunning, dop } from '../src/merge/dop.js';
import { OpcmRunning, opcmClean } from '../src/merge/opcm.js';
import { ParamSet } from '../src/params/paramset.js';
import { matmul, svd, transpose } from '../src/params/svd.js';
import { xorshiftUniform } from './xorshift.js';

const dims = fc.record({ m: fc.integer({ min: 1, max: 6 }), n: fc.integer({ min: 1, max: 6 }), seed: fc.nat() });

function models(m: number, n: number, seed: number, count: number): { base: ParamSet; experts: ParamSet[] } {
  const r = xorshiftUniform(seed);
  const g = (len: number, scale: number) => Float32Array.from({ length: len }, () => (r() * 2 - 1) * scale);
  const make = (label: string, scale: number, from?: ParamSet) => {
    const w = g(m * n, scale);
    const b = g(n, scale);
    if (from) {
      w.forEach((x, i) => (w[i] = Math.fround(x + from.data('l.weight')[i])));
      b.forEach((x, i) => (b[i] = Math.fround(x + from.data('l.bias')[i])));
    }
    return new ParamSet(label).set('l.weight', [m, n], w).set('l.bias', [n], b);
  };
  const base = make('base', 1);
  return { base, experts: Array.from({ length: count }, (_, k) => make(`e${k}`, 0.1 * (k + 1), base)) };
}

const worst = (a: ParamSet, b: ParamSet) => {
  let d = 0;
  for (const [name, t] of a.entries()) {
    const o = b.data(name);
    t.data.forEach((x, i) => (d = Math.max(d, Math.abs(x - o[i]))));
  }
  return d;
};

describe('OPCM laws', () => {
  it('OPCM of one expert returns it', async () => {
    await fc.assert(
      fc.asyncProperty(dims, fc.double({ min: 0, max: 1, noNaN: true }), async ({ m, n, seed }, alpha) => {
        const { base, experts } = models(m, n, seed, 1);
        const merged = await mergeModels({ technique: 'opcm', params: { alpha } }, base, experts);
        expect(worst(merged, experts[0])).toBeLessThan(1e-6);
      }),
      { numRuns: 40 },
    );
  });

  it('a task vector orthogonal to the running merge’s top subspace passes through unchanged', () => {
    fc.assert(
      fc.property(dims, fc.double({ min: 0, max: 0.999, noNaN: true }), ({ m, n, seed }, alpha) => {
        const r = xorshiftUniform(seed);
        const M = Float64Array.from({ length: m * n }, () => r() * 2 - 1);
        const d = svd(M, m, n);
        const k = d.k;
        let total = 0;
        for (const s of d.s) total += s;
        let split = 0;
        for (let i = 0, c = 0; i < k; i++)
          if ((c += d.s[i]) / total > alpha) {
            split = i;
            break;
          }
        // C: zero on the diagonal and the top-left split×split block, random elsewhere; τ = U C Vᵀ plus a
        // part outside U's columns (m > n) or V's rows (n > m), which the projection never sees.
        const C = new Float64Array(k * k);
        for (let i = 0; i < k; i++)
          for (let j = 0; j < k; j++) if (i !== j && !(i < split && j < split)) C[i * k + j] = r() - 0.5;
        const tau = matmul(matmul(d.u, C, m, k, k), d.vt, m, k, n);
        const x = Float64Array.from({ length: m }, () => r() - 0.5);
        const y = Float64Array.from({ length: n }, () => r() - 0.5);
        // x with U's columns projected out, y with V's: x yᵀ has Uᵀ (x yᵀ) V = 0.
        const ux = matmul(transpose(d.u, m, k), x, k, m, 1);
        const vy = matmul(d.vt, y, k, n, 1);
        for (let a = 0; a < m; a++) for (let j = 0; j < k; j++) x[a] -= d.u[a * k + j] * ux[j];
        for (let b = 0; b < n; b++) for (let j = 0; j < k; j++) y[b] -= d.vt[j * n + b] * vy[j];
        for (let a = 0; a < m; a++) for (let b = 0; b < n; b++) tau[a * n + b] += x[a] * y[b];
        const cleaned = opcmClean(M, tau, m, n, alpha);
        tau.forEach((t, i) => expect(Math.abs(cleaned[i] - t)).toBeLessThan(1e-10));
      }),
      { numRuns: 60 },
    );
  });

  it('the running form equals a re-run from scratch over the same order, after every step', async () => {
    await fc.assert(
      fc.asyncProperty(
        dims,
        fc.integer({ min: 1, max: 4 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        async ({ m, n, seed }, T, alpha) => {
          const { base, experts } = models(m, n, seed, T);
          const running = new OpcmRunning(base, alpha);
          for (let t = 1; t <= T; t++) {
            running.add(experts[t - 1]);
            const scratch = await mergeModels({ technique: 'opcm', params: { alpha } }, base, experts.slice(0, t));
            expect(worst(running.current(), scratch)).toBeLessThan(1e-6);
          }
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe('DoP laws', () => {
  it('the running form equals a re-run from scratch over the same order, after every step', async () => {
    await fc.assert(
      fc.asyncProperty(dims, fc.integer({ min: 1, max: 3 }), fc.boolean(), async ({ m, n, seed }, T, mgda) => {
        const { base, experts } = models(m, n, seed, T);
        const raw = { steps: 20, lr: 0.01, mgda };
        const running = new DopRunning(base, dop.parse(raw));
        for (let t = 1; t <= T; t++) {
          running.add(experts[t - 1]);
          const scratch = await mergeModels({ technique: 'dop', params: raw }, base, experts.slice(0, t));
          expect(worst(running.current(), scratch)).toBe(0);
        }
      }),
      { numRuns: 20 },
    );
  });

  it('DoP of copies of one model returns it', async () => {
    await fc.assert(
      fc.asyncProperty(dims, fc.integer({ min: 1, max: 3 }), async ({ m, n, seed }, T) => {
        const { base, experts } = models(m, n, seed, 1);
        const merged = await mergeModels(
          { technique: 'dop', params: { steps: 20, lr: 0.01 } },
          base,
          Array(T).fill(experts[0]),
        );
        expect(worst(merged, experts[0])).toBe(0);
      }),
      { numRuns: 20 },
    );
  });
});
