import { counterKey, counterU32, expertKey } from '../params/counter-rng.js';
import { fail } from '../params/errors.js';
import { scale, sumAbs } from '../params/kernels.js';
import {
  applyDelta,
  KEEP_ALL,
  linearDelta,
  linearSpecs,
  mergeTies,
  perExpert,
  taskVectors,
  tiesSpecs,
} from './combine.js';
import { num, oneOf, paramDocs, parseParams, type ParamsOf } from './params.js';
import { mergekitDisjoint, mergekitRescale, mergekitTaskArithmetic } from './toolkit-forms.js';
import type { MergeTechnique, TensorMergeInput } from './types.js';

const pruneSpecs = {
  density: num(0.5, 'Mean keep probability, in (0, 1]; 1 keeps everything (mergekit density).'),
  epsilon: num(
    0.15,
    'Spread of the keep probabilities: density ± epsilon from the smallest to the largest magnitude; density ± epsilon must lie in (0, 1) (mergekit epsilon).',
  ),
  rescale: oneOf(
    ['l1', 'none'],
    'l1',
    'Rescale each pruned task vector to its L1 norm (mergekit rescale: true, its default) or not.',
  ),
};
type PruneParams = ParamsOf<typeof pruneSpecs>;

function checkPrune(technique: string, density: number, epsilon: number): void {
  if (!(density > 0 && density <= 1)) fail('CONFIG', `${technique}: density must be in (0, 1], got ${density}`);
  if (density < 1 && (density + epsilon >= 1 || density - epsilon <= 0 || epsilon < 0)) {
    fail('CONFIG', `${technique}: density ± epsilon must lie in (0, 1) (got density ${density}, epsilon ${epsilon})`);
  }
}

/**
 * The groups DELLA ranks within, as mergekit's della_magprune does: along dimension 1 (the rows of a
 * matrix: each row's elements rank among themselves), a 0-d or 1-d tensor as one row. Calls `each`
 * with the flat indices of every group.
 */
function forEachGroup(shape: readonly number[], n: number, each: (indices: Int32Array) => void): void {
  if (shape.length < 2) {
    each(Int32Array.from({ length: n }, (_, i) => i));
    return;
  }
  const d0 = shape[0];
  const d1 = shape[1];
  const inner = n / (d0 * d1);
  const idx = new Int32Array(d1);
  for (let a = 0; a < d0; a++) {
    for (let c = 0; c < inner; c++) {
      for (let j = 0; j < d1; j++) idx[j] = (a * d1 + j) * inner + c;
      each(idx);
    }
  }
}

/**
 * DELLA's keep probabilities (MagPrune): within each group of m elements, the element of rank r by
 * magnitude (1 = smallest; equal magnitudes by index) is kept with probability
 * (density - epsilon) + 2·epsilon·(r - 1)/(m - 1); a group of one element gets density - epsilon.
 */
