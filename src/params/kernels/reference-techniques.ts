/**
 * TypeScript reference of the technique kernels (top-k selection, trimming, TIES sign election and
 * disjoint merge, MagMax, seeded drops and picks). The contracts are documented on the dispatching
 * functions in ./api.ts; every backend must give exactly these results.
 */
import { counterU32, expertKey } from '../counter-rng.js';
import { selectKth } from '../select-kth.js';

const f = Math.fround;

/** Elements per block of dareL1's ordered sums (TM_L1_BLOCK in native/src/counter-rng.h). */
export const DARE_L1_BLOCK = 4096;

/**
 * The rule "x_i is among the top k by |value|": |x_i| > threshold, or == threshold and among the first
 * `ties`. `equal`, when known, counts the elements equal to the threshold: equal <= ties means every one
 * is kept, which lets a backend trim without the sequential tie count.
 */
export interface TopKRule {
  readonly threshold: number;
  readonly ties: number;
  readonly equal?: number;
}

/** A top-k rule of a task vector (the same shape). */
export type DeltaTopKRule = TopKRule;

export type Election = 'sum' | 'count';
export type DisjointMode = 'mean' | 'sum' | 'max';

/** The TIES step after trimming (see tiesMerge). */
export interface TiesMergeOptions {
  readonly weights: readonly number[];
  /** The weights of the sign election (the expert weights, or ones). */
  readonly electionWeights: readonly number[];
  readonly election: Election;
  readonly disjoint: DisjointMode;
  /** Sign for a zero vote: a fixed sign or 0 (skip), or the sign of the total ('majority') or its opposite ('minority'). */
  readonly tieFill: -1 | 0 | 1 | 'majority' | 'minority';
  /** The total for majority/minority (summed over a model); without it, the tensor's own total. */
  readonly signTotal?: number;
  readonly lambda: number;
  /** The inputs are task vectors already (not experts to subtract θ0 from). */
  readonly deltas: boolean;
}

let scratch = new Float32Array(0);
let deltaScratch = new Float32Array(0);

/** Replaces 0 signs by fill. */
function resolveTies(signs: Int8Array, fill: number): void {
  for (let i = 0; i < signs.length; i++) if (signs[i] === 0) signs[i] = fill;
}

/**
 * Disjoint merge into out: per element, over the experts whose e_k·v_k has the elected sign, 'mean'
 * Σ w_k·v_k / Σ w_k (0 when none or Σ w_k = 0), 'sum' Σ w_k·v_k (float64 sums in expert order, rounded
 * once), 'max' the v_k of largest |value| (later on ties).
 */
function disjointMerge(
  out: Float32Array,
  values: readonly Float32Array[],
  weights: readonly number[],
  electionWeights: readonly number[],
  signs: Int8Array,
  mode: DisjointMode,
): void {
  const n = signs.length;
  if (mode === 'max') {
    out.fill(0);
    for (let k = 0; k < values.length; k++) {
      const v = values[k];
      const e = electionWeights[k];
      for (let i = 0; i < n; i++) {
        const x = v[i];
        const ex = e * x;
        const s = signs[i];
        if (((ex > 0 && s > 0) || (ex < 0 && s < 0)) && Math.abs(x) >= Math.abs(out[i])) out[i] = x;
      }
    }
    return;
  }
  const num = new Float64Array(n);
  const den = mode === 'mean' ? new Float64Array(n) : undefined;
  for (let k = 0; k < values.length; k++) {
    const v = values[k];
    const w = weights[k];
    const e = electionWeights[k];
    for (let i = 0; i < n; i++) {
      const x = v[i];
      const ex = e * x;
      const s = signs[i];
      if ((ex > 0 && s > 0) || (ex < 0 && s < 0)) {
        num[i] += w * x;
        if (den) den[i] += w;
      }
    }
  }
  if (den) for (let i = 0; i < n; i++) out[i] = den[i] === 0 ? 0 : num[i] / den[i];
  else for (let i = 0; i < n; i++) out[i] = num[i];
}

