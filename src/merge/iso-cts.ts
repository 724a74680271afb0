import { svd } from '../params/svd.js';
import { num, paramDocs, parseParams, requireRange, type ParamsOf } from './params.js';
import { fusionBench } from './toolkit-forms.js';
import {
  addToBase,
  excludeOf,
  excludeSpec,
  isSvdMatrix,
  meanTaskVector,
  taskMatrix,
  taskSum,
  TripletStack,
} from './svd-merge.js';
import type { MergeTechnique } from './types.js';

const specs = {
  lambda: num(1, 'Scale of the merged task vector (FusionBench scaling_factor).'),
  commonFraction: num(
    0.8,
    'Share of the k = min(m, n) directions taken from the summed task matrix; the rest is split evenly between the tasks (FusionBench common_space_fraction).',
  ),
  exclude: excludeSpec,
};
type Params = ParamsOf<typeof specs>;

/**
 * Isotropic merging in common and task-specific subspaces (Marczak et al. 2025, FusionBench `iso_cts`).
 * Per 2-D tensor: the top c directions of Σ τ_k form the common space (c = k − round((k − ⌊k·f⌋)/T)·T);
 * each task contributes the top (k − c)/T singular triplets of its task matrix with the common left space
 * projected out; the stacked left and right vectors are orthogonalised (polar factors) and every kept
 * singular value is replaced by their mean: θ0 + λ·U⊥ s̄ V⊥ᵀ. Other tensors (and excluded names) get
 * θ0 + λ·mean τ_k. Weights are ignored, as FusionBench has none.
 */
export const isoCts: MergeTechnique<Params> = {
  name: 'iso-cts',
  aliases: ['iso_cts', 'ISO_CTS_Merge'],
  summary:
    'Isotropic merge in a common subspace (top directions of Σ τ_k) plus a task-specific one per expert, flat spectrum; θ0 + λ·U⊥ s̄ V⊥ᵀ. Others: mean τ.',
  params: paramDocs(specs),
  facts: {
    weights: 'ignored',
    readsBase: true,
    perModel: [],
    kernels: [],
    cost: 'svd',
    toolkits: 'FusionBench `iso_cts` (`scaling_factor`, `common_space_fraction`, `exclude_keys`)',
    laws: {},
  },
  dialects: {
    fusion_bench: fusionBench('isotropic_merging/iso_cts', {
      aliases: ['iso_cts'],
      globals: { scaling_factor: 1, common_space_fraction: 0.8 },
      lists: { exclude_keys: [] },
      params: (g, { lists }) => ({
        lambda: g.scaling_factor,
        commonFraction: g.common_space_fraction,
        exclude: excludeOf(lists),
      }),
    }),
  },
  experts: { min: 1 },
  parse(raw) {
    const p = parseParams('iso-cts', specs, raw);
    requireRange('iso-cts', 'commonFraction', p.commonFraction, 0, 1);
    return p;
  },
  merge({ name, shape, base, experts, out }, p) {
    if (!isSvdMatrix(name, shape, p.exclude)) return meanTaskVector(base, experts, p.lambda, out);
    const [m, n] = shape;
    const k = Math.min(m, n);
    const T = experts.length;
    // Python's round() is round-half-to-even; the common space takes what the tasks' equal shares leave.
    const common = k - roundHalfEven((k - Math.floor(k * p.commonFraction)) / T) * T;
    const perTask = Math.floor((k - common) / T);
    const sum = svd(taskSum(base, experts), m, n);
    const stack = new TripletStack(m, n);
    experts.forEach((x, i) => {
      const w = taskMatrix(x, base);
      // w − Uc Ucᵀ w: the part of the task matrix outside the common left space.
      const proj = new Float64Array(common * n);
      for (let c = 0; c < common; c++)
        for (let a = 0; a < m; a++) {
          const uc = sum.u[a * k + c];
          if (uc !== 0) for (let b = 0; b < n; b++) proj[c * n + b] += uc * w[a * n + b];
        }
      for (let a = 0; a < m; a++)
        for (let c = 0; c < common; c++) {
          const uc = sum.u[a * k + c];
          for (let b = 0; b < n; b++) w[a * n + b] -= uc * proj[c * n + b];
        }
      const d = svd(w, m, n);
      for (let j = 0; j < perTask; j++) stack.place(i * perTask + j, d, j);
    });
    for (let j = 0; j < common; j++) stack.place(T * perTask + j, sum, j);
    let mean = 0;
    for (const s of stack.s) mean += s / k;
    return addToBase(base, stack.decorrelated(new Float64Array(k).fill(mean)), p.lambda, out);
  },
};

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
