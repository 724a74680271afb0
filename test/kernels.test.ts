import { afterAll, describe, expect, it } from 'vitest';
import { TimeMergeError } from '../src/params/errors.js';
import * as k from '../src/params/kernels.js';
import { counterU32, dropCut, expertKey } from '../src/params/counter-rng.js';

const F = (xs: number[]) => Float32Array.from(xs);
const initial = k.kernelBackend();
afterAll(() => k.useKernels(initial));

/** Bit-for-bit equality of two float arrays, reporting the first differing index (not a huge diff). */
function expectSameBits(label: string, a: Float32Array, b: Float32Array): void {
  const p = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const q = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let d = -1;
  for (let j = 0; j < p.length && d < 0; j++) if (p[j] !== q[j]) d = j;
  expect(`${label}: first difference at ${d}`).toBe(`${label}: first difference at -1`);
}
describe('the builds', () => {
  it('WebAssembly is built (npm run build:wasm, run by prepare on install)', () => {
    expect(k.wasmKernelsAvailable()).toBe(true);
  });
  it('the native addon is built (npm run build:native, run by prepare) and is the default backend', () => {
    if (process.env.TIME_MERGE_SKIP_NATIVE === '1') return;
    expect(k.nativeKernelsAvailable()).toBe(true);
    if (process.env.TIME_MERGE_KERNELS === undefined) expect(initial).toBe('native');
    expect(k.availableKernels()).toEqual(['native', 'wasm', 'ts']);
  });
});

const backends = k.availableKernels();

