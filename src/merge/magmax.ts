import { absMaxSelect, addScaled, allocateOutput, magmax as magmaxKernel, sub } from '../params/kernels.js';
import type { ParamSet } from '../params/paramset.js';
import { FUSION_BENCH_INPLACE, fomoTaskVector, fusionBench } from './toolkit-forms.js';
import { num, oneOf, paramDocs, parseParams, type ParamsOf } from './params.js';
import type { IncrementalMerge, MergeTechnique } from './types.js';

const specs = {
  lambda: num(1, 'Scale of the selected task vector (fomo_in_flux scaling_factor).'),
  ties: oneOf(
    ['later', 'earlier'],
    'later',
    'Which expert wins equal magnitudes: the later one, or the earlier one (torch argmax, as fomo_in_flux).',
  ),
};
type Params = ParamsOf<typeof specs>;

/** acc ← the element of larger magnitude of acc and x; on equal magnitude x wins ('later') or acc stays ('earlier'). */
function selectInto(acc: Float32Array, x: Float32Array, rule: Params['ties']): void {
  if (rule === 'later') {
    absMaxSelect(acc, [acc, x]);
    return;
  }
  for (let i = 0; i < acc.length; i++) if (Math.abs(x[i]) > Math.abs(acc[i])) acc[i] = x[i];
}

/**
 * MagMax (Marczak et al. 2024): per element the task-vector value of largest magnitude, θ0 + λ·τ_max.
 * Expert weights are ignored (the choice is by magnitude alone).
 */
export const magmax: MergeTechnique<Params> = {
  name: 'magmax',
  aliases: ['mag-max', 'max-magnitude'],
  summary: 'Per element the task-vector value of largest |value| (ties: later expert): θ0 + λ·τ_max. Weights ignored.',
  params: paramDocs(specs),
  facts: {
    weights: 'ignored',
    readsBase: true,
    perModel: [],
    kernels: ['magmax', 'absMaxSelect', 'sub', 'addScaled'],
    toolkits:
      'fomo_in_flux `magmax`: `ties: earlier` (torch argmax); FusionBench `magmax/magmax`: the defaults, `lambda` = its `scaling_factor` (0.5)',
    laws: { idempotent: [{}] },
    benchTarget: 0.35,
  },
  // fomo_in_flux takes torch's argmax, the earlier expert on equal magnitudes.
  dialects: {
    fomo_in_flux: fomoTaskVector('magmax', {}, () => ({ ties: 'earlier' })),
    // FusionBench folds the experts in order with `>=`: the later one wins equal magnitudes.
    fusion_bench: fusionBench('magmax/magmax', {
      aliases: ['magmax'],
      globals: { scaling_factor: 0.5 },
      inert: FUSION_BENCH_INPLACE,
      params: (g) => ({ lambda: g.scaling_factor, ties: 'later' }),
    }),
  },
  experts: { min: 1 },
  parse: (raw) => parseParams('magmax', specs, raw),
  merge({ base, experts, out: into }, p) {
    // One pass: τ_k, the running selection and θ0 + λ·τ_max per element (same operations as selectInto).
    const out = into ?? allocateOutput(base.length);
    magmaxKernel(out, base, experts, p.lambda, p.ties === 'later');
    return out;
  },
  incremental(p, base) {
    return runningMagMax(p, base);
  },
};

/** Keeps τ_max as experts arrive (same operations in the same order as the batch merge: identical results). */
function runningMagMax(p: Params, base: ParamSet): IncrementalMerge {
  let state: ParamSet | undefined;
  let count = 0;
  return {
    get count() {
      return count;
    },
    add(expert) {
      count++;
      if (!state) {
        state = base.map((b, name) => {
          const t = new Float32Array(b.length);
          sub(t, expert.data(name), b);
          return t;
        }, 'magmax');
        return;
      }
      for (const [name, t] of state.entries()) {
        const b = base.data(name);
        const tau = new Float32Array(b.length);
        sub(tau, expert.data(name), b);
        selectInto(t.data, tau, p.ties);
      }
    },
    result() {
      // With no experts the merge is θ0 itself.
      if (!state) return base.clone('magmax');
      const s = state;
      return base.map((b, name) => {
        const out = new Float32Array(b.length);
        addScaled(out, b, p.lambda, s.data(name));
        return out;
      }, 'magmax');
    },
  };
}
