import { describe, expect, it } from 'vitest';
import { TimeMergeError } from '../src/params/errors.js';
import { normalizeWeights } from '../src/merge/weights.js';

describe('normalizeWeights', () => {
  it('scales weights to sum to one', () => {
    expect(normalizeWeights([1, 3])).toEqual([0.25, 0.75]);
    expect(normalizeWeights([-1, 3])).toEqual([-0.5, 1.5]);
  });
  it('rejects a zero sum and an empty list with a MERGE error', () => {
    expect(() => normalizeWeights([1, -1])).toThrowError(/sum to zero/);
    expect(() => normalizeWeights([])).toThrowError(TimeMergeError);
    expect(() => normalizeWeights([Number.NaN])).toThrowError(/not finite/);
  });
});
