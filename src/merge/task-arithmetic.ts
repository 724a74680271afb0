import { addScaled, allocateOutput, axpy, sub, taskArithmetic as taskArithmeticKernel } from '../params/kernels.js';
import { FUSION_BENCH_INPLACE, fomoTaskVector, fusionBench, mergekitTaskArithmetic } from './toolkit-forms.js';
import { bool, num, paramDocs, parseParams, type ParamsOf } from './params.js';
import type { MergeTechnique } from './types.js';
import { normalizeWeights } from './weights.js';

const specs = {
  lambda: num(1, 'Scale of the summed task vector (FusionBench scaling_factor).'),
  normalize: bool(
    false,
    'Scale weights to sum to 1 first (mergekit normalize; off in mergekit task_arithmetic by default).',
  ),
  weighted: bool(
    true,
    "Scale each task vector by its weight; false ignores the weights, θ0 + λ Σ τ_k (fomo_in_flux's TaskArithmetic, which takes none).",
  ),
};
type Params = ParamsOf<typeof specs>;

/** θ0 + λ Σ w_k τ_k with τ_k = θ_k - θ0 (mergekit `task_arithmetic`, FusionBench `task_arithmetic`, fomo_in_flux `task_arithmetic`). */
export const taskArithmetic: MergeTechnique<Params> = {
  name: 'task-arithmetic',
  aliases: ['task_arithmetic'],
  summary: 'θ0 + λ Σ w_k (θ_k - θ0). Incremental: running task-vector sum.',
  params: paramDocs(specs),
  facts: {
    weights: 'linear',
    // Only an explicit normalize: false, as the studies state the paper's λ on the sum.
    sumsTaskVectors: (raw) => raw.normalize === false,
    readsBase: true,
    nonFiniteReachesOutput: true,
    perModel: [],
    kernels: ['taskArithmetic', 'sub', 'axpy', 'addScaled'],
    toolkits:
      'mergekit `task_arithmetic`, fomo_in_flux `task_arithmetic` (unweighted): as their configs say; `lambda` = FusionBench/fomo_in_flux `scaling_factor` (FusionBench `task_arithmetic` with `toolkit: fusion_bench`: its default 0.3)',
    laws: {
      idempotent: [{ normalize: true }],
      symmetric: [{}],
      weightScale: [{ params: { normalize: true }, factor: 'any', tolerance: 1 }],
    },
    benchTarget: 0.7,
  },
  dialects: {
    // density is accepted per model, as mergekit does, and does nothing without a sparsification.
    mergekit: mergekitTaskArithmetic('task_arithmetic', { normalize: false, rescale: false }, { density: 1 }, (g) => ({
      normalize: g.normalize,
    })),
    fomo_in_flux: fomoTaskVector('task_arithmetic', {}, () => ({})),
    fusion_bench: fusionBench('task_arithmetic', {
      globals: { scaling_factor: 0.3 },
      inert: FUSION_BENCH_INPLACE,
      params: (g) => ({ lambda: g.scaling_factor }),
    }),
  },
  experts: { min: 1 },
  parse: (raw) => parseParams('task-arithmetic', specs, raw),
  merge({ base, experts, weights, out: into }, p) {
    const given = p.weighted ? weights : weights.map(() => 1);
    const w = p.normalize ? normalizeWeights(given, 'task-arithmetic') : given;
    const out = into ?? allocateOutput(base.length);
    taskArithmeticKernel(out, base, experts, w, p.lambda);
    return out;
  },
  incremental(p, base) {
    // Keeps Σ w_k τ_k (the same float32 operations, in the same order, as the batch form without
    // normalisation, so that form is reproduced bit for bit); normalisation divides by Σ w_k at result time.
    const sum = base.map((d) => new Float32Array(d.length), 'task-arithmetic');
    const weights: number[] = [];
    return {
      get count() {
        return weights.length;
      },
      add(expert, given = 1) {
        const weight = p.weighted ? given : 1;
        weights.push(weight);
        for (const [name, t] of sum.entries()) {
          const b = base.data(name);
          const tau = new Float32Array(b.length);
          sub(tau, expert.data(name), b);
          axpy(t.data, weight, tau);
        }
      },
      result() {
        let scale = p.lambda;
        if (p.normalize && weights.length > 0) {
          normalizeWeights(weights, 'task-arithmetic');
          scale = p.lambda / weights.reduce((a, b) => a + b, 0);
        }
        return base.map((b, name) => {
          const out = new Float32Array(b.length);
          addScaled(out, b, scale, sum.data(name));
          return out;
        }, 'task-arithmetic');
      },
    };
  },
};
