import { axpby, dot, sub, sumSquares, weightedSum } from '../params/kernels.js';
import { fail } from '../params/errors.js';
import { num, oneOf, paramDocs, parseParams, type ParamsOf } from './params.js';
import { emptyList, fusionBench } from './toolkit-forms.js';
import { rowLength } from './trim.js';
import type { MergeTechnique } from './types.js';

const specs = {
  aggregate: oneOf(
    ['cosine', 'angle'],
    'cosine',
    'Average the pairwise cosines (mergekit) or the pairwise angles, then take the cosine (FusionBench). Same for N = 2.',
  ),
  negativeCos: oneOf(
    ['clamp', 'keep'],
    'clamp',
    'Clamp cos to >= 0 so r is in [0, 1] (a tensor whose experts disagree keeps θ0), or keep it as the toolkits do (r < 0 extrapolates; a singular ratio is a MERGE error).',
  ),
  granularity: oneOf(
    ['tensor', 'row'],
    'tensor',
    'One ratio per tensor (mergekit default, FusionBench, fomo_in_flux) or per row of the last dimension (mergekit filter_wise: true).',
  ),
  eps: num(
    0,
    "Added to the norm product of the cosine and to the ratio's denominator, N·cos/(1 + (N-1)·cos + eps) (fomo_in_flux eps 1e-8); 0: exact.",
  ),
};
type Params = ParamsOf<typeof specs>;

/**
 * cos of the angle between two task vectors; 0 when either is all zeros (as the toolkits' eps gives).
 * With eps > 0 the norm product gets eps added first, as fomo_in_flux computes it.
 */
function cosine(a: Float32Array, b: Float32Array, eps = 0): number {
  const na = sumSquares(a);
  const nb = sumSquares(b);
  if (eps === 0 && (na === 0 || nb === 0)) return 0;
  return Math.max(-1, Math.min(1, dot(a, b) / (Math.sqrt(na * nb) + eps)));
}

/** The pairwise mean the ratio is computed from: mean of cosines, or cos of the mean angle. */
export function stockCosine(taus: readonly Float32Array[], aggregate: Params['aggregate'], eps = 0): number {
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < taus.length; i++) {
    for (let j = i + 1; j < taus.length; j++) {
      const c = cosine(taus[i], taus[j], eps);
      sum += aggregate === 'cosine' ? c : Math.acos(c);
      pairs++;
    }
  }
  const mean = sum / pairs;
  return aggregate === 'cosine' ? mean : Math.cos(mean);
}

/**
 * Model Stock (Jang et al. 2024), per tensor: cos θ from the task vectors, r = N cos / (1 + (N-1) cos),
 * result r·mean(θ_k) + (1-r)·θ0. Expert weights are ignored (the ratio sets the mix).
 */
export const modelStock: MergeTechnique<Params> = {
  name: 'model-stock',
  aliases: ['model_stock', 'modelstock'],
  summary:
    'Per tensor r = N·cos/(1+(N-1)·cos) from pairwise task-vector angles; r·mean(θ_k) + (1-r)·θ0. N >= 2; weights ignored.',
  params: paramDocs(specs),
  facts: {
    weights: 'ignored',
    readsBase: true,
    perModel: [],
    kernels: ['sub', 'dot', 'sumSquares', 'weightedSum', 'axpby'],
    toolkits:
      'mergekit `model_stock`: `aggregate: cosine, negativeCos: keep` (`filter_wise: true` → `granularity: row`); FusionBench `model_stock/model_stock` (`toolkit: fusion_bench`): `aggregate: angle, negativeCos: keep, eps: 1e-8`; fomo_in_flux `model_stock` (N = 2): `negativeCos: keep, eps: 1e-8`',
    laws: {
      idempotent: [{}, { aggregate: 'angle', granularity: 'row' }],
      symmetric: [{}],
    },
  },
  dialects: {
    mergekit: {
      method: 'model_stock',
      globals: { filter_wise: false },
      perModel: {},
      base: 'task-vectors',
      weights: 'unused',
      params: (g) => ({ aggregate: 'cosine', negativeCos: 'keep', granularity: g.filter_wise ? 'row' : 'tensor' }),
    },
    fomo_in_flux: {
      method: 'model_stock',
      globals: { eps: 1e-8 },
      perModel: {},
      base: 'task-vectors',
      weights: 'none',
      params: (g) => ({ negativeCos: 'keep', eps: g.eps }),
    },
    // model_stock.py: the mean of the pairwise angles, its EPS 1e-8 in the cosine and the ratio.
    fusion_bench: fusionBench('model_stock/model_stock', {
      aliases: ['model_stock'],
      lists: { ignore_keys: [] },
      inert: {
        model_save_path: 'time-merge writes the output the merge command names',
        model_save_kwargs: 'time-merge writes the output the merge command names',
      },
      params: (_g, { lists }) => {
        emptyList(
          lists,
          'ignore_keys',
          'every tensor takes its Model Stock ratio; FusionBench averages the listed ones plainly',
        );
        return { aggregate: 'angle', negativeCos: 'keep', eps: 1e-8 };
      },
    }),
  },
  experts: { min: 2 },
  parse: (raw) => parseParams('model-stock', specs, raw),
  merge({ name, shape, base, experts }, p) {
    const N = experts.length;
    const taus = experts.map((x) => {
      const t = new Float32Array(base.length);
      sub(t, x, base);
      return t;
    });
    const out = new Float32Array(base.length);
    weightedSum(out, experts, new Array<number>(N).fill(1 / N));
    const len = p.granularity === 'row' ? rowLength(shape, base.length) : base.length;
    for (let o = 0; o < base.length; o += len) {
      const part = (a: Float32Array) => a.subarray(o, o + len);
      let cos = stockCosine(taus.map(part), p.aggregate, p.eps);
      if (p.negativeCos === 'clamp') cos = Math.max(0, cos);
      const denom = 1 + (N - 1) * cos + p.eps;
      if (Math.abs(denom) < 1e-6) {
        const where = len === base.length ? '' : ` row ${o / len}`;
        fail(
          'MERGE',
          `model-stock: tensor "${name}"${where}: mean cos ${cos} makes the ratio N·cos/(1+(N-1)·cos) singular (use negativeCos: clamp)`,
        );
      }
      const r = (N * cos) / denom;
      axpby(part(out), r, part(out), 1 - r, part(base));
    }
    return out;
  },
};
