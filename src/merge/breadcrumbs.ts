import { allocateOutput, breadcrumbsLinear, scale, sumAbs } from '../params/kernels.js';
import { applyDelta, KEEP_ALL, linearDelta, linearParamDocs, mergeTies, taskVectors, tiesParamDocs, type LinearOptions, type TiesOptions } from './combine.js';
import { fail } from '../params/errors.js';
import { parseParams, requireRange } from './params.js';
import { rowLength, trimOutliers } from './trim.js';
import type { MergeTechnique, ParamDoc, TensorMergeInput } from './types.js';
import { normalizeWeights } from './weights.js';

interface CrumbParams {
  p: number;
  gamma: number;
  granularity: 'tensor' | 'row';
  rescale: 'none' | 'l1';
}

const crumbDocs: ParamDoc[] = [
  { name: 'p', type: 'number', default: 0.9, description: 'Fraction of smallest-magnitude elements dropped, in [0, 1) (mergekit: density = 1 - p - gamma).' },
  { name: 'gamma', type: 'number', default: 0.01, description: 'Fraction of largest-magnitude elements dropped, in [0, 1); p + gamma < 1.' },
  { name: 'granularity', type: 'enum', values: ['tensor', 'row'], default: 'tensor', description: 'Rank within each tensor (mergekit) or each row of the last dimension (fomo_in_flux, Breadcrumbs paper).' },
  { name: 'rescale', type: 'enum', values: ['none', 'l1'], default: 'none', description: 'Rescale survivors to keep the L1 norm (mergekit rescale_norm: l1) or not.' },
];

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

type LinearParams = CrumbParams & LinearOptions;
type TiesParams = CrumbParams & TiesOptions;

/** Model Breadcrumbs (Davari & Belilovsky 2024): drop outliers and small values, then θ0 + λ Σ w_k τ̃_k. */
export const breadcrumbs: MergeTechnique<LinearParams> = {
  name: 'breadcrumbs',
  aliases: ['model-breadcrumbs', 'model_breadcrumbs'],
  summary: 'Drop the smallest p and largest gamma of each task vector (per tensor or row), then θ0 + λ Σ w_k τ̃_k.',
  params: [...crumbDocs, ...linearParamDocs()],
  experts: { min: 1 },
  parse(raw) {
    const p = parseParams('breadcrumbs', breadcrumbs.params, raw) as unknown as LinearParams;
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
  params: [...crumbDocs, ...tiesParamDocs()],
  experts: { min: 1 },
  parse(raw) {
    const p = parseParams('breadcrumbs-ties', breadcrumbsTies.params, raw) as unknown as TiesParams;
    checkCrumbs('breadcrumbs-ties', p);
    return p;
  },
  merge(input, p) {
    const taus = trimmed(input, p);
    return mergeTies(input.base, taus, taus.map(() => KEEP_ALL), input.weights, p, 'deltas', undefined, input.out);
  },
};
