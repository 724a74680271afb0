import type { TensorSource } from '../params/source.js';
import type { ParamSet } from '../params/paramset.js';

/** One documented parameter of a technique (drives validation, --help and the README table). */
export interface ParamDoc {
  readonly name: string;
  readonly type: 'number' | 'integer' | 'boolean' | 'enum' | 'string';
  readonly default: number | boolean | string;
  readonly values?: readonly string[];
  readonly description: string;
}

/** Everything a technique sees for one tensor. */
export interface TensorMergeInput {
  readonly name: string;
  readonly shape: readonly number[];
  readonly base: Float32Array;
  readonly experts: readonly Float32Array[];
  /** Per-expert weights as configured (not normalised); same length as experts. */
  readonly weights: readonly number[];
  /** Seeded from (merge seed, tensor name), so results do not depend on the order tensors are visited. */
  readonly rng: () => number;
  /**
   * Where the merged tensor may be written (base's length, never one of the inputs): techniques that can
   * write into it and return it, so a caller merging step after step reuses its output memory; the
   * others return a new array. Its old contents never matter.
   */
  readonly out?: Float32Array;
}

export interface MergeSources {
  readonly base: TensorSource;
  readonly experts: readonly TensorSource[];
  readonly weights: readonly number[];
}

/**
 * A merge kept up to date as experts arrive, in O(params) time and memory per step. After adding
 * experts e1..en, result() equals the batch merge of [e1..en] with the same weights.
 */
export interface IncrementalMerge {
  add(expert: ParamSet, weight?: number): void;
  readonly count: number;
  result(): ParamSet;
}

export interface MergeTechnique<P extends object = Record<string, unknown>> {
  /** Registry key, kebab-case: 'weighted-average', 'task-arithmetic', 'ties', ... */
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly summary: string;
  readonly params: readonly ParamDoc[];
  /** How many expert models the technique takes. */
  readonly experts: { readonly min: number; readonly max?: number };
  /** Validates raw parameters and fills defaults; throws TimeMergeError('CONFIG') naming the bad value. */
  parse(raw: Record<string, unknown>): P;
  /** Optional pass over all tensors before merging (e.g. a global top-k threshold over the model). */
  prepare?(params: P, sources: MergeSources): Promise<unknown>;
  /** The merged tensor (input.out when given and supported, else a new array; inputs are never modified). */
  merge(input: TensorMergeInput, params: P, prepared?: unknown): Float32Array;
  /** Present when the technique has an exact O(params)-per-step form. */
  incremental?(params: P, base: ParamSet): IncrementalMerge;
}
