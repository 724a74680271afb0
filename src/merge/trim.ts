import {
  absTopK,
  absTopKPair,
  deltaTopK,
  deltaTopKMany,
  trimBand,
  trimByRule as trimByRuleKernel,
  type TopKRule,
} from '../params/kernels.js';

export type { TopKRule } from '../params/kernels.js';

/**
 * Trimming task vectors by magnitude. Every rule here ranks elements by |value| descending and, among
 * equal magnitudes, by index ascending, so kept counts are exact even when values tie.
 */

/**
 * How a fraction of n becomes a count: 'guarded' is ⌊fraction·n⌋ guarded against 0.29·100 = 28.999… (so
 * it keeps 29); 'truncate' is int(fraction·n) of the float64 product, as mergekit and fomo_in_flux compute
 * it in Python (28 there).
 */
export type CountRule = 'guarded' | 'truncate';
export const COUNT_RULES: readonly CountRule[] = ['guarded', 'truncate'];

/** How many of n elements a fraction keeps (or drops), by the count rule. */
export function keepCount(n: number, fraction: number, rule: CountRule = 'guarded'): number {
  return Math.max(0, Math.min(n, Math.floor(fraction * n + (rule === 'guarded' ? 1e-9 : 0))));
}

/** Keeps exactly the k largest-magnitude elements of x in place (earliest index wins ties), zeroing the rest. */
export function trimTopK(x: Float32Array, k: number): number {
  return trimByRule(x, topKRule(x, k));
}

/**
 * The rule "x_i is among the top k": |x_i| > threshold, or |x_i| == threshold and it is one of the first
 * `ties` such elements. k = 0 gives threshold Infinity; k = n gives -Infinity (everything kept).
 */
export function topKRule(x: Float32Array, k: number): TopKRule {
  const n = x.length;
  if (k <= 0) return { threshold: Infinity, ties: 0 };
  if (k >= n) return { threshold: -Infinity, ties: 0 };
  return absTopK(x, k);
}

/** topKRule of the task vector x - base, computed without materialising it (same rule). */
export function deltaTopKRule(x: Float32Array, base: Float32Array, k: number): TopKRule {
  const n = x.length;
  if (k <= 0) return { threshold: Infinity, ties: 0 };
  if (k >= n) return { threshold: -Infinity, ties: 0 };
  return deltaTopK(x, base, k);
}

/** deltaTopKRule of every expert with one k (the native kernels select them in one pass over base). */
export function deltaTopKRules(xs: readonly Float32Array[], base: Float32Array, k: number): TopKRule[] {
  const n = base.length;
  if (k <= 0) return xs.map(() => ({ threshold: Infinity, ties: 0 }));
  if (k >= n) return xs.map(() => ({ threshold: -Infinity, ties: 0 }));
  return deltaTopKMany(xs, base, k);
}

/** Applies a top-k rule in place: keeps |x_i| > threshold and the first `ties` elements equal to it. */
export function trimByRule(x: Float32Array, rule: TopKRule): number {
  return trimByRuleKernel(x, rule);
}

/**
 * Breadcrumbs: in place, drops the `nTop` largest-magnitude elements and the `nBottom` smallest, keeping
 * the ranks nTop .. n - nBottom - 1 (top-(n - nBottom) minus top-nTop under the same tie order).
 */
export function trimOutliers(x: Float32Array, nBottom: number, nTop: number): number {
  const n = x.length;
  const outerK = n - nBottom;
  const inside = (k: number) => k > 0 && k < n;
  if (inside(outerK) && inside(nTop)) return trimBand(x, ...absTopKPair(x, outerK, nTop));
  return trimBand(x, topKRule(x, outerK), topKRule(x, nTop));
}

/** Length of the last dimension (a "row"); 0-d and 1-d tensors are one row. */
export function rowLength(shape: readonly number[], n: number): number {
  return shape.length >= 2 ? shape[shape.length - 1] : n;
}
