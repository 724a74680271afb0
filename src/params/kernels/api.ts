/**
 * The kernels the merge techniques call, over Float32Array views: each function states its contract,
 * checks its arguments' lengths (the only place they are checked) and runs the active backend
 * (./backends.ts). Every kernel works on whatever views it is given, so a tensor of any size can be
 * processed in pieces (pass `x.subarray(a, b)`); nothing here copies a whole model. Elementwise kernels
 * allow `out` to be the same array as an input (in-place updates).
 */
import type { CounterKey } from '../counter-rng.js';
import { fail } from '../errors.js';
import { clearFinite } from '../finite-marks.js';
import { active } from './backends.js';
import type { DeltaTopKRule, Election, TiesMergeOptions, TopKRule } from './contract.js';
import { checkLen, checkList } from './lengths.js';

/** y += a·x (in place). */
export function axpy(y: Float32Array, a: number, x: Float32Array): void {
  checkLen('axpy', y.length, x);
  clearFinite(y);
  active.axpy(y, a, x);
}

/** out = a·x + b·y (each product rounded, then the sum). `out` may alias x or y. */
export function axpby(out: Float32Array, a: number, x: Float32Array, b: number, y: Float32Array): void {
  checkLen('axpby', out.length, x, y);
  clearFinite(out);
  active.axpby(out, a, x, b, y);
}

/** y *= a (in place). */
export function scale(y: Float32Array, a: number): void {
  clearFinite(y);
  active.scale(y, a);
}

/** out = a + t·(b - a): the EMA step m ← m + β(x - m) is lerp(m, m, x, β). `out` may alias a or b. */
export function lerp(out: Float32Array, a: Float32Array, b: Float32Array, t: number): void {
  checkLen('lerp', out.length, a, b);
  clearFinite(out);
  active.lerp(out, a, b, t);
}

/** out = Σ_k ws[k]·xs[k], accumulated in order k = 0, 1, ... (out is overwritten; zeros for no arrays). */
export function weightedSum(out: Float32Array, xs: readonly Float32Array[], ws: readonly number[]): void {
  checkList('weightedSum', out.length, xs, ws);
  clearFinite(out);
  active.weightedSum(out, xs, ws);
}

/** out = Σ_k ws[k]·(xs[k] - base): the weighted task-vector sum, accumulated in order k = 0, 1, ... */
export function weightedDeltaSum(
  out: Float32Array,
  base: Float32Array,
  xs: readonly Float32Array[],
  ws: readonly number[],
): void {
  checkList('weightedDeltaSum', out.length, xs, ws);
  checkLen('weightedDeltaSum', out.length, base);
  clearFinite(out);
  active.weightedDeltaSum(out, base, xs, ws);
}

/**
 * Task arithmetic: out = base + λ·Σ_k ws[k]·(xs[k] - base), exactly weightedDeltaSum then addScaled (the
 * native backend fuses them into one pass). `out` must not alias an input. Needs at least one array.
 */
export function taskArithmetic(
  out: Float32Array,
  base: Float32Array,
  xs: readonly Float32Array[],
  ws: readonly number[],
  lambda: number,
): void {
  if (xs.length === 0) fail('MERGE', 'kernel taskArithmetic: needs at least one array');
  checkList('taskArithmetic', out.length, xs, ws);
  checkLen('taskArithmetic', out.length, base);
  clearFinite(out);
  if (active.taskArithmetic) {
    active.taskArithmetic(out, base, xs, ws, lambda);
    return;
  }
  active.weightedDeltaSum(out, base, xs, ws);
  active.addScaled(out, base, lambda, out);
}

/**
 * Breadcrumbs per tensor without rescaling, fused where the backend has it (native): out = base + λ·Σ_k
 * ws[k]·τ̃_k, τ̃_k = xs[k] - base trimmed to the ranks [nTop, n - nBottom) by |value| (ties to the earliest
 * index), the same bits as sub, trimOutliers, weightedSum and addScaled. Returns false, writing nothing,
 * when the active backend has no fused form (the caller runs those steps). `out` must not alias an input;
 * nBottom + nTop < n.
 */
export function breadcrumbsLinear(
  out: Float32Array,
  base: Float32Array,
  xs: readonly Float32Array[],
  ws: readonly number[],
  lambda: number,
  nBottom: number,
  nTop: number,
): boolean {
  if (xs.length === 0) fail('MERGE', 'kernel breadcrumbsLinear: needs at least one array');
  checkList('breadcrumbsLinear', out.length, xs, ws);
  checkLen('breadcrumbsLinear', out.length, base);
  if (!active.breadcrumbsLinear) return false;
  clearFinite(out);
  return active.breadcrumbsLinear(out, base, xs, ws, lambda, nBottom, nTop);
}

/** out = base + a·x (task arithmetic's last step: θ0 + λ·τ). `out` may alias base or x. */
export function addScaled(out: Float32Array, base: Float32Array, a: number, x: Float32Array): void {
  checkLen('addScaled', out.length, base, x);
  clearFinite(out);
  active.addScaled(out, base, a, x);
}

