/**
 * Vector kernels for the merge inner loops, over Float32Array.
 *
 * Every kernel works on whatever views it is given, so a tensor of any size can be processed in pieces
 * (pass `x.subarray(a, b)`); nothing here copies a whole model. Elementwise kernels allow `out` to be the
 * same array as an input (in-place updates).
 *
 * Arithmetic is float32, as a float32 merge in PyTorch would do it: scalars are rounded to float32 first
 * and every product and sum is rounded to float32 (Math.fround), in the order documented per kernel. That
 * makes the plain TypeScript path and the WebAssembly SIMD path bit-identical for the elementwise kernels.
 * Reductions (dot, sumSquares, sumAbs) accumulate in float64; the SIMD path sums in a different order, so
 * the two agree within a relative bound of n·2^-52 of Σ|terms| rather than bit for bit.
 *
 * Two implementations sit behind these functions: the TypeScript reference below (`tsKernels`) and a
 * WebAssembly SIMD build (src/params/wasm/). TIME_MERGE_KERNELS=ts|wasm selects one; the default is wasm
 * when its binary is present, else ts. `useKernels()` switches at run time (tests cover both).
 */
import { fail } from './errors.js';
import { loadWasmKernels } from './wasm/loader.js';

const f = Math.fround;

/** The operations every backend implements (same contracts as the exported functions below). */
export interface KernelImpl {
  axpy(y: Float32Array, a: number, x: Float32Array): void;
  axpby(out: Float32Array, a: number, x: Float32Array, b: number, y: Float32Array): void;
  scale(y: Float32Array, a: number): void;
  lerp(out: Float32Array, a: Float32Array, b: Float32Array, t: number): void;
  weightedSum(out: Float32Array, xs: readonly Float32Array[], ws: readonly number[]): void;
  weightedDeltaSum(out: Float32Array, base: Float32Array, xs: readonly Float32Array[], ws: readonly number[]): void;
  addScaled(out: Float32Array, base: Float32Array, a: number, x: Float32Array): void;
  sub(out: Float32Array, a: Float32Array, b: Float32Array): void;
  dot(a: Float32Array, b: Float32Array): number;
  sumSquares(x: Float32Array): number;
  firstNonFinite(x: Float32Array): number;
  absMaxSelect(out: Float32Array, xs: readonly Float32Array[]): void;
}

export type KernelBackend = 'ts' | 'wasm';

// ---------------------------------------------------------------------------------------------------------
// TypeScript reference
// ---------------------------------------------------------------------------------------------------------

function checkLen(kernel: string, n: number, ...arrs: Float32Array[]): void {
  for (const a of arrs) {
    if (a.length !== n) fail('MISMATCH', `kernel ${kernel}: array lengths differ (${n} vs ${a.length})`);
  }
}

function checkList(kernel: string, n: number, xs: readonly Float32Array[], ws: readonly number[]): void {
  if (xs.length !== ws.length) fail('MISMATCH', `kernel ${kernel}: ${xs.length} arrays but ${ws.length} weights`);
  for (const x of xs) checkLen(kernel, n, x);
}

