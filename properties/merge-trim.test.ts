import fc from 'fast-check';
import { describe, it } from 'vitest';
import { breadcrumbTrim } from '../src/merge/breadcrumbs.js';
import { dropTaskVector, dropTaskVectorCounter } from '../src/merge/dare.js';
import { counterKey } from '../src/params/counter-rng.js';
import { mergeModels, tensorRng } from '../src/merge/engine.js';
import { prepareGlobalTrim } from '../src/merge/global-trim.js';
import { selectKth } from '../src/params/select-kth.js';
import { keepCount, trimByRule, trimOutliers, trimTopK } from '../src/merge/trim.js';
import { ParamSet } from '../src/params/paramset.js';
import { sameValues, value } from './merge-arbitraries.js';

const RUNS = { numRuns: 80 };
/** Non-zero values (so "kept" can be read off the output) with many exact magnitude ties. */
const nonZero = value.map((v) => (v === 0 ? 1 : v));
const vector = (min = 1, max = 60) => fc.array(nonZero, { minLength: min, maxLength: max });

/** Every kept magnitude is >= every dropped one (for top-k) . */
function separated(x: number[], kept: Float32Array): boolean {
  let minKept = Infinity;
  let maxDropped = -Infinity;
  x.forEach((v, i) => {
    if (kept[i] !== 0) minKept = Math.min(minKept, Math.abs(v));
    else maxDropped = Math.max(maxDropped, Math.abs(v));
  });
  return minKept >= maxDropped;
}

const nonzeros = (a: Float32Array) => a.reduce((c, v) => c + (v !== 0 ? 1 : 0), 0);

describe('selection', () => {
  it('selectKth returns the k-th smallest value (as a sort would), on arrays full of duplicates too', () => {
    fc.assert(
      fc.property(
        fc
          .array(value, { minLength: 1, maxLength: 300 })
          .chain((x) => fc.record({ x: fc.constant(x), k: fc.integer({ min: 0, max: x.length - 1 }) })),
        ({ x, k }) => {
          const sorted = Float32Array.from(x).sort();
          return selectKth(Float32Array.from(x), k) === sorted[k];
        },
      ),
      RUNS,
    );
  });
});

