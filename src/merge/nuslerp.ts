import { allocateOutput } from '../params/kernels.js';
import { oneOf, paramDocs, parseParams, type ParamsOf } from './params.js';
import type { MergeTechnique } from './types.js';

const specs = {
  unit: oneOf(
    ['tensor', 'last-dim', 'first-dim'],
    'tensor',
    'Interpolate the flattened tensor (mergekit nuslerp_flatten: true), each vector along the last dimension (nuslerp_flatten: false), or along the first (nuslerp_row_wise: true).',
  ),
  space: oneOf(
    ['weights', 'task-vectors'],
    'weights',
    'Interpolate the weights (mergekit without base_model) or the task vectors, then add θ0 (with base_model).',
  ),
};
type Params = ParamsOf<typeof specs>;

/** One vector of a tensor: m elements from `start`, `step` apart. */
interface Strided {
  readonly start: number;
  readonly step: number;
  readonly m: number;
}

/** mergekit's nuslerp of one vector of v0 and v1 into out: colinear (|sin θ| < 1e-8) falls back to lerp. */
function slerpVector(
  out: Float32Array,
  v0: ArrayLike<number>,
  v1: ArrayLike<number>,
  { start, step, m }: Strided,
  t: number,
): void {
  const end = start + m * step;
  let n0 = 0;
  let n1 = 0;
  for (let i = start; i < end; i += step) {
    n0 += v0[i] * v0[i];
    n1 += v1[i] * v1[i];
  }
  // normalised with the norm clamped at 1e-7, as mergekit's _normalize
  const d0 = Math.max(Math.sqrt(n0), 1e-7);
  const d1 = Math.max(Math.sqrt(n1), 1e-7);
  let cos = 0;
  for (let i = start; i < end; i += step) cos += (v0[i] / d0) * (v1[i] / d1);
  const theta = Math.acos(Math.max(-1, Math.min(1, cos)));
  const sin = Math.sin(theta);
  if (Math.abs(sin) < 1e-8) {
    for (let i = start; i < end; i += step) out[i] = (1 - t) * v0[i] + t * v1[i];
    return;
  }
  const a = Math.sin((1 - t) * theta);
  const b = Math.sin(t * theta);
  for (let i = start; i < end; i += step) out[i] = (a * v0[i] + b * v1[i]) / sin;
}

/** The vectors the interpolation runs over. */
function vectors(shape: readonly number[], n: number, unit: Params['unit']): Strided[] {
  if (unit === 'tensor' || shape.length < 2) return [{ start: 0, step: 1, m: n }];
  if (unit === 'last-dim') {
    const m = shape[shape.length - 1];
    return Array.from({ length: n / m }, (_, r) => ({ start: r * m, step: 1, m }));
  }
  const m = shape[0];
  const stride = n / m;
  return Array.from({ length: stride }, (_, c) => ({ start: c, step: stride, m }));
}

/**
 * NuSLERP (mergekit `nuslerp`): spherical interpolation of two models with the factor from their
 * weights, t = w_2/(w_1 + w_2) (0.5 when the weights sum to about 0), per flattened tensor or per
 * vector along a dimension; in task-vector space when θ0 is given (mergekit with base_model).
 */
export const nuslerp: MergeTechnique<Params> = {
  name: 'nuslerp',
  summary:
    'SLERP of two models with t = w2/(w1 + w2), per tensor or per row/column vector; optionally of task vectors (+ θ0).',
  params: paramDocs(specs),
  facts: {
    weights: 'used',
    readsBase: true,
    perModel: [],
    kernels: [],
    toolkits:
      'mergekit `nuslerp` as its config says: `nuslerp_flatten`/`nuslerp_row_wise` → `unit`, base_model → `space: task-vectors`',
    laws: {
      idempotent: [{}, { unit: 'last-dim', space: 'task-vectors' }],
      symmetric: [{}],
      weightScale: [{ params: {}, factor: 'power-of-two', tolerance: 1 }],
    },
  },
  dialects: {
    mergekit: {
      method: 'nuslerp',
      globals: { nuslerp_row_wise: false, nuslerp_flatten: true },
      perModel: {},
      base: 'optional',
      weights: 'free',
      params: (g, { hasBase }) => ({
        unit: g.nuslerp_flatten ? 'tensor' : g.nuslerp_row_wise ? 'first-dim' : 'last-dim',
        space: hasBase ? 'task-vectors' : 'weights',
      }),
    },
  },
  experts: { min: 2, max: 2 },
  parse: (raw) => parseParams('nuslerp', specs, raw),
  merge({ shape, base, experts, weights, out: into }, p) {
    const sum = weights[0] + weights[1];
    const t = Math.abs(sum) < 1e-6 ? 0.5 : weights[1] / sum;
    const n = base.length;
    const inTaskSpace = p.space === 'task-vectors';
    const v0 = inTaskSpace ? Float64Array.from(experts[0], (v, i) => Math.fround(v - base[i])) : experts[0];
    const v1 = inTaskSpace ? Float64Array.from(experts[1], (v, i) => Math.fround(v - base[i])) : experts[1];
    const out = into ?? allocateOutput(n);
    for (const idx of vectors(shape, n, p.unit)) slerpVector(out, v0, v1, idx, t);
    if (inTaskSpace) for (let i = 0; i < n; i++) out[i] += base[i];
    return out;
  },
};
