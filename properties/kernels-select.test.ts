/**
 * Top-k selection on the native backend against the TypeScript reference, with inputs aimed at the
 * native one-pass path (src/params/kernels/native/src/select_bracket.c): a sample of evenly spaced chunks brackets the k-th
 * largest |value|, one pass counts and collects, and a miss or an overflowing candidate buffer falls
 * back to the radix selection. Whatever path runs, threshold, ties and equal must be the reference's.
 * Inputs: lengths around the bracket's minimum (2^15) and the threading threshold (2^18), k from 1 to
 * n - 1 (and 0 and n through the rule helpers), values with many equal magnitudes, all equal, mostly
 * zero, subnormal, 2^±100, sorted, and values that fool the sample (outliers exactly on the sample's
 * stride, or a constant everywhere but there). Breadcrumbs' fused selection, trim and linear step
 * (breadcrumbsLinear) must give the bits of the reference steps.
 */
import { fc, test } from '@fast-check/vitest';
import { afterAll, describe, expect } from 'vitest';
import * as k from '../src/params/kernels.js';
import { availableKernels, kernelBackend, useKernels } from '../src/params/kernels.js';
import { deltaTopKRule, topKRule, trimOutliers } from '../src/merge/trim.js';
import { xorshiftUniform } from './xorshift.js';

const initial = kernelBackend();
afterAll(() => useKernels(initial));

/** The sample layout of select_bracket.c for n elements: chunks of 16 elements at c·stride. */
const CHUNK = 16;
function sampleStride(n: number): number {
  const m = Math.floor(Math.min(Math.floor(n / 32), 2 ** 17) / CHUNK) * CHUNK;
  return Math.floor(n / (m / CHUNK));
}

const KINDS = 11;

function fill(n: number, seed: number, kind: number): Float32Array {
  const rng = xorshiftUniform(seed);
  const stride = n >= 512 ? sampleStride(n) : 1;
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = rng() - 0.5;
    const onSample = i % stride < CHUNK;
    switch (kind) {
      case 0:
        x[i] = u;
        break;
      case 1:
        x[i] = Math.round(u * 8) / 4;
        break; // a small grid: many equal magnitudes
      case 2:
        x[i] = 0.75;
        break; // all equal
      case 3:
        x[i] = rng() < 0.8 ? 0 : u;
        break; // mostly zeros (threshold 0 for large k)
      case 4:
        x[i] = u * 2 ** (rng() < 0.5 ? -100 : 100);
        break;
      case 5:
        x[i] = u * 1e-40;
        break; // subnormal
      case 6:
        x[i] = (i - n / 2) / 1024;
        break; // sorted
      case 7:
        x[i] = onSample ? 1000 + u : u;
        break; // the sample sees only outliers: the bracket misses
      case 8:
        x[i] = onSample ? u : 0.25;
        break; // a constant the sample never sees: candidates overflow
      case 9:
        x[i] = rng() < 0.5 ? 0.2 : u;
        break; // half equal to one magnitude inside the range
      default:
        x[i] = Math.round(u * 2 ** 12) / 2 ** 12 + (rng() < 0.001 ? 5 : 0); // dense grid, rare outliers
    }
  }
  return x;
}

const natives = availableKernels().filter((b) => b === 'native');
const length = fc.oneof(
  fc.integer({ min: 2, max: 3000 }),
  fc.constantFrom(2 ** 15 - 1, 2 ** 15, 2 ** 15 + 1, 40000, 2 ** 18 - 1, 2 ** 18, 2 ** 18 + 77, 2 ** 20 + 3),
);
const kind = fc.integer({ min: 0, max: KINDS - 1 });
const seed = fc.integer({ min: 0, max: 2 ** 30 });
const frac = fc.oneof(
  fc.double({ min: 0, max: 1, noNaN: true }),
  fc.constantFrom(0, 1, 0.001, 0.01, 0.1, 0.2, 0.5, 0.9, 0.99),
);

/** The rule plus the true count of magnitudes equal to its threshold (what native reports as `equal`). */
function withEqual(t: Float32Array, r: k.TopKRule) {
  let equal = 0;
  for (let i = 0; i < t.length; i++) if (Math.abs(t[i]) === r.threshold) equal++;
  return { threshold: r.threshold, ties: r.ties, equal };
}

function rules(x: Float32Array, b: Float32Array, kk: number, k2: number) {
  const t = new Float32Array(x.length);
  for (let i = 0; i < t.length; i++) t[i] = x[i] - b[i];
  const one = k.absTopK(x, kk);
  const pair = k.absTopKPair(x, kk, k2);
  const delta = k.deltaTopK(x, b, kk);
  // three experts sharing θ0 in one pass: x, its negation (the same magnitudes) and θ0 + 2τ
  const many = k.deltaTopKMany([x, x.map((v, i) => 2 * b[i] - v), x.map((_, i) => b[i] + 2 * t[i])], b, kk);
  const plain = (r: k.TopKRule) => ({ threshold: r.threshold, ties: r.ties });
  return {
    rules: [one, ...pair].map(plain).concat([plain(delta)], many.map(plain)),
    // native reports equal; it must be the true count (trimming uses it to skip the sequential tie count)
    equal: [one, ...pair]
      .map((r) => (r.equal === undefined ? withEqual(x, r).equal : r.equal))
      .concat([delta.equal ?? withEqual(t, delta).equal]),
    trueEqual: [...[one, ...pair].map((r) => withEqual(x, r).equal), withEqual(t, delta).equal],
  };
}

