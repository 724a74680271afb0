import { num, paramDocs, parseParams, requireRange, type ParamsOf } from './params.js';
import { contributions, ramMerge } from './ram.js';
import type { MergeTechnique } from './types.js';

const specs = {
  r: num(0.1, 'Strength of the boost of an expert’s unique values (mergekit r).'),
  alpha: num(0.2, 'Cap on the shared/unique ratio ρ before it scales the boost (mergekit alpha).'),
  epsilon: num(1e-5, 'A task-vector value counts as a contribution when |τ| > epsilon (mergekit epsilon).'),
};
type Params = ParamsOf<typeof specs>;

const f = Math.fround;

/**
 * RAM+ tensor-local (mergekit `ramplus_tl`): RAM, with each expert's unique values (the ones no other
 * expert contributes) scaled by λ_k = 1 + r·clamp(ρ_k, 0, alpha), where ρ_k is the count of its
 * contributions that others share over the count of its unique ones (the latter at least epsilon), per
 * tensor. Weights ignored.
 */
export const ramplusTl: MergeTechnique<Params> = {
  name: 'ramplus-tl',
  aliases: ['ramplus_tl'],
  summary:
    "RAM with each expert's unique values scaled by 1 + r·min(alpha, shared/unique count) of that expert, per tensor: θ0 + result.",
  params: paramDocs(specs),
  facts: {
    weights: 'ignored',
    readsBase: true,
    perModel: [],
    kernels: [],
    toolkits: 'mergekit `ramplus_tl` (`r`, `alpha`, `epsilon`)',
    laws: { idempotent: [{}], symmetric: [{}, { r: 0.5, alpha: 1 }] },
  },
  dialects: {
    mergekit: {
      method: 'ramplus_tl',
      globals: { r: 0.1, alpha: 0.2, epsilon: 1e-5 },
      perModel: {},
      base: 'task-vectors',
      weights: 'unused',
      params: (g) => ({ r: g.r, alpha: g.alpha, epsilon: g.epsilon }),
    },
  },
  experts: { min: 1 },
  parse(raw) {
    const p = parseParams('ramplus-tl', specs, raw);
    requireRange('ramplus-tl', 'epsilon', p.epsilon, 0, Infinity);
    requireRange('ramplus-tl', 'alpha', p.alpha, 0, Infinity);
    return p;
  },
  merge(input, p) {
    const { base, experts } = input;
    const eps = f(p.epsilon);
    const counts = contributions(base, experts, p.epsilon);
    const lambdas = experts.map((x) => {
      let shared = 0;
      let unique = 0;
      for (let i = 0; i < base.length; i++) {
        if (!(Math.abs(f(x[i] - base[i])) > eps)) continue;
        if (counts[i] > 1) shared++;
        else unique++;
      }
      const rho = f(shared / Math.max(unique, eps));
      return f(1 + f(f(p.r) * Math.min(f(p.alpha), Math.max(0, rho))));
    });
    return ramMerge(input, p.epsilon, counts, lambdas);
  },
};
