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
  /** The merge seed, for random choices made over the whole model. */
  readonly seed?: number;
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
  /**
   * Whether, with these raw parameters, it sums the weighted task vectors as given (no normalising): a
   * merge of every expert then scales its temporal weights to mean 1, so uniform weighting gives
   * θ0 + λ Σ τ_k (fomo_in_flux tv_merge). Absent: never.
   */
  readonly sumsTaskVectors?: (raw: Readonly<Record<string, unknown>>) => boolean;
  /**
   * Whether it reads θ0 (every task-vector technique does; a plain weighted average does not). A base it
   * does not read is never scanned for NaN/Inf: only its tensor names and shapes are checked.
   */
  readonly readsBase: boolean;
  /**
   * Whether a NaN or ±Infinity in any input it reads always makes the output non-finite at that index
   * (each output value is a sum of products of every read input's value there, zero weights included: no
   * trimming, selection or comparison). A finite output then proves those inputs finite, and the engine
   * skips their separate scan. Absent: no. The property suite checks it on every technique that claims it.
   */
  readonly nonFiniteReachesOutput?: boolean;
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
    readonly weightScale?: readonly {
      readonly params: Readonly<Record<string, unknown>>;
      readonly factor: 'any' | 'power-of-two';
      readonly tolerance: number;
    }[];
  };
  /** The throughput target of `npm run bench`, as a ratio to copy bandwidth at the largest size. */
  readonly benchTarget?: number;
  /**
   * 'svd' for the merges that decompose each matrix (O(m·n·min(m, n)) a tensor, seconds at [1024, 1024]):
   * `npm run bench` times them in their own suite, on smaller matrices, beside the EMA step.
   */
  readonly cost?: 'svd';
}

/** A parameter value as a toolkit's config gives it (after gradients and filters are evaluated). */
export type ToolkitValue = number | boolean | string;
/** A list-valued toolkit parameter (see ToolkitForm.lists). */
export type ToolkitList = readonly (number | string)[];

/** The toolkits whose configs the merge command reads as they are written. */
export type Dialect = 'mergekit' | 'fomo_in_flux' | 'fusion_bench';
export const DIALECTS: readonly Dialect[] = ['mergekit', 'fomo_in_flux', 'fusion_bench'];

/**
 * How a toolkit spells this technique in its configs: its method name, its parameters with the
 * toolkit's own defaults, and how those become this technique's parameters (so a config of that
 * toolkit runs unchanged and computes what the toolkit computes).
 */
export interface ToolkitForm {
  readonly method: string;
  /** Other names the toolkit gives the same method (FusionBench's `magmax` for `magmax/magmax`). */
  readonly aliases?: readonly string[];
  /** Parameters set once for the merge, with the toolkit's defaults (undefined: required). */
  readonly globals: Readonly<Record<string, ToolkitValue | undefined>>;
  /** Parameters each model may set besides its weight, with the toolkit's defaults. */
  readonly perModel: Readonly<Record<string, ToolkitValue>>;
  /**
   * What the toolkit does with base_model: task vectors against it (a copy listed under models is
   * skipped, as mergekit does), the first endpoint (mergekit slerp), task vectors when one is given,
   * else the weights themselves ('optional'), one more model of the merge, added after the listed
   * ones when it is not among them (mergekit karcher: 'extra-model'), or nothing.
   */
  readonly base: 'task-vectors' | 'first-endpoint' | 'optional' | 'extra-model' | 'unused';
  /**
   * How per-model weights are read: as given, required to sum to 1 (fomo_in_flux), refused (the toolkit
   * has none), or accepted and noted as changing nothing (a mergekit method that reads no weight).
   */
  readonly weights: 'free' | 'sum-to-one' | 'none' | 'unused';
  /**
   * Global parameters whose value is a list of numbers, each read as it is (never a gradient over
   * layers), with their defaults (undefined: required): FusionBench's weighted_average `weights`, its
   * TIES `remove_keys`. `params` and `weightsOf` see them as `lists`.
   */
  readonly lists?: Readonly<Record<string, ToolkitList | undefined>>;
  /**
   * Keys the toolkit takes that change nothing in the merged values here, each with why: accepted, and
   * said in a one-line note (MergeConfig.notes), never silently.
   */
  readonly inert?: Readonly<Record<string, string>>;
  /**
   * The experts' weights from the global values, where the toolkit sets them there and not per model
   * (FusionBench weighted_average's `weights` list); throws a CONFIG error for a list that does not fit.
   */
  weightsOf?(
    globals: Readonly<Record<string, ToolkitValue>>,
    lists: Readonly<Record<string, ToolkitList>>,
    models: number,
  ): number[];
  /** This technique's parameters from the toolkit's global values (defaults filled in). */
  params(
    globals: Readonly<Record<string, ToolkitValue>>,
    context: {
      readonly hasBase: boolean;
      readonly weights: readonly number[];
      readonly lists: Readonly<Record<string, ToolkitList>>;
    },
  ): Record<string, unknown>;
  /** This technique's per-model values (facts.perModel) from one model's toolkit values. */
  expert?(values: Readonly<Record<string, ToolkitValue>>): Record<string, number>;
}

export interface MergeTechnique<P extends object = Record<string, unknown>> {
  /** Registry key, kebab-case: 'weighted-average', 'task-arithmetic', 'ties', ... */
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly summary: string;
  readonly params: readonly ParamDoc[];
  readonly facts: TechniqueFacts;
  /** The toolkits' spellings of this technique that merge configs accept (see ToolkitForm). */
  readonly dialects?: Partial<Record<Dialect, ToolkitForm | readonly ToolkitForm[]>>;
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
