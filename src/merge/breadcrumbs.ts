import { allocateOutput, breadcrumbsLinear, scale, sumAbs } from '../params/kernels.js';
import { applyDelta, KEEP_ALL, linearDelta, linearSpecs, mergeTies, taskVectors, tiesSpecs } from './combine.js';
import { fail } from '../params/errors.js';
import { num, oneOf, paramDocs, parseParams, requireRange, type ParamsOf } from './params.js';
import { rowLength, trimOutliers } from './trim.js';
import type { MergeTechnique, TensorMergeInput } from './types.js';
import { normalizeWeights } from './weights.js';

const crumbSpecs = {
  p: num(0.9, 'Fraction of smallest-magnitude elements dropped, in [0, 1) (mergekit: density = 1 - p - gamma).'),
  gamma: num(0.01, 'Fraction of largest-magnitude elements dropped, in [0, 1); p + gamma < 1.'),
  granularity: oneOf(['tensor', 'row'], 'tensor', 'Rank within each tensor (mergekit) or each row of the last dimension (fomo_in_flux, Breadcrumbs paper).'),
  rescale: oneOf(['none', 'l1'], 'none', 'Rescale survivors to keep the L1 norm (mergekit rescale_norm: l1) or not.'),
};

type CrumbParams = ParamsOf<typeof crumbSpecs>;

function checkCrumbs(technique: string, p: CrumbParams): void {
  requireRange(technique, 'p', p.p, 0, 1, false, true);
  requireRange(technique, 'gamma', p.gamma, 0, 1, false, true);
  if (p.p + p.gamma >= 1) fail('CONFIG', `${technique}: p + gamma must be below 1 (got ${p.p} + ${p.gamma}), or nothing is kept`);
}

/**
 * Drops ⌊p·n⌋ smallest and ⌊gamma·n⌋ largest elements by magnitude of every unit (tensor or row) of
 * length n, in place; ⌊p·n⌋ + ⌊γ·n⌋ <= ⌊(p+γ)·n⌋ < n, so every unit keeps at least one element.
 */
export function breadcrumbTrim(t: Float32Array, shape: readonly number[], c: CrumbParams): void {
  const before = c.rescale === 'l1' ? sumAbs(t) : 0;
  const len = c.granularity === 'row' ? rowLength(shape, t.length) : t.length;
  if (len > 0) {
    const nBottom = Math.floor(c.p * len + 1e-9);
    const nTop = Math.floor(c.gamma * len + 1e-9);
    for (let o = 0; o < t.length; o += len) trimOutliers(t.subarray(o, o + len), nBottom, nTop);
  }
  if (c.rescale === 'l1') {
    const after = sumAbs(t);
    if (before >= 1e-7 && after >= 1e-7) scale(t, before / after);
  }
}

function trimmed({ base, experts, shape }: TensorMergeInput, c: CrumbParams): Float32Array[] {
  const taus = taskVectors(base, experts);
  for (const t of taus) breadcrumbTrim(t, shape, c);
  return taus;
}

const linearCrumbSpecs = { ...crumbSpecs, ...linearSpecs };
const tiesCrumbSpecs = { ...crumbSpecs, ...tiesSpecs() };
type LinearParams = ParamsOf<typeof linearCrumbSpecs>;
type TiesParams = ParamsOf<typeof tiesCrumbSpecs>;

/** Model Breadcrumbs (Davari & Belilovsky 2024): drop outliers and small values, then θ0 + λ Σ w_k τ̃_k. */
export const breadcrumbs: MergeTechnique<LinearParams> = {
  name: 'breadcrumbs',
  aliases: ['model-breadcrumbs', 'model_breadcrumbs'],
  summary: 'Drop the smallest p and largest gamma of each task vector (per tensor or row), then θ0 + λ Σ w_k τ̃_k.',
  params: paramDocs(linearCrumbSpecs),
  facts: {
    weights: 'linear',
    readsBase: true,
    perModel: [],
    kernels: ['breadcrumbsLinear', 'absTopKPair', 'trimBand', 'sub', 'sumAbs', 'scale', 'weightedSum', 'addScaled'],
    toolkits: 'mergekit `breadcrumbs`: `p = 1 − density − gamma`',
    laws: {
      idempotent: [{ p: 0, gamma: 0, normalize: true }],
      symmetric: [{ p: 0.3, gamma: 0.1 }],
      weightScale: [{ params: { p: 0.2, gamma: 0.1, normalize: true }, factor: 'any', tolerance: 1 }],
    },
    benchTarget: 0.35,
  },
  experts: { min: 1 },
  parse(raw) {
    const p = parseParams('breadcrumbs', linearCrumbSpecs, raw);
    checkCrumbs('breadcrumbs', p);
    return p;
  },
  merge(input, p) {
    // Per tensor without rescaling, a backend may fuse selection, trim and the linear step (same bits).
    const n = input.base.length;
    const nBottom = Math.floor(p.p * n + 1e-9);
    const nTop = Math.floor(p.gamma * n + 1e-9);
    let out = input.out;
    if (p.granularity === 'tensor' && p.rescale === 'none' && n > 0 && nBottom + nTop < n) {
      const w = p.normalize ? normalizeWeights(input.weights, 'breadcrumbs') : input.weights;
      out ??= allocateOutput(n);
      if (breadcrumbsLinear(out, input.base, input.experts, w, p.lambda, nBottom, nTop)) return out;
    }
    return applyDelta(input.base, p.lambda, linearDelta(trimmed(input, p), input.weights, p, 'breadcrumbs', out));
  },
};

/** Breadcrumbs trimming then TIES election and disjoint merge (fomo_in_flux breadcrumbs_ties uses disjoint sum). */
export const breadcrumbsTies: MergeTechnique<TiesParams> = {
  name: 'breadcrumbs-ties',
  aliases: ['breadcrumbs_ties'],
  summary: 'Breadcrumbs trimming, then TIES sign election and disjoint merge.',
  params: paramDocs(tiesCrumbSpecs),
  facts: {
    weights: 'used',
    readsBase: true,
    perModel: [],
    kernels: ['absTopKPair', 'trimBand', 'sub', 'sumAbs', 'scale', 'tiesMerge'],
    toolkits:
      'mergekit `breadcrumbs_ties`: the defaults; fomo_in_flux: `p: 0.2, gamma: 0.2, granularity: row, disjoint: sum, tieRule: majority, weightsAt: after`',
    laws: {
      idempotent: [{ p: 0, gamma: 0 }],
      symmetric: [{ p: 0.3, gamma: 0.1 }],
    },
  },
  experts: { min: 1 },
  parse(raw) {
    const p = parseParams('breadcrumbs-ties', tiesCrumbSpecs, raw);
    checkCrumbs('breadcrumbs-ties', p);
    return p;
  },
  merge(input, p) {
    const taus = trimmed(input, p);
    return mergeTies(input.base, taus, taus.map(() => KEEP_ALL), input.weights, p, 'deltas', undefined, input.out);
  },
};
