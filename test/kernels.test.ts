import { afterAll, describe, expect, it } from 'vitest';
import { TimeMergeError } from '../src/params/errors.js';
import * as k from '../src/params/kernels.js';

const F = (xs: number[]) => Float32Array.from(xs);
const initial = k.kernelBackend();
afterAll(() => k.useKernels(initial));

describe('the WebAssembly build', () => {
  it('is built (npm run build:wasm, run by prepare on install) and is the default backend', () => {
    expect(k.wasmKernelsAvailable()).toBe(true);
    if (process.env.TIME_MERGE_KERNELS === undefined) expect(initial).toBe('wasm');
  });
});

// Hand-computed cases, run on both backends. Lengths 3 and 40 exercise the scalar path (below the SIMD
// threshold) and the SIMD path with a tail (40 = 2·16 + 8).
for (const backend of ['ts', 'wasm'] as const) {
  describe(`kernels (${backend})`, () => {
    const use = () => k.useKernels(backend);

    it('axpy, scale, axpby, addScaled, sub', () => {
      use();
      const y = F([1, 2, 3]);
      k.axpy(y, 2, F([1, -1, 0.5]));
      expect([...y]).toEqual([3, 0, 4]); // 1+2, 2-2, 3+1
      k.scale(y, -0.5);
      expect([...y]).toEqual([-1.5, -0, -2]);
      const out = new Float32Array(3);
      k.axpby(out, 2, F([1, 2, 3]), -1, F([1, 1, 1]));
      expect([...out]).toEqual([1, 3, 5]);
      k.addScaled(out, F([10, 10, 10]), 0.5, F([2, 4, -6]));
      expect([...out]).toEqual([11, 12, 7]);
      k.sub(out, F([5, 5, 5]), F([1, 2, 3]));
      expect([...out]).toEqual([4, 3, 2]);
    });

    it('lerp is the EMA step m + t(x - m), in place', () => {
      use();
      const m = new Float32Array(40).fill(2);
      const x = new Float32Array(40).fill(6);
      k.lerp(m, m, x, 0.25); // 2 + 0.25·4 = 3
      expect(m.every((v) => v === 3)).toBe(true);
    });

    it('weightedSum accumulates in order and rounds to float32 at every step', () => {
      use();
      const n = 40;
      const xs = [1, 2, 3].map((v) => new Float32Array(n).fill(v));
      const out = new Float32Array(n);
      k.weightedSum(out, xs, [0.5, 0.25, 1]); // 0.5 + 0.5 + 3 = 4
      expect(out.every((v) => v === 4)).toBe(true);
      // float32: 1 + 2^-24 rounds to 1 (ties to even) then + 2^-24 again rounds to 1; in float64 it would be 1 + 2^-23.
      const tiny = 2 ** -24;
      k.weightedSum(out, [new Float32Array(n).fill(1), new Float32Array(n).fill(tiny), new Float32Array(n).fill(tiny)], [1, 1, 1]);
      expect(out[0]).toBe(1);
      expect(out[n - 1]).toBe(1);
      k.weightedSum(out, [], []);
      expect(out.every((v) => v === 0)).toBe(true);
    });

    it('weightedDeltaSum is the weighted task-vector sum', () => {
      use();
      const base = F([1, 1, 1]);
      const out = new Float32Array(3);
      k.weightedDeltaSum(out, base, [F([2, 3, 1]), F([0, 1, 5])], [1, 0.5]); // [1 - 0.5, 2 + 0, 0 + 2]
      expect([...out]).toEqual([0.5, 2, 2]);
    });

    it('dot, sumSquares, norm2', () => {
      use();
      const a = new Float32Array(41).fill(1);
      const b = new Float32Array(41).fill(2);
      b[40] = 3;
      expect(k.dot(a, b)).toBe(83); // 40·2 + 3
      expect(k.sumSquares(F([3, 4]))).toBe(25);
      expect(k.norm2(F([3, 4]))).toBe(5);
      expect(k.dot(new Float32Array(0), new Float32Array(0))).toBe(0);
    });

    it('firstNonFinite finds NaN and both infinities, else -1', () => {
      use();
      const x = new Float32Array(100000);
      expect(k.firstNonFinite(x)).toBe(-1);
      x[70001] = Number.NaN;
      expect(k.firstNonFinite(x)).toBe(70001);
      x[33] = -Infinity;
      expect(k.firstNonFinite(x)).toBe(33);
      x[2] = Infinity;
      expect(k.firstNonFinite(x)).toBe(2);
      expect(k.firstNonFinite(F([3.4e38, -3.4e38]))).toBe(-1);
    });

    it('absMaxSelect keeps the largest |value|, ties to the later array', () => {
      use();
      const out = new Float32Array(3);
      k.absMaxSelect(out, [F([1, -5, 2]), F([-3, 4, -2])]);
      expect([...out]).toEqual([-3, -5, -2]); // |−3|>1, |−5|>4, tie 2 vs −2 -> later
    });

    it('rejects mismatched lengths with a MISMATCH error naming the kernel', () => {
      use();
      expect(() => k.axpy(new Float32Array(3), 1, new Float32Array(4))).toThrowError(/axpy: array lengths differ/);
      expect(() => k.weightedSum(new Float32Array(3), [new Float32Array(3)], [1, 2])).toThrowError(TimeMergeError);
    });
  });
}

