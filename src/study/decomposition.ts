import type { RunRow } from './rows.js';
import { meanInterval, twoWayShares, type Interval } from './stats.js';

/**
 * The method x technique variance decomposition of GM, and the cells that can decide it on their own:
 * merges that collapse to θ0 or to the latest expert. In the two-model EMA and PAINT merges of the
 * official code some techniques return one of their inputs (Model Stock with θ0 returns θ0, MagMax and
 * TIES with θ0's zero task vector return the expert), so whole technique columns copy a baseline and
 * inflate the technique share.
 */

/** A cell collapses when its A_KA and A_ZS lie within this of a reference run on every seed (half a point). */
export const COLLAPSE_TOLERANCE = 0.005;

export interface Collapse {
  readonly method: string;
  readonly technique: string;
  /** What it equals: 'θ0' (the zero-shot baseline) or the continual run (the latest expert, no merge). */
  readonly to: string;
  /** Bit-equal scores on every seed. */
  readonly exact: boolean;
  /** Largest |difference| of A_KA or A_ZS over seeds. */
  readonly gap: number;
}

type Scores = Map<number, { aKa: number; aZs: number }>;

function scoresOf(rows: readonly RunRow[], method: string, technique?: string): Scores {
  const out: Scores = new Map();
  for (const r of rows)
    if (r.method === method && (technique === undefined || r.technique === technique))
      out.set(r.seed, { aKa: r.aKa, aZs: r.aZs });
  return out;
}

function gapTo(a: Scores, b: Scores): number {
  let gap = 0;
  for (const [seed, x] of a) {
    const y = b.get(seed);
    if (!y) return Infinity;
    gap = Math.max(gap, Math.abs(x.aKa - y.aKa), Math.abs(x.aZs - y.aZs));
  }
  return a.size === 0 ? Infinity : gap;
}

/**
 * Cells of the table that equal θ0 (the zeroshot baseline's runs) or the continual run (finetune, else
 * the continual baseline) within `tolerance` on every seed. Rows of one setting. A reference the study
 * did not run cannot be detected.
 */
export function findCollapses(
  rows: readonly RunRow[],
  methods: readonly string[],
  techniques: readonly string[],
  tolerance = COLLAPSE_TOLERANCE,
): Collapse[] {
  const refs: { to: string; scores: Scores }[] = [];
  if (rows.some((r) => r.method === 'zeroshot')) refs.push({ to: 'θ0', scores: scoresOf(rows, 'zeroshot') });
  const cont = rows.some((r) => r.method === 'finetune') ? 'finetune' : 'continual';
  if (rows.some((r) => r.method === cont))
    refs.push({ to: `${cont} (the latest expert)`, scores: scoresOf(rows, cont) });
  const out: Collapse[] = [];
  for (const method of methods)
    for (const technique of techniques) {
      const cell = scoresOf(rows, method, technique);
      let best: Collapse | undefined;
      for (const ref of refs) {
        const gap = gapTo(cell, ref.scores);
        if (gap <= tolerance && (!best || gap < best.gap))
          best = { method, technique, to: ref.to, exact: gap === 0, gap };
      }
      if (best) out.push(best);
    }
  return out;
}

/** The two-way split over one table of cells, per seed, with the paired method - technique difference. */
export interface Split {
  readonly techniques: readonly string[];
  readonly method: Interval;
  readonly technique: Interval;
  /** Method share - technique share, per seed. */
  readonly difference: Interval;
}

/** `cell(method, technique, seed)` gives GM; seeds with a missing cell are left out. */
export function splitShares(
  cell: (method: string, technique: string, seed: number) => number,
  methods: readonly string[],
  techniques: readonly string[],
  seeds: readonly number[],
): Split {
  const perSeed = seeds
    .map((seed) => methods.map((m) => techniques.map((t) => cell(m, t, seed))))
    .filter((y) => y.flat().every(Number.isFinite))
    .map(twoWayShares);
  return {
    techniques,
    method: meanInterval(perSeed.map((x) => x.rows)),
    technique: meanInterval(perSeed.map((x) => x.columns)),
    difference: meanInterval(perSeed.map((x) => x.rows - x.columns)),
  };
}