export function dellaKeepProbabilities(
  t: Float32Array,
  shape: readonly number[],
  density: number,
  epsilon: number,
): Float64Array {
  const q = new Float64Array(t.length);
  forEachGroup(shape, t.length, (idx) => {
    const order = rankOrder(t, idx);
    const m = order.length;
    for (let r = 0; r < m; r++) q[order[r]] = density - epsilon + (m > 1 ? (r / (m - 1)) * 2 * epsilon : 0);
  });
  return q;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const asBits = (v: number) => {
  f32[0] = Math.abs(v);
  return u32[0];
};

/**
 * The group's flat indices by |value| ascending, equal magnitudes by position. A non-negative float32
 * orders like its bit pattern, so (bits·m + position) is one exact float64 key per element while it
 * stays below 2^53, and a native typed-array sort does the rest; larger groups sort by comparison.
 */
function rankOrder(t: Float32Array, idx: Int32Array): Int32Array {
  const m = idx.length;
  if (m * 2 ** 31 >= 2 ** 53) return Int32Array.from([...idx].sort((a, b) => Math.abs(t[a]) - Math.abs(t[b]) || a - b));
  const keys = new Float64Array(m);
  for (let j = 0; j < m; j++) keys[j] = asBits(t[idx[j]]) * m + j;
  keys.sort();
  const order = new Int32Array(m);
  for (let j = 0; j < m; j++) order[j] = idx[keys[j] % m];
  return order;
}

/**
 * Prunes τ in place: element i of expert k is kept iff the counter draw u32(key, k, i) < ⌊q_i·2³²⌋
 * (the draws DARE uses), then the survivors are rescaled to the L1 norm (mergekit's guard: not when
 * either norm is below 1e-7).
 */
export function dellaPrune(
  t: Float32Array,
  shape: readonly number[],
  p: PruneParams,
  key: readonly [number, number],
  k: number,
): void {
  if (p.density >= 1) return;
  const q = dellaKeepProbabilities(t, shape, p.density, p.epsilon);
  const [e0, e1] = expertKey(key, k);
  const before = p.rescale === 'l1' ? sumAbs(t) : 0;
  for (let i = 0; i < t.length; i++) if (counterU32(e0, e1, i) >= Math.floor(q[i] * 4294967296)) t[i] = 0;
  if (p.rescale === 'l1') {
    const after = sumAbs(t);
    if (before >= 1e-7 && after >= 1e-7) scale(t, before / after);
  }
}

function pruned({ base, experts, shape, rng, expertParams }: TensorMergeInput, p: PruneParams): Float32Array[] {
  const taus = taskVectors(base, experts);
  const densities = perExpert(expertParams, 'density', p.density, experts.length);
  const epsilons = perExpert(expertParams, 'epsilon', p.epsilon, experts.length);
  if (densities.every((d) => d >= 1)) return taus;
  const key = counterKey(rng);
  taus.forEach((t, k) => dellaPrune(t, shape, { ...p, density: densities[k], epsilon: epsilons[k] }, key, k));
  return taus;
}

const tiesPruneSpecs = { ...pruneSpecs, ...tiesSpecs() };
const linearPruneSpecs = { ...pruneSpecs, ...linearSpecs };

const dellaVoters = (v: Readonly<Record<string, unknown>>) => ({
  density: v.density as number,
  epsilon: v.epsilon as number,
});

/**
 * DELLA (Deep, Rao et al. 2024, as mergekit implements it): MagPrune drops task-vector elements with
 * probabilities that fall with their magnitude rank, rescales, then the TIES sign election and disjoint
 * merge: θ0 + λ·merged.
 */
export const della: MergeTechnique<ParamsOf<typeof tiesPruneSpecs>> = {
  name: 'della',
  summary:
    'MagPrune (keep probability rising with magnitude rank, seeded), L1 rescale, then TIES election and disjoint merge.',
  params: paramDocs(tiesPruneSpecs),
  facts: {
    weights: 'used',
    readsBase: true,
    perModel: ['density', 'epsilon'],
    kernels: ['sub', 'sumAbs', 'scale', 'tiesMerge'],
    toolkits:
      'mergekit `della` as its config says: per-model `density` (default 1) and `epsilon` (0.15), `rescale: l1`, `normalize: true` → `disjoint: mean`',
    laws: {
      idempotent: [{ density: 1 }],
      weightScale: [{ params: { density: 1 }, factor: 'power-of-two', tolerance: 1 }],
    },
  },
  dialects: {
    mergekit: mergekitTaskArithmetic(
      'della',
      { normalize: true, rescale: true },
      { density: 1, epsilon: 0.15 },
      (g) => ({ disjoint: mergekitDisjoint(g), rescale: mergekitRescale(g) }),
      dellaVoters,
    ),
  },
  experts: { min: 1 },
  parse(raw) {
    const p = parseParams('della', tiesPruneSpecs, raw);
    checkPrune('della', p.density, p.epsilon);
    return p;
  },
  merge(input, p) {
    const taus = pruned(input, p);
    return mergeTies(
      input.base,
      taus,
      taus.map(() => KEEP_ALL),
      input.weights,
      p,
      'deltas',
      undefined,
      input.out,
    );
  },
};

/** DELLA's MagPrune, then task arithmetic: θ0 + λ Σ w_k τ̃_k (mergekit `della_linear`). */
export const dellaLinear: MergeTechnique<ParamsOf<typeof linearPruneSpecs>> = {
  name: 'della-linear',
  aliases: ['della_linear'],
  summary: 'MagPrune (keep probability rising with magnitude rank, seeded), L1 rescale, then θ0 + λ Σ w_k τ̃_k.',
  params: paramDocs(linearPruneSpecs),
  facts: {
    weights: 'linear',
    readsBase: true,
    perModel: ['density', 'epsilon'],
    kernels: ['sub', 'sumAbs', 'scale', 'weightedSum', 'addScaled'],
    toolkits:
      'mergekit `della_linear` as its config says: per-model `density` and `epsilon`, `rescale: l1`, `normalize: false`',
    laws: {
      idempotent: [{ density: 1, normalize: true }],
      symmetric: [{ density: 1 }],
      weightScale: [{ params: { density: 1, normalize: true }, factor: 'any', tolerance: 1 }],
    },
  },
  dialects: {
    mergekit: mergekitTaskArithmetic(
      'della_linear',
      { normalize: false, rescale: true },
      { density: 1, epsilon: 0.15 },
      (g) => ({ normalize: g.normalize, rescale: mergekitRescale(g) }),
      dellaVoters,
    ),
  },
  experts: { min: 1 },
  parse(raw) {
    const p = parseParams('della-linear', linearPruneSpecs, raw);
    checkPrune('della-linear', p.density, p.epsilon);
    return p;
  },
  merge(input, p) {
    return applyDelta(input.base, p.lambda, linearDelta(pruned(input, p), input.weights, p, 'della-linear', input.out));
  },
};