describe('selection kernels', () => {
  it('absTopKThreshold is the k-th largest |value|', () => {
    const x = F([3, -1, 4, -1, 5, -9, 2, 6]);
    expect(k.absTopKThreshold(x, 1)).toBe(9);
    expect(k.absTopKThreshold(x, 3)).toBe(5);
    expect(k.absTopKThreshold(x, 8)).toBe(1);
    expect([...x]).toEqual([3, -1, 4, -1, 5, -9, 2, 6]); // untouched
    expect(() => k.absTopKThreshold(x, 0)).toThrowError(/outside 1..8/);
    expect(() => k.absTopKThreshold(x, 9)).toThrowError(TimeMergeError);
  });

  it('keepTopK keeps exactly k, earliest among ties', () => {
    const out = new Float32Array(6);
    k.keepTopK(out, F([1, -2, 2, 2, 0.5, -3]), 3); // -3, then two of the three 2s: indices 1 and 2
    expect([...out]).toEqual([0, -2, 2, 0, 0, -3]);
    k.keepTopK(out, F([1, 2, 3, 4, 5, 6]), 0);
    expect([...out]).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('keepAbsAtLeast and keepAbsBetween count what they keep', () => {
    const out = new Float32Array(5);
    expect(k.keepAbsAtLeast(out, F([1, -2, 3, -4, 0]), 2)).toBe(3);
    expect([...out]).toEqual([0, -2, 3, -4, 0]);
    expect(k.keepAbsBetween(out, F([1, -2, 3, -4, 0]), 1.5, 3)).toBe(2);
    expect([...out]).toEqual([0, -2, 3, 0, 0]);
    expect(k.countAbsAtLeast(F([1, -2, 3]), 2)).toBe(2);
    expect(k.sumAbs(F([1, -2, 3]))).toBe(6);
  });

  it('electSigns by weighted sum and by count, with the tie rule', () => {
    const xs = [F([1, -1, 2, 0]), F([1, -1, -3, 0]), F([-5, 2, 0, 0])];
    const out = new Float32Array(4);
    k.electSigns(out, xs, [1, 1, 1], 'sum'); // sums -3, 0, -1, 0
    expect([...out]).toEqual([-1, 1, -1, 1]);
    k.electSigns(out, xs, [1, 1, 1], 'count', 0); // counts +1, -1, 0, 0
    expect([...out]).toEqual([1, -1, 0, 0]);
  });

  it('disjointMerge: mean, sum and max over the agreeing values', () => {
    const xs = [F([1, -1, 2]), F([3, 4, -3]), F([-5, 2, 0])];
    const signs = F([1, 1, -1]);
    const out = new Float32Array(3);
    k.disjointMerge(out, xs, [1, 1, 1], signs, 'mean');
    expect([...out]).toEqual([2, 3, -3]); // (1+3)/2, (4+2)/2, -3
    k.disjointMerge(out, xs, [1, 1, 1], signs, 'sum');
    expect([...out]).toEqual([4, 6, -3]);
    k.disjointMerge(out, xs, [1, 1, 1], signs, 'max');
    expect([...out]).toEqual([3, 4, -3]);
  });

  it('dropAndRescale drops where rng() < p and rescales the rest', () => {
    const draws = [0.1, 0.9, 0.5, 0.49];
    let i = 0;
    const x = F([1, 2, 3, 4]);
    expect(k.dropAndRescale(x, 0.5, 2, () => draws[i++])).toBe(2);
    expect([...x]).toEqual([0, 4, 6, 0]);
  });
});

describe('backend selection', () => {
  it('useKernels switches and rejects unknown names', () => {
    k.useKernels('ts');
    expect(k.kernelBackend()).toBe('ts');
    k.useKernels('wasm');
    expect(k.kernelBackend()).toBe('wasm');
    expect(() => k.useKernels('gpu' as 'ts')).toThrowError(/unknown kernel backend "gpu"/);
  });
});
