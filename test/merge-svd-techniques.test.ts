import { describe, expect, it } from 'vitest';
import { mergeModels } from '../src/merge/engine.js';
import { ParamSet } from '../src/params/paramset.js';

/** Hand-computed merges of the SVD techniques on diagonal task matrices (base θ0 = 0). */
const model = (label: string, tensors: Record<string, [number[], number[]]>) =>
  ParamSet.fromEntries(
    Object.entries(tensors).map(([k, [shape, data]]) => [k, { shape, data: Float32Array.from(data) }]),
    label,
  );
const zero = model('base', {
  'l.weight': [
    [2, 2],
    [0, 0, 0, 0],
  ],
  'l.bias': [[2], [0, 0]],
});
const merge = async (technique: string, params: Record<string, unknown>, experts: ParamSet[]) =>
  mergeModels({ technique, params }, zero, experts);
const close = (got: Float32Array, want: number[]) => want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 6));

describe('SVD techniques by hand', () => {
  const a = model('a', {
    'l.weight': [
      [2, 2],
      [3, 0, 0, 1],
    ],
    'l.bias': [[2], [1, 0]],
  });
  const b = model('b', {
    'l.weight': [
      [2, 2],
      [1, 0, 0, 2],
    ],
    'l.bias': [[2], [0, 3]],
  });

  it('iso-c flattens the spectrum of Σ τ: diag(4, 3) → diag(3.5, 3.5); a bias takes the mean τ', async () => {
    const m = await merge('iso-c', { lambda: 2 }, [a, b]);
    close(m.data('l.weight'), [7, 0, 0, 7]);
    close(m.data('l.bias'), [1, 3]);
  });

  it("tsv-m keeps each task's top ⌊2/2⌋ = 1 direction: diag(3, ·) and diag(·, 2) → diag(3, 2)", async () => {
    close((await merge('tsv-m', {}, [a, b])).data('l.weight'), [3, 0, 0, 2]);
    // An excluded tensor takes the mean of the task vectors instead.
    close((await merge('tsv-m', { exclude: 'l.weight' }, [a, b])).data('l.weight'), [2, 0, 0, 1.5]);
  });

  it('opcm removes the diagonal of the projection and rescales to the mean task-vector norm', async () => {
    const c = model('c', {
      'l.weight': [
        [2, 2],
        [2, 0, 0, 1],
      ],
      'l.bias': [[2], [0, 0]],
    });
    const d = model('d', {
      'l.weight': [
        [2, 2],
        [1, 1, 1, 1],
      ],
      'l.bias': [[2], [0, 0]],
    });
    // s = (2, 1): the share passes 0.5 at index 0, so only the diagonal of Uᵀ τ V = [[1, 1], [1, 1]] goes:
    // M = diag(2, 1) + [[0, 1], [1, 0]], scaled by mean(‖τ_c‖, ‖τ_d‖)/‖M‖ = (√5 + 2)/2/√7.
    const s = (Math.sqrt(5) + 2) / 2 / Math.sqrt(7);
    close((await merge('opcm', { alpha: 0.5 }, [c, d])).data('l.weight'), [2 * s, s, s, s]);
  });

  it('dop with zero steps is the mean of the running merge and each new model', async () => {
    close((await merge('dop', { steps: 0 }, [a, b])).data('l.weight'), [2, 0, 0, 1.5]);
  });
});
