/** TIES sign election and its tie rules (the loops are kernels: src/params/kernels.ts). */
import * as kernels from '../params/kernels.js';

export type { Election } from '../params/kernels.js';
/**
 * The sign given to a zero vote: positive (+1, mergekit's `sum >= 0`), negative (-1), majority / minority
 * (the sign of the sum of all elected signs of the tensor or model, or its opposite; FusionBench and
 * fomo_in_flux use majority; a zero total counts as +1), skip (stays 0: nothing merged there).
 */
export type TieRule = 'positive' | 'negative' | 'majority' | 'minority' | 'skip';
export const ELECTIONS: readonly kernels.Election[] = ['sum', 'count'];
export const TIE_RULES: readonly TieRule[] = ['positive', 'negative', 'majority', 'minority', 'skip'];

/**
 * Per element, the sign of Σ_k w_k·v_k ('sum': magnitudes vote) or of Σ_k sign(w_k·v_k) ('count': one
 * vote each); 0 where the vote is tied (including all-zero columns). Sums are float64.
 */
export function electSigns(
  values: readonly Float32Array[],
  weights: readonly number[],
  method: kernels.Election,
  out: Int8Array,
): void {
  kernels.electSigns(values, weights, method, out);
}

/** Σ of elected signs: its sign is the "majority" sign of a tensor (or, summed over tensors, of a model). */
export function signTotal(signs: Int8Array): number {
  return kernels.signTotal(signs);
}
