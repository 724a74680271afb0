/** Merging into reused output memory (MergeOptions.into) gives the same model as a fresh merge, on every backend. */
import { afterAll, describe, expect, it } from 'vitest';
import { mergeModels } from '../src/merge/engine.js';
import { availableKernels, kernelBackend, useKernels } from '../src/params/kernels.js';
import { ParamSet } from '../src/params/paramset.js';

const initial = kernelBackend();
afterAll(() => useKernels(initial));

function model(label: string, seed: number): ParamSet {
  // 3000 values: past the native backend's small-array threshold; a 7-value tensor stays below it
  const t = (n: number, s: number) =>
    Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + s) * (1 + (i % 7)));
  return ParamSet.fromEntries(
    [
      ['w', { shape: [30, 100], data: t(3000, seed) }],
      ['b', { shape: [7], data: t(7, seed + 0.5) }],
    ],
    label,
  );
}

const bits = (p: ParamSet) =>
  Object.fromEntries(
    p.names().map((n) => [n, [...new Uint32Array(p.data(n).buffer, p.data(n).byteOffset, p.data(n).length)]]),
  );

const techniques = [
  'weighted-average',
  'task-arithmetic',
  'magmax',
  'ties',
  'dare-linear',
  'dare-ties',
  'breadcrumbs',
  'breadcrumbs-ties',
  'random-selection',
];

describe('mergeModels into a reused model', () => {
  for (const backend of availableKernels()) {
    it(`writes into the given tensors and equals a fresh merge (${backend})`, async () => {
      useKernels(backend);
      const base = model('base', 0);
      const experts = [model('e1', 1), model('e2', 2), model('e3', 3)];
      for (const technique of techniques) {
        const spec = { technique, seed: 5 };
        const fresh = await mergeModels(spec, base, experts);
        const into = model('stale', 9); // old contents must not matter
        const w = into.data('w');
        const reused = await mergeModels(spec, base, experts, { into });
        expect(bits(reused), technique).toEqual(bits(fresh));
        expect(reused.data('w'), technique).toBe(w);
      }
    });
  }
});

describe('the non-finite check', () => {
  // Kernels that write a merge's final values may vouch for them (src/params/finite-marks.ts); a value
  // that overflows must still be caught, on every backend, also when writing into reused memory.
  for (const backend of availableKernels()) {
    it(`rejects an overflowing merge (${backend})`, async () => {
      useKernels(backend);
      const big = (v: number) =>
        ParamSet.fromEntries([['w', { shape: [3000], data: new Float32Array(3000).fill(v) }]], String(v));
      const base = big(0);
      const experts = [big(3e38), big(3e38)];
      for (const technique of ['weighted-average', 'task-arithmetic', 'ties', 'magmax', 'dare-linear']) {
        const params: Record<string, Record<string, unknown>> = {
          'weighted-average': { normalize: false },
          'task-arithmetic': {},
          ties: { density: 1, disjoint: 'sum' },
          magmax: { lambda: 4 },
          'dare-linear': { p: 0 },
        };
        for (const into of [undefined, big(1)]) {
          await expect(
            mergeModels({ technique, params: params[technique] }, base, experts, { into }),
            technique,
          ).rejects.toThrowError(/non-finite value in "w"/);
        }
      }
    });
  }
});

describe('a mark set on a whole array', () => {
  // model-stock's ratio pass writes through subarray views of an output the weighted sum has vouched
  // for; a write through any view must void the whole array's mark, on every backend.
  for (const backend of availableKernels()) {
    it(`does not survive a write through a view of it (${backend})`, async () => {
      useKernels(backend);
      const fill = (v: number, label: string) =>
        ParamSet.fromEntries([['w', { shape: [64], data: new Float32Array(64).fill(v) }]], label);
      // finite inputs whose task vectors overflow: the cosine and so the ratio are NaN
      const base = fill(-3e38, 'base');
      const experts = [fill(3e38, 'e1'), fill(3e38, 'e2')];
      for (const granularity of ['tensor', 'row']) {
        await expect(
          mergeModels({ technique: 'model-stock', params: { granularity } }, base, experts),
          granularity,
        ).rejects.toThrowError(/model-stock produced a non-finite value in "w"/);
      }
    });
  }
});
