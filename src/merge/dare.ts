import { counterKey, dropCut, type CounterKey } from '../params/counter-rng.js';
import { allocateOutput, dareDrop, dareL1, dareLinear as dareLinearKernel, scale, sumAbs } from '../params/kernels.js';
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
import { num, oneOf, paramDocs, parseParams, requireRange, type ParamsOf } from './params.js';
import { fail } from '../params/errors.js';
import { applyDrop, modelDropCount, prepareGlobalDrop, type GlobalDrop } from './global-drop.js';
import {
  fomoTaskVector,
  fusionBench,
  mergekitDisjoint,
  mergekitRescale,
  mergekitTaskArithmetic,
} from './toolkit-forms.js';
import type { MergeSources, MergeTechnique, TensorMergeInput, ToolkitValue } from './types.js';
import { uniformStream } from './uniform.js';
import { normalizeWeights } from './weights.js';

const dropSpecs = {
  p: num(0.9, 'Drop probability, in [0, 1) (mergekit density = 1 - p; fomo_in_flux prune_percentile).'),
  rescale: oneOf(
    ['inverse', 'l1', 'none'],
    'inverse',
    'Survivors times 1/(1-p) (DARE paper, FusionBench), or so the L1 norm is unchanged (mergekit rescale: true), or not at all.',
  ),
  mask: oneOf(
    ['bernoulli', 'exact', 'kthvalue'],
    'bernoulli',
    'Drop each element independently with probability p (mergekit, FusionBench), exactly ⌊p·n⌋ elements chosen uniformly, or int(p·n) - 1 of them (fomo_in_flux: random values >= their k-th smallest are kept).',
  ),
  scope: oneOf(
    ['tensor', 'model'],
    'tensor',
    'Drop within each tensor, or (exact and kthvalue masks) over the flattened model (fomo_in_flux).',
  ),
};

type DropParams = ParamsOf<typeof dropSpecs>;

/**
 * mergekit's keep probability as a drop probability. mergekit keeps everything for any density >= 1;
 * a density above 1 (or infinite) is a typo here, refused as the native p outside [0, 1) is.
 */
function keepToDrop(density: number): number {
  if (!(density >= 0 && density <= 1))
    fail('CONFIG', `density must be in [0, 1] (the share of values kept), got ${density}`);
  return 1 - density;
}

function checkDrop(technique: string, p: DropParams): void {
  requireRange(technique, 'p', p.p, 0, 1, false, true);
  if (p.scope === 'model' && (p.mask === 'bernoulli' || p.rescale === 'l1'))
    fail('CONFIG', `${technique}: scope model takes mask exact or kthvalue and rescale inverse or none`);
}

/** The model-wide drop (scope: model), with each expert's own p. */
function prepareDrop(
  p: DropParams,
  sources: MergeSources,
  election?: { weights: readonly number[]; method: 'sum' | 'count' },
): Promise<GlobalDrop> | undefined {
  if (p.scope !== 'model') return undefined;
  const ps = perExpert(sources.expertParams, 'p', p.p, sources.experts.length);
  return prepareGlobalDrop(
    sources.base,
    sources.experts,
    ps,
    { mask: p.mask as 'exact' | 'kthvalue', rescale: p.rescale as 'inverse' | 'none', seed: sources.seed ?? 0 },
    election,
  );
}

function modelDropped({ base, experts, name }: TensorMergeInput, drop: GlobalDrop | undefined): Float32Array[] {
  if (!drop) throw new Error(`dare: scope "model" needs prepare() to have seen tensor "${name}"`);
  const taus = taskVectors(base, experts);
  taus.forEach((t, k) => applyDrop(t, drop, name, k));
  return taus;
}

/**
 * Drops elements of τ in place with uniform draws in [0, 1) and rescales the survivors. Draws are made in
 * index order (bernoulli: one per element; exact: one per dropped element). The techniques draw the
 * Bernoulli mask from counter-based draws instead (dropTaskVectorCounter); this form takes any draws.
 */
