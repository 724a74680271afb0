/** TIES disjoint merge: combine, per element, only the values that agree with the elected sign. */

export type DisjointMode = 'mean' | 'sum' | 'max';
export const DISJOINT_MODES: readonly DisjointMode[] = ['mean', 'sum', 'max'];

/**
 * Per element i, with A = { k : sign(e_k·v_k[i]) == signs[i] } (e: the weights the election used, so a
 * zero value is never in A):
 * - mean: Σ_A w_k·v_k[i] / Σ_A w_k (0 when A is empty or Σ_A w_k is 0). With equal weights it is the
 *   mean of the agreeing values (FusionBench / fomo_in_flux `mean`); with weights it is mergekit's
 *   weight-normalised TIES.
 * - sum: Σ_A w_k·v_k[i].
 * - max: the v_k[i] of largest magnitude in A (the later expert on ties); weights only act through the
 *   election, as FusionBench's unweighted `max` (so merging copies returns the copy).
 */
export function disjointMerge(
  values: readonly Float32Array[],
  weights: readonly number[],
  electionWeights: readonly number[],
  signs: Int8Array,
  mode: DisjointMode,
): Float32Array {
  const n = signs.length;
  const out = new Float32Array(n);
  if (mode === 'max') {
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
    return out;
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
  return out;
}
