import { allocateOutput, axpy, scale, weightedSum } from '../params/kernels.js';
import type { ParamSet } from '../params/paramset.js';
import { fail } from '../params/errors.js';
import { bool, paramDocs, parseParams, type ParamsOf } from './params.js';
import { fusionBench } from './toolkit-forms.js';
import type { IncrementalMerge, MergeTechnique } from './types.js';
import { normalizeWeights } from './weights.js';

const specs = { normalize: bool(true, 'Scale weights to sum to 1 (mergekit linear: normalize).') };
type Params = ParamsOf<typeof specs>;

/** Σ w_k θ_k with weights normalised to sum 1 (mergekit `linear`, FusionBench `weighted_average`, fomo_in_flux `interpolation`). */
export const weightedAverage: MergeTechnique<Params> = {
  name: 'weighted-average',
  aliases: ['linear', 'average', 'mean', 'weighted_average', 'simple_average', 'interpolation'],
  summary:
    'Σ w_k θ_k; weights normalised to sum 1 unless normalize is false. Incremental: running weighted mean (EMA).',
  params: paramDocs(specs),
  facts: {
    weights: 'linear',
    readsBase: false,
    nonFiniteReachesOutput: true,
    perModel: [],
    kernels: ['weightedSum', 'axpy', 'scale'],
    toolkits:
      'mergekit `linear` and fomo_in_flux `interpolation` (weights that sum to 1, used as given) as their configs say; FusionBench `simple_average` and `linear/weighted_average` (`toolkit: fusion_bench`, its `weights` list and `normalize`)',
    laws: {
      idempotent: [{}],
      symmetric: [{}],
      weightScale: [{ params: {}, factor: 'any', tolerance: 1 }],
    },
    benchTarget: 0.7,
  },
  dialects: {
    mergekit: {
      method: 'linear',
      globals: { normalize: true },
      perModel: {},
      base: 'unused',
      weights: 'free',
      params: (g) => ({ normalize: g.normalize }),
    },
    // fomo_in_flux checks that the weight coefficients sum to 1 and uses them as they are.
    fomo_in_flux: {
      method: 'interpolation',
      globals: {},
      perModel: {},
      base: 'unused',
      weights: 'sum-to-one',
      params: () => ({ normalize: false }),
    },
    // FusionBench averages the models of its pool; its `_pretrained_` (base_model) is not one of them.
    fusion_bench: [
      fusionBench('simple_average', {
        base: 'unused',
        inert: {
          show_pbar: 'a progress bar; the merged values are the same',
          inplace: 'FusionBench overwrites the first model it loaded or a copy; the merged values are the same',
        },
        params: () => ({ normalize: true }),
      }),
      fusionBench('linear/weighted_average', {
        aliases: ['weighted_average'],
        base: 'unused',
        globals: { normalize: true },
        lists: { weights: undefined },
        inert: { verbose: 'its logging; the merged values are the same' },
        weightsOf: (_g, { weights }, models) => {
          if (weights.length !== models || !weights.every((w) => typeof w === 'number'))
            fail(
              'CONFIG',
              `parameters.weights must be one number per model (${models}), got ${JSON.stringify(weights)}`,
            );
          return weights as number[];
        },
        params: (g) => ({ normalize: g.normalize }),
      }),
    ],
  },
  experts: { min: 1 },
  parse: (raw) => parseParams('weighted-average', specs, raw),
  merge({ experts, weights, out: into }, p) {
    const w = p.normalize ? normalizeWeights(weights, 'weighted-average') : weights;
    const out = into ?? allocateOutput(experts[0].length);
    weightedSum(out, experts, w);
    return out;
  },
  incremental(p, base) {
    return runningWeightedMean(base, p.normalize);
  },
};

/**
 * Keeps S = Σ w_i θ_i and W = Σ w_i; result() is S / W (or S without normalisation). Holding the sum
 * rather than the mean keeps the form exact when a partial weight sum passes through zero (negative
 * weights); a zero final W is the same MERGE error as the batch form. With no experts the result is θ0.
 */
function runningWeightedMean(base: ParamSet, normalize: boolean): IncrementalMerge {
  const sum = base.map((d) => new Float32Array(d.length), 'weighted-average');
  const weights: number[] = [];
  return {
    get count() {
      return weights.length;
    },
    add(expert, weight = 1) {
      weights.push(weight);
      for (const [name, t] of sum.entries()) axpy(t.data, weight, expert.data(name));
    },
    result() {
      if (weights.length === 0) return base.clone('weighted-average');
      const out = sum.clone('weighted-average');
      if (normalize) {
        const total = weights.reduce((a, b) => a + b, 0);
        normalizeWeights(weights, 'weighted-average'); // same zero-sum error as the batch form
        for (const [, t] of out.entries()) scale(t.data, 1 / total);
      }
      return out;
    },
  };
}
