/** TIES disjoint merge: combine, per element, only the values that agree with the elected sign (a kernel). */
import * as kernels from '../params/kernels.js';
import { allocateOutput } from '../params/kernels.js';

export type { DisjointMode } from '../params/kernels.js';
export const DISJOINT_MODES: readonly kernels.DisjointMode[] = ['mean', 'sum', 'max'];

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
  mode: kernels.DisjointMode,
): Float32Array {
  const out = allocateOutput(signs.length);
  kernels.disjointMerge(out, values, weights, electionWeights, signs, mode);
  return out;
}
