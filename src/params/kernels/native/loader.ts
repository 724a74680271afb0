import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { markFinite } from '../../finite-marks.js';
import type { KernelImpl } from '../contract.js';
import type { DeltaTopKRule, DisjointMode, Election, TopKRule } from '../contract.js';

/**
 * The native kernels (C, built from ./src by `npm run build:native`, which `prepare` runs on install),
 * wrapped to the KernelImpl contract. The addon works on the typed arrays' own memory, so a call costs
 * one pass over the data; large arrays are split across a pool of threads inside the addon.
 *
 * Lengths are checked by ../api.ts before any backend runs. Arrays shorter than SMALL go to the
 * TypeScript reference: a Node-API call costs more than the loop it would replace.
 */

const SMALL = 64;

/**
 * The addon's exports: most elementwise kernels with KernelImpl's signatures; enums as plain numbers;
 * the kernels that write a merge's final values return whether every value they wrote is finite.
 */
type SameAsImpl = 'axpy' | 'axpby' | 'scale' | 'lerp' | 'weightedDeltaSum' | 'sub' | 'absMaxSelect';
interface Addon extends Pick<KernelImpl, SameAsImpl> {
  weightedSum(out: Float32Array, xs: readonly Float32Array[], ws: readonly number[]): boolean;
  addScaled(out: Float32Array, base: Float32Array, a: number, x: Float32Array): boolean;
  magmax(
    out: Float32Array,
    base: Float32Array,
    xs: readonly Float32Array[],
    lambda: number,
    laterWins: number,
  ): boolean;
  taskArithmetic(
    out: Float32Array,
    base: Float32Array,
    xs: readonly Float32Array[],
    ws: readonly number[],
    lambda: number,
  ): boolean;
  dot(a: Float32Array, b: Float32Array): number;
  sumSquares(x: Float32Array): number;
  sumAbs(x: Float32Array): number;
  firstNonFinite(x: Float32Array): number;
  absTopK(x: Float32Array, k: number, out: Float64Array): void;
  absTopKPair(x: Float32Array, k1: number, k2: number, out: Float64Array): void;
  deltaTopK(x: Float32Array, base: Float32Array, k: number, out: Float64Array): void;
  deltaTopKMany(xs: readonly Float32Array[], base: Float32Array, k: number, out: Float64Array): void;
  tiesMerge(
    out: Float32Array,
    base: Float32Array,
    xs: readonly Float32Array[],
    rules: Float64Array,
    ws: readonly number[],
    ew: readonly number[],
    method: number,
    fill: number,
    fillFromTotal: number,
    haveTotal: number,
    total: number,
    mode: number,
    lambda: number,
    deltas: number,
  ): [number, boolean];
  trimRule(x: Float32Array, threshold: number, ties: number, allEqual: number): number;
  breadcrumbsLinear(
    out: Float32Array,
    base: Float32Array,
    xs: readonly Float32Array[],
    ws: readonly number[],
    lambda: number,
    nBottom: number,
    nTop: number,
  ): boolean;
  trimBand(
    x: Float32Array,
    outerThreshold: number,
    outerTies: number,
    outerAll: number,
    innerThreshold: number,
    innerTies: number,
    innerAll: number,
  ): number;
  electSigns(out: Int8Array, values: readonly Float32Array[], weights: readonly number[], method: number): void;
  signTotal(signs: Int8Array): number;
  dareL1(
    x: Float32Array,
    base: Float32Array | undefined,
    cut: number,
    key0: number,
    key1: number,
    k: number,
    out: Float64Array,
  ): void;
  dareDrop(t: Float32Array, cut: number, key0: number, key1: number, k: number, s: number): void;
  dareLinear(
    out: Float32Array,
    base: Float32Array,
    xs: readonly Float32Array[],
    ws: readonly number[],
    scales: readonly number[],
    lambda: number,
    cut: number,
    key0: number,
    key1: number,
  ): boolean;
  randomPickCounter(
    out: Float32Array,
    base: Float32Array,
    experts: readonly Float32Array[],
    cuts: Float64Array,
    key0: number,
    key1: number,
  ): void;
  threads(): number;
  mapFile(fd: number, length: number): ArrayBuffer;
  mappedCut(buffer: ArrayBuffer): boolean;
  releasePages(buffer: ArrayBuffer, offset: number, length: number): void;
  startWriteback(fd: number, offset: number, length: number): void;
}

/**
 * Where node-gyp puts the addon (gitignored, rebuilt from source). TIME_MERGE_NATIVE_ADDON names another
 * build of it instead (the sanitized one the CI loads for the kernel tests).
 */
