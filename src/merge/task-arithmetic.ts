import { parseParams } from './params.js';
import type { MergeTechnique } from './types.js';
import { normalizeWeights } from './weights.js';

interface Params {
  lambda: number;
  normalize: boolean;
}

/** θ0 + λ Σ w_k τ_k with τ_k = θ_k - θ0 (mergekit `task_arithmetic`, FusionBench `task_arithmetic`). */
export const taskArithmetic: MergeTechnique<Params> = {
  name: 'task-arithmetic',
  aliases: ['task_arithmetic'],
  summary: 'θ0 + λ Σ w_k (θ_k - θ0).',
  params: [
    { name: 'lambda', type: 'number', default: 1, description: 'Scale of the summed task vector (FusionBench scaling_factor).' },
    { name: 'normalize', type: 'boolean', default: false, description: 'Scale weights to sum to 1 first (mergekit normalize; off in mergekit task_arithmetic by default).' },
  ],
  experts: { min: 1 },
  parse: (raw) => parseParams('task-arithmetic', taskArithmetic.params, raw) as unknown as Params,
  merge({ base, experts, weights }, p) {
    const w = p.normalize ? normalizeWeights(weights, 'task-arithmetic') : weights;
    const out = new Float32Array(base.length);
    for (let k = 0; k < experts.length; k++) {
      const x = experts[k];
      const wk = w[k];
      for (let i = 0; i < out.length; i++) out[i] += wk * (x[i] - base[i]);
    }
    for (let i = 0; i < out.length; i++) out[i] = base[i] + p.lambda * out[i];
    return out;
  },
  incremental(p, base) {
    // Keeps Σ w_k τ_k; normalisation, when asked, divides by the running weight sum at result time.
    const sum = base.map((d) => new Float32Array(d.length), 'task-arithmetic');
    let total = 0;
    let count = 0;
    return {
      get count() {
        return count;
      },
      add(expert, weight = 1) {
        count++;
        total += weight;
        for (const [name, t] of sum.entries()) {
          const s = t.data;
          const x = expert.data(name);
          const b = base.data(name);
          for (let i = 0; i < s.length; i++) s[i] += weight * (x[i] - b[i]);
        }
      },
      result() {
        if (p.normalize) normalizeWeights(count ? [total] : [], 'task-arithmetic');
        const scale = p.lambda / (p.normalize ? total : 1);
        return base.map((b, name) => {
          const s = sum.data(name);
          const out = new Float32Array(b.length);
          for (let i = 0; i < out.length; i++) out[i] = b[i] + scale * s[i];
          return out;
        }, 'task-arithmetic');
      },
    };
  },
};