describe('trimming keeps exact counts', () => {
  it('top-k keeps exactly ⌊density·n⌋ values, unchanged, and never a smaller one over a larger one', () => {
    fc.assert(
      fc.property(vector(), fc.double({ min: 0.01, max: 1, noNaN: true }), (x, density) => {
        const t = Float32Array.from(x);
        const k = keepCount(x.length, density);
        trimTopK(t, k);
        return nonzeros(t) === k && separated(x, t) && x.every((v, i) => t[i] === 0 || t[i] === Math.fround(v));
      }),
      RUNS,
    );
  });
  it('density 1 keeps everything', () => {
    fc.assert(
      fc.property(vector(), (x) => {
        const t = Float32Array.from(x);
        trimTopK(t, keepCount(x.length, 1));
        return sameValues(t, Float32Array.from(x));
      }),
      RUNS,
    );
  });
  it('breadcrumbs keeps n - ⌊p·n⌋ - ⌊γ·n⌋ per unit, the middle band by magnitude', () => {
    fc.assert(
      fc.property(
        vector(),
        fc.double({ min: 0, max: 0.7, noNaN: true }),
        fc.double({ min: 0, max: 0.29, noNaN: true }),
        (x, p, gamma) => {
          const n = x.length;
          const nBottom = Math.floor(p * n + 1e-9);
          const nTop = Math.floor(gamma * n + 1e-9);
          const t = Float32Array.from(x);
          const kept = trimOutliers(t, nBottom, nTop);
          // the dropped top are all >= every kept, the dropped bottom all <= every kept
          const mags = x.map(Math.abs);
          const keptMags = mags.filter((_, i) => t[i] !== 0);
          const lo = Math.min(...keptMags);
          const hi = Math.max(...keptMags);
          const droppedOk = mags.every((m, i) => t[i] !== 0 || m >= hi || m <= lo);
          return kept === n - nBottom - nTop && nonzeros(t) === kept && droppedOk;
        },
      ),
      RUNS,
    );
  });
  it('breadcrumbs per row keeps the same count in every row', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 12 }),
        fc.double({ min: 0, max: 0.6, noNaN: true }),
        (rows, cols, p) => {
          const x = Float32Array.from({ length: rows * cols }, (_, i) => ((i * 7919) % 13) - 6.5);
          breadcrumbTrim(x, [rows, cols], {
            p,
            gamma: 0.1,
            granularity: 'row',
            rescale: 'none',
            density: 0,
            counts: 'guarded',
          });
          const want = cols - Math.floor(p * cols + 1e-9) - Math.floor(0.1 * cols + 1e-9);
          for (let r = 0; r < rows; r++) if (nonzeros(x.subarray(r * cols, (r + 1) * cols)) !== want) return false;
          return true;
        },
      ),
      RUNS,
    );
  });
  it('global top-k keeps exactly ⌊density·numel⌋ per expert over the whole model', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(vector(1, 20), { minLength: 1, maxLength: 4 }),
        fc.array(vector(1, 20), { minLength: 1, maxLength: 4 }),
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        async (a, b, density) => {
          // two experts whose tensors have the shapes of `a`; expert 2 takes its values from b, cycled
          const shapes = a.map((t) => t.length);
          const mk = (label: string, vals: number[][]) =>
            ParamSet.fromEntries(
              shapes.map((n, j) => [
                `t${j}`,
                {
                  shape: [n],
                  data: Float32Array.from(
                    { length: n },
                    (_, i) => vals[j % vals.length][i % vals[j % vals.length].length],
                  ),
                },
              ]),
              label,
            );
          const base = ParamSet.fromEntries(
            shapes.map((n, j) => [`t${j}`, { shape: [n], data: new Float32Array(n) }]),
            'base',
          );
          const experts = [mk('e1', a), mk('e2', b)];
          const g = await prepareGlobalTrim(base, experts, { count: (n) => keepCount(n, density) });
          const total = shapes.reduce((s, n) => s + n, 0);
          const K = keepCount(total, density);
          for (let k = 0; k < 2; k++) {
            let kept = 0;
            const all: number[] = [];
            const keptFlags: boolean[] = [];
            for (let j = 0; j < shapes.length; j++) {
              const t = experts[k].data(`t${j}`).slice();
              const orig = [...t];
              kept += trimByRule(t, g.rules.get(`t${j}`)![k]);
              orig.forEach((v, i) => {
                all.push(Math.abs(v));
                keptFlags.push(t[i] !== 0);
              });
            }
            const minKept = Math.min(...all.filter((_, i) => keptFlags[i]));
            const maxDropped = Math.max(...all.filter((_, i) => !keptFlags[i]));
            if (kept !== K || minKept < maxDropped) return false;
          }
          return true;
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('DARE', () => {
  it('preserves the L1 norm in expectation with 1/(1-p) rescaling (mean over 400 seeds within 5 standard errors)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 20, maxLength: 200 }),
        fc.double({ min: 0.05, max: 0.8, noNaN: true }),
        (x, p) => {
          const xs = Float32Array.from(x);
          const l1 = xs.reduce((s, v) => s + Math.abs(v), 0);
          // each |τ_i| survives with probability 1-p as |τ_i|/(1-p): variance τ_i²·p/(1-p)
          const seeds = 400;
          const se = Math.sqrt((xs.reduce((s, v) => s + v * v, 0) * p) / (1 - p) / seeds);
          let mean = 0;
          for (let s = 0; s < seeds; s++) {
            const t = xs.slice();
            dropTaskVectorCounter(t, { p, rescale: 'inverse' }, counterKey(tensorRng(s, 'w')), 0);
            mean += t.reduce((a, v) => a + Math.abs(v), 0) / seeds;
          }
          return Math.abs(mean - l1) <= 5 * se + 1e-4 * l1;
        },
      ),
      { numRuns: 10 },
    );
  });
  it('preserves the L1 norm exactly (to float32 rounding) with L1 rescaling, whichever mask', () => {
    fc.assert(
      fc.property(
        vector(5, 80),
        fc.double({ min: 0, max: 0.9, noNaN: true }),
        fc.constantFrom('bernoulli', 'exact'),
        fc.integer(),
        (x, p, mask, seed) => {
          const t = Float32Array.from(x);
          const l1 = t.reduce((a, v) => a + Math.abs(v), 0);
          if (mask === 'bernoulli')
            dropTaskVectorCounter(t, { p, rescale: 'l1' }, counterKey(tensorRng(seed, 'w')), seed & 7);
          else dropTaskVector(t, { p, rescale: 'l1', mask: 'exact' }, tensorRng(seed, 'w'));
          const after = t.reduce((a, v) => a + Math.abs(v), 0);
          // mergekit's guard: no rescale when either norm is below 1e-7 (here: only denormals survived)
          return after < 1e-7 || l1 < 1e-7 || Math.abs(after - l1) <= 1e-5 * l1;
        },
      ),
      RUNS,
    );
  });
  it('the Bernoulli mask drops each element with probability floor(p·2^32)/2^32, independently per expert (counts within 6 sd)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 0.99, noNaN: true }),
        fc.integer(),
        fc.integer({ min: 0, max: 50 }),
        (p, seed, k) => {
          const n = 20000;
          const key = counterKey(tensorRng(seed, 'w'));
          const a = new Float32Array(n).fill(1);
          const b = new Float32Array(n).fill(1);
          dropTaskVectorCounter(a, { p, rescale: 'none' }, key, k);
          dropTaskVectorCounter(b, { p, rescale: 'none' }, key, k + 1);
          const sd = Math.sqrt(n * p * (1 - p));
          let both = 0;
          for (let i = 0; i < n; i++) if (a[i] === 0 && b[i] === 0) both++;
          const q = p * p;
          return (
            Math.abs(n - nonzeros(a) - n * p) <= 6 * sd + 1 &&
            Math.abs(both - n * q) <= 6 * Math.sqrt(n * q * (1 - q)) + 1
          );
        },
      ),
      RUNS,
    );
  });
  it('exact mask drops exactly ⌊p·n⌋ elements', () => {
    fc.assert(
      fc.property(vector(), fc.double({ min: 0, max: 0.99, noNaN: true }), fc.integer(), (x, p, seed) => {
        const t = Float32Array.from(x);
        dropTaskVector(t, { p, rescale: 'none', mask: 'exact' }, tensorRng(seed, 'w'));
        return nonzeros(t) === x.length - Math.floor(p * x.length + 1e-9);
      }),
      RUNS,
    );
  });
  it('the same seed gives a bit-identical merge, whatever order the tensors are visited in', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(vector(1, 30), { minLength: 2, maxLength: 4 }),
        fc.integer({ min: 0, max: 1e6 }),
        fc.constantFrom('dare-linear', 'dare-ties', 'random-selection'),
        async (ts, seed, technique) => {
          const mk = (label: string, f: (v: number) => number, order: number[]) =>
            ParamSet.fromEntries(
              order.map((j) => [`t${j}`, { shape: [ts[j].length], data: Float32Array.from(ts[j], f) }]),
              label,
            );
          const fwd = ts.map((_, j) => j);
          const rev = [...fwd].reverse();
          const run = (order: number[]) =>
            mergeModels(
              { technique, params: technique === 'random-selection' ? {} : { p: 0.5 }, seed },
              mk('base', () => 0, order),
              [mk('e1', (v) => v, order), mk('e2', (v) => -v / 2, order)],
            );
          const a = await run(fwd);
          const b = await run(fwd);
          const c = await run(rev);
          return fwd.every(
            (j) => sameValues(a.data(`t${j}`), b.data(`t${j}`)) && sameValues(a.data(`t${j}`), c.data(`t${j}`)),
          );
        },
      ),
      { numRuns: 30 },
    );
  });
});
