/**
 * Metrics of a TIME run over the accuracy matrix R, where R[t][j] is the score in [0, 1] of the model
 * deployed after step t (t = 0: θ0 before any training) on adaptation task j (1-based, j = 1..T, the
 * task trained at step j). Zero-shot tasks are never trained on and only enter A_ZS.
 *
 *   A_KA(t) = mean_j R[t][j] over all T adaptation tasks (knowledge accumulation; DESIGN.md section 4)
 *   A_ZS(t) = mean score over the zero-shot (evaluation-only) tasks at step t
 *   GM(t)   = sqrt(A_KA(t) · A_ZS(t))
 *
 * Continual-learning summaries follow Avalanche (avalanche.evaluation.metrics), which reads
 * "accuracy when the experience was last trained" as R[j][j]:
 *   forgetting = 1/(T-1) Σ_{j=1}^{T-1} (R[j][j] - R[T][j])      (StreamForgetting; the last task cannot be forgotten yet)
 *   bwt        = -forgetting = 1/(T-1) Σ_{j=1}^{T-1} (R[T][j] - R[j][j])   (StreamBWT, the GEM definition)
 *   fwt        = 1/(T-1) Σ_{j=2}^{T} (R[j-1][j] - R[0][j])        (StreamForwardTransfer: score on task j just
 *                before training on it, minus the score of the initial model θ0)
 * With T = 1 all three are 0 (no pair to compare). Without zero-shot tasks A_ZS and GM are null.
 */

export interface StepMetrics {
  readonly aKa: number | null;
  readonly aZs: number | null;
  readonly gm: number | null;
}

export interface FinalMetrics extends StepMetrics {
  readonly forgetting: number | null;
  readonly bwt: number | null;
  readonly fwt: number | null;
}

function mean(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** A_KA, A_ZS and GM of one row of scores (adaptation scores first, then zero-shot scores). */
export function stepMetrics(scores: readonly number[], adaptationCount: number): StepMetrics {
  const aKa = mean(scores.slice(0, adaptationCount));
  const aZs = mean(scores.slice(adaptationCount));
  const gm = aKa === null || aZs === null ? null : Math.sqrt(aKa * aZs);
  return { aKa, aZs, gm };
}

/**
 * Forgetting, BWT and FWT from the adaptation part of the matrix: rows[t] holds the scores after step t
 * for t = 0..T (rows[t][j-1] = R[t][j]).
 */
export function continualMetrics(
  rows: readonly (readonly number[])[],
): Pick<FinalMetrics, 'forgetting' | 'bwt' | 'fwt'> {
  const T = rows.length - 1;
  if (T < 1) return { forgetting: null, bwt: null, fwt: null };
  if (T === 1) return { forgetting: 0, bwt: 0, fwt: 0 };
  let f = 0;
  for (let j = 1; j <= T - 1; j++) f += rows[j][j - 1] - rows[T][j - 1];
  let fw = 0;
  for (let j = 2; j <= T; j++) fw += rows[j - 1][j - 1] - rows[0][j - 1];
  const forgetting = f / (T - 1);
  return { forgetting, bwt: forgetting === 0 ? 0 : -forgetting, fwt: fw / (T - 1) };
}
