import { checkDensity, mergeTies, tiesSpecs } from './combine.js';
import { prepareGlobalTrim, type GlobalTrim } from './global-trim.js';
import { num, oneOf, paramDocs, parseParams, type ParamsOf } from './params.js';
import { deltaTopKRules, keepCount } from './trim.js';
import type { MergeTechnique } from './types.js';

const specs = {
  density: num(0.2, 'Fraction of each task vector kept, in (0, 1] (FusionBench threshold/100; fomo_in_flux keeps 1 - prune_percentile).'),
  scope: oneOf(['tensor', 'model'], 'tensor', 'Top-k per tensor (mergekit) or over the whole model (FusionBench, fomo_in_flux).'),
  ...tiesSpecs(),
};
type Params = ParamsOf<typeof specs>;

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
    perModel: [],
    kernels: ['deltaTopKMany', 'tiesMerge'],
    toolkits:
      'mergekit: the defaults. FusionBench: `scope: model, tieRule: majority, weightsAt: after`. fomo_in_flux: the same with `density: 0.8` (it prunes 20%)',
    laws: {
      idempotent: [{ density: 1 }, { density: 1, election: 'count', disjoint: 'max', weightsAt: 'after' }],
      symmetric: [{ density: 0.5 }, { density: 0.3, election: 'count', disjoint: 'sum', tieRule: 'majority' }],
      weightScale: [{ params: { density: 0.6 }, factor: 'power-of-two', tolerance: 1 }],
    },
    benchTarget: 0.35,
  },
  experts: { min: 1 },
  parse(raw) {
    const p = parseParams('ties', specs, raw);
    checkDensity('ties', p.density);
    return p;
  },
  async prepare(p, { base, experts, weights }) {
    if (p.scope !== 'model') return undefined;
    const needsTotal = p.tieRule === 'majority' || p.tieRule === 'minority';
    const electionWeights = p.weightsAt === 'before' ? weights : weights.map(() => 1);
    return prepareGlobalTrim(base, experts, p.density, needsTotal ? { weights: electionWeights, method: p.election } : undefined);
  },
  merge({ name, base, experts, weights, out }, p, prepared) {
    if (p.scope === 'model') {
      const g = prepared as GlobalTrim | undefined;
      const rules = g?.rules.get(name);
      if (!g || !rules) throw new Error(`ties: scope "model" needs prepare() to have seen tensor "${name}"`);
      return mergeTies(base, experts, rules, weights, p, 'experts', g.signTotal, out);
    }
    const k = keepCount(base.length, p.density);
    return mergeTies(base, experts, deltaTopKRules(experts, base, k), weights, p, 'experts', undefined, out);
  },
};
