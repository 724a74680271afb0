import { svd, usv } from '../params/svd.js';
import { num, paramDocs, parseParams, type ParamsOf } from './params.js';
import { fusionBench } from './toolkit-forms.js';
import { addToBase, excludeOf, excludeSpec, isSvdMatrix, meanTaskVector, taskSum } from './svd-merge.js';
import type { MergeTechnique } from './types.js';

const specs = {
  lambda: num(1, 'Scale of the merged task vector (FusionBench scaling_factor).'),
  exclude: excludeSpec,
};
type Params = ParamsOf<typeof specs>;

/**
 * Isotropic merging in the common subspace (Marczak et al. 2025, FusionBench `iso_c`): per 2-D tensor,
 * the summed task matrix Σ τ_k = U diag(s) Vᵀ gets a flat spectrum, U·mean(s)·Vᵀ; θ0 + λ times that.
 * Other tensors (and excluded names) get θ0 + λ·mean τ_k. Weights are ignored, as FusionBench has none.
 */
export const isoC: MergeTechnique<Params> = {
  name: 'iso-c',
  aliases: ['iso_c', 'ISO_C_Merge'],
  summary:
    'Isotropic merge: per matrix, Σ τ_k with every singular value set to their mean; θ0 + λ·U s̄ Vᵀ. Others: mean τ.',
  params: paramDocs(specs),
  facts: {
    weights: 'ignored',
    readsBase: true,
    perModel: [],
    kernels: [],
    cost: 'svd',
    toolkits: 'FusionBench `iso_c` (`scaling_factor`, `exclude_keys`)',
    laws: { symmetric: [{}] },
  },
  dialects: {
    fusion_bench: fusionBench('isotropic_merging/iso_c', {
      aliases: ['iso_c'],
      globals: { scaling_factor: 1 },
      lists: { exclude_keys: [] },
      params: (g, { lists }) => ({ lambda: g.scaling_factor, exclude: excludeOf(lists) }),
    }),
  },
  experts: { min: 1 },
  parse: (raw) => parseParams('iso-c', specs, raw),
  merge({ name, shape, base, experts, out }, p) {
    if (!isSvdMatrix(name, shape, p.exclude)) return meanTaskVector(base, experts, p.lambda, out);
    const [m, n] = shape;
    const d = svd(taskSum(base, experts), m, n);
    let mean = 0;
    for (const s of d.s) mean += s / d.k;
    return addToBase(base, usv(d.u, new Float64Array(d.k).fill(mean), d.vt, m, d.k, n), p.lambda, out);
  },
};
