import { allocateOutput } from '../params/kernels.js';
import { matmul, polar, type Svd } from '../params/svd.js';
import { fail } from '../params/errors.js';
import { str } from './params.js';
import type { ToolkitList, ToolkitValue } from './types.js';

/**
 * What the SVD merges (TSV-M, Iso-C, Iso-CTS, OPCM, DoP) share: task matrices in float64 and the
 * fallback for tensors they do not decompose.
 */

/** FusionBench's exclude_keys, in time-merge's vocabulary: tensors merged by the fallback instead. */
export const excludeSpec = str(
  '',
  'Comma-separated tensor names merged by the mean of the task vectors instead of the SVD (FusionBench exclude_keys).',
);

/** Whether FusionBench's state-dict merges (TSV-M, Iso-C/CTS) decompose this tensor: 2-D and not excluded. */
export function isSvdMatrix(name: string, shape: readonly number[], exclude: string): boolean {
  return shape.length === 2 && !exclude.split(',').some((x) => x.trim() === name);
}

/**
 * Whether a tensor is the weight of a linear layer, the only tensors FusionBench's continual merges (OPCM,
 * DoP) decompose (they walk nn.Linear modules): 2-D, named `*.weight`, and not an embedding table
 * (open_clip's token_embedding.weight, transformers' *_embedding.weight). open_clip's in_proj_weight,
 * proj and text_projection are parameters of other modules, so they take the fallback, as in FusionBench.
 */
export function isLinearWeight(name: string, shape: readonly number[]): boolean {
  return shape.length === 2 && name.endsWith('.weight') && !/embed/i.test(name);
}

/** w·(θ − θ0) in float64. */
export function taskMatrix(x: Float32Array, base: Float32Array, w = 1): Float64Array {
  const out = new Float64Array(base.length);
  for (let i = 0; i < out.length; i++) out[i] = w * (x[i] - base[i]);
  return out;
}

/** Σ_k τ_k in float64. */
export function taskSum(base: Float32Array, experts: readonly Float32Array[]): Float64Array {
  const out = new Float64Array(base.length);
  for (const x of experts) for (let i = 0; i < out.length; i++) out[i] += x[i] - base[i];
  return out;
}

/** θ0 + λ·v into `into` (or a new array). */
export function addToBase(base: Float32Array, v: ArrayLike<number>, lambda: number, into?: Float32Array): Float32Array {
  const out = into ?? allocateOutput(base.length);
  for (let i = 0; i < base.length; i++) out[i] = base[i] + lambda * v[i];
  return out;
}

/** The fallback for other tensors: θ0 + λ·mean_k τ_k (FusionBench averages the task vectors there). */
export function meanTaskVector(
  base: Float32Array,
  experts: readonly Float32Array[],
  lambda: number,
  into?: Float32Array,
): Float32Array {
  const sum = taskSum(base, experts);
  return addToBase(base, sum, lambda / experts.length, into);
}

/**
 * Singular triplets from several SVDs stacked side by side (TSV-M's and Iso-CTS's k = min(m, n)
 * columns), then decorrelated: the stacked left and right vectors are replaced by their orthogonal
 * polar factors, U⊥ diag(s) V⊥ᵀ. Columns never filled stay zero and contribute nothing.
 */
export class TripletStack {
  readonly k: number;
  readonly s: Float64Array;
  private readonly u: Float64Array;
  private readonly vt: Float64Array;
  constructor(
    private readonly m: number,
    private readonly n: number,
  ) {
    this.k = Math.min(m, n);
    this.u = new Float64Array(m * this.k);
    this.s = new Float64Array(this.k);
    this.vt = new Float64Array(this.k * n);
  }
  /** Column `col` of the stack from triplet j of d. */
  place(col: number, d: Svd, j: number): void {
    const { m, n, k } = this;
    this.s[col] = d.s[j];
    for (let a = 0; a < m; a++) this.u[a * k + col] = d.u[a * d.k + j];
    for (let b = 0; b < n; b++) this.vt[col * n + b] = d.vt[j * n + b];
  }
  /** U⊥ diag(s) V⊥ᵀ with the given singular values (the stacked ones by default). */
  decorrelated(s: ArrayLike<number> = this.s): Float64Array {
    const { m, n, k } = this;
    const pu = polar(this.u, m, k);
    for (let a = 0; a < m; a++) for (let c = 0; c < k; c++) pu[a * k + c] *= s[c];
    return matmul(pu, polar(this.vt, k, n), m, k, n);
  }
}

/** FusionBench's exclude_keys list as the `exclude` parameter. */
export const excludeOf = (lists: Readonly<Record<string, ToolkitList>>): string =>
  (lists.exclude_keys ?? []).map(String).join(',');

/** Keys of FusionBench's continual configs that change nothing in the final merged values, with why. */
export const FUSION_BENCH_CONTINUAL_INERT = {
  seed: 'seeds the shuffle of the model order, which time-merge does not do; nothing else is drawn',
  save_on_every_step: 'FusionBench saves each intermediate merge; time-merge writes the final one',
  evaluate_on_every_step: 'evaluation is not part of a merge',
};

/**
 * FusionBench's shuffle_order (default true) shuffles the models with Python's random before merging;
 * time-merge merges them in the order listed (in TIME the stream fixes it), so only false is accepted.
 */
export function inListedOrder(g: Readonly<Record<string, ToolkitValue>>): void {
  if (g.shuffle_order !== false)
    fail(
      'CONFIG',
      'parameters.shuffle_order: time-merge merges the models in the order listed; set shuffle_order: false (FusionBench defaults to a random order)',
    );
}
