import { kthLargestAbs } from './select.js';

/**
 * Trimming task vectors by magnitude. Every rule here ranks elements by |value| descending and, among
 * equal magnitudes, by index ascending, so kept counts are exact even when values tie.
 */

/** How many of n elements a fraction keeps: ⌊fraction·n⌋ (mergekit, FusionBench), guarded against 0.29·100 = 28.999…. */
export function keepCount(n: number, fraction: number): number {
  return Math.max(0, Math.min(n, Math.floor(fraction * n + 1e-9)));
}

/** Keeps exactly the k largest-magnitude elements of x in place (earliest index wins ties), zeroing the rest. */
export function trimTopK(x: Float32Array, k: number): number {
  return trimByRule(x, topKRule(x, k));
}

/**
 * The rule "x_i is among the top k": |x_i| > threshold, or |x_i| == threshold and it is one of the first
 * `ties` such elements. k = 0 gives threshold Infinity; k = n gives -Infinity (everything kept).
 */
export interface TopKRule {
  readonly threshold: number;
  readonly ties: number;
}

export function topKRule(x: Float32Array, k: number): TopKRule {
  const n = x.length;
  if (k <= 0) return { threshold: Infinity, ties: 0 };
  if (k >= n) return { threshold: -Infinity, ties: 0 };
  const threshold = kthLargestAbs(x, k);
  let above = 0;
  for (let i = 0; i < n; i++) if (Math.abs(x[i]) > threshold) above++;
  return { threshold, ties: k - above };
}

/** Applies a top-k rule in place: keeps |x_i| > threshold and the first `ties` elements equal to it. */
export function trimByRule(x: Float32Array, rule: TopKRule): number {
  const { threshold } = rule;
  let tiesLeft = rule.ties;
  let kept = 0;
  for (let i = 0; i < x.length; i++) {
    const m = Math.abs(x[i]);
    if (m > threshold) kept++;
    else if (m === threshold && tiesLeft > 0) {
      tiesLeft--;
      kept++;
    } else x[i] = 0;
  }
  return kept;
}

/**
 * Breadcrumbs: in place, drops the `nTop` largest-magnitude elements and the `nBottom` smallest, keeping
 * the ranks nTop .. n - nBottom - 1 (top-(n - nBottom) minus top-nTop under the same tie order).
 */
export function trimOutliers(x: Float32Array, nBottom: number, nTop: number): number {
  const n = x.length;
  const outer = topKRule(x, n - nBottom);
  const inner = topKRule(x, nTop);
  let outerTies = outer.ties;
  let innerTies = inner.ties;
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const m = Math.abs(x[i]);
    let inOuter = m > outer.threshold;
    if (!inOuter && m === outer.threshold && outerTies > 0) {
      outerTies--;
      inOuter = true;
    }
    let inInner = m > inner.threshold;
    if (!inInner && m === inner.threshold && innerTies > 0) {
      innerTies--;
      inInner = true;
    }
    if (inOuter && !inInner) kept++;
    else x[i] = 0;
  }
  return kept;
}

/** Length of the last dimension (a "row"); 0-d and 1-d tensors are one row. */
export function rowLength(shape: readonly number[], n: number): number {
  return shape.length >= 2 ? shape[shape.length - 1] : n;
}
