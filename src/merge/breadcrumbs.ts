import { allocateOutput, breadcrumbsLinear, scale, sumAbs } from '../params/kernels.js';
import {
  allSame,
  applyDelta,
  KEEP_ALL,
  linearDelta,
  linearSpecs,
  mergeTies,
  perExpert,
  taskVectors,
  tiesSpecs,
} from './combine.js';
import { fail } from '../params/errors.js';
import { num, oneOf, paramDocs, parseParams, requireRange, type ParamsOf } from './params.js';
import { COUNT_RULES, keepCount, rowLength, trimOutliers } from './trim.js';
import { applyBand, prepareGlobalBand, type GlobalBand } from './global-band.js';
import { fomoTaskVector, mergekitDisjoint, mergekitRescale, mergekitTaskArithmetic } from './toolkit-forms.js';
import type { MergeTechnique, TensorMergeInput } from './types.js';
import { normalizeWeights } from './weights.js';

const crumbSpecs = {
  p: num(0.9, 'Fraction of smallest-magnitude elements dropped, in [0, 1) (mergekit: density = 1 - p - gamma).'),
  gamma: num(0.01, 'Fraction of largest-magnitude elements dropped, in [0, 1); p + gamma < 1.'),
  granularity: oneOf(
    ['tensor', 'row', 'model'],
    'tensor',
    'Rank within each tensor (mergekit), each row of the last dimension (Breadcrumbs paper), or over the flattened model with threshold comparisons that keep ties (fomo_in_flux).',
  ),
  rescale: oneOf(['none', 'l1'], 'none', 'Rescale survivors to keep the L1 norm (mergekit rescale: true) or not.'),
  density: num(
    0,
    'Instead of p (0: unset): keep ⌊density·n⌋ after dropping the ⌊gamma·n⌋ largest, the rest from the bottom (mergekit magnitude_outliers); density >= 1 keeps all.',
  ),
  counts: oneOf(
    COUNT_RULES,
    'guarded',
    'fraction·n to a count: guarded against float error (0.29·100 gives 29), or truncate as mergekit does (28).',
  ),
};

type CrumbParams = ParamsOf<typeof crumbSpecs>;

function checkCrumbs(technique: string, p: CrumbParams, raw: Record<string, unknown>): void {
  requireRange(technique, 'p', p.p, 0, 1, false, true);
  requireRange(technique, 'gamma', p.gamma, 0, 1, false, true);
  requireRange(technique, 'density', p.density, 0, 1);
  // Parsed parameters parse again (a spec rebuilt from them), so only a p away from its default conflicts.
  if (p.density > 0 && raw.p !== undefined && raw.p !== crumbSpecs.p.default) {
    fail('CONFIG', `${technique}: give p (the bottom fraction dropped) or density (the fraction kept), not both`);
  }
  if (p.density === 0 && p.p + p.gamma >= 1)
    fail('CONFIG', `${technique}: p + gamma must be below 1 (got ${p.p} + ${p.gamma}), or nothing is kept`);
  if (p.granularity === 'model' && (p.density > 0 || p.rescale !== 'none'))
    fail(
      'CONFIG',
      `${technique}: granularity model (fomo_in_flux's band) takes p and gamma, without density or rescale`,
    );
}

/** The model-wide band of every expert (granularity: model), with each expert's own p and gamma. */
function prepareBand(
  c: CrumbParams,
  experts: number,
  sources: Parameters<NonNullable<MergeTechnique['prepare']>>[1],
  election?: { weights: readonly number[]; method: 'sum' | 'count' },
) {
  const each = expertCrumbs(c, sources.expertParams, experts);
  return prepareGlobalBand(
    sources.base,
    sources.experts,
    (total, k) => ({ bottom: keepCount(total, each[k].p, c.counts), top: keepCount(total, each[k].gamma, c.counts) }),
    election,
  );
}

/** τ_k of one tensor with the model-wide band applied. */
function banded({ base, experts }: TensorMergeInput, band: GlobalBand | undefined, name: string): Float32Array[] {
  if (!band) throw new Error(`breadcrumbs: granularity "model" needs prepare() to have seen tensor "${name}"`);
  const taus = taskVectors(base, experts);
  taus.forEach((t, k) => applyBand(t, band.lo[k], band.hi[k]));
  return taus;
}

