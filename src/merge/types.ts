import type { TensorSource } from '../params/source.js';
import type { ParamSet } from '../params/paramset.js';

/** One documented parameter of a technique (drives validation, --help and the README table). */
export interface ParamDoc {
  readonly name: string;
  readonly type: 'number' | 'integer' | 'boolean' | 'enum' | 'string';
  readonly default: number | boolean | string;
  readonly values?: readonly string[];
  readonly description: string;
  /** How the default reads in the technique table, when the value itself is too long. */
  readonly shown?: string;
}

/** Everything a technique sees for one tensor. */
export interface TensorMergeInput {
  readonly name: string;
  readonly shape: readonly number[];
  readonly base: Float32Array;
  readonly experts: readonly Float32Array[];
  /** Per-expert weights as configured (not normalised); same length as experts. */
  readonly weights: readonly number[];
  /**
   * Per expert, the values of per-model parameters (facts.perModel) that a config sets for that model
   * (mergekit's per-model density, gamma, ...); a parameter absent here takes the technique's value.
   */
  readonly expertParams?: readonly Readonly<Record<string, number>>[];
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
  /** Per expert, its per-model parameter values (as TensorMergeInput.expertParams), model-wide. */
  readonly expertParams?: readonly Readonly<Record<string, number>>[];
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

/**
 * What is true of a technique, read by the trackers, config checking, the property laws, the benchmarks
 * and the generated technique table instead of lists of names.
 */
export interface TechniqueFacts {
  /**
   * How per-expert weights enter the result: 'linear' (a weighted sum, so with `normalize: true` only
   * w_k/Σw matters and a running form may normalise), 'ignored', 'probabilities' (draw probabilities:
   * >= 0 with a non-zero sum), or 'used' (any other way, e.g. a sign election).
   */
  readonly weights: 'linear' | 'ignored' | 'probabilities' | 'used';
  /** Whether it reads θ0 (every task-vector technique does; a plain weighted average does not). */
  readonly readsBase: boolean;
  /** Parameters a config may set per model, each model its own value (mergekit's per-model density). */
  readonly perModel: readonly string[];
  /** The kernels of src/params/kernels.ts its merge runs. */
  readonly kernels: readonly string[];
  /** Which settings reproduce which toolkit (the last column of the technique table). */
  readonly toolkits: string;
  /** Settings under which the laws hold; the property suites run every registered technique through them. */
  readonly laws: {
    /** Merging copies of one model returns it. */
    readonly idempotent?: readonly Readonly<Record<string, unknown>>[];
    /** Reordering the experts together with their weights changes nothing (up to float rounding). */
    readonly symmetric?: readonly Readonly<Record<string, unknown>>[];
    /**
     * A common factor on the weights changes nothing: any factor, or powers of two where a sign election
     * can round a cancelling vote the other way; `tolerance` in units of the inputs' largest magnitude.
     */
    readonly weightScale?: readonly { readonly params: Readonly<Record<string, unknown>>; readonly factor: 'any' | 'power-of-two'; readonly tolerance: number }[];
  };
  /** The throughput target of `npm run bench`, as a ratio to copy bandwidth at the largest size. */
  readonly benchTarget?: number;
}

export interface MergeTechnique<P extends object = Record<string, unknown>> {
  /** Registry key, kebab-case: 'weighted-average', 'task-arithmetic', 'ties', ... */
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly summary: string;
  readonly params: readonly ParamDoc[];
  readonly facts: TechniqueFacts;
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