/** out = a - b (a task vector). */
export function sub(out: Float32Array, a: Float32Array, b: Float32Array): void {
  checkLen('sub', out.length, a, b);
  clearFinite(out);
  active.sub(out, a, b);
}

/** Σ a_i·b_i, accumulated in float64. */
export function dot(a: Float32Array, b: Float32Array): number {
  checkLen('dot', a.length, b);
  return active.dot(a, b);
}

/** Σ x_i², accumulated in float64. */
export function sumSquares(x: Float32Array): number {
  return active.sumSquares(x);
}

/** The Euclidean norm sqrt(Σ x_i²). */
export function norm2(x: Float32Array): number {
  return Math.sqrt(active.sumSquares(x));
}

/** Index of the first NaN or ±Infinity, or -1 when every value is finite. */
export function firstNonFinite(x: Float32Array): number {
  return active.firstNonFinite(x);
}

/** Per element, the value of largest |value| across xs; ties go to the later array (MagMax). `out` may be xs[0]. */
export function absMaxSelect(out: Float32Array, xs: readonly Float32Array[]): void {
  if (xs.length === 0) fail('MERGE', 'kernel absMaxSelect: needs at least one array');
  for (const x of xs) checkLen('absMaxSelect', out.length, x);
  clearFinite(out);
  active.absMaxSelect(out, xs);
}

// ---------------------------------------------------------------------------------------------------------
// Technique kernels (selection, TIES, MagMax, seeded draws)
// ---------------------------------------------------------------------------------------------------------

/** Σ |x_i|, accumulated in float64 in index order (DARE's and Breadcrumbs' L1 rescale; bit-identical on every backend). */
export function sumAbs(x: Float32Array): number {
  return active.sumAbs(x);
}

/**
 * The top-k rule of x by |value| for 1 <= k < n: threshold = the k-th largest |x_i|, ties = how many
 * elements equal to it the top k holds (k minus those strictly above). Exact on every backend (native:
 * radix selection on the float bits; ts: quickselect). NaN-free input.
 */
export function absTopK(x: Float32Array, k: number): TopKRule {
  if (!Number.isInteger(k) || k < 1 || k >= x.length) fail('MERGE', `absTopK: k = ${k} is outside 1..${x.length - 1}`);
  return active.absTopK(x, k);
}

/** absTopK(x, k1) and absTopK(x, k2) (1 <= k < n), sharing the selection's first pass on the native backend. */
export function absTopKPair(x: Float32Array, k1: number, k2: number): [TopKRule, TopKRule] {
  for (const k of [k1, k2])
    if (!Number.isInteger(k) || k < 1 || k >= x.length)
      fail('MERGE', `absTopKPair: k = ${k} is outside 1..${x.length - 1}`);
  return active.absTopKPair(x, k1, k2);
}

/** absTopK of τ = x - base (1 <= k < n) without materialising τ; the native backend also reports `equal`. */
export function deltaTopK(x: Float32Array, base: Float32Array, k: number): DeltaTopKRule {
  if (!Number.isInteger(k) || k < 1 || k >= x.length)
    fail('MERGE', `deltaTopK: k = ${k} is outside 1..${x.length - 1}`);
  checkLen('deltaTopK', x.length, base);
  return active.deltaTopK(x, base, k);
}

/** deltaTopK(x, base, k) for every x (1 <= k < n); the native backend selects them all in one pass per 16 experts. */
export function deltaTopKMany(xs: readonly Float32Array[], base: Float32Array, k: number): DeltaTopKRule[] {
  if (!Number.isInteger(k) || k < 1 || k >= base.length)
    fail('MERGE', `deltaTopKMany: k = ${k} is outside 1..${base.length - 1}`);
  for (const x of xs) checkLen('deltaTopKMany', base.length, x);
  return active.deltaTopKMany(xs, base, k);
}

/**
 * TIES from the experts (or, with `deltas`, from task vectors) and their trim rules: τ_k trimmed, signs
 * elected (float64, expert order) and ties resolved, disjoint merge δ, out = base + λ·δ (float32). The
 * native backend does it in one pass over memory. Returns the sign total used for majority/minority.
 * `out` must not alias an input.
 */
export function tiesMerge(
  out: Float32Array,
  base: Float32Array,
  xs: readonly Float32Array[],
  rules: readonly TopKRule[],
  o: TiesMergeOptions,
): number {
  if (xs.length === 0 || rules.length !== xs.length)
    fail('MERGE', 'kernel tiesMerge: needs one trim rule per array, at least one');
  for (const x of xs) checkLen('tiesMerge', out.length, x);
  checkLen('tiesMerge', out.length, base);
  clearFinite(out);
  return active.tiesMerge(out, base, xs, rules, o);
}

/** In place: keeps |x_i| > rule.threshold and the first rule.ties elements equal to it (index order), zeroes the rest. Returns the kept count. */
export function trimByRule(x: Float32Array, rule: TopKRule): number {
  clearFinite(x);
  return active.trimByRule(x, rule);
}