describe.runIf(natives.length > 0)('native top-k selection equals the reference', () => {
  test.prop([length, kind, kind, seed, frac, frac], { numRuns: 60 })(
    'absTopK, absTopKPair and deltaTopK',
    (n, kx, kb, s, f1, f2) => {
      const x = fill(n, s, kx);
      const b = fill(n, s + 1, kb === 2 ? 2 : kb % 3);
      const kk = Math.min(n - 1, Math.max(1, Math.floor(f1 * n)));
      const k2 = Math.min(n - 1, Math.max(1, Math.floor(f2 * n)));
      useKernels('ts');
      const ref = rules(x, b, kk, k2);
      useKernels('native');
      const got = rules(x, b, kk, k2);
      expect(got.rules).toEqual(ref.rules);
      expect(got.equal).toEqual(got.trueEqual);
    },
  );

  test.prop([fc.constantFrom(2 ** 15, 2 ** 18 + 77), kind, seed], { numRuns: 12 })(
    'k = 0 and k = n through the rule helpers',
    (n, kd, s) => {
      const x = fill(n, s, kd);
      const b = fill(n, s + 1, 0);
      for (const kk of [0, n]) {
        useKernels('ts');
        const ref = [topKRule(x, kk), deltaTopKRule(x, b, kk)];
        useKernels('native');
        expect([topKRule(x, kk), deltaTopKRule(x, b, kk)]).toEqual(ref);
      }
    },
  );

  test('every kind at the bracket and threading thresholds, k at the ends and at the TIES and Breadcrumbs fractions', () => {
    for (const n of [2 ** 15, 2 ** 18 + 77]) {
      for (let kd = 0; kd < KINDS; kd++) {
        const x = fill(n, 7 + kd, kd);
        const b = fill(n, 99, kd === 2 ? 2 : 0);
        for (const kk of [1, 2, Math.floor(0.01 * n), Math.floor(0.1 * n), Math.floor(0.2 * n), n >> 1, n - 2, n - 1]) {
          useKernels('ts');
          const ref = rules(x, b, kk, Math.max(1, kk >> 1));
          useKernels('native');
          const got = rules(x, b, kk, Math.max(1, kk >> 1));
          expect(got.rules, `n ${n} kind ${kd} k ${kk}`).toEqual(ref.rules);
          expect(got.equal).toEqual(got.trueEqual);
        }
      }
    }
  });
});

/** The reference steps breadcrumbsLinear fuses: τ_k, trimOutliers, weightedSum, addScaled. */
function crumbsReference(
  base: Float32Array,
  xs: Float32Array[],
  ws: number[],
  lambda: number,
  nBottom: number,
  nTop: number,
): Float32Array {
  const taus = xs.map((x) => {
    const t = new Float32Array(x.length);
    k.sub(t, x, base);
    trimOutliers(t, nBottom, nTop);
    return t;
  });
  const out = new Float32Array(base.length);
  k.weightedSum(out, taus, ws);
  k.addScaled(out, base, lambda, out);
  return out;
}

describe.runIf(natives.length > 0)('native fused Breadcrumbs equals the reference steps', () => {
  const crumbLength = fc.oneof(
    fc.integer({ min: 64, max: 3000 }),
    fc.constantFrom(2 ** 15, 2 ** 15 + 1, 2 ** 18 - 1, 2 ** 18 + 77),
  );
  const weight = fc.oneof(fc.double({ min: -2, max: 2, noNaN: true }), fc.constantFrom(1, 0.5, 1 / 3, 0));
  test.prop(
    [
      crumbLength,
      fc.integer({ min: 1, max: 3 }),
      kind,
      seed,
      frac,
      frac,
      fc.array(weight, { minLength: 3, maxLength: 3 }),
      fc.constantFrom(1, 0.7, -1.5),
    ],
    { numRuns: 30 },
  )('breadcrumbsLinear', (n, count, kd, s, fp, fg, ws, lambda) => {
    const nBottom = Math.floor(fp * 0.9 * n);
    const nTop = Math.min(n - 1 - nBottom, Math.floor(fg * 0.3 * n));
    const base = fill(n, s, kd === 2 ? 2 : 0);
    const xs = Array.from({ length: count }, (_, e) => fill(n, s + 10 + e, (kd + e) % KINDS));
    const w = ws.slice(0, count);
    useKernels('ts');
    const ref = crumbsReference(base, xs, w, lambda, nBottom, nTop);
    expect(k.breadcrumbsLinear(new Float32Array(n), base, xs, w, lambda, nBottom, nTop)).toBe(false); // no fused form here
    useKernels('native');
    const out = new Float32Array(n);
    expect(k.breadcrumbsLinear(out, base, xs, w, lambda, nBottom, nTop)).toBe(true);
    expect(new Uint32Array(out.buffer)).toEqual(new Uint32Array(ref.buffer));
  });
});
