import fc from 'fast-check';
import { describe, it } from 'vitest';
import { mergeModels, resolveMerge } from '../src/merge/engine.js';
import { ParamSet } from '../src/params/paramset.js';
import { nearlyEqual, sameValues, value } from './merge-arbitraries.js';

/** A base and 1..5 experts of two tensors (one inside "layers.N", one outside), with positive weights. */
const models = fc
  .record({ n: fc.integer({ min: 1, max: 12 }), m: fc.integer({ min: 1, max: 12 }), k: fc.integer({ min: 1, max: 5 }) })
  .chain(({ n, m, k }) =>
    fc.record({
      tensors: fc.array(
        fc.tuple(fc.array(value, { minLength: n, maxLength: n }), fc.array(value, { minLength: m, maxLength: m })),
        { minLength: k + 1, maxLength: k + 1 },
      ),
      weights: fc.array(fc.double({ min: 0.125, max: 8, noNaN: true }), { minLength: k, maxLength: k }),
    }),
  )
  .map(({ tensors, weights }) => {
    const mk = ([a, b]: [number[], number[]], label: string) =>
      ParamSet.fromEntries(
        [
          ['model.layers.1.w', { shape: [a.length], data: Float32Array.from(a) }],
          ['head.b', { shape: [b.length], data: Float32Array.from(b) }],
        ],
        label,
      );
    return { base: mk(tensors[0], 'base'), experts: tensors.slice(1).map((t, i) => mk(t, `e${i}`)), weights };
  });

function scaleOf(ps: ParamSet[]): number {
  let s = 0;
  for (const p of ps) for (const [, t] of p.entries()) for (const v of t.data) s = Math.max(s, Math.abs(v));
  return s;
}

const CASES: [string, Record<string, unknown>, boolean, Record<string, unknown> | undefined][] = [
  // technique, params, bit-identical?, LiNeS
  ['weighted-average', { normalize: false }, true, undefined],
  ['weighted-average', {}, false, undefined],
  ['task-arithmetic', { lambda: 0.8 }, true, undefined],
  ['task-arithmetic', { normalize: true }, false, undefined],
  ['magmax', { lambda: 1.3 }, true, undefined],
  ['magmax', { ties: 'earlier' }, true, undefined],
  ['task-arithmetic', {}, true, { alpha: 0.3, beta: 0.6, layers: 3 }],
  ['magmax', {}, true, { alpha: 0.2, beta: 0.5, outside: 'deepest' }],
];

describe('incremental form equals the batch form', () => {
  for (const [technique, params, exact, lines] of CASES) {
    it(`${technique} ${JSON.stringify(params)}${lines ? ' + LiNeS' : ''} (${exact ? 'bit for bit' : 'to float32 rounding'})`, async () => {
      await fc.assert(
        fc.asyncProperty(models, async ({ base, experts, weights }) => {
          const spec = { technique, params, weights, lines };
          const batch = await mergeModels(spec, base, experts);
          const { technique: t, params: p } = resolveMerge(spec, experts.length);
          const inc = t.incremental!(p, base);
          experts.forEach((e, i) => inc.add(e, weights[i]));
          const res = inc.result();
          if (inc.count !== experts.length) return false;
          const s = scaleOf([base, ...experts]) * (technique === 'task-arithmetic' ? 8 * experts.length : 1);
          return batch
            .names()
            .every((n) =>
              exact ? sameValues(batch.data(n), res.data(n)) : nearlyEqual(batch.data(n), res.data(n), s),
            );
        }),
        { numRuns: 40 },
      );
    });
  }
});
