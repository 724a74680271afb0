import { allocateOutput } from '../params/kernels.js';
import { norm64 } from './float64-norm.js';
import { int, num, paramDocs, parseParams, requireRange, type ParamsOf } from './params.js';
import type { MergeTechnique } from './types.js';

const specs = {
  maxIter: int(10, 'Iterations of the Riemannian mean at most (mergekit max_iter).'),
  tol: num(
    1e-5,
    'Stop when the tangent step is shorter than this; vectors with a norm at or below it are left out of the mean direction (mergekit tol).',
  ),
};
type Params = ParamsOf<typeof specs>;

/**
 * The Karcher (Riemannian) mean of the experts' directions on the unit sphere, scaled by the mean of
 * their norms (mergekit `karcher`): start from the normalised mean of the unit vectors, then repeat
 * u ← cos|T|·u + sin|T|·T/|T| with T = Σ a_k·θ_k/sin θ_k·(x_k − cos θ_k·u) over the unit vectors x_k
 * (a_k equal, θ_k = arccos(u·x_k); terms with θ_k < tol skipped) until |T| < tol or maxIter steps.
 * Computed in float64 per tensor; weights are ignored (mergekit averages equally).
 */
export function karcherMean(xs: readonly Float32Array[], maxIter: number, tol: number): Float64Array {
  const n = xs[0].length;
  const N = xs.length;
  const alphas = xs.map(() => 1 / N);
  const norms = xs.map(norm64);
  if (N === 1) return Float64Array.from(xs[0]);
  const valid = norms.map((nk, k) => (nk > tol ? k : -1)).filter((k) => k >= 0);
  if (valid.length === 0) return new Float64Array(n);
  const alphaSum = valid.reduce((s, k) => s + alphas[k], 0);
  const a = valid.map((k) => alphas[k] / alphaSum);
  const us = valid.map((k) => {
    const x = xs[k];
    const unit = new Float64Array(n);
    for (let i = 0; i < n; i++) unit[i] = x[i] / norms[k];
    return unit;
  });
  const u = new Float64Array(n);
  for (let j = 0; j < us.length; j++) {
    const x = us[j];
    for (let i = 0; i < n; i++) u[i] += a[j] * x[i];
  }
  const nu = norm64(u);
  if (nu < tol) u.set(us[0]);
  else for (let i = 0; i < n; i++) u[i] /= nu;
  const T = new Float64Array(n);
  for (let iter = 0; iter < maxIter; iter++) {
    T.fill(0);
    for (let j = 0; j < us.length; j++) {
      const x = us[j];
      let dot = 0;
      for (let i = 0; i < n; i++) dot += u[i] * x[i];
      dot = Math.max(-1, Math.min(1, dot));
      const theta = Math.acos(dot);
      if (theta < tol) continue;
      const f = (a[j] * theta) / Math.sin(theta);
      for (let i = 0; i < n; i++) T[i] += f * (x[i] - dot * u[i]);
    }
    const nT = norm64(T);
    if (nT < tol) break;
    const c = Math.cos(nT);
    const s = Math.sin(nT);
    for (let i = 0; i < n; i++) u[i] = c * u[i] + (s * T[i]) / nT;
    const un = norm64(u);
    if (un > tol) for (let i = 0; i < n; i++) u[i] /= un;
  }
  const scale = alphas.reduce((s, ak, k) => s + ak * norms[k], 0);
  for (let i = 0; i < n; i++) u[i] *= scale;
  return u;
}

/** The Karcher mean of the experts, per tensor (mergekit `karcher`); θ0 is not read. */
export const karcher: MergeTechnique<Params> = {
  name: 'karcher',
  summary:
    "Riemannian (Karcher) mean of the experts' directions on the sphere, times their mean norm; weights ignored, θ0 not read.",
  params: paramDocs(specs),
  facts: {
    weights: 'ignored',
    readsBase: false,
    perModel: [],
    kernels: [],
    toolkits:
      'mergekit `karcher` (`max_iter` → `maxIter`, `tol`; its `base_model` is one more model of the mean, after the listed ones)',
    // Not symmetric: with antipodal experts the start is the first expert's direction, as in mergekit.
    laws: { idempotent: [{}] },
  },
  dialects: {
    // mergekit gathers base_model with the models (appended when not listed): one more point of the mean.
    mergekit: {
      method: 'karcher',
      globals: { max_iter: 10, tol: 1e-5 },
      perModel: {},
      base: 'extra-model',
      weights: 'unused',
      params: (g) => ({ maxIter: g.max_iter, tol: g.tol }),
    },
  },
  experts: { min: 1 },
  parse(raw) {
    const p = parseParams('karcher', specs, raw);
    requireRange('karcher', 'maxIter', p.maxIter, 0, Infinity);
    requireRange('karcher', 'tol', p.tol, 0, Infinity);
    return p;
  },
  merge({ experts, out: into }, p) {
    const mean = karcherMean(experts, p.maxIter, p.tol);
    const out = into ?? allocateOutput(mean.length);
    out.set(mean);
    return out;
  },
};