/** In place: keeps the elements inside the outer top-k rule and outside the inner one (Breadcrumbs). Returns the kept count. */
export function trimBand(x: Float32Array, outer: TopKRule, inner: TopKRule): number {
  clearFinite(x);
  return active.trimBand(x, outer, inner);
}

/**
 * MagMax in one pass: out = base + λ·τ_max with τ_k = xs[k] - base and τ_max the τ_k of largest |value|
 * per element (laterWins: ties go to the later expert, else to the earlier). float32 operations in this
 * order: τ rounded, compared, then base + f(λ·τ_max). `out` must not alias an input.
 */
export function magmax(
  out: Float32Array,
  base: Float32Array,
  xs: readonly Float32Array[],
  lambda: number,
  laterWins: boolean,
): void {
  if (xs.length === 0) fail('MERGE', 'kernel magmax: needs at least one array');
  for (const x of xs) checkLen('magmax', out.length, x);
  checkLen('magmax', out.length, base);
  clearFinite(out);
  active.magmax(out, base, xs, lambda, laterWins);
}

/**
 * TIES sign election into out (-1, 0, +1): the sign of Σ_k w_k·v_k ('sum') or of Σ_k sign(w_k·v_k)
 * ('count'), float64 sums over k in order; 0 where the vote ties. Zero weights are skipped.
 */
export function electSigns(
  values: readonly Float32Array[],
  weights: readonly number[],
  method: Election,
  out: Int8Array,
): void {
  checkLen('electSigns', out.length, ...values);
  active.electSigns(values, weights, method, out);
}

/** Σ of the signs. */
export function signTotal(signs: Int8Array): number {
  return active.signTotal(signs);
}

/**
 * DARE's L1 norms of expert k's task vector v = x - base (or v = x without base) before and after its
 * counter-based drop (keep iff u32(key, k, i) >= cut; ./counter-rng.ts): [Σ|v|, Σ kept |v|], float64 sums
 * within fixed blocks of DARE_L1_BLOCK elements, block sums added in order, so every backend gives the
 * same bits whatever its thread split.
 */
export function dareL1(
  x: Float32Array,
  base: Float32Array | undefined,
  cut: number,
  key: CounterKey,
  k: number,
): [number, number] {
  if (base) checkLen('dareL1', x.length, base);
  return active.dareL1(x, base, cut, key[0], key[1], k);
}

/** DARE's drop of expert k's task vector t in place: t_i = keep ? s·t_i : 0 (float32), keep as in dareL1. */
export function dareDrop(t: Float32Array, cut: number, key: CounterKey, k: number, s: number): void {
  clearFinite(t);
  active.dareDrop(t, cut, key[0], key[1], k, s);
}

/**
 * Fused dare-linear: out = base + λ·Σ_k ws[k]·(keep_k(i) ? scales[k]·(xs[k] - base) : 0), float32, summed
 * in expert order: bit for bit dareDrop on the task vectors, then weightedSum and addScaled. `out` must
 * not alias an input. Needs at least one expert.
 */
export function dareLinear(
  out: Float32Array,
  base: Float32Array,
  xs: readonly Float32Array[],
  ws: readonly number[],
  scales: readonly number[],
  lambda: number,
  cut: number,
  key: CounterKey,
): void {
  if (xs.length === 0 || scales.length !== xs.length)
    fail('MERGE', 'kernel dareLinear: needs one scale per expert and at least one expert');
  checkList('dareLinear', out.length, xs, ws);
  checkLen('dareLinear', out.length, base);
  clearFinite(out);
  active.dareLinear(out, base, xs, ws, scales, lambda, cut, key[0], key[1]);
}

/**
 * Random selection on counter draws: u = u32(key, 0, i); out_i = xs[e][i] - base[i] with e the number of
 * cuts[j] <= u over j < N-1 (cuts: nondecreasing integers floor(bound_j·2^32)).
 */
export function randomPickCounter(
  out: Float32Array,
  base: Float32Array,
  experts: readonly Float32Array[],
  cuts: Float64Array,
  key: CounterKey,
): void {
  if (experts.length === 0 || cuts.length !== experts.length)
    fail('MERGE', 'kernel randomPickCounter: needs one cut per expert');
  for (const x of experts) checkLen('randomPickCounter', out.length, x);
  checkLen('randomPickCounter', out.length, base);
  clearFinite(out);
  active.randomPickCounter(out, base, experts, cuts, key[0], key[1]);
}

/** Below this many floats a fresh zeroed array is as cheap as an uninitialised one. */
const UNINITIALISED_MIN = 1 << 14;

/**
 * A Float32Array of n elements with unspecified contents, for an output that a kernel then overwrites
 * entirely: large ones come from Buffer.allocUnsafeSlow, which skips calloc's zeroing pass (one whole
 * extra write of the output). Never hand such an array out before every element is written.
 */
export function allocateOutput(n: number): Float32Array {
  if (n < UNINITIALISED_MIN) return new Float32Array(n);
  const b = Buffer.allocUnsafeSlow(n * 4);
  return new Float32Array(b.buffer, b.byteOffset, n);
}