export const tsKernels: KernelImpl = {
  axpy(y, a, x) {
    checkLen('axpy', y.length, x);
    const fa = f(a);
    for (let i = 0; i < y.length; i++) y[i] = f(y[i] + f(fa * x[i]));
  },
  axpby(out, a, x, b, y) {
    checkLen('axpby', out.length, x, y);
    const fa = f(a);
    const fb = f(b);
    for (let i = 0; i < out.length; i++) out[i] = f(f(fa * x[i]) + f(fb * y[i]));
  },
  scale(y, a) {
    const fa = f(a);
    for (let i = 0; i < y.length; i++) y[i] = f(fa * y[i]);
  },
  lerp(out, a, b, t) {
    checkLen('lerp', out.length, a, b);
    const ft = f(t);
    for (let i = 0; i < out.length; i++) {
      const ai = a[i];
      out[i] = f(ai + f(ft * f(b[i] - ai)));
    }
  },
  weightedSum(out, xs, ws) {
    checkList('weightedSum', out.length, xs, ws);
    if (xs.length === 0) {
      out.fill(0);
      return;
    }
    const w0 = f(ws[0]);
    const x0 = xs[0];
    for (let i = 0; i < out.length; i++) out[i] = f(w0 * x0[i]);
    for (let k = 1; k < xs.length; k++) {
      const wk = f(ws[k]);
      const x = xs[k];
      for (let i = 0; i < out.length; i++) out[i] = f(out[i] + f(wk * x[i]));
    }
  },
  weightedDeltaSum(out, base, xs, ws) {
    checkList('weightedDeltaSum', out.length, xs, ws);
    checkLen('weightedDeltaSum', out.length, base);
    if (xs.length === 0) {
      out.fill(0);
      return;
    }
    const w0 = f(ws[0]);
    const x0 = xs[0];
    for (let i = 0; i < out.length; i++) out[i] = f(w0 * f(x0[i] - base[i]));
    for (let k = 1; k < xs.length; k++) {
      const wk = f(ws[k]);
      const x = xs[k];
      for (let i = 0; i < out.length; i++) out[i] = f(out[i] + f(wk * f(x[i] - base[i])));
    }
  },
  addScaled(out, base, a, x) {
    checkLen('addScaled', out.length, base, x);
    const fa = f(a);
    for (let i = 0; i < out.length; i++) out[i] = f(base[i] + f(fa * x[i]));
  },
  sub(out, a, b) {
    checkLen('sub', out.length, a, b);
    for (let i = 0; i < out.length; i++) out[i] = f(a[i] - b[i]);
  },
  dot(a, b) {
    checkLen('dot', a.length, b);
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i] * b[i];
    return s;
  },
  sumSquares(x) {
    let s = 0;
    for (let i = 0; i < x.length; i++) s += x[i] * x[i];
    return s;
  },
  firstNonFinite(x) {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      if (v - v !== 0) return i; // NaN - NaN and ±Inf - ±Inf are NaN; finite v - v is 0
    }
    return -1;
  },
  absMaxSelect(out, xs) {
    if (xs.length === 0) fail('MERGE', 'kernel absMaxSelect: needs at least one array');
    for (const x of xs) checkLen('absMaxSelect', out.length, x);
    const x0 = xs[0];
    if (out !== x0) for (let i = 0; i < out.length; i++) out[i] = x0[i];
    for (let k = 1; k < xs.length; k++) {
      const x = xs[k];
      // >= so that ties go to the later array
      for (let i = 0; i < out.length; i++) if (Math.abs(x[i]) >= Math.abs(out[i])) out[i] = x[i];
    }
  },
};

// ---------------------------------------------------------------------------------------------------------
// Backend selection
// ---------------------------------------------------------------------------------------------------------

let wasmImpl: KernelImpl | undefined | null = null; // null: not tried yet; undefined: unavailable
let active: KernelImpl = tsKernels;
let activeName: KernelBackend = 'ts';

function tryWasm(): KernelImpl | undefined {
  if (wasmImpl === null) wasmImpl = loadWasmKernels(tsKernels);
  return wasmImpl;
}

/** Selects the backend; 'wasm' throws a CONFIG error when the WebAssembly build is missing. */
export function useKernels(backend: KernelBackend): void {
  if (backend === 'ts') {
    active = tsKernels;
    activeName = 'ts';
    return;
  }
  if (backend !== 'wasm') fail('CONFIG', `TIME_MERGE_KERNELS: unknown kernel backend "${backend as string}" (use ts or wasm)`);
  const w = tryWasm();
  if (!w) fail('CONFIG', 'TIME_MERGE_KERNELS=wasm: the WebAssembly kernels are not built (run npm run build:wasm)');
  active = w;
  activeName = 'wasm';
}

/** The backend in use now. */
export function kernelBackend(): KernelBackend {
  return activeName;
}

/** Whether the WebAssembly build can be used on this install. */
export function wasmKernelsAvailable(): boolean {
  return tryWasm() !== undefined;
}

{
  const env = process.env.TIME_MERGE_KERNELS;
  if (env === 'ts' || env === 'wasm') useKernels(env);
  else if (env !== undefined && env !== '') fail('CONFIG', `TIME_MERGE_KERNELS="${env}": use ts or wasm`);
  else if (tryWasm()) useKernels('wasm');
}

// ---------------------------------------------------------------------------------------------------------
// Public kernels (dispatch to the active backend)
// ---------------------------------------------------------------------------------------------------------

/** y += a·x (in place). */
export function axpy(y: Float32Array, a: number, x: Float32Array): void {
  active.axpy(y, a, x);
}

/** out = a·x + b·y (each product rounded, then the sum). `out` may alias x or y. */
export function axpby(out: Float32Array, a: number, x: Float32Array, b: number, y: Float32Array): void {
  active.axpby(out, a, x, b, y);
}

/** y *= a (in place). */
export function scale(y: Float32Array, a: number): void {
  active.scale(y, a);
}

/** out = a + t·(b - a): the EMA step m ← m + β(x - m) is lerp(m, m, x, β). `out` may alias a or b. */
export function lerp(out: Float32Array, a: Float32Array, b: Float32Array, t: number): void {
  active.lerp(out, a, b, t);
}

