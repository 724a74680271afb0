import { scale, sumAbs } from '../params/kernels.js';
import { fail } from '../params/errors.js';
import { allSame, checkDensity, KEEP_ALL, mergeTies, perExpert, taskVectors, tiesSpecs } from './combine.js';
import { prepareGlobalTrim, type GlobalTrim } from './global-trim.js';
import { num, oneOf, paramDocs, parseParams, requireRange, type ParamsOf } from './params.js';
import { COUNT_RULES, deltaTopKRule, deltaTopKRules, keepCount, trimByRule, type TopKRule } from './trim.js';
import {
  emptyList,
  fomoTaskVector,
  fusionBench,
  fusionBenchK,
  mergekitDisjoint,
  mergekitRescale,
  mergekitTaskArithmetic,
} from './toolkit-forms.js';
import type { MergeTechnique, TensorMergeInput } from './types.js';

const specs = {
  density: num(
    0.2,
    'Fraction of each task vector kept, in (0, 1] (FusionBench threshold/100; fomo_in_flux keeps 1 - prune_percentile).',
  ),
  scope: oneOf(
    ['tensor', 'model'],
    'tensor',
    'Top-k per tensor (mergekit) or over the whole model (FusionBench, fomo_in_flux).',
  ),
  ...tiesSpecs(),
  counts: oneOf(
    COUNT_RULES,
    'guarded',
    'density·n to a count: ⌊density·n⌋ guarded against float error (0.29·100 keeps 29), or truncate as mergekit does (int(0.29*100) = 28).',
  ),
  rescale: oneOf(
    ['none', 'l1'],
    'none',
    'Rescale each trimmed task vector to its L1 norm before the election (mergekit rescale: true), or not.',
  ),
  selection: oneOf(
    ['topk', 'kthvalue', 'kthvalue-keep'],
    'topk',
    'Keep the ⌊density·n⌋ largest magnitudes (exact count, earliest index on ties); or every |τ| >= the k-th smallest with k = int(prune·n) (fomo_in_flux: n - k + 1 values, all ties kept); or with k = n - int(density·n) (kthvalue-keep, FusionBench: int(density·n) + 1 values, all ties kept).',
  ),
  prune: num(
    0.2,
    'With selection: kthvalue, the fraction k/n of the k-th smallest magnitude (fomo_in_flux prune_percentile), in (0, 1).',
  ),
};
type Params = ParamsOf<typeof specs>;

/** The per-tensor top-k rules of each expert (its own density when the config gives one per model). */
function tensorRules({ base, experts, expertParams }: TensorMergeInput, p: Params): TopKRule[] {
  const n = base.length;
  if (p.selection === 'kthvalue') return experts.map((x) => kthRule(x, base, kthCount(n, p.prune)));
  const densities = perExpert(expertParams, 'density', p.density, experts.length);
  if (p.selection === 'kthvalue-keep') return experts.map((x, k) => kthRule(x, base, kthKeepCount(n, densities[k])));
  const ks = densities.map((d) => keepCount(n, d, p.counts));
  if (allSame(ks)) return deltaTopKRules(experts, base, ks[0]);
  return experts.map((x, k) => deltaTopKRule(x, base, ks[k]));
}

/** `|τ| >= kthvalue(|τ|, k)` (fomo_in_flux, FusionBench): the (n-k+1) largest, every tie at the threshold kept. */
function kthRule(x: Float32Array, base: Float32Array, k: number): TopKRule {
  const n = base.length;
  const rule = deltaTopKRule(x, base, n - k + 1);
  return { threshold: rule.threshold, ties: n };
}

/**
 * TIES-Merging (Yadav et al. 2023): trim each τ_k to its top `density` fraction by |value|, elect a sign
 * per element, disjoint-merge the agreeing values, θ0 + λ·result.
 */
