/** TIES disjoint merge: combine, per element, only the values that agree with the elected sign (kernel: tiesMerge). */
import type * as kernels from '../params/kernels.js';

export type { DisjointMode } from '../params/kernels.js';
/**
 * The modes, per element i, with A = { k : sign(e_k·v_k[i]) == signs[i] } (e: the weights the election used, so a
 * zero value is never in A):
 * - mean: Σ_A w_k·v_k[i] / Σ_A w_k (0 when A is empty or Σ_A w_k is 0). With equal weights it is the
 *   mean of the agreeing values (FusionBench / fomo_in_flux `mean`); with weights it is mergekit's
 *   weight-normalised TIES.
 * - sum: Σ_A w_k·v_k[i].
 * - max: the v_k[i] of largest magnitude in A (the later expert on ties); weights only act through the
 *   election, as FusionBench's unweighted `max` (so merging copies returns the copy).
 */
export const DISJOINT_MODES: readonly kernels.DisjointMode[] = ['mean', 'sum', 'max'];