/** The counts dropped from the bottom and the top of a unit of n elements, with one expert's p, gamma and density. */
export function bandCounts(
  n: number,
  c: Pick<CrumbParams, 'p' | 'gamma' | 'density' | 'counts'>,
): { nBottom: number; nTop: number } {
  if (c.density === 0) return { nBottom: keepCount(n, c.p, c.counts), nTop: keepCount(n, c.gamma, c.counts) };
  // mergekit's magnitude_outliers: keep int(density·n) after dropping int(gamma·n) from the top; when the
  // two do not fit, fewer are dropped from the top. (mergekit's indices[n_bot:-n_top] keeps nothing
  // when n_top is 0; this keeps the band it means.)
  if (c.density >= 1) return { nBottom: 0, nTop: 0 };
  const target = keepCount(n, c.density, c.counts);
  let nTop = keepCount(n, c.gamma, c.counts);
  let nBottom = n - target - nTop;
  if (nBottom < 0) {
    nTop += nBottom;
    nBottom = 0;
  }
  return { nBottom, nTop };
}

/** Each expert's band parameters (its own p, gamma, density when the config gives them per model). */
function expertCrumbs(c: CrumbParams, expertParams: TensorMergeInput['expertParams'], experts: number): CrumbParams[] {
  const ps = perExpert(expertParams, 'p', c.p, experts);
  const gammas = perExpert(expertParams, 'gamma', c.gamma, experts);
  const densities = perExpert(expertParams, 'density', c.density, experts);
  return ps.map((p, k) => ({ ...c, p, gamma: gammas[k], density: densities[k] }));
}

/**
 * Drops the bottom and top counts (bandCounts) by magnitude of every unit (tensor or row) of length n,
 * in place. With p: ⌊p·n⌋ + ⌊γ·n⌋ <= ⌊(p+γ)·n⌋ < n, so every unit keeps at least one element.
 */
export function breadcrumbTrim(t: Float32Array, shape: readonly number[], c: CrumbParams): void {
  const before = c.rescale === 'l1' ? sumAbs(t) : 0;
  const len = c.granularity === 'row' ? rowLength(shape, t.length) : t.length;
  if (len > 0) {
    const { nBottom, nTop } = bandCounts(len, c);
    for (let o = 0; o < t.length; o += len) trimOutliers(t.subarray(o, o + len), nBottom, nTop);
  }
  if (c.rescale === 'l1') {
    const after = sumAbs(t);
    if (before >= 1e-7 && after >= 1e-7) scale(t, before / after);
  }
}

function trimmed({ base, experts, shape, expertParams }: TensorMergeInput, c: CrumbParams): Float32Array[] {
  const taus = taskVectors(base, experts);
  const each = expertCrumbs(c, expertParams, experts.length);
  taus.forEach((t, k) => breadcrumbTrim(t, shape, each[k]));
  return taus;
}

const linearCrumbSpecs = { ...crumbSpecs, ...linearSpecs };
const tiesCrumbSpecs = { ...crumbSpecs, ...tiesSpecs() };
type LinearParams = ParamsOf<typeof linearCrumbSpecs>;

