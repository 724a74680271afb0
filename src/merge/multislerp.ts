import { allocateOutput } from '../params/kernels.js';
import { norm64 } from './float64-norm.js';
import { bool, num, oneOf, paramDocs, parseParams, type ParamsOf } from './params.js';
import type { MergeTechnique } from './types.js';

const specs = {
  normalizeWeights: bool(true, 'Divide the weights by their sum first (mergekit normalize_weights).'),
  eps: num(
    1e-8,
    'Added to norms before dividing; a weighted mean of unit vectors shorter than this has no direction (mergekit eps).',
  ),
  space: oneOf(
    ['weights', 'task-vectors'],
    'weights',
    'Interpolate the weights (mergekit without base_model) or the task vectors, then add θ0 (with base_model).',
  ),
};
type Params = ParamsOf<typeof specs>;

/**
 * Multi-SLERP (mergekit `multislerp`): barycentric interpolation on the hypersphere, per tensor.
 * Each vector's unit direction u_k = v_k/(|v_k| + eps); their weighted mean m, normalised, is the
 * tangent point; the weighted mean of the tangent components u_k − (u_k·m)m is mapped back by the
 * exponential map, and the result scaled by the weighted mean of the norms. Vectors whose weighted
 * directions cancel (or are all zero) give their weighted sum, mergekit's fallback for two (with more
 * mergekit raises an error).
 */
export const multislerp: MergeTechnique<Params> = {
  name: 'multislerp',
  summary:
    'Barycentric SLERP of any number of models on the hypersphere (tangent space at the weighted mean direction), times the weighted mean norm.',
  params: paramDocs(specs),
  facts: {
    weights: 'used',
    readsBase: true,
    perModel: [],
    kernels: [],
    toolkits:
      'mergekit `multislerp` as its config says: `normalize_weights`, `eps`, base_model → `space: task-vectors`',
    laws: {
      idempotent: [{}, { space: 'task-vectors' }],
      symmetric: [{}],
      weightScale: [{ params: {}, factor: 'power-of-two', tolerance: 1 }],
    },
  },
  dialects: {
    mergekit: {
      method: 'multislerp',
      globals: { normalize_weights: true, eps: 1e-8 },
      perModel: {},
      base: 'optional',
      weights: 'free',
      params: (g, { hasBase }) => ({
        normalizeWeights: g.normalize_weights,
        eps: g.eps,
        space: hasBase ? 'task-vectors' : 'weights',
      }),
    },
  },
  experts: { min: 1 },
  parse: (raw) => parseParams('multislerp', specs, raw),
  merge({ base, experts, weights, out: into }, p) {
    const n = base.length;
    const out = into ?? allocateOutput(n);
    const shift = p.space === 'task-vectors';
    if (experts.length === 1) {
      out.set(experts[0]);
      return out;
    }
    // Plain loops throughout: a callback per element (from/map/reduce) costs ~10x on model-sized tensors.
    const vs = experts.map((x) => {
      const v = new Float64Array(n);
      if (shift) for (let i = 0; i < n; i++) v[i] = Math.fround(x[i] - base[i]);
      else v.set(x);
      return v;
    });
    const total = weights.reduce((a, b) => a + b, 0);
    const w = p.normalizeWeights ? weights.map((x) => x / total) : [...weights];
    const norms = vs.map(norm64);
    const units = vs.map((v, k) => {
      const u = new Float64Array(n);
      const d = norms[k] + p.eps;
      for (let i = 0; i < n; i++) u[i] = v[i] / d;
      return u;
    });
    const mean = new Float64Array(n);
    for (let k = 0; k < units.length; k++) {
      const u = units[k];
      for (let i = 0; i < n; i++) mean[i] += u[i] * w[k];
    }
    const meanNorm = norm64(mean);
    if (meanNorm < p.eps) {
      // No mean direction (all-zero vectors, or antipodal ones whose weights balance): the weighted sum,
      // mergekit's fallback for two vectors (with more it raises an error).
      for (let i = 0; i < n; i++) {
        let v = shift ? base[i] : 0;
        for (let k = 0; k < vs.length; k++) v += vs[k][i] * w[k];
        out[i] = v;
      }
      return out;
    }
    for (let i = 0; i < n; i++) mean[i] /= meanNorm;
    const tangent = new Float64Array(n);
    for (let k = 0; k < units.length; k++) {
      const u = units[k];
      let dot = 0;
      for (let i = 0; i < n; i++) dot += u[i] * mean[i];
      for (let i = 0; i < n; i++) tangent[i] += (u[i] - dot * mean[i]) * w[k];
    }
    const tn = norm64(tangent) + p.eps;
    const avgNorm = norms.reduce((s, nk, k) => s + nk * w[k], 0);
    const c = Math.cos(tn);
    const s = Math.sin(tn) / tn;
    for (let i = 0; i < n; i++) out[i] = (mean[i] * c + tangent[i] * s) * avgNorm + (shift ? base[i] : 0);
    return out;
  },
};
