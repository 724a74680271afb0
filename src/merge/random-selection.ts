import { fail } from '../params/errors.js';
import { counterKey, type CounterKey } from '../params/counter-rng.js';
import { allocateOutput, randomPickCounter } from '../params/kernels.js';
import { applyDelta } from './combine.js';
import { fomoTaskVector } from './toolkit-forms.js';
import { num, paramDocs, parseParams, type ParamsOf } from './params.js';
import type { MergeTechnique } from './types.js';

const specs = { lambda: num(1, 'Scale of the selected task vector (fomo_in_flux scaling_factor).') };
type Params = ParamsOf<typeof specs>;

/**
 * Per element, the task-vector value of one expert drawn at random (fomo_in_flux `random`), θ0 + λ·τ_pick.
 * Expert weights are the draw probabilities (normalised; equal by default). The draw for element i is
 * the counter-based u32(key, 0, i) of src/params/counter-rng.ts, keyed by two words of the tensor's rng,
 * so the same seed gives the same choices and the pass is threaded.
 */
export const randomSelection: MergeTechnique<Params> = {
  name: 'random-selection',
  aliases: ['random', 'random_selection'],
  summary: 'Per element the task vector of a randomly drawn expert (probabilities ∝ weights, seeded): θ0 + λ·τ_pick.',
  params: paramDocs(specs),
  facts: {
    weights: 'probabilities',
    readsBase: true,
    perModel: [],
    kernels: ['randomPickCounter'],
    toolkits: 'fomo_in_flux `random`',
    laws: { idempotent: [{}] },
  },
  dialects: { fomo_in_flux: fomoTaskVector('random', {}, () => ({})) },
  experts: { min: 1 },
  parse: (raw) => parseParams('random-selection', specs, raw),
  merge({ base, experts, weights, rng, out }, p) {
    return applyDelta(base, p.lambda, randomPickByKey(base, experts, weights, counterKey(rng), out));
  },
};

/** Cumulative draw probabilities of the weights (checked), the last 1 exactly. */
function cumulativeBounds(weights: readonly number[]): Float64Array {
  const N = weights.length;
  let total = 0;
  for (const w of weights) {
    if (w < 0)
      fail('MERGE', `random-selection: weights are draw probabilities and must be >= 0, got [${weights.join(', ')}]`);
    total += w;
  }
  if (total === 0) fail('MERGE', `random-selection: weights [${weights.join(', ')}] sum to zero`);
  const bounds = new Float64Array(N);
  let acc = 0;
  for (let k = 0; k < N; k++) {
    acc += weights[k] / total;
    bounds[k] = acc;
  }
  bounds[N - 1] = 1;
  return bounds;
}

/**
 * Per element, τ_k[i] of the expert k whose probability interval holds the counter draw u32(key, 0, i),
 * compared in the integer domain: k is the first with u32 < floor(bound_k·2^32) (the last expert when
 * none). Intervals in expert order, widths ∝ weights.
 */
export function randomPickByKey(
  base: Float32Array,
  experts: readonly Float32Array[],
  weights: readonly number[],
  key: CounterKey,
  into?: Float32Array,
): Float32Array {
  const bounds = cumulativeBounds(weights);
  const cuts = bounds.map((b) => Math.floor(b * 4294967296));
  const delta = into ?? allocateOutput(base.length);
  randomPickCounter(delta, base, experts, cuts, key);
  return delta;
}

/**
 * Per element, τ_k[i] of the expert k whose probability interval holds the draw u_i (intervals in expert
 * order, widths ∝ weights); `uniform` gives one draw per element in index order. The technique draws
 * from counter-based draws instead (randomPickByKey); this form takes any draws.
 */
export function randomPick(
  base: Float32Array,
  experts: readonly Float32Array[],
  weights: readonly number[],
  uniform: () => number,
  into?: Float32Array,
): Float32Array {
  const N = experts.length;
  // Cumulative bounds; the last is 1 exactly so every draw in [0, 1) lands somewhere.
  const bounds = cumulativeBounds(weights);
  const delta = into ?? allocateOutput(base.length);
  for (let i = 0; i < delta.length; i++) {
    const u = uniform();
    let k = 0;
    while (u >= bounds[k] && k < N - 1) k++;
    delta[i] = experts[k][i] - base[i];
  }
  return delta;
}