/** A mergekit model's density and gamma (magnitude_outliers). */
const crumbsOf = (v: Readonly<Record<string, unknown>>) => ({ density: v.density as number, gamma: v.gamma as number });
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
    perModel: ['p', 'gamma', 'density'],
    kernels: ['breadcrumbsLinear', 'absTopKPair', 'trimBand', 'sub', 'sumAbs', 'scale', 'weightedSum', 'addScaled'],
    toolkits:
      'mergekit `breadcrumbs` as its config says: per-model `density` and `gamma` with `counts: truncate` (its exact counts; no `p` gives them on every tensor size), `normalize: false`',
    laws: {
      idempotent: [{ p: 0, gamma: 0, normalize: true }],
      symmetric: [{ p: 0.3, gamma: 0.1 }],
      weightScale: [{ params: { p: 0.2, gamma: 0.1, normalize: true }, factor: 'any', tolerance: 1 }],
    },
    benchTarget: 0.35,
  },
  dialects: {
    mergekit: mergekitTaskArithmetic(
      'breadcrumbs',
      { normalize: false, rescale: false },
      { density: 1, gamma: 0.01 },
      (g) => ({ normalize: g.normalize, rescale: mergekitRescale(g), counts: 'truncate' }),
      crumbsOf,
    ),
  },
  experts: { min: 1 },
  parse(raw) {
    const p = parseParams('breadcrumbs', linearCrumbSpecs, raw);
    checkCrumbs('breadcrumbs', p, raw);
    return p;
  },
  async prepare(p, sources) {
    return p.granularity === 'model' ? prepareBand(p, sources.experts.length, sources) : undefined;
  },
  merge(input, p, prepared) {
    if (p.granularity === 'model')
      return applyDelta(
        input.base,
        p.lambda,
        linearDelta(banded(input, prepared as GlobalBand, input.name), input.weights, p, 'breadcrumbs', input.out),
      );
    // Per tensor without rescaling, a backend may fuse selection, trim and the linear step (same bits).
    const n = input.base.length;
    const bands = expertCrumbs(p, input.expertParams, input.experts.length).map((c) => bandCounts(n, c));
    const { nBottom, nTop } = bands[0];
    const shared = allSame(bands.map((b) => b.nBottom)) && allSame(bands.map((b) => b.nTop));
    let out = input.out;
    if (shared && p.granularity === 'tensor' && p.rescale === 'none' && n > 0 && nBottom + nTop < n) {
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
    perModel: ['p', 'gamma', 'density'],
    kernels: ['absTopKPair', 'trimBand', 'sub', 'sumAbs', 'scale', 'tiesMerge'],
    toolkits:
      'mergekit `breadcrumbs_ties` as its config says: as `breadcrumbs`, with `disjoint: sum` (its `normalize: false`). fomo_in_flux `breadcrumbs_ties` (`toolkit: fomo_in_flux`): `granularity: model, counts: truncate, disjoint: sum, tieRule: majority, weightsAt: after`',
    laws: {
      idempotent: [{ p: 0, gamma: 0 }],
      symmetric: [{ p: 0.3, gamma: 0.1 }],
    },
  },
  dialects: {
    mergekit: mergekitTaskArithmetic(
      'breadcrumbs_ties',
      { normalize: false, rescale: false },
      { density: 1, gamma: 0.01 },
      (g) => ({ disjoint: mergekitDisjoint(g), rescale: mergekitRescale(g), counts: 'truncate' }),
      crumbsOf,
    ),
    // continual_lib/merge.py BreadcrumbsTIES: the band over the flattened model, then its TIES step.
    fomo_in_flux: fomoTaskVector(
      'breadcrumbs_ties',
      { prune_percentile: 0.2, top_prune_percentile: 0.2, merge_function: 'sum' },
      (g) => ({
        granularity: 'model',
        p: g.prune_percentile,
        gamma: g.top_prune_percentile,
        counts: 'truncate',
        disjoint: g.merge_function,
        tieRule: 'majority',
        weightsAt: 'after',
      }),
    ),
  },
  experts: { min: 1 },
  parse(raw) {
    const p = parseParams('breadcrumbs-ties', tiesCrumbSpecs, raw);
    checkCrumbs('breadcrumbs-ties', p, raw);
    return p;
  },
  async prepare(p, sources) {
    if (p.granularity !== 'model') return undefined;
    const needsTotal = p.tieRule === 'majority' || p.tieRule === 'minority';
    const electionWeights = p.weightsAt === 'before' ? sources.weights : sources.weights.map(() => 1);
    return prepareBand(
      p,
      sources.experts.length,
      sources,
      needsTotal ? { weights: electionWeights, method: p.election } : undefined,
    );
  },
  merge(input, p, prepared) {
    const band = prepared as GlobalBand | undefined;
    const taus = p.granularity === 'model' ? banded(input, band, input.name) : trimmed(input, p);
    return mergeTies(
      input.base,
      taus,
      taus.map(() => KEEP_ALL),
      input.weights,
      p,
      'deltas',
      band?.signTotal,
      input.out,
    );
  },
};
