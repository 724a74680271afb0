import { ParamSet } from '../params/paramset.js';
import { parseParams } from './params.js';
import type { IncrementalMerge, MergeTechnique } from './types.js';
import { normalizeWeights } from './weights.js';

interface Params {
  normalize: boolean;
}

/** Σ w_k θ_k with weights normalised to sum 1 (mergekit `linear`, FusionBench `weighted_average`). */
export const weightedAverage: MergeTechnique<Params> = {
  name: 'weighted-average',
  aliases: ['linear', 'average', 'mean'],
  summary: 'Σ w_k θ_k; weights normalised to sum 1 unless normalize is false.',
  params: [{ name: 'normalize', type: 'boolean', default: true, description: 'Scale weights to sum to 1 (mergekit linear: normalize).' }],
  experts: { min: 1 },
  parse: (raw) => parseParams('weighted-average', weightedAverage.params, raw) as unknown as Params,
  merge({ experts, weights }, p) {
    const w = p.normalize ? normalizeWeights(weights, 'weighted-average') : [...weights];
    const out = new Float32Array(experts[0].length);
    for (let k = 0; k < experts.length; k++) {
      const x = experts[k];
      const wk = w[k];
      for (let i = 0; i < out.length; i++) out[i] += wk * x[i];
    }
    return out;
  },
  incremental(p, base) {
    return runningWeightedMean(base, p.normalize);
  },
};

/**
 * Running weighted mean: after experts with weights w_1..w_n, holds Σ w_i θ_i / Σ w_i, updated in place
 * by m += (w_n / W_n)(θ_n - m). Without normalisation it is the running sum Σ w_i θ_i.
 */
function runningWeightedMean(base: ParamSet, normalize: boolean): IncrementalMerge {
  let state: ParamSet | undefined;
  let total = 0;
  let count = 0;
  return {
    get count() {
      return count;
    },
    add(expert, weight = 1) {
      count++;
      total += weight;
      if (!state) {
        state = expert.map((d) => (normalize ? d.slice() : d.map((v) => weight * v)), 'weighted-average');
        if (normalize && weight === 0) state = expert.map((d) => new Float32Array(d.length));
        return;
      }
      const f = normalize ? (total === 0 ? 0 : weight / total) : weight;
      for (const [name, t] of state.entries()) {
        const m = t.data;
        const x = expert.data(name);
        if (normalize) for (let i = 0; i < m.length; i++) m[i] += f * (x[i] - m[i]);
        else for (let i = 0; i < m.length; i++) m[i] += f * x[i];
      }
    },
    result() {
      if (!state) return base.clone('weighted-average');
      return state.clone('weighted-average');
    },
  };
}
