import { addScaled, allocateOutput, sub, tiesMerge, weightedSum, type TopKRule } from '../params/kernels.js';
import { DISJOINT_MODES, type DisjointMode } from './disjoint.js';
import { bool, num, oneOf, requireRange, type ParamsOf } from './params.js';
import { ELECTIONS, TIE_RULES } from './sign.js';
import { normalizeWeights } from './weights.js';

/** Each expert's value of a per-model parameter: its own (TensorMergeInput.expertParams), else `value`. */
export function perExpert(
  expertParams: readonly Readonly<Record<string, number>>[] | undefined,
  key: string,
  value: number,
  experts: number,
): number[] {
  return Array.from({ length: experts }, (_, k) => expertParams?.[k]?.[key] ?? value);
}

/** Whether every entry equals the first. */
export function allSame(values: readonly number[]): boolean {
  return values.every((v) => v === values[0]);
}

/** Per-expert scratch for task vectors, grown as needed and reused tensor after tensor. */
const scratch: Float32Array[] = [];

/**
 * τ_k = θ_k - θ0 for every expert (float32 differences), as views into scratch memory that the next call
 * overwrites: for intermediates of one tensor's merge, never for a result. Reusing the memory matters
 * more than it seems: fresh pages fault in at a fraction of memory bandwidth on this kind of machine.
 */
export function taskVectors(base: Float32Array, experts: readonly Float32Array[]): Float32Array[] {
  return experts.map((x, k) => {
    if (!scratch[k] || scratch[k].length < base.length) scratch[k] = allocateOutput(base.length);
    const t = scratch[k].subarray(0, base.length);
    sub(t, x, base);
    return t;
  });
}

/** θ0 + scale·delta, into delta's own memory (a scratch array of the technique, not an input). */
export function applyDelta(base: Float32Array, scale: number, delta: Float32Array): Float32Array {
  addScaled(delta, base, scale, delta);
  return delta;
}

// ----- the TIES step shared by ties, dare-ties and breadcrumbs-ties -----

/** The parameters of the TIES step (sign election and disjoint merge). */
export function tiesSpecs(defaults: { disjoint?: DisjointMode } = {}) {
  return {
    lambda: num(1, 'Scale of the merged task vector (FusionBench scaling_factor).'),
    election: oneOf(
      ELECTIONS,
      'sum',
      'Sign election: sum of values (TIES paper, all toolkits) or count of signs (mergekit consensus_method: count).',
    ),
    tieRule: oneOf(
      TIE_RULES,
      'positive',
      'Sign for a zero vote: positive (mergekit), majority of the tensor/model (FusionBench, fomo_in_flux), minority, negative, skip.',
    ),
    disjoint: oneOf(
      DISJOINT_MODES,
      defaults.disjoint ?? 'mean',
      'Combine agreeing values: weighted mean (TIES), sum, or largest magnitude.',
    ),
    weightsAt: oneOf(
      ['before', 'after'],
      'before',
      'Apply expert weights before the sign election (mergekit) or only in the disjoint merge (FusionBench, fomo_in_flux: unweighted election).',
    ),
  };
}

export type TiesOptions = ParamsOf<ReturnType<typeof tiesSpecs>>;
export type WeightsAt = TiesOptions['weightsAt'];

/** The trim rule that keeps everything (inputs trimmed or dropped already). */
export const KEEP_ALL: TopKRule = { threshold: -Infinity, ties: 0 };

/**
 * θ0 + λ·TIES(inputs): each input's task vector trimmed by its rule, signs elected, ties resolved by the
 * tie rule (majority / minority use `modelSignTotal` when given, else the tensor's own total), disjoint
 * merge. `inputs` are the experts, or task vectors already trimmed or dropped ('deltas', with KEEP_ALL).
 */
export function mergeTies(
  base: Float32Array,
  inputs: readonly Float32Array[],
  rules: readonly TopKRule[],
  weights: readonly number[],
  o: TiesOptions,
  inputsAre: 'experts' | 'deltas',
  modelSignTotal?: number,
  into?: Float32Array,
): Float32Array {
  const electionWeights = o.weightsAt === 'before' ? weights : inputs.map(() => 1);
  const fill = { positive: 1, negative: -1, skip: 0, majority: 'majority', minority: 'minority' } as const;
  const out = into ?? allocateOutput(base.length);
  tiesMerge(out, base, inputs, rules, {
    weights,
    electionWeights,
    election: o.election,
    disjoint: o.disjoint,
    tieFill: fill[o.tieRule],
    signTotal: modelSignTotal,
    lambda: o.lambda,
    deltas: inputsAre === 'deltas',
  });
  return out;
}

// ----- the linear step shared by dare-linear and breadcrumbs -----

export const linearSpecs = {
  lambda: num(1, 'Scale of the summed task vector.'),
  normalize: bool(false, 'Divide weights by their sum (mergekit normalize: true).'),
};

export type LinearOptions = ParamsOf<typeof linearSpecs>;

/** Σ w_k v_k with weights optionally normalised (a zero sum is a MERGE error), into `into` when given. */
export function linearDelta(
  values: readonly Float32Array[],
  weights: readonly number[],
  o: LinearOptions,
  what: string,
  into?: Float32Array,
): Float32Array {
  const w = o.normalize ? normalizeWeights(weights, what) : weights;
  const out = into ?? allocateOutput(values[0].length);
  weightedSum(out, values, w);
  return out;
}

/** Range check shared by everything with a keep fraction: density in (0, 1]. */
export function checkDensity(technique: string, density: number): void {
  requireRange(technique, 'density', density, 0, 1, true, false);
}
