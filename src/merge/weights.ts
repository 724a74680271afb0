import { fail } from '../params/errors.js';

/** Weights scaled to sum to 1. A zero or non-finite sum is an error, never a division by zero. */
export function normalizeWeights(weights: readonly number[], what = 'merge'): number[] {
  if (weights.length === 0) fail('MERGE', `${what}: no weights (empty model list)`);
  let sum = 0;
  for (const w of weights) {
    if (!Number.isFinite(w)) fail('MERGE', `${what}: weight ${w} is not finite`);
    sum += w;
  }
  if (sum === 0) fail('MERGE', `${what}: weights [${weights.join(', ')}] sum to zero and cannot be normalised`);
  return weights.map((w) => w / sum);
}