// Hand-computed cases, run on every backend. Lengths 3 and 40 exercise the scalar path (below the SIMD
// and native thresholds) and the SIMD path with a tail (40 = 2·16 + 8); 100 reaches the native addon.
for (const backend of backends) {
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
      k.weightedSum(
        out,
        [new Float32Array(n).fill(1), new Float32Array(n).fill(tiny), new Float32Array(n).fill(tiny)],
        [1, 1, 1],
      );
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

// The technique kernels, hand-computed; lengths of 100+ so the native addon (not its small-array
// fallback) is what runs on that backend.
const plain = (r: k.TopKRule) => ({ threshold: r.threshold, ties: r.ties });
const rep = (xs: number[], times: number) => F(Array.from({ length: xs.length * times }, (_, i) => xs[i % xs.length]));

for (const backend of backends) {
  describe(`technique kernels (${backend})`, () => {
    const use = () => k.useKernels(backend);

    it('absTopK gives the k-th largest |value| and how many ties the top k holds', () => {
      use();
      const x = rep([3, -1, 4, -1, 5, -9, 2, 6], 25); // each value 25 times
      expect(plain(k.absTopK(x, 1))).toEqual({ threshold: 9, ties: 1 });
      expect(plain(k.absTopK(x, 30))).toEqual({ threshold: 6, ties: 5 }); // 25 nines above, 5 of the sixes
      expect(plain(k.absTopK(x, 199))).toEqual({ threshold: 1, ties: 49 });
      const eq = k.absTopK(x, 30).equal;
      if (eq !== undefined) expect(eq).toBe(25); // the native backend also counts the elements at the threshold
      expect(k.absTopKPair(x, 30, 199).map(plain)).toEqual([
        { threshold: 6, ties: 5 },
        { threshold: 1, ties: 49 },
      ]);
      expect(x[0]).toBe(3); // untouched
      expect(() => k.absTopK(x, 0)).toThrowError(/outside 1..199/);
      expect(() => k.absTopK(x, 200)).toThrowError(TimeMergeError);
    });

    it('trimByRule keeps above the threshold and the first ties equal to it', () => {
      use();
      const x = rep([1, -2, 2, 2, 0.5, -3], 20);
      const rule = k.absTopK(x, 21); // the 20 threes, then the first of the 60 twos
      expect(plain(rule)).toEqual({ threshold: 2, ties: 1 });
      expect(k.trimByRule(x, rule)).toBe(21);
      expect([...x.subarray(0, 12)]).toEqual([0, -2, 0, 0, 0, -3, 0, 0, 0, 0, 0, -3]);
    });

    it('trimBand keeps the ranks between the inner and the outer rule', () => {
      use();
      const x = F(Array.from({ length: 100 }, (_, i) => (i % 2 ? -1 : 1) * (i + 1)));
      // drop the 10 smallest and the 5 largest magnitudes: keep |v| in 11..95
      expect(k.trimBand(x, k.absTopK(x, 90), k.absTopK(x, 5))).toBe(85);
      expect(x[9]).toBe(0);
      expect(x[10]).toBe(11);
      expect(x[94]).toBe(95);
      expect(x[95]).toBe(0);
    });

    it('electSigns by weighted sum and by count; signTotal', () => {
      use();
      const xs = [rep([1, -1, 2, 0], 25), rep([1, -1, -3, 0], 25), rep([-5, 2, 0, 0], 25)];
      const s = new Int8Array(100);
      k.electSigns(xs, [1, 1, 1], 'sum', s); // sums -3, 0, -1, 0
      expect([...s.subarray(0, 4)]).toEqual([-1, 0, -1, 0]);
      expect(k.signTotal(s)).toBe(-50);
      k.electSigns(xs, [1, 1, 1], 'count', s); // counts +1, -1, 0, 0
      expect([...s.subarray(0, 4)]).toEqual([1, -1, 0, 0]);
    });

    it('tiesMerge: trim, elect, tie rule, disjoint mean / sum / max, θ0 + λδ', () => {
      use();
      // τ per element (3 experts): [1, 3, -5] votes -1, [-1, 4, 2] votes +5, [2, -3, 0] votes -1, [0, 0, 0] ties
      const base = new Float32Array(120).fill(1);
      const taus = [rep([1, -1, 2, 0], 30), rep([3, 4, -3, 0], 30), rep([-5, 2, 0, 0], 30)];
      const experts = taus.map((t) => F(Array.from(t, (v) => v + 1)));
      const keep = taus.map(() => ({ threshold: -Infinity, ties: 0 }));
      const o = {
        weights: [1, 1, 1],
        electionWeights: [1, 1, 1],
        election: 'sum' as const,
        tieFill: 1 as const,
        lambda: 2,
        deltas: false,
      };
      const out = new Float32Array(120);
      k.tiesMerge(out, base, experts, keep, { ...o, disjoint: 'mean' });
      expect([...out.subarray(0, 4)]).toEqual([1 - 10, 1 + 6, 1 - 6, 1]); // -5; (4+2)/2; -3; nothing agrees with a tie
      k.tiesMerge(out, base, experts, keep, { ...o, disjoint: 'mean', weights: [1, 3, 1] });
      expect([...out.subarray(0, 4)]).toEqual([1 - 10, 1 + 2 * 3.5, 1 - 6, 1]); // (12+2)/4
      k.tiesMerge(out, base, experts, keep, { ...o, disjoint: 'sum' });
      expect([...out.subarray(0, 4)]).toEqual([1 - 10, 1 + 12, 1 - 6, 1]);
      k.tiesMerge(out, base, experts, keep, { ...o, disjoint: 'max' });
      expect([...out.subarray(116, 120)]).toEqual([1 - 10, 1 + 8, 1 - 6, 1]);
      // trimming: expert 0 keeps only its 30 largest (the 2s), the same values again as task vectors
      const rules = [k.deltaTopK(experts[0], base, 30), keep[1], keep[2]];
      const trimmed = [rep([0, 0, 2, 0], 30), taus[1], taus[2]];
      const viaDeltas = new Float32Array(120);
      k.tiesMerge(out, base, experts, rules, { ...o, disjoint: 'mean' });
      k.tiesMerge(viaDeltas, base, trimmed, keep, { ...o, disjoint: 'mean', deltas: true });
      expect([...out]).toEqual([...viaDeltas]);
      expect([...out.subarray(0, 4)]).toEqual([1 - 10, 1 + 6, 1 - 6, 1]);
    });

    it('magmax picks the largest |τ| per element (tie rule) and adds λ·τ_max to θ0', () => {
      use();
      const base = new Float32Array(100).fill(1);
      const xs = [rep([2, -4, 3], 34).subarray(0, 100), rep([0, 6, -1], 34).subarray(0, 100)]; // τ: [1,-5,2], [-1,5,-2]
      const out = new Float32Array(100);
      k.magmax(out, base, xs, 2, true);
      expect([...out.subarray(0, 3)]).toEqual([-1, 11, -3]); // ties go to the later expert
      k.magmax(out, base, xs, 2, false);
      expect([...out.subarray(0, 3)]).toEqual([3, -9, 5]);
    });

    it('dareDrop, dareL1, dareLinear and randomPickCounter use the counter draws u32(key, k, i)', () => {
      use();
      const key = [0xdeadbeef, 42] as const;
      const n = 200;
      const cut = dropCut(0.3);
      expect(cut).toBe(Math.floor(0.3 * 2 ** 32));
      const keep = (k: number) => {
        const [e0, e1] = expertKey(key, k);
        return Array.from({ length: n }, (_, i) => counterU32(e0, e1, i) >= cut);
      };
      const x = new Float32Array(n).fill(1);
      k.dareDrop(x, cut, key, 2, 4);
      expect([...x]).toEqual(keep(2).map((kp) => (kp ? 4 : 0)));
      const base = new Float32Array(n).fill(1);
      const ones = new Float32Array(n).fill(2); // τ = 1
      expect(k.dareL1(ones, base, cut, key, 1)).toEqual([n, keep(1).filter(Boolean).length]);
      const out = new Float32Array(n);
      k.dareLinear(out, base, [ones, new Float32Array(n).fill(3)], [1, 0.5], [2, 1], 2, cut, key); // 1 + 2·(2·keep0 + 0.5·2·keep1)
      const k0 = keep(0),
        k1 = keep(1);
      expect([...out]).toEqual(k0.map((a, i) => 1 + 2 * ((a ? 2 : 0) + (k1[i] ? 1 : 0))));
      const [e0, e1] = expertKey(key, 0);
      k.randomPickCounter(
        out,
        base,
        [new Float32Array(n).fill(3), new Float32Array(n).fill(5)],
        Float64Array.from([2 ** 30, 2 ** 32]),
        key,
      );
      expect([...out]).toEqual(Array.from({ length: n }, (_, i) => (counterU32(e0, e1, i) < 2 ** 30 ? 2 : 4)));
    });

    it('sumAbs is the float64 sum of magnitudes', () => {
      use();
      expect(k.sumAbs(rep([1, -2, 3], 40))).toBe(240);
    });

    it('taskArithmetic is weightedDeltaSum then addScaled', () => {
      use();
      const base = new Float32Array(100).fill(1);
      const out = new Float32Array(100);
      k.taskArithmetic(out, base, [new Float32Array(100).fill(3), new Float32Array(100).fill(-1)], [1, 0.5], 2); // 1 + 2·(2 - 1)
      expect(out.every((v) => v === 3)).toBe(true);
    });
  });
}

describe('backend selection', () => {
  it('useKernels switches and rejects unknown names', () => {
    for (const b of backends) {
      k.useKernels(b);
      expect(k.kernelBackend()).toBe(b);
    }
    expect(() => k.useKernels('gpu' as 'ts')).toThrowError(/unknown kernel backend "gpu"/);
  });

  it('every listed backend either loads or says how to build it; the reference always loads and is last', () => {
    const names = k.KERNEL_BACKENDS.map((b) => b.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names[names.length - 1]).toBe('ts');
    expect(k.availableKernels()).toEqual(names.filter((n) => backends.includes(n)));
    for (const b of k.KERNEL_BACKENDS) {
      if (backends.includes(b.name)) continue;
      expect(() => k.useKernels(b.name)).toThrowError(
        new RegExp(`the ${b.name} kernels are not built \\(run ${'build' in b ? b.build : ''}\\)`),
      );
    }
    k.useKernels(backends[0]);
  });

  it('checks lengths once, before any backend runs: the same error on each', () => {
    const messages = backends.map((b) => {
      k.useKernels(b);
      const out = new Float32Array(100);
      try {
        k.weightedDeltaSum(out, new Float32Array(100), [new Float32Array(100), new Float32Array(99)], [1, 1]);
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    });
    expect(new Set(messages)).toEqual(new Set(['kernel weightedDeltaSum: array lengths differ (100 vs 99)']));
    k.useKernels(backends[0]);
  });
});

describe('large arrays (split across threads, streamed out) match the reference', () => {
  it('counter-based DARE and random selection at 2^22 + 77 floats', () => {
    const n = 2 ** 22 + 77;
    const key = [7, 9] as const;
    const base = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
    const xs = [0, 1].map((j) => Float32Array.from({ length: n }, (_, i) => Math.cos(i * (j + 2))));
    const run = (b: k.KernelBackend) => {
      k.useKernels(b);
      const out = new Float32Array(n);
      k.dareLinear(out, base, xs, [0.7, -1.3], [1 / 0.1, 1.5], 0.9, dropCut(0.9), key);
      const pick = new Float32Array(n);
      k.randomPickCounter(pick, base, xs, Float64Array.from([2 ** 31, 2 ** 32]), key);
      const t = xs[0].slice();
      k.dareDrop(t, dropCut(0.6), key, 3, 2.5);
      return { arrays: [out, pick, t], l1: k.dareL1(xs[1], base, dropCut(0.9), key, 1) };
    };
    const ref = run('ts');
    for (const b of backends.filter((x) => x !== 'ts')) {
      const r = run(b);
      expect(r.l1).toEqual(ref.l1);
      r.arrays.forEach((a, i) => expectSameBits(`${b} array ${i}`, a, ref.arrays[i]));
    }
  });

  it('elementwise and technique kernels at 2^22 + 3 floats', () => {
    const n = 2 ** 22 + 3;
    const gen = (s: number) => F(Array.from({ length: 64 }, (_, i) => Math.sin(i * 7.1 + s) * 3)).subarray(0, 64);
    const big = (s: number) => {
      const x = new Float32Array(n);
      const g = gen(s);
      for (let i = 0; i < n; i++) x[i] = g[i & 63] * (1 + (i % 1009) / 997);
      return x;
    };
    const base = big(1);
    const xs = [big(2), big(3)];
    const run = (backend: 'ts' | 'native' | 'wasm') => {
      k.useKernels(backend);
      const ws = new Float32Array(n);
      k.weightedSum(ws, xs, [0.3, 0.7]);
      const ab = new Float32Array(n);
      k.axpby(ab, 0.5, xs[0], -2, xs[1]);
      const mm = new Float32Array(n);
      k.magmax(mm, base, xs, 0.75, true);
      const tau = new Float32Array(n);
      k.sub(tau, xs[0], base);
      const rule = k.absTopK(tau, Math.floor(n / 5));
      k.trimByRule(tau, rule);
      const signs = new Int8Array(n);
      k.electSigns([tau, xs[1]], [1, 2], 'sum', signs);
      const dj = new Float32Array(n);
      const keep = { threshold: -Infinity, ties: 0 };
      k.tiesMerge(dj, base, [tau, xs[1]], [keep, keep], {
        weights: [1, 2],
        electionWeights: [1, 2],
        election: 'sum',
        disjoint: 'mean',
        tieFill: 'majority',
        lambda: 0.5,
        deltas: true,
      });
      return { arrays: [ws, ab, mm, tau, dj], rule, nonFinite: k.firstNonFinite(dj), total: k.signTotal(signs) };
    };
    const ref = run('ts');
    for (const b of backends.filter((x) => x !== 'ts')) {
      const r = run(b);
      expect(plain(r.rule)).toEqual(plain(ref.rule));
      expect(r.total).toBe(ref.total);
      expect(r.nonFinite).toBe(ref.nonFinite);
      r.arrays.forEach((a, i) => expectSameBits(`${b} array ${i}`, a, ref.arrays[i]));
    }
  });
});
