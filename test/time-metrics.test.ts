import { describe, expect, it } from 'vitest';
import { continualMetrics, stepMetrics } from '../src/time/index.js';

describe('metrics (hand-computed)', () => {
  // rows[t][j-1] = R[t][j]: adaptation scores after step t = 0..3
  const rows = [
    [0.1, 0.2, 0.3],
    [0.9, 0.4, 0.3],
    [0.7, 0.8, 0.5],
    [0.6, 0.5, 0.9],
  ];

  it('forgetting, backward and forward transfer follow the Avalanche conventions', () => {
    const m = continualMetrics(rows);
    // forgetting = ((R11 - R31) + (R22 - R32)) / 2 = ((0.9 - 0.6) + (0.8 - 0.5)) / 2
    expect(m.forgetting).toBeCloseTo(0.3, 12);
    expect(m.bwt).toBeCloseTo(-0.3, 12);
    // fwt = ((R12 - R02) + (R23 - R03)) / 2 = ((0.4 - 0.2) + (0.5 - 0.3)) / 2
    expect(m.fwt).toBeCloseTo(0.2, 12);
  });

  it('one step has nothing to compare; no rows give nulls', () => {
    expect(continualMetrics([[0.1], [0.7]])).toEqual({ forgetting: 0, bwt: 0, fwt: 0 });
    expect(continualMetrics([[0.1]])).toEqual({ forgetting: null, bwt: null, fwt: null });
  });

  it('A_KA, A_ZS and GM of a row', () => {
    const m = stepMetrics([0.6, 0.5, 0.9, 0.4, 0.2], 3);
    expect(m.aKa).toBeCloseTo(2 / 3, 12);
    expect(m.aZs).toBeCloseTo(0.3, 12);
    expect(m.gm).toBeCloseTo(Math.sqrt(0.2), 12);
    expect(stepMetrics([0.5, 1], 2)).toEqual({ aKa: 0.75, aZs: null, gm: null });
  });
});