export const NATIVE_PATH =
  process.env.TIME_MERGE_NATIVE_ADDON ||
  fileURLToPath(new URL('./build/Release/time_merge_kernels.node', import.meta.url));

const ELECTION: Record<Election, number> = { sum: 0, count: 1 };
const DISJOINT: Record<DisjointMode, number> = { mean: 0, sum: 1, max: 2 };

function loadAddon(): Addon | undefined {
  if (!existsSync(NATIVE_PATH)) return undefined;
  try {
    return createRequire(import.meta.url)(NATIVE_PATH) as Addon;
  } catch (e) {
    // A stale or foreign build is not fatal: the other backends compute the same values.
    process.emitWarning(`time-merge: ignoring native kernels at ${NATIVE_PATH}: ${(e as Error).message}`);
    return undefined;
  }
}

/** The addon's file access: zero-copy mappings of inputs and early writeback of outputs (see src/map.c). */
export type NativeFiles = Pick<Addon, 'mapFile' | 'mappedCut' | 'releasePages' | 'startWriteback'>;

let files: NativeFiles | null | undefined;

/** The native file functions, or undefined when the addon is not built (readers then copy). */
export function nativeFiles(): NativeFiles | undefined {
  if (files === undefined) files = loadAddon() ?? null;
  return files ?? undefined;
}

/** Threads the addon splits large arrays across (0 when it is not built). */
export function nativeThreads(): number {
  return loadAddon()?.threads() ?? 0;
}