export const ties: MergeTechnique<Params> = {
  name: 'ties',
  aliases: ['ties-merging', 'ties_merging'],
  summary: 'Trim task vectors to top-k, elect signs, merge agreeing values: θ0 + λ·disjoint_merge.',
  params: paramDocs(specs),
  facts: {
    weights: 'used',
    readsBase: true,
    perModel: ['density'],
    kernels: ['deltaTopKMany', 'deltaTopK', 'tiesMerge', 'sub', 'sumAbs', 'scale'],
    toolkits:
      'mergekit `ties` as its config says: per-model `density` (default 1), `counts: truncate`, `normalize` → `disjoint: mean`/`sum`, `rescale` → `rescale: l1`. FusionBench: `scope: model, tieRule: majority, weightsAt: after`. fomo_in_flux `ties` (`toolkit: fomo_in_flux`): `scope: model, selection: kthvalue, prune: prune_percentile, tieRule: majority, weightsAt: after`. FusionBench `ties_merging` (`toolkit: fusion_bench`): `scope: model, selection: kthvalue-keep, density: threshold/100, tieRule: majority, weightsAt: after`',
    laws: {
      idempotent: [{ density: 1 }, { density: 1, election: 'count', disjoint: 'max', weightsAt: 'after' }],
      symmetric: [{ density: 0.5 }, { density: 0.3, election: 'count', disjoint: 'sum', tieRule: 'majority' }],
      weightScale: [{ params: { density: 0.6 }, factor: 'power-of-two', tolerance: 1 }],
    },
    benchTarget: 0.35,
  },
  dialects: {
    mergekit: mergekitTaskArithmetic(
      'ties',
      { normalize: true, rescale: false },
      { density: 1 },
      (g) => ({ disjoint: mergekitDisjoint(g), rescale: mergekitRescale(g), counts: 'truncate' }),
      (v) => ({ density: v.density as number }),
    ),
    // continual_lib/merge.py TIES: kthvalue over the flattened model, unweighted election, zero votes to
    // the model's majority sign, merge_function mean | sum | max.
    fomo_in_flux: fomoTaskVector('ties', { prune_percentile: 0.2, merge_function: 'mean' }, (g) => ({
      scope: 'model',
      selection: 'kthvalue',
      prune: g.prune_percentile,
      disjoint: g.merge_function,
      tieRule: 'majority',
      weightsAt: 'after',
    })),
    // ties_merging_utils.py: per expert over the flattened model, every |τ| >= kthvalue(d - int(d·K)),
    // K = threshold (/100 above 1); unweighted election, a zero vote to the model's majority sign.
    fusion_bench: fusionBench('ties_merging', {
      globals: { scaling_factor: 0.3, threshold: 20, merge_func: 'sum' },
      lists: { remove_keys: [] },
      params: (g, { lists }) => {
        emptyList(lists, 'remove_keys', 'every tensor of the base file is merged');
        return {
          lambda: g.scaling_factor,
          scope: 'model',
          selection: 'kthvalue-keep',
          density: fusionBenchK(g.threshold as number),
          disjoint: g.merge_func,
          tieRule: 'majority',
          weightsAt: 'after',
        };
      },
    }),
  },
  experts: { min: 1 },
  parse(raw) {
    const p = parseParams('ties', specs, raw);
    checkDensity('ties', p.density);
    requireRange('ties', 'prune', p.prune, 0, 1, true, true);
    if (p.selection === 'kthvalue-keep' && p.density >= 1)
      fail(
        'CONFIG',
        'ties: selection kthvalue-keep needs density < 1 (it keeps every |τ| >= the (n - int(density·n))-th smallest; FusionBench fails at threshold 100 the same way)',
      );
    if (p.rescale === 'l1' && p.scope === 'model')
      fail('CONFIG', 'ties: rescale l1 works per tensor (mergekit); it cannot be combined with scope: model');
    return p;
  },
  async prepare(p, { base, experts, weights, expertParams }) {
    if (p.scope !== 'model') return undefined;
    const needsTotal = p.tieRule === 'majority' || p.tieRule === 'minority';
    const electionWeights = p.weightsAt === 'before' ? weights : weights.map(() => 1);
    const densities = perExpert(expertParams, 'density', p.density, experts.length);
    const keep =
      p.selection === 'kthvalue'
        ? { count: (total: number) => total - kthCount(total, p.prune) + 1, allTies: true }
        : p.selection === 'kthvalue-keep'
          ? { count: (total: number, k: number) => total - kthKeepCount(total, densities[k]) + 1, allTies: true }
          : { count: (total: number, k: number) => keepCount(total, densities[k], p.counts) };
    return prepareGlobalTrim(
      base,
      experts,
      keep,
      needsTotal ? { weights: electionWeights, method: p.election } : undefined,
    );
  },
  merge(input, p, prepared) {
    const { name, base, experts, weights, out } = input;
    if (p.scope === 'model') {
      const g = prepared as GlobalTrim | undefined;
      const rules = g?.rules.get(name);
      if (!g || !rules) throw new Error(`ties: scope "model" needs prepare() to have seen tensor "${name}"`);
      return mergeTies(base, experts, rules, weights, p, 'experts', g.signTotal, out);
    }
    const rules = tensorRules(input, p);
    if (p.rescale === 'none') return mergeTies(base, experts, rules, weights, p, 'experts', undefined, out);
    // mergekit's magnitude sparsification with rescale_norm l1: each trimmed τ scaled back to its L1 norm.
    const taus = taskVectors(base, experts);
    taus.forEach((t, k) => {
      const before = sumAbs(t);
      trimByRule(t, rules[k]);
      const after = sumAbs(t);
      if (before >= 1e-7 && after >= 1e-7) scale(t, before / after);
    });
    return mergeTies(
      base,
      taus,
      taus.map(() => KEEP_ALL),
      weights,
      p,
      'deltas',
      undefined,
      out,
    );
  },
};

/** int(prune·total), which selection: kthvalue needs to be at least 1 (torch's kthvalue). */
function kthCount(total: number, prune: number): number {
  const k = keepCount(total, prune, 'truncate');
  if (k < 1)
    fail(
      'MERGE',
      `ties: selection kthvalue needs int(prune·n) >= 1 (torch kthvalue), got int(${prune}·${total}) = ${k}`,
    );
  return k;
}

/**
 * FusionBench's topk_values_mask: k = n - int(density·n) (int of the float64 product, as Python takes
 * it), which torch's kthvalue needs to be at least 1, so density < 1.
 */
function kthKeepCount(total: number, density: number): number {
  const k = total - keepCount(total, density, 'truncate');
  if (k < 1)
    fail(
      'MERGE',
      `ties: selection kthvalue-keep needs n - int(density·n) >= 1 (torch kthvalue), got ${total} - int(${density}·${total}) = ${k}`,
    );
  return k;
}
