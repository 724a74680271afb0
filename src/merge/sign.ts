/** TIES sign election and its tie rules. */

export type Election = 'sum' | 'count';
export type TieRule = 'positive' | 'negative' | 'majority' | 'minority' | 'skip';
export const ELECTIONS: readonly Election[] = ['sum', 'count'];
export const TIE_RULES: readonly TieRule[] = ['positive', 'negative', 'majority', 'minority', 'skip'];

/**
 * Per element, the sign of Σ_k w_k·v_k ('sum': magnitudes vote) or of Σ_k sign(w_k·v_k) ('count': one
 * vote each); 0 where the vote is tied (including all-zero columns). Sums are float64.
 */
export function electSigns(values: readonly Float32Array[], weights: readonly number[], method: Election, out: Int8Array): void {
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
}

/** Σ of elected signs: its sign is the "majority" sign of a tensor (or, summed over tensors, of a model). */
export function signTotal(signs: Int8Array): number {
  let s = 0;
  for (let i = 0; i < signs.length; i++) s += signs[i];
  return s;
}

/**
 * Replaces tied (0) signs by the rule: positive (+1, mergekit's `sum >= 0`), negative (-1), majority /
 * minority (the sign of `total`, the sum of all elected signs of the tensor or model, or its opposite;
 * FusionBench and fomo_in_flux use majority; a zero total counts as +1), skip (stays 0: nothing merged).
 */
export function resolveTies(signs: Int8Array, rule: TieRule, total: number): void {
  if (rule === 'skip') return;
  const majority = total < 0 ? -1 : 1;
  const fill = rule === 'positive' ? 1 : rule === 'negative' ? -1 : rule === 'majority' ? majority : -majority;
  for (let i = 0; i < signs.length; i++) if (signs[i] === 0) signs[i] = fill;
}