/** out = Σ_k ws[k]·xs[k], accumulated in order k = 0, 1, ... (out is overwritten; zeros for no arrays). */
export function weightedSum(out: Float32Array, xs: readonly Float32Array[], ws: readonly number[]): void {
  active.weightedSum(out, xs, ws);
}

/** out = Σ_k ws[k]·(xs[k] - base): the weighted task-vector sum, accumulated in order k = 0, 1, ... */
export function weightedDeltaSum(out: Float32Array, base: Float32Array, xs: readonly Float32Array[], ws: readonly number[]): void {
  active.weightedDeltaSum(out, base, xs, ws);
}

/** out = base + a·x (task arithmetic's last step: θ0 + λ·τ). `out` may alias base or x. */
export function addScaled(out: Float32Array, base: Float32Array, a: number, x: Float32Array): void {
  active.addScaled(out, base, a, x);
}

/** out = a - b (a task vector). */
export function sub(out: Float32Array, a: Float32Array, b: Float32Array): void {
  active.sub(out, a, b);
}

/** Σ a_i·b_i, accumulated in float64. */
export function dot(a: Float32Array, b: Float32Array): number {
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
  active.absMaxSelect(out, xs);
}

// ---------------------------------------------------------------------------------------------------------
// Kernels with one implementation (branchy or selection code that SIMD does not help much)
// ---------------------------------------------------------------------------------------------------------

/** Σ |x_i|, accumulated in float64 (DARE's L1 rescale). */
export function sumAbs(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.abs(x[i]);
  return s;
}

/** Number of elements with |x_i| >= threshold. */
export function countAbsAtLeast(x: Float32Array, threshold: number): number {
  let c = 0;
  for (let i = 0; i < x.length; i++) if (Math.abs(x[i]) >= threshold) c++;
  return c;
}

let scratch = new Float32Array(0);

function scratchOf(n: number): Float32Array {
  if (scratch.length < n) scratch = new Float32Array(Math.max(n, Math.ceil(scratch.length * 1.5)));
  return scratch.subarray(0, n);
}

/**
 * The k-th largest |value| of x (k = 1: the largest), by quickselect on a scratch copy of |x|: O(n)
 * expected, x untouched. k outside 1..n is a MERGE error. Keeping |x_i| >= threshold keeps at least k
 * elements (more when values tie at the threshold; see keepTopK for an exact count).
 */
export function absTopKThreshold(x: Float32Array, k: number): number {
  const n = x.length;
  if (!Number.isInteger(k) || k < 1 || k > n) fail('MERGE', `absTopKThreshold: k = ${k} is outside 1..${n}`);
  const a = scratchOf(n);
  for (let i = 0; i < n; i++) a[i] = Math.abs(x[i]);
  // Select position n - k of the ascending order.
  return quickselect(a, n - k);
}

/** Rearranges a so that a[k] holds the k-th smallest value (0-based) and returns it. NaN-free input. */
function quickselect(a: Float32Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  let state = 0x9e3779b9 ^ a.length; // deterministic pivot choice (xorshift), no Math.random
  while (hi > lo) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    const p = lo + ((state >>> 0) % (hi - lo + 1));
    const pivot = a[p];
    // Three-way partition (Dijkstra): [lo, lt) < pivot, [lt, gt] == pivot, (gt, hi] > pivot
    let lt = lo;
    let gt = hi;
    let i = lo;
    while (i <= gt) {
      const v = a[i];
      if (v < pivot) {
        a[i] = a[lt];
        a[lt] = v;
        lt++;
        i++;
      } else if (v > pivot) {
        a[i] = a[gt];
        a[gt] = v;
        gt--;
      } else i++;
    }
    if (k < lt) hi = lt - 1;
    else if (k > gt) lo = gt + 1;
    else return pivot;
  }
  return a[k];
}

/**
 * out = x where |x_i| >= threshold, else 0 (trimming a task vector). Returns how many were kept.
 * `out` may be x.
 */
export function keepAbsAtLeast(out: Float32Array, x: Float32Array, threshold: number): number {
  checkLen('keepAbsAtLeast', out.length, x);
  let kept = 0;
  for (let i = 0; i < out.length; i++) {
    const v = x[i];
    if (Math.abs(v) >= threshold) {
      out[i] = v;
      kept++;
    } else out[i] = 0;
  }
  return kept;
}

/**
 * out = x keeping exactly the k elements of largest |value| (k clamped to 0..n), zeroing the rest; among
 * values tied at the threshold the earliest indices are kept. `out` may be x.
 */