export function dropTaskVector(
  t: Float32Array,
  d: Pick<DropParams, 'p' | 'rescale' | 'mask'>,
  rng: () => number,
): void {
  const n = t.length;
  const before = d.rescale === 'l1' ? sumAbs(t) : 0;
  if (d.mask === 'bernoulli') {
    for (let i = 0; i < n; i++) if (rng() < d.p) t[i] = 0;
  } else {
    // Partial Fisher-Yates: the first m entries of idx are a uniform m-subset.
    const m = d.mask === 'kthvalue' ? modelDropCount(n, d.p, 'kthvalue') : Math.min(n, Math.floor(d.p * n + 1e-9));
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

/**
 * The survivors' scale of expert k under the Bernoulli mask: 1/(1-p) (inverse), 1 (none), or the L1
 * ratio before/after the drop (l1; 1 when either norm is below 1e-7, mergekit's guard), the norms from
 * the ordered blocked sums of dareL1 on v = x - base (or v = x without base).
 */
function survivorScale(
  d: Pick<DropParams, 'p' | 'rescale'>,
  cut: number,
  key: CounterKey,
  k: number,
  x: Float32Array,
  base?: Float32Array,
): number {
  if (d.p === 0 || d.rescale === 'none') return 1;
  if (d.rescale === 'inverse') return 1 / (1 - d.p);
  const [before, after] = dareL1(x, base, cut, key, k);
  return before >= 1e-7 && after >= 1e-7 ? before / after : 1;
}

/**
 * DARE's Bernoulli drop of expert k's task vector t in place on counter-based draws: element i is kept
 * iff u32(key, k, i) >= floor(p·2^32) (src/params/counter-rng.ts), survivors rescaled. Every element's
 * draw is independent of every other's, so the pass is threaded and vectorised.
 */
export function dropTaskVectorCounter(
  t: Float32Array,
  d: Pick<DropParams, 'p' | 'rescale'>,
  key: CounterKey,
  k: number,
): void {
  const cut = dropCut(d.p);
  dareDrop(t, cut, key, k, survivorScale(d, cut, key, k, t));
}

/**
 * Task vectors after DARE. Bernoulli: counter-based draws keyed by two words of the tensor's rng (expert
 * k, element i). Exact: one sfc32 stream seeded from the tensor's rng serves the experts in order (the
 * partial Fisher-Yates shuffle is sequential).
 */
function droppedTaskVectors({ base, experts, rng, expertParams }: TensorMergeInput, d: DropParams): Float32Array[] {
  const taus = taskVectors(base, experts);
  const ps = perExpert(expertParams, 'p', d.p, experts.length);
  if (ps.every((p) => p === 0)) return taus;
  if (d.mask === 'bernoulli') {
    const key = counterKey(rng);
    taus.forEach((t, k) => {
      if (ps[k] > 0) dropTaskVectorCounter(t, { ...d, p: ps[k] }, key, k);
    });
    return taus;
  }
  const uniform = uniformStream(rng);
  taus.forEach((t, k) => dropTaskVector(t, { ...d, p: ps[k] }, uniform));
  return taus;
}

/**
 * dare-linear with the Bernoulli mask in one fused pass over θ0 and the experts (no task vectors are
 * materialised): out = θ0 + λ Σ_k w_k·keep_k(i)·s_k·(x_k - θ0), the same bits as dropping, rescaling,
 * summing and adding; rescale l1 first takes each expert's two norms (one threaded pass per expert).
 */
function fusedDareLinear({ base, experts, weights, rng, out }: TensorMergeInput, p: LinearParams): Float32Array {
  const w = p.normalize ? normalizeWeights(weights, 'dare-linear') : weights;
  const key = counterKey(rng);
  const cut = dropCut(p.p);
  const scales = experts.map((x, k) => survivorScale(p, cut, key, k, x, base));
  const o = out ?? allocateOutput(base.length);
  dareLinearKernel(o, base, experts, w, scales, p.lambda, cut, key);
  return o;
}

const linearDropSpecs = { ...dropSpecs, ...linearSpecs };
const tiesDropSpecs = { ...dropSpecs, ...tiesSpecs() };
type LinearParams = ParamsOf<typeof linearDropSpecs>;

/** FusionBench's DARE parameters with its yaml defaults. */
const FUSION_BENCH_DARE = { sparsity_ratio: 0.5, only_on_linear_weights: false, rescale: true };

/** FusionBench's DARE step as dare-linear's parameters (its models carry no weights: each counts 1). */
function fusionBenchDrop(g: Readonly<Record<string, ToolkitValue>>): Record<string, unknown> {
  if (g.only_on_linear_weights)
    fail(
      'CONFIG',
      'parameters.only_on_linear_weights: true is not supported (a safetensors file does not say which tensors are nn.Linear weights); false drops from every tensor',
    );
  return { p: g.sparsity_ratio, rescale: g.rescale ? 'inverse' : 'none', mask: 'bernoulli' };
}

/** DARE (Yu et al. 2024) then task arithmetic: θ0 + λ Σ w_k·drop(τ_k). */
export const dareLinear: MergeTechnique<LinearParams> = {
  name: 'dare-linear',
  aliases: ['dare', 'dare_linear', 'dare-task-arithmetic', 'dare_task_arithmetic'],
  summary: 'Randomly drop task-vector elements with probability p, rescale, then θ0 + λ Σ w_k τ̃_k.',
  params: paramDocs(linearDropSpecs),
  facts: {
    weights: 'linear',
    readsBase: true,
    perModel: ['p'],
    kernels: ['dareLinear', 'dareL1', 'sub', 'sumAbs', 'scale', 'weightedSum', 'addScaled'],
    toolkits:
      'mergekit `dare_linear` as its config says: `p = 1 − density` per model, `rescale: l1` (its `rescale: true`), `normalize: false`; FusionBench `dare/task_arithmetic` and `dare/simple_average` (`toolkit: fusion_bench`): `p` = its `sparsity_ratio`, `rescale: inverse`, `lambda` = its `scaling_factor` (1/N for simple_average)',
    laws: {
      idempotent: [{ p: 0, normalize: true }],
      weightScale: [{ params: { p: 0.4, normalize: true }, factor: 'any', tolerance: 4 }],
    },
    benchTarget: 0.35,
  },
  dialects: {
    mergekit: mergekitTaskArithmetic(
      'dare_linear',
      { normalize: false, rescale: true },
      { density: 1 },
      (g) => ({ normalize: g.normalize, rescale: mergekitRescale(g), mask: 'bernoulli' }),
      (v) => ({ p: keepToDrop(v.density as number) }),
    ),
    // dare/task_arithmetic.py: each element dropped with probability sparsity_ratio, survivors times
    // 1/(1 - p) (rescale: true), θ0 + scaling_factor·Σ; dare/simple_average.py takes scaling_factor 1/N.
    fusion_bench: [
      fusionBench('dare/task_arithmetic', {
        aliases: ['dare_task_arithmetic'],
        globals: { ...FUSION_BENCH_DARE, scaling_factor: 0.3 },
        params: (g) => ({ ...fusionBenchDrop(g), lambda: g.scaling_factor }),
      }),
      fusionBench('dare/simple_average', {
        aliases: ['dare_simple_average'],
        globals: FUSION_BENCH_DARE,
        params: (g, { weights }) => ({ ...fusionBenchDrop(g), lambda: 1 / weights.length }),
      }),
    ],
  },
  experts: { min: 1 },
  parse(raw) {
    const p = parseParams('dare-linear', linearDropSpecs, raw);
    checkDrop('dare-linear', p);
    return p;
  },
  prepare: async (p, sources) => prepareDrop(p, sources),
  merge(input, p, prepared) {
    if (p.scope === 'model')
      return applyDelta(
        input.base,
        p.lambda,
        linearDelta(modelDropped(input, prepared as GlobalDrop), input.weights, p, 'dare-linear', input.out),
      );
    // The fused pass takes one p; models with their own p take the same steps one expert at a time.
    const shared = !input.expertParams || allSame(perExpert(input.expertParams, 'p', p.p, input.experts.length));
    if (p.mask === 'bernoulli' && shared) return fusedDareLinear(input, { ...p, p: input.expertParams?.[0]?.p ?? p.p });
    const taus = droppedTaskVectors(input, p);
    return applyDelta(input.base, p.lambda, linearDelta(taus, input.weights, p, 'dare-linear', input.out));
  },
};

/** DARE then the TIES sign election and disjoint merge. */
export const dareTies: MergeTechnique<ParamsOf<typeof tiesDropSpecs>> = {
  name: 'dare-ties',
  aliases: ['dare_ties'],
  summary: 'Randomly drop task-vector elements with probability p, rescale, then TIES election and disjoint merge.',
  params: paramDocs(tiesDropSpecs),
  facts: {
    weights: 'used',
    readsBase: true,
    perModel: ['p'],
    kernels: ['sub', 'dareDrop', 'dareL1', 'tiesMerge'],
    toolkits:
      'mergekit `dare_ties` as its config says: `p = 1 − density` per model, `rescale: l1`, `disjoint: sum` (its `normalize: false`; `mean` with `normalize: true`). fomo_in_flux `dare_ties` (`toolkit: fomo_in_flux`): `mask: kthvalue, scope: model, tieRule: majority, weightsAt: after`',
    laws: {
      idempotent: [{ p: 0 }],
      // the election's sign and the disjoint mean over agreeing weights are both unchanged by a common factor
      weightScale: [{ params: { p: 0.4 }, factor: 'power-of-two', tolerance: 4 }],
    },
  },
  dialects: {
    mergekit: mergekitTaskArithmetic(
      'dare_ties',
      { normalize: false, rescale: true },
      { density: 1 },
      (g) => ({ disjoint: mergekitDisjoint(g), rescale: mergekitRescale(g), mask: 'bernoulli' }),
      (v) => ({ p: keepToDrop(v.density as number) }),
    ),
    // continual_lib/merge.py DARETIES: int(p·n) - 1 random drops over the flattened model, survivors
    // times 1/(1 - p), then its TIES step.
    fomo_in_flux: fomoTaskVector('dare_ties', { prune_percentile: 0.2, merge_function: 'mean' }, (g) => ({
      p: g.prune_percentile,
      mask: 'kthvalue',
      scope: 'model',
      rescale: 'inverse',
      disjoint: g.merge_function,
      tieRule: 'majority',
      weightsAt: 'after',
    })),
  },
  experts: { min: 1 },
  parse(raw) {
    const p = parseParams('dare-ties', tiesDropSpecs, raw);
    checkDrop('dare-ties', p);
    return p;
  },
  async prepare(p, sources) {
    const needsTotal = p.tieRule === 'majority' || p.tieRule === 'minority';
    const electionWeights = p.weightsAt === 'before' ? sources.weights : sources.weights.map(() => 1);
    return prepareDrop(p, sources, needsTotal ? { weights: electionWeights, method: p.election } : undefined);
  },
  merge(input, p, prepared) {
    const drop = prepared as GlobalDrop | undefined;
    const taus = p.scope === 'model' ? modelDropped(input, drop) : droppedTaskVectors(input, p);
    return mergeTies(
      input.base,
      taus,
      taus.map(() => KEEP_ALL),
      input.weights,
      p,
      'deltas',
      drop?.signTotal,
      input.out,
    );
  },
};
