import { svd } from '../params/svd.js';
import { num, paramDocs, parseParams, type ParamsOf } from './params.js';
import { fusionBench } from './toolkit-forms.js';
import { addToBase, excludeOf, excludeSpec, isSvdMatrix, taskMatrix, TripletStack } from './svd-merge.js';
import type { MergeTechnique } from './types.js';

const specs = {
  alpha: num(1, 'Scale of the merged task vector (FusionBench alpha as one number).'),
  exclude: excludeSpec,
};
type Params = ParamsOf<typeof specs>;

/**
 * Task Singular Vectors merge (Gargiulo et al. 2025, FusionBench `TaskSingularVectorMerging`). Per 2-D
 * tensor, from each weighted task vector w_k·τ_k its top ⌊k/T⌋ singular triplets (k = min(m, n), T
 * experts) are stacked side by side; the stacked left and right vectors are decorrelated by their
 * orthogonal polar factors, U⊥ diag(s) V⊥ᵀ, and θ0 + α times that is returned. Other tensors (biases,
 * norms, 1-D and 4-D tensors, excluded names) get θ0 + α·mean(w_k·τ_k), as FusionBench averages them.
 * The weights are FusionBench's per-task alpha list (1 each by default).
 */
export const tsvM: MergeTechnique<Params> = {
  name: 'tsv-m',
  aliases: ['tsv_m', 'task_singular_vector', 'TaskSingularVectorMerging'],
  summary:
    'Task Singular Vectors: per matrix, each task vector’s top ⌊k/T⌋ singular vectors stacked and orthogonalised (polar factor); θ0 + α·U⊥ΣV⊥ᵀ. Others: mean τ.',
  params: paramDocs(specs),
  facts: {
    weights: 'used',
    readsBase: true,
    perModel: [],
    kernels: [],
    cost: 'svd',
    toolkits: 'FusionBench `TaskSingularVectorMerging` (`alpha` one number; a list of alphas = the per-model weights)',
    laws: { symmetric: [{}] },
  },
  dialects: {
    fusion_bench: fusionBench('task_singular_vector/TaskSingularVectorMerging', {
      aliases: ['TaskSingularVectorMerging', 'task_singular_vector'],
      globals: { alpha: 1 },
      lists: { exclude_keys: [] },
      inert: { return_single_task_models: 'time-merge writes the merged model only' },
      params: (g, { lists }) => ({ alpha: g.alpha, exclude: excludeOf(lists) }),
    }),
  },
  experts: { min: 1 },
  parse: (raw) => parseParams('tsv-m', specs, raw),
  merge({ name, shape, base, experts, weights, out }, p) {
    const taus = experts.map((x, i) => taskMatrix(x, base, weights[i]));
    if (!isSvdMatrix(name, shape, p.exclude)) {
      const mean = new Float64Array(base.length);
      for (const t of taus) for (let i = 0; i < mean.length; i++) mean[i] += t[i] / taus.length;
      return addToBase(base, mean, p.alpha, out);
    }
    const [m, n] = shape;
    const stack = new TripletStack(m, n);
    const r = Math.floor(stack.k * (1 / taus.length));
    taus.forEach((t, i) => {
      const d = svd(t, m, n);
      for (let j = 0; j < r; j++) stack.place(i * r + j, d, j);
    });
    return addToBase(base, stack.decorrelated(), p.alpha, out);
  },
};