/** The native kernels, or undefined when the addon is not built or does not load (callers fall back). */
export function loadNativeKernels(ts: KernelImpl): KernelImpl | undefined {
  const a = loadAddon();
  if (!a) return undefined;
  const rule = new Float64Array(6);
  /** 1 when the rule keeps every element equal to its threshold (so trimming needs no sequential count). */
  const allEqual = (r: TopKRule) => (r.equal !== undefined && r.equal <= r.ties ? 1 : 0);
  const ruleAt = (o: number): TopKRule => ({ threshold: rule[o], ties: rule[o + 1], equal: rule[o + 2] });
  return {
    axpy(y, s, x) {
      if (y.length < SMALL) return ts.axpy(y, s, x);
      a.axpy(y, s, x);
    },
    axpby(out, s, x, t, y) {
      if (out.length < SMALL) return ts.axpby(out, s, x, t, y);
      a.axpby(out, s, x, t, y);
    },
    scale(y, s) {
      if (y.length < SMALL) return ts.scale(y, s);
      a.scale(y, s);
    },
    lerp(out, x, y, t) {
      if (out.length < SMALL) return ts.lerp(out, x, y, t);
      a.lerp(out, x, y, t);
    },
    weightedSum(out, xs, ws) {
      if (out.length < SMALL || xs.length === 0) return ts.weightedSum(out, xs, ws);
      if (a.weightedSum(out, xs, ws)) markFinite(out);
    },
    weightedDeltaSum(out, base, xs, ws) {
      if (out.length < SMALL || xs.length === 0) return ts.weightedDeltaSum(out, base, xs, ws);
      a.weightedDeltaSum(out, base, xs, ws);
    },
    addScaled(out, base, s, x) {
      if (out.length < SMALL) return ts.addScaled(out, base, s, x);
      if (a.addScaled(out, base, s, x)) markFinite(out);
    },
    sub(out, x, y) {
      if (out.length < SMALL) return ts.sub(out, x, y);
      a.sub(out, x, y);
    },
    dot(x, y) {
      return x.length < SMALL ? ts.dot(x, y) : a.dot(x, y);
    },
    sumSquares: (x) => (x.length < SMALL ? ts.sumSquares(x) : a.sumSquares(x)),
    firstNonFinite: (x) => (x.length < SMALL ? ts.firstNonFinite(x) : a.firstNonFinite(x)),
    absMaxSelect(out, xs) {
      if (out.length < SMALL) return ts.absMaxSelect(out, xs);
      a.absMaxSelect(out, xs);
    },
    sumAbs: (x) => (x.length < SMALL ? ts.sumAbs(x) : a.sumAbs(x)),
    absTopK(x, k) {
      if (x.length < SMALL) return ts.absTopK(x, k);
      a.absTopK(x, k, rule);
      return ruleAt(0);
    },
    absTopKPair(x, k1, k2) {
      if (x.length < SMALL) return ts.absTopKPair(x, k1, k2);
      a.absTopKPair(x, k1, k2, rule);
      return [ruleAt(0), ruleAt(3)];
    },
    deltaTopK(x, base, k): DeltaTopKRule {
      if (x.length < SMALL) return ts.deltaTopK(x, base, k);
      const r = new Float64Array(3);
      a.deltaTopK(x, base, k, r);
      return { threshold: r[0], ties: r[1], equal: r[2] };
    },
    deltaTopKMany(xs, base, k): DeltaTopKRule[] {
      if (base.length < SMALL) return ts.deltaTopKMany(xs, base, k);
      const r = new Float64Array(3 * xs.length);
      a.deltaTopKMany(xs, base, k, r);
      return xs.map((_, s) => ({ threshold: r[3 * s], ties: r[3 * s + 1], equal: r[3 * s + 2] }));
    },
    tiesMerge(out, base, xs, rules, o) {
      if (out.length < SMALL) return ts.tiesMerge(out, base, xs, rules, o);
      const packed = new Float64Array(3 * rules.length);
      rules.forEach((r, k) => packed.set([r.threshold, r.ties, (r as DeltaTopKRule).equal ?? -1], 3 * k));
      const fromTotal = o.tieFill === 'majority' ? 1 : o.tieFill === 'minority' ? -1 : 0;
      const fill = typeof o.tieFill === 'number' ? o.tieFill : 0;
      const [total, finite] = a.tiesMerge(
        out,
        base,
        xs,
        packed,
        o.weights,
        o.electionWeights,
        ELECTION[o.election],
        fill,
        fromTotal,
        o.signTotal === undefined ? 0 : 1,
        o.signTotal ?? 0,
        DISJOINT[o.disjoint],
        o.lambda,
        o.deltas ? 1 : 0,
      );
      if (finite) markFinite(out);
      return fromTotal === 0 ? 0 : total;
    },
    trimByRule: (x, r) => (x.length < SMALL ? ts.trimByRule(x, r) : a.trimRule(x, r.threshold, r.ties, allEqual(r))),
    trimBand: (x, o, i) =>
      x.length < SMALL
        ? ts.trimBand(x, o, i)
        : a.trimBand(x, o.threshold, o.ties, allEqual(o), i.threshold, i.ties, allEqual(i)),
    breadcrumbsLinear(out, base, xs, ws, lambda, nBottom, nTop) {
      if (out.length < SMALL) return false;
      if (a.breadcrumbsLinear(out, base, xs, ws, lambda, nBottom, nTop)) markFinite(out);
      return true;
    },
    taskArithmetic(out, base, xs, ws, lambda) {
      if (out.length < SMALL) {
        ts.weightedDeltaSum(out, base, xs, ws);
        return ts.addScaled(out, base, lambda, out);
      }
      if (a.taskArithmetic(out, base, xs, ws, lambda)) markFinite(out);
    },
    magmax(out, base, xs, lambda, laterWins) {
      if (out.length < SMALL) return ts.magmax(out, base, xs, lambda, laterWins);
      if (a.magmax(out, base, xs, lambda, laterWins ? 1 : 0)) markFinite(out);
    },
    electSigns(values, weights, method, out) {
      if (out.length < SMALL) return ts.electSigns(values, weights, method, out);
      a.electSigns(out, values, weights, ELECTION[method]);
    },
    signTotal: (s) => (s.length < SMALL ? ts.signTotal(s) : a.signTotal(s)),
    dareL1(x, base, cut, key0, key1, k) {
      if (x.length < SMALL) return ts.dareL1(x, base, cut, key0, key1, k);
      const r = new Float64Array(2);
      a.dareL1(x, base, cut, key0, key1, k, r);
      return [r[0], r[1]];
    },
    dareDrop: (t, cut, key0, key1, k, s) =>
      t.length < SMALL ? ts.dareDrop(t, cut, key0, key1, k, s) : a.dareDrop(t, cut, key0, key1, k, s),
    dareLinear(out, base, xs, ws, scales, lambda, cut, key0, key1) {
      if (out.length < SMALL) return ts.dareLinear(out, base, xs, ws, scales, lambda, cut, key0, key1);
      if (a.dareLinear(out, base, xs, ws, scales, lambda, cut, key0, key1)) markFinite(out);
    },
    randomPickCounter(out, base, experts, cuts, key0, key1) {
      if (out.length < SMALL) return ts.randomPickCounter(out, base, experts, cuts, key0, key1);
      a.randomPickCounter(out, base, experts, cuts, key0, key1);
    },
  };
}