export const tsMergeKernels = {
  sumAbs(x: Float32Array): number {
    let s = 0;
    for (let i = 0; i < x.length; i++) s += Math.abs(x[i]);
    return s;
  },

  absTopK(x: Float32Array, k: number): TopKRule {
    const n = x.length;
    if (scratch.length < n) scratch = new Float32Array(n);
    const a = scratch.subarray(0, n);
    for (let i = 0; i < n; i++) a[i] = Math.abs(x[i]);
    const threshold = selectKth(a, n - k);
    let above = 0;
    for (let i = 0; i < n; i++) if (Math.abs(x[i]) > threshold) above++;
    return { threshold, ties: k - above };
  },

  deltaTopK(x: Float32Array, base: Float32Array, k: number): DeltaTopKRule {
    if (deltaScratch.length < x.length) deltaScratch = new Float32Array(x.length);
    const t = deltaScratch.subarray(0, x.length);
    for (let i = 0; i < t.length; i++) t[i] = x[i] - base[i];
    return tsMergeKernels.absTopK(t, k);
  },

  /** deltaTopK of every x with one k (the native backend reads base once per pass for all of them). */
  deltaTopKMany(xs: readonly Float32Array[], base: Float32Array, k: number): DeltaTopKRule[] {
    return xs.map((x) => tsMergeKernels.deltaTopK(x, base, k));
  },

  /** The two rules of one x (Breadcrumbs' outer and inner), 1 <= k1, k2 < n. */
  absTopKPair(x: Float32Array, k1: number, k2: number): [TopKRule, TopKRule] {
    const outer = tsMergeKernels.absTopK(x, k1);
    return [outer, tsMergeKernels.absTopK(x, k2)];
  },

  trimByRule(x: Float32Array, rule: TopKRule): number {
    const threshold = rule.threshold;
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
  },

  trimBand(x: Float32Array, outer: TopKRule, inner: TopKRule): number {
    let outerTies = outer.ties;
    let innerTies = inner.ties;
    let kept = 0;
    for (let i = 0; i < x.length; i++) {
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
  },

  magmax(out: Float32Array, base: Float32Array, xs: readonly Float32Array[], lambda: number, laterWins: boolean): void {
    const n = out.length;
    const fl = f(lambda);
    const x0 = xs[0];
    for (let i = 0; i < n; i++) out[i] = x0[i] - base[i];
    for (let k = 1; k < xs.length; k++) {
      const x = xs[k];
      for (let i = 0; i < n; i++) {
        const t = f(x[i] - base[i]);
        if (laterWins ? Math.abs(t) >= Math.abs(out[i]) : Math.abs(t) > Math.abs(out[i])) out[i] = t;
      }
    }
    for (let i = 0; i < n; i++) out[i] = f(base[i] + f(fl * out[i]));
  },

  electSigns(values: readonly Float32Array[], weights: readonly number[], method: Election, out: Int8Array): void {
    const n = out.length;
    const acc = new Float64Array(n);
    for (let k = 0; k < values.length; k++) {
      const v = values[k];
      const w = weights[k];
      if (w === 0) continue;
      if (method === 'sum') for (let i = 0; i < n; i++) acc[i] += w * v[i];
      else
        for (let i = 0; i < n; i++) {
          const x = w * v[i];
          acc[i] += x > 0 ? 1 : x < 0 ? -1 : 0;
        }
    }
    for (let i = 0; i < n; i++) out[i] = acc[i] > 0 ? 1 : acc[i] < 0 ? -1 : 0;
  },

  signTotal(signs: Int8Array): number {
    let s = 0;
    for (let i = 0; i < signs.length; i++) s += signs[i];
    return s;
  },

  /**
   * DARE's L1 norms of v = x - base (v = x without base) before and after the drop of expert k. Order,
   * fixed so that a threaded, vectorised backend gives the same bits: fixed blocks of DARE_L1_BLOCK
   * elements; within a block 8 float64 lane sums of |v| (lane = offset in the block mod 8, index order,
   * adding 0 for a dropped element in the kept sum), combined ((l0+l1)+(l2+l3))+((l4+l5)+(l6+l7)); the
   * block sums added in order. Kept: u32(key, k, i) >= cut (./counter-rng.ts).
   */
  dareL1(
    x: Float32Array,
    base: Float32Array | undefined,
    cut: number,
    key0: number,
    key1: number,
    k: number,
  ): [number, number] {
    const [e0, e1] = expertKey([key0, key1], k);
    const B = DARE_L1_BLOCK;
    const la = new Float64Array(8);
    const lk = new Float64Array(8);
    const lanes = (l: Float64Array) => l[0] + l[1] + (l[2] + l[3]) + (l[4] + l[5] + (l[6] + l[7]));
    let all = 0;
    let kept = 0;
    for (let i0 = 0; i0 < x.length; i0 += B) {
      const i1 = Math.min(x.length, i0 + B);
      la.fill(0);
      lk.fill(0);
      for (let i = i0; i < i1; i++) {
        const a = Math.abs(base ? f(x[i] - base[i]) : x[i]);
        const l = (i - i0) & 7;
        la[l] += a;
        lk[l] += counterU32(e0, e1, i) >= cut ? a : 0;
      }
      all += lanes(la);
      kept += lanes(lk);
    }
    return [all, kept];
  },

  /** DARE's drop of expert k in place: t_i = u32(key, k, i) >= cut ? s·t_i : 0 (float32). */
  dareDrop(t: Float32Array, cut: number, key0: number, key1: number, k: number, s: number): void {
    const [e0, e1] = expertKey([key0, key1], k);
    const fs = f(s);
    for (let i = 0; i < t.length; i++) t[i] = counterU32(e0, e1, i) >= cut ? f(fs * t[i]) : 0;
  },

  /**
   * Fused dare-linear: out = base + λ·Σ_k w_k·v_k with v_k = u32(key, k, i) >= cut ? s_k·(x_k - base) : 0,
   * float32 throughout, accumulated in expert order (the same bits as dropping task vectors, scaling,
   * weightedSum and addScaled). `out` must not alias an input.
   */
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
  ): void {
    const n = out.length;
    for (let k = 0; k < xs.length; k++) {
      const [e0, e1] = expertKey([key0, key1], k);
      const w = f(ws[k]);
      const s = f(scales[k]);
      const x = xs[k];
      for (let i = 0; i < n; i++) {
        const v = counterU32(e0, e1, i) >= cut ? f(s * f(x[i] - base[i])) : 0;
        out[i] = k === 0 ? f(w * v) : f(out[i] + f(w * v));
      }
    }
    const fl = f(lambda);
    for (let i = 0; i < n; i++) out[i] = f(base[i] + f(fl * out[i]));
  },

  /**
   * Random selection on counter draws: u = u32(key, 0, i); the expert is the number of cuts[j] <= u over
   * j < N-1 (cuts: integer cumulative bounds floor(bound·2^32), nondecreasing); out_i = x_e[i] - base[i].
   */
  randomPickCounter(
    out: Float32Array,
    base: Float32Array,
    experts: readonly Float32Array[],
    cuts: Float64Array,
    key0: number,
    key1: number,
  ): void {
    const [e0, e1] = expertKey([key0, key1], 0);
    const last = experts.length - 1;
    for (let i = 0; i < out.length; i++) {
      const u = counterU32(e0, e1, i);
      let k = 0;
      for (let j = 0; j < last; j++) if (cuts[j] <= u) k++;
      out[i] = experts[k][i] - base[i];
    }
  },

  /**
   * TIES after the selection: per expert τ_k = x_k - base (or x_k itself with `deltas`), trimmed by its
   * rule; signs elected and ties resolved; disjoint merge δ; out = base + λ·δ. Returns the sign total
   * used for majority/minority (0 otherwise). This composition is the reference the fused native kernel
   * must reproduce bit for bit.
   */
  tiesMerge(
    out: Float32Array,
    base: Float32Array,
    xs: readonly Float32Array[],
    rules: readonly TopKRule[],
    o: TiesMergeOptions,
  ): number {
    const n = base.length;
    const values = xs.map((x, k) => {
      const t = new Float32Array(n);
      if (o.deltas) t.set(x);
      else for (let i = 0; i < n; i++) t[i] = x[i] - base[i];
      tsMergeKernels.trimByRule(t, rules[k]);
      return t;
    });
    const signs = new Int8Array(n);
    tsMergeKernels.electSigns(values, o.electionWeights, o.election, signs);
    let total = 0;
    if (o.tieFill === 'majority' || o.tieFill === 'minority') {
      total = o.signTotal ?? tsMergeKernels.signTotal(signs);
      const majority = total < 0 ? -1 : 1;
      resolveTies(signs, o.tieFill === 'majority' ? majority : -majority);
    } else if (o.tieFill !== 0) resolveTies(signs, o.tieFill);
    disjointMerge(out, values, o.weights, o.electionWeights, signs, o.disjoint);
    const fl = f(o.lambda);
    for (let i = 0; i < n; i++) out[i] = f(base[i] + f(fl * out[i]));
    return total;
  },
};