export function keepTopK(out: Float32Array, x: Float32Array, k: number): void {
  checkLen('keepTopK', out.length, x);
  const n = x.length;
  const kk = Math.max(0, Math.min(n, Math.floor(k)));
  if (kk === 0) {
    out.fill(0);
    return;
  }
  const thr = absTopKThreshold(x, kk);
  let above = 0;
  for (let i = 0; i < n; i++) if (Math.abs(x[i]) > thr) above++;
  let tiesLeft = kk - above;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    const m = Math.abs(v);
    if (m > thr) out[i] = v;
    else if (m === thr && tiesLeft > 0) {
      out[i] = v;
      tiesLeft--;
    } else out[i] = 0;
  }
}

/** out = x where lo <= |x_i| <= hi, else 0 (Breadcrumbs: drop the smallest and the largest). `out` may be x. */
export function keepAbsBetween(out: Float32Array, x: Float32Array, lo: number, hi: number): number {
  checkLen('keepAbsBetween', out.length, x);
  let kept = 0;
  for (let i = 0; i < out.length; i++) {
    const v = x[i];
    const m = Math.abs(v);
    if (m >= lo && m <= hi) {
      out[i] = v;
      kept++;
    } else out[i] = 0;
  }
  return kept;
}

/**
 * Sign election (TIES). mode 'sum': out_i = sign(Σ_k w_k·xs_k[i]) (magnitude-weighted, TIES paper and
 * mergekit default); mode 'count': out_i = sign(Σ_k w_k·sign(xs_k[i])) (majority by count). Zero sums
 * give `tie` (default +1, as mergekit's sign >= 0; pass 0 to drop tied elements).
 * out holds -1, 0 or +1.
 */
export function electSigns(
  out: Float32Array,
  xs: readonly Float32Array[],
  ws: readonly number[],
  mode: 'sum' | 'count' = 'sum',
  tie: -1 | 0 | 1 = 1,
): void {
  checkList('electSigns', out.length, xs, ws);
  out.fill(0);
  for (let k = 0; k < xs.length; k++) {
    const x = xs[k];
    const w = ws[k];
    if (mode === 'sum') for (let i = 0; i < out.length; i++) out[i] += w * x[i];
    else for (let i = 0; i < out.length; i++) out[i] += w * Math.sign(x[i]);
  }
  for (let i = 0; i < out.length; i++) {
    const s = out[i];
    out[i] = s > 0 ? 1 : s < 0 ? -1 : tie;
  }
}

/**
 * Disjoint merge (TIES): per element, combine the xs_k[i] (times ws[k]) whose sign equals signs[i]
 * (zeros and disagreeing values are left out). 'mean' divides by the number of agreeing experts (0 when
 * none), 'sum' adds them, 'max' keeps the one of largest |value| (the later one on ties).
 */
export function disjointMerge(
  out: Float32Array,
  xs: readonly Float32Array[],
  ws: readonly number[],
  signs: Float32Array,
  mode: 'mean' | 'sum' | 'max' = 'mean',
): void {
  checkList('disjointMerge', out.length, xs, ws);
  checkLen('disjointMerge', out.length, signs);
  const n = out.length;
  if (mode === 'max') {
    out.fill(0);
    for (let k = 0; k < xs.length; k++) {
      const x = xs[k];
      const w = ws[k];
      for (let i = 0; i < n; i++) {
        const v = w * x[i];
        if (v !== 0 && Math.sign(v) === signs[i] && Math.abs(v) >= Math.abs(out[i])) out[i] = v;
      }
    }
    return;
  }
  const count = mode === 'mean' ? new Uint32Array(n) : undefined;
  out.fill(0);
  for (let k = 0; k < xs.length; k++) {
    const x = xs[k];
    const w = ws[k];
    for (let i = 0; i < n; i++) {
      const v = w * x[i];
      if (v !== 0 && Math.sign(v) === signs[i]) {
        out[i] += v;
        if (count) count[i]++;
      }
    }
  }
  if (count) for (let i = 0; i < n; i++) out[i] = count[i] === 0 ? 0 : out[i] / count[i];
}

/**
 * DARE drop-and-rescale in place: each element is zeroed with probability p (one rng() draw per element,
 * in index order, so the same rng state gives the same mask) and survivors are multiplied by `rescale`
 * (1/(1-p) for DARE's default). Returns the number kept.
 */
export function dropAndRescale(x: Float32Array, p: number, rescale: number, rng: () => number): number {
  let kept = 0;
  for (let i = 0; i < x.length; i++) {
    if (rng() < p) x[i] = 0;
    else {
      x[i] *= rescale;
      kept++;
    }
  }
  return kept;
}
