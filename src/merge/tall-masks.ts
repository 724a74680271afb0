import { allocateOutput } from '../params/kernels.js';
import { int, num, paramDocs, parseParams, type ParamsOf } from './params.js';
import { fomoTaskVector } from './toolkit-forms.js';
import type { MergeTechnique } from './types.js';

const specs = {
  lambda: num(1, 'Scale of the masked task-vector sum (fomo_in_flux scaling_factor).'),
  tallLambda: num(
    0.4,
    'Expert k is active at an element when |θ0 − θ_k| > tallLambda·|θ_mtl − θ_k| (fomo_in_flux tall_mask_lambda).',
  ),
  pruningThreshold: int(
    0,
    'Keep an element when at least this many experts are active there; 0 keeps every element (fomo_in_flux pruning_threshold).',
  ),
};
type Params = ParamsOf<typeof specs>;

/**
 * TALL masks with consensus (Wang et al. 2024, "Localizing Task Information for Improved Model Merging
 * and Compression", as fomo_in_flux's `tall_masks` computes it): τ = Σ τ_k, θ_mtl = θ0 + τ; expert k is
 * active where |θ0 − θ_k| > tallLambda·|θ_mtl − θ_k|; elements where fewer than pruningThreshold experts
 * are active are dropped: θ0 + λ·τ·consensus. Float32 throughout, as torch computes it; weights ignored.
 */
export const tallMasks: MergeTechnique<Params> = {
  name: 'tall-masks',
  aliases: ['tall_masks'],
  summary:
    'Task-vector sum kept where at least pruningThreshold experts are active (TALL masks with consensus): θ0 + λ·τ·mask.',
  params: paramDocs(specs),
  facts: {
    weights: 'ignored',
    readsBase: true,
    perModel: [],
    kernels: [],
    toolkits: 'fomo_in_flux `tall_masks` (`scaling_factor`, `tall_mask_lambda`, `pruning_threshold`)',
    laws: { symmetric: [{}, { pruningThreshold: 2 }] },
  },
  dialects: {
    fomo_in_flux: fomoTaskVector('tall_masks', { tall_mask_lambda: 0.4, pruning_threshold: 0 }, (g) => ({
      tallLambda: g.tall_mask_lambda,
      pruningThreshold: g.pruning_threshold,
    })),
  },
  experts: { min: 1 },
  parse: (raw) => parseParams('tall-masks', specs, raw),
  merge({ base, experts, out: into }, p) {
    const n = base.length;
    const out = into ?? allocateOutput(n);
    const f = Math.fround;
    for (let i = 0; i < n; i++) {
      const b = base[i];
      let sum = 0;
      for (const x of experts) sum = f(sum + f(x[i] - b));
      const multi = f(b + sum);
      let active = 0;
      for (const x of experts) if (Math.abs(f(b - x[i])) > f(Math.abs(f(multi - x[i])) * p.tallLambda)) active++;
      out[i] = active >= p.pruningThreshold ? f(b + f(p.lambda * sum)) : b;
    }
    return out;
  },
};
