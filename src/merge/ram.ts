import { allocateOutput } from '../params/kernels.js';
import { num, paramDocs, parseParams, requireRange, type ParamsOf } from './params.js';
import type { MergeTechnique, TensorMergeInput } from './types.js';

const specs = {
  epsilon: num(1e-5, 'A task-vector value counts as a contribution when |τ| > epsilon (mergekit epsilon).'),
};
type Params = ParamsOf<typeof specs>;

const f = Math.fround;

/** Per element, how many experts contribute (|τ_k| > epsilon, compared in float32 as torch does). */
export function contributions(base: Float32Array, experts: readonly Float32Array[], epsilon: number): Uint16Array {
  const eps = f(epsilon);
  const counts = new Uint16Array(base.length);
  for (const x of experts) for (let i = 0; i < base.length; i++) if (Math.abs(f(x[i] - base[i])) > eps) counts[i]++;
  return counts;
}

/**
 * θ0 + Σ_k the contributions of the RAM family: where one expert contributes, its τ times `unique[k]`;
 * where several do, the mean of theirs (each τ/count, summed in float32); where none, θ0.
 */
export function ramMerge(
  { base, experts, out: into }: TensorMergeInput,
  epsilon: number,
  counts: Uint16Array,
  unique: readonly number[],
): Float32Array {
  const eps = f(epsilon);
  const out = into ?? allocateOutput(base.length);
  for (let i = 0; i < base.length; i++) {
    const c = counts[i];
    let sum = 0;
    for (let k = 0; c > 0 && k < experts.length; k++) {
      const tau = f(experts[k][i] - base[i]);
      if (Math.abs(tau) > eps) sum = f(sum + (c === 1 ? f(tau * unique[k]) : f(tau / c)));
    }
    out[i] = f(base[i] + sum);
  }
  return out;
}

/**
 * RAM, Reinforced Agent Merging (mergekit `ram`): per element, an expert's task value counts when
 * |τ| > epsilon; a value only one expert contributes is kept whole, values several contribute are
 * averaged over those, and θ0 + the result. Weights ignored.
 */
export const ram: MergeTechnique<Params> = {
  name: 'ram',
  summary:
    'Per element: the one contributing τ (|τ| > epsilon) whole, the mean of several contributing ones: θ0 + result. Weights ignored.',
  params: paramDocs(specs),
  facts: {
    weights: 'ignored',
    readsBase: true,
    perModel: [],
    kernels: [],
    toolkits: 'mergekit `ram` (`epsilon`)',
    laws: { idempotent: [{}], symmetric: [{}] },
  },
  dialects: {
    mergekit: {
      method: 'ram',
      globals: { epsilon: 1e-5 },
      perModel: {},
      base: 'task-vectors',
      weights: 'unused',
      params: (g) => ({ epsilon: g.epsilon }),
    },
  },
  experts: { min: 1 },
  parse(raw) {
    const p = parseParams('ram', specs, raw);
    requireRange('ram', 'epsilon', p.epsilon, 0, Infinity);
    return p;
  },
  merge(input, p) {
    const counts = contributions(input.base, input.experts, p.epsilon);
    return ramMerge(
      input,
      p.epsilon,
      counts,
      input.experts.map(() => 1),
    );
  },
};
