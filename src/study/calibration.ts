import type { DiagnosticsRow } from './diagnostics-run.js';
import { mean } from './rows.js';

/**
 * What the default synthetic world must show (DESIGN.md section 5), as numbers on its diagnostics, never
 * on a finding: continual fine-tuning without replay forgets and loses zero-shot accuracy; with the
 * paper's replay it still loses some; θ0 is partly competent; task vectors of different datasets are
 * nearly orthogonal and a TIES trim keeps most of an expert's gain. ‖τ‖/‖θ0‖ is not a threshold: among
 * the worlds meeting the rest, the one with the smallest task vectors wins (fine-tuned CLIP moves its
 * weights little), since forcing it under 0.1 would leave no world that forgets.
 */
export const BEHAVIOUR_TARGETS = {
  /** Forgetting (accuracy matrix) of continual fine-tuning without replay, at least. */
  ftForgetting: 0.1,
  /** Its A_ZS drop, at least. */
  ftZsDrop: 0.03,
  /** With replay: A_ZS drop or forgetting, at least (either). */
  replayLoss: 0.03,
  /** θ0's A_KA in [lo, hi]: partly competent. */
  baseAKa: [0.2, 0.8] as const,
  crossCosine: 0.05,
  tiesKeep: 0.9,
} as const;

/** Means over a candidate's seeds of the diagnostics the choice reads. */
export interface CandidateSummary {
  readonly name: string;
  readonly seeds: number;
  readonly tauRatio: number;
  readonly crossCosine: number;
  readonly tiesKeep: number;
  readonly halfTauKeep: number;
  readonly baseAKa: number;
  readonly baseAZs: number;
  readonly expertZsDrop: number;
  readonly ftForgetting: number;
  readonly ftZsDrop: number;
  readonly replayForgetting: number;
  readonly replayZsDrop: number;
  /** Targets missed (empty: a valid world). */
  readonly misses: readonly string[];
}

const avg = (rows: readonly DiagnosticsRow[], key: keyof DiagnosticsRow) =>
  mean(rows.map((r) => r[key] as number).filter((x) => Number.isFinite(x)));

/** One candidate's mean diagnostics and the targets it misses. */
export function summarise(name: string, rows: readonly DiagnosticsRow[]): CandidateSummary {
  const t = BEHAVIOUR_TARGETS;
  const s = {
    name,
    seeds: rows.length,
    tauRatio: avg(rows, 'tauRatio'),
    crossCosine: avg(rows, 'crossCosine'),
    tiesKeep: avg(rows, 'tiesKeep'),
    halfTauKeep: avg(rows, 'halfTauKeep'),
    baseAKa: avg(rows, 'baseAKa'),
    baseAZs: avg(rows, 'baseAZs'),
    expertZsDrop: avg(rows, 'expertZsDrop'),
    ftForgetting: avg(rows, 'ftForgetting'),
    ftZsDrop: avg(rows, 'ftZsDrop'),
    replayForgetting: avg(rows, 'replayForgetting'),
    replayZsDrop: avg(rows, 'replayZsDrop'),
  };
  const misses: string[] = [];
  if (!(s.ftForgetting >= t.ftForgetting)) misses.push('forgetting without replay');
  if (!(s.ftZsDrop >= t.ftZsDrop)) misses.push('A_ZS drop without replay');
  if (!(s.replayZsDrop >= t.replayLoss || s.replayForgetting >= t.replayLoss)) misses.push('loss with replay');
  if (!(s.baseAKa >= t.baseAKa[0] && s.baseAKa <= t.baseAKa[1])) misses.push('θ0 partly competent');
  if (!(s.crossCosine <= t.crossCosine)) misses.push('cross-dataset cosine');
  if (!(s.tiesKeep >= t.tiesKeep)) misses.push('TIES trim kept');
  return { ...s, misses };
}

/** The valid candidate with the smallest ‖τ‖/‖θ0‖ (ties: the earlier one); undefined when none is valid. */
export function chooseWorld(candidates: readonly CandidateSummary[]): CandidateSummary | undefined {
  let best: CandidateSummary | undefined;
  for (const c of candidates) if (c.misses.length === 0 && (!best || c.tauRatio < best.tauRatio)) best = c;
  return best;
}
