import { dropBernoulli, scale, sumAbs } from '../params/kernels.js';
import { applyDelta, KEEP_ALL, linearDelta, linearParamDocs, mergeTies, taskVectors, tiesParamDocs, type LinearOptions, type TiesOptions } from './combine.js';
import { parseParams, requireRange } from './params.js';
import type { MergeTechnique, ParamDoc, TensorMergeInput } from './types.js';
import { isUniformStream, uniformStream } from './uniform.js';

type Rescale = 'inverse' | 'l1' | 'none';
type Mask = 'bernoulli' | 'exact';

interface DropParams {
  p: number;
  rescale: Rescale;
  mask: Mask;
}

const dropDocs: ParamDoc[] = [
  { name: 'p', type: 'number', default: 0.9, description: 'Drop probability, in [0, 1) (mergekit density = 1 - p; fomo_in_flux prune_percentile).' },
  {
    name: 'rescale',
    type: 'enum',
    values: ['inverse', 'l1', 'none'],
    default: 'inverse',
    description: 'Survivors times 1/(1-p) (DARE paper, FusionBench, mergekit rescale), or so the L1 norm is unchanged (mergekit rescale_norm: l1), or not at all.',
  },
  {
    name: 'mask',
    type: 'enum',
    values: ['bernoulli', 'exact'],
    default: 'bernoulli',
    description: 'Drop each element independently with probability p (mergekit, FusionBench) or drop exactly ⌊p·n⌋ elements chosen uniformly (fomo_in_flux).',
  },
];

function checkDrop(technique: string, p: DropParams): void {
  requireRange(technique, 'p', p.p, 0, 1, false, true);
}

/**
 * Drops elements of τ in place with uniform draws in [0, 1) and rescales the survivors. Draws are made in
 * index order (bernoulli: one per element; exact: one per dropped element). With a UniformStream the
 * Bernoulli mask is one kernel call on the stream's state (same draws as calling it per element).
 */
export function dropTaskVector(t: Float32Array, d: DropParams, rng: () => number): void {
  const n = t.length;
  const before = d.rescale === 'l1' ? sumAbs(t) : 0;
  if (d.mask === 'bernoulli') {
    if (isUniformStream(rng)) dropBernoulli(t, d.p, rng.state);
    else for (let i = 0; i < n; i++) if (rng() < d.p) t[i] = 0;
  } else {
    // Partial Fisher-Yates: the first m entries of idx are a uniform m-subset.
    const m = Math.min(n, Math.floor(d.p * n + 1e-9));
    const idx = new Uint32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    for (let i = 0; i < m; i++) {
      const j = i + Math.floor(rng() * (n - i));
      const s = idx[i];
      idx[i] = idx[j];
      idx[j] = s;
      t[idx[i]] = 0;
    }
  }
  if (d.rescale === 'inverse') {
    if (d.p > 0) scale(t, 1 / (1 - d.p));
  } else if (d.rescale === 'l1') {
    // mergekit's guard: leave the tensor unscaled when either norm is (near) zero.
    const after = sumAbs(t);
    if (before >= 1e-7 && after >= 1e-7) scale(t, before / after);
  }
}

/** Task vectors after DARE; one fast stream seeded from the tensor's rng serves the experts in order. */
function droppedTaskVectors({ base, experts, rng }: TensorMergeInput, d: DropParams): Float32Array[] {
  const taus = taskVectors(base, experts);
  if (d.p === 0) return taus;
  const uniform = uniformStream(rng);
  for (const t of taus) dropTaskVector(t, d, uniform);
  return taus;
}

type LinearParams = DropParams & LinearOptions;
type TiesParams = DropParams & TiesOptions;

/** DARE (Yu et al. 2024) then task arithmetic: θ0 + λ Σ w_k·drop(τ_k). */
export const dareLinear: MergeTechnique<LinearParams> = {
  name: 'dare-linear',
  aliases: ['dare', 'dare_linear', 'dare-task-arithmetic'],
  summary: 'Randomly drop task-vector elements with probability p, rescale, then θ0 + λ Σ w_k τ̃_k.',
  params: [...dropDocs, ...linearParamDocs()],
  experts: { min: 1 },
  parse(raw) {
    const p = parseParams('dare-linear', dareLinear.params, raw) as unknown as LinearParams;
    checkDrop('dare-linear', p);
    return p;
  },
  merge(input, p) {
    const taus = droppedTaskVectors(input, p);
    return applyDelta(input.base, p.lambda, linearDelta(taus, input.weights, p, 'dare-linear', input.out));
  },
};

/** DARE then the TIES sign election and disjoint merge. */
export const dareTies: MergeTechnique<TiesParams> = {
  name: 'dare-ties',
  aliases: ['dare_ties'],
  summary: 'Randomly drop task-vector elements with probability p, rescale, then TIES election and disjoint merge.',
  params: [...dropDocs, ...tiesParamDocs()],
  experts: { min: 1 },
  parse(raw) {
    const p = parseParams('dare-ties', dareTies.params, raw) as unknown as TiesParams;
    checkDrop('dare-ties', p);
    return p;
  },
  merge(input, p) {
    const taus = droppedTaskVectors(input, p);
    return mergeTies(input.base, taus, taus.map(() => KEEP_ALL), input.weights, p, 'deltas', undefined, input.out);
  },
};
