import { describe, expect, it } from 'vitest';
import { fc, test as fcTest } from '@fast-check/vitest';
import { ParamSet } from '../src/params/paramset.js';
import { diagnose, regimeChecks, taskVector, topEnergyShare, trimmedExpert } from '../src/study/world-diagnostics.js';
import { spreadIndices } from '../src/synthetic/diagnostics.js';

const model = (w: number[], t: number[] = [1, 1]) =>
  new ParamSet().set('w', [w.length], new Float32Array(w)).set('t', [t.length], new Float32Array(t));

describe('world diagnostics', () => {
  const base = model([1, 0, 0, 0, 0, 0, 0, 0, 0, 2]);

  it('task vectors leave out tensors the expert did not change', () => {
    const tau = taskVector(base, model([1, 3, 0, 0, 0, 0, 0, 0, 0, 2]));
    expect([...tau.keys()]).toEqual(['w']);
    expect([...tau.get('w')!]).toEqual([0, 3, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('top-20% energy share and the TIES trim by hand', () => {
    // τ = (4, 3, 1, 1, 1, 1, 1, 1, 1, 1): Σ τ² = 33, the top 2 of 10 hold 25.
    const expert = model([5, 3, 1, 1, 1, 1, 1, 1, 1, 3]);
    expect(topEnergyShare(taskVector(base, expert))).toBeCloseTo(25 / 33, 12);
    expect([...trimmedExpert(base, expert).data('w')]).toEqual([5, 3, 0, 0, 0, 0, 0, 0, 0, 2]);
    // Equal magnitudes: the earlier index is kept.
    expect([...trimmedExpert(base, model([2, 1, 1, 1, 1, 1, 1, 1, 1, 3])).data('w')]).toEqual([
      2, 1, 0, 0, 0, 0, 0, 0, 0, 2,
    ]);
  });

  it('ratio, cross- and same-dataset cosines and the gain kept', () => {
    const a = model([2, 0, 0, 0, 0, 0, 0, 0, 0, 2]); // τ = e0
    const b = model([1, 1, 0, 0, 0, 0, 0, 0, 0, 2]); // τ = e1
    const c = model([2, 1, 0, 0, 0, 0, 0, 0, 0, 2]); // τ = e0 + e1
    const d = diagnose(base, [
      { weights: a, dataset: 0, baseScore: 0.2, expertScore: 0.6, trimmedScore: 0.5 },
      { weights: b, dataset: 1, baseScore: 0.2, expertScore: 0.8, trimmedScore: 0.8 },
      { weights: c, dataset: 1, baseScore: 0.2, expertScore: 0.6, trimmedScore: 0.4 },
    ]);
    const theta0 = Math.sqrt(1 + 4 + 2); // ‖θ0‖ over both tensors
    expect(d.tauRatio).toBeCloseTo((1 + 1 + Math.SQRT2) / 3 / theta0, 6);
    expect(d.crossCosine).toBeCloseTo((0 + Math.SQRT1_2) / 2, 6); // (a, b) and (a, c)
    expect(d.sameCosine).toBeCloseTo(Math.SQRT1_2, 6); // (b, c)
    expect(d.tiesKeep).toBeCloseTo((0.3 + 0.6 + 0.2) / (0.4 + 0.6 + 0.4), 12);
    expect(d.baseScore).toBeCloseTo(0.2, 12);
    expect(regimeChecks(d)).toEqual({ tauRatio: false, crossCosine: false, tiesKeep: false });
  });

  fcTest.prop([
    fc.array(fc.float({ min: -10, max: 10, noNaN: true }), { minLength: 1, maxLength: 60 }),
    fc.double({ min: 0.01, max: 1, noNaN: true }),
  ])(
    'a trim keeps round(density·n) values (at least one), each unchanged, and at least their share of the energy',
    (tau, density) => {
      const b = new ParamSet().set('w', [tau.length], new Float32Array(tau.length));
      const e = new ParamSet().set('w', [tau.length], Float32Array.from(tau));
      const kept = trimmedExpert(b, e, density).data('w');
      const keep = Math.max(1, Math.round(density * tau.length));
      const nonzero = [...kept].filter((x, i) => x !== 0 && x === Math.fround(tau[i])).length;
      expect([...kept].filter((x) => x !== 0).length).toBe(nonzero);
      expect(nonzero).toBeLessThanOrEqual(keep);
      const energy = (xs: ArrayLike<number>) => Array.from(xs).reduce((s, x) => s + x * x, 0);
      if (energy(e.data('w')) > 0)
        expect(energy(kept) / energy(e.data('w'))).toBeGreaterThanOrEqual(Math.min(1, keep / tau.length) - 1e-9);
    },
  );

  it('spreads task indices evenly', () => {
    expect(spreadIndices(3, 5)).toEqual([0, 1, 2]);
    expect(spreadIndices(10, 5)).toEqual([0, 2, 4, 6, 8]);
  });
});
