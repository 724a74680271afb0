/**
 * Laws that tie the WebAssembly SIMD and the native kernels to the TypeScript reference, over random
 * lengths (zero, below the SIMD and native thresholds, not multiples of the 4- or 16-wide SIMD loops,
 * across the 16384-float wasm scratch chunks, past the native threading threshold of 2^18) and random
 * float32 values (zeros, -0, subnormals, mixed magnitudes, many exact ties):
 * - elementwise kernels are bit-identical (same float32 operations in the same order);
 * - reductions (dot, sumSquares) agree within n·2^-52·Σ|terms| (float64 sums in another order);
 * - the technique kernels (top-k rules, trimming, sign election, disjoint merge, MagMax, seeded drops
 *   and picks) give exactly the reference's results;
 * - processing a tensor in pieces (subarray views) gives the same bits as one call.
 */
import { fc, test } from '@fast-check/vitest';
import seedrandom from 'seedrandom';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import {
  availableKernels,
  tsKernels,
  useKernels,
  kernelBackend,
  wasmKernelsAvailable,
  type KernelBackend,
} from '../src/params/kernels.js';
import * as k from '../src/params/kernels.js';
import { dropCut } from '../src/params/counter-rng.js';
import { xorshiftUniform } from './xorshift.js';

const initial = kernelBackend();
beforeAll(() => {
  if (!wasmKernelsAvailable()) throw new Error('WebAssembly kernels not built: run npm run build:wasm');
});
afterAll(() => useKernels(initial));

/** Values of one of several kinds, so properties see zeros, signed zeros, subnormals and wide ranges. */
function fill(n: number, seed: number, kind: number): Float32Array {
  const rng = xorshiftUniform(seed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = rng();
    switch (kind) {
      case 0:
        x[i] = rng() * 2 - 1;
        break;
      case 1:
        x[i] = (rng() - 0.5) * 2 ** Math.floor(rng() * 200 - 100);
        break;
      case 2:
        x[i] = u < 0.3 ? 0 : u < 0.4 ? -0 : u < 0.5 ? 1e-40 * (rng() - 0.5) : rng() - 0.5;
        break;
      default:
        x[i] = Math.round((rng() - 0.5) * 8) / 4; // small grid: many exact ties
    }
  }
  return x;
}

const length = fc.oneof(
  fc.integer({ min: 0, max: 40 }),
  fc.integer({ min: 0, max: 20000 }),
  fc.constantFrom(16383, 16384, 16385, 32768 + 5, 2 ** 18 + 77),
);
/** The backends compared with the reference (every one that loads here but ts). */
const fast = availableKernels().filter((b) => b !== 'ts');
const scalar = fc.oneof(fc.double({ min: -4, max: 4, noNaN: true }), fc.constantFrom(0, -0, 1, 0.5, 1 / 3, 1e-30));
const kind = fc.integer({ min: 0, max: 3 });
const seed = fc.integer({ min: 0, max: 2 ** 30 });

function bits(x: Float32Array): Uint32Array {
  return new Uint32Array(x.buffer, x.byteOffset, x.length);
}

/** Runs fn on the reference and on each fast backend, each on fresh copies of the inputs; returns the outputs. */
function each(
  inputs: Float32Array[],
  fn: (arrs: Float32Array[]) => void,
): [Float32Array[], [KernelBackend, Float32Array[]][]] {
  const run = (backend: KernelBackend) => {
    useKernels(backend);
    const arrs = inputs.map((a) => a.slice());
    fn(arrs);
    return arrs;
  };
  return [run('ts'), fast.map((b) => [b, run(b)])];
}

/** Checks every fast backend's outputs against the reference's, bit for bit. */
function sameAsReference(inputs: Float32Array[], fn: (arrs: Float32Array[]) => void): void {
  const [t, others] = each(inputs, fn);
  for (const [b, o] of others) expectSameBits(t, o, b);
}

/** Index of the first element whose bits differ, or -1 (a plain loop: deep equality is slow here). */
function firstDiff(a: Float32Array, b: Float32Array): number {
  const p = bits(a);
  const q = bits(b);
  if (p.length !== q.length) return 0;
  for (let i = 0; i < p.length; i++) if (p[i] !== q[i]) return i;
  return -1;
}

function expectSameBits(a: Float32Array[], b: Float32Array[], backend: string): void {
  for (let i = 0; i < a.length; i++) {
    const d = firstDiff(a[i], b[i]);
    if (d >= 0) expect(`array ${i} [${d}]: ${backend} ${b[i][d]}`).toBe(`array ${i} [${d}]: ts ${a[i][d]}`);
  }
}

const opts = { numRuns: 30 };

describe('fast kernels are bit-identical to the TypeScript reference', () => {
  test.prop([length, scalar, kind, seed], opts)('axpy', (n, a, kd, s) => {
    sameAsReference([fill(n, s, kd), fill(n, s + 1, kd)], ([y, x]) => k.axpy(y, a, x));
  });

  test.prop([length, scalar, scalar, kind, seed], opts)('axpby and addScaled', (n, a, b, kd, s) => {
    sameAsReference([new Float32Array(n), fill(n, s, kd), fill(n, s + 1, kd)], ([o, x, y]) => {
      k.axpby(o, a, x, b, y);
      k.addScaled(x, o, a, y); // x = o + a·y, out aliasing an input
    });
  });

  test.prop([length, scalar, kind, seed], opts)('scale, sub', (n, a, kd, s) => {
    sameAsReference([fill(n, s, kd), fill(n, s + 1, kd), new Float32Array(n)], ([x, y, o]) => {
      k.scale(x, a);
      k.sub(o, x, y);
    });
  });

  test.prop([length, fc.double({ min: 0, max: 1, noNaN: true }), kind, seed], opts)(
    'lerp (EMA step), also in place',
    (n, beta, kd, s) => {
      sameAsReference([fill(n, s, kd), fill(n, s + 1, kd), new Float32Array(n)], ([m, x, o]) => {
        k.lerp(o, m, x, beta);
        k.lerp(m, m, x, beta);
      });
    },
  );

  test.prop([length, fc.array(scalar, { minLength: 0, maxLength: 7 }), kind, seed], opts)(
    'weightedSum and weightedDeltaSum over 0..7 arrays',
    (n, ws, kd, s) => {
      const xs = ws.map((_, i) => fill(n, s + i, kd));
      const base = fill(n, s + 99, kd);
      sameAsReference([new Float32Array(n), new Float32Array(n), base, ...xs], ([o1, o2, b, ...ys]) => {
        k.weightedSum(o1, ys, ws);
        k.weightedDeltaSum(o2, b, ys, ws);
        if (ys.length > 0) k.taskArithmetic(o1, b, ys, ws, ws[0]);
      });
    },
  );

  test.prop([length, fc.integer({ min: 1, max: 5 }), kind, seed], opts)('absMaxSelect', (n, count, kd, s) => {
    const xs = Array.from({ length: count }, (_, i) => fill(n, s + i, kd));
    sameAsReference([new Float32Array(n), ...xs], ([o, ...ys]) => k.absMaxSelect(o, ys));
  });

  test.prop([length, kind, seed, fc.integer({ min: 0, max: 3 })], opts)('firstNonFinite', (n, kd, s, bad) => {
    const x = fill(n, s, kd);
    const rng = seedrandom(`nf${s}`);
    const specials = [Number.NaN, Infinity, -Infinity];
    for (let j = 0; j < bad && n > 0; j++) x[Math.floor(rng() * n)] = specials[j % 3];
    useKernels('ts');
    const t = k.firstNonFinite(x);
    for (const b of fast) {
      useKernels(b);
      expect(k.firstNonFinite(x)).toBe(t);
    }
    expect(t === -1).toBe(x.every((v) => Number.isFinite(v)));
  });
});

describe('fast reductions agree with the reference within the float64 reordering bound', () => {
  test.prop([length, kind, seed], opts)('dot and sumSquares', (n, kd, s) => {
    const a = fill(n, s, kd);
    const b = fill(n, s + 1, kd);
    let absSum = 0;
    let sqSum = 0;
    for (let i = 0; i < n; i++) {
      absSum += Math.abs(a[i] * b[i]);
      sqSum += a[i] * a[i];
    }
    const tol = (x: number) => n * 2 ** -52 * x;
    for (const backend of fast) {
      useKernels(backend);
      expect(Math.abs(k.dot(a, b) - tsKernels.dot(a, b))).toBeLessThanOrEqual(tol(absSum));
      expect(Math.abs(k.sumSquares(a) - tsKernels.sumSquares(a))).toBeLessThanOrEqual(tol(sqSum));
      expect(k.sumAbs(a)).toBe(tsKernels.sumAbs(a)); // same order: bit-identical
    }
  });
});

describe('chunked processing equals one call', () => {
  test.prop(
    [
      length,
      fc.array(fc.integer({ min: 1, max: 20000 }), { minLength: 1, maxLength: 6 }),
      scalar,
      kind,
      seed,
      fc.constantFrom(...availableKernels()),
    ],
    opts,
  )('weightedSum and lerp over subarray pieces', (n, cuts, a, kd, s, backend) => {
    useKernels(backend);
    const xs = [fill(n, s, kd), fill(n, s + 1, kd), fill(n, s + 2, kd)];
    const ws = [a, 0.25, -1];
    const whole = new Float32Array(n);
    k.weightedSum(whole, xs, ws);
    const pieces = new Float32Array(n);
    let o = 0;
    for (let c = 0; o < n; c++) {
      const e = Math.min(n, o + cuts[c % cuts.length]);
      k.weightedSum(
        pieces.subarray(o, e),
        xs.map((x) => x.subarray(o, e)),
        ws,
      );
      o = e;
    }
    expect(firstDiff(pieces, whole)).toBe(-1);
    // EMA over pieces, in place
    const m1 = xs[0].slice();
    const m2 = xs[0].slice();
    k.lerp(m1, m1, xs[1], 0.3);
    for (let p = 0; p < n; p += cuts[0])
      k.lerp(m2.subarray(p, p + cuts[0]), m2.subarray(p, p + cuts[0]), xs[1].subarray(p, p + cuts[0]), 0.3);
    expect(firstDiff(m2, m1)).toBe(-1);
  });
});

const plainRule = (r: k.TopKRule) => ({ threshold: r.threshold, ties: r.ties });

/** Runs fn on the reference and on each fast backend (inputs copied) and checks the returned values are equal. */
function sameResult<T>(
  inputs: Float32Array[],
  fn: (arrs: Float32Array[]) => T,
  backendOf?: (b: KernelBackend) => void,
): void {
  useKernels('ts');
  const ref = inputs.map((a) => a.slice());
  const r = fn(ref);
  for (const b of fast) {
    useKernels(b);
    backendOf?.(b);
    const arrs = inputs.map((a) => a.slice());
    expect(fn(arrs)).toEqual(r);
    expectSameBits(ref, arrs, b);
  }
}

const expertCount = fc.integer({ min: 1, max: 4 });

describe('fast technique kernels give exactly the reference results', () => {
  test.prop([length, kind, seed, fc.double({ min: 0, max: 1, noNaN: true })], opts)(
    'absTopK and trimByRule',
    (n, kd, s, frac) => {
      if (n < 2) return;
      const kk = Math.min(n - 1, Math.max(1, Math.floor(frac * n)));
      sameResult([fill(n, s, kd), fill(n, s, kd), fill(n, s, kd)], ([x, y, z]) => {
        const rule = k.absTopK(x, kk);
        const [a, b] = k.absTopKPair(y, kk, Math.max(1, kk >> 1));
        // with `equal` (native) trimming may take its parallel path; without it, the sequential one
        return [
          plainRule(rule),
          plainRule(a),
          plainRule(b),
          k.trimByRule(x, rule),
          k.trimByRule(z, plainRule(rule)),
          k.trimBand(y, a, b),
        ];
      });
    },
  );

  test.prop(
    [length, kind, seed, fc.double({ min: 0, max: 0.5, noNaN: true }), fc.double({ min: 0, max: 0.4, noNaN: true })],
    opts,
  )('trimBand', (n, kd, s, p, g) => {
    if (n < 2) return;
    const outer = Math.max(1, Math.min(n - 1, n - Math.floor(p * n)));
    const inner = Math.max(1, Math.min(outer, Math.floor(g * n)));
    sameResult([fill(n, s, kd)], ([x]) => k.trimBand(x, ...k.absTopKPair(x, outer, inner)));
  });

  test.prop([length, expertCount, kind, seed, fc.double({ min: -2, max: 2, noNaN: true }), fc.boolean()], opts)(
    'magmax',
    (n, count, kd, s, lambda, later) => {
      const xs = Array.from({ length: count }, (_, i) => fill(n, s + i, kd));
      sameAsReference([new Float32Array(n), fill(n, s + 9, kd), ...xs], ([o, b, ...ys]) =>
        k.magmax(o, b, ys, lambda, later),
      );
    },
  );

  test.prop(
    [
      length,
      expertCount,
      kind,
      seed,
      fc.constantFrom('sum', 'count'),
      fc.constantFrom('mean', 'sum', 'max'),
      fc.array(scalar, { minLength: 4, maxLength: 4 }),
    ],
    opts,
  )('electSigns and signTotal', (n, count, kd, s, method, _mode, ws4) => {
    const ws = ws4.slice(0, count);
    const ew = ws.map((w, i) => (i % 2 ? 1 : w));
    sameResult([new Float32Array(n), ...Array.from({ length: count }, (_, i) => fill(n, s + i, kd))], ([, ...vs]) => {
      const signs = new Int8Array(n);
      k.electSigns(vs, ew, method as 'sum' | 'count', signs);
      return [k.signTotal(signs), Array.from(signs)];
    });
  });
});

describe('counter-based DARE and random selection give exactly the reference results', () => {
  const p01 = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
  test.prop([length, expertCount, kind, seed, p01, fc.array(scalar, { minLength: 4, maxLength: 4 }), scalar], opts)(
    'dareL1, dareDrop, dareLinear, randomPickCounter',
    (n, count, kd, s, p, ws4, lambda) => {
      const key = [s >>> 0, Math.imul(s, 0x9e3779b1) >>> 0] as const;
      const cut = dropCut(p);
      const ws = ws4.slice(0, count);
      const scales = ws.map((_, i) => (i === 0 ? 1 / (1 - p) : 1 + i / 3));
      const cuts = Float64Array.from({ length: count }, (_, i) =>
        i === count - 1 ? 2 ** 32 : Math.floor(((i + 1) / (count + 1)) * 2 ** 32),
      );
      const xs0 = Array.from({ length: count }, (_, i) => fill(n, s + i, kd));
      sameResult(
        [new Float32Array(n), new Float32Array(n), fill(n, s + 5, kd), fill(n, s + 9, kd), ...xs0],
        ([o, o2, b, t, ...xs]) => {
          const l1 = xs.map((x, j) => k.dareL1(x, b, cut, key, j));
          const l1t = k.dareL1(t, undefined, cut, key, 3);
          k.dareDrop(t, cut, key, 1, 1 / (1 - p));
          k.dareLinear(o, b, xs, ws, scales, lambda, cut, key);
          k.randomPickCounter(o2, b, xs, cuts, key);
          return [l1, l1t];
        },
      );
    },
  );

  test.prop([length, expertCount, kind, seed, p01, fc.array(scalar, { minLength: 4, maxLength: 4 }), scalar], opts)(
    'dareLinear is dareDrop on the task vectors, weightedSum and addScaled',
    (n, count, kd, s, p, ws4, lambda) => {
      const key = [s >>> 0, 12345] as const;
      const cut = dropCut(p);
      const ws = ws4.slice(0, count);
      const scales = ws.map((_, i) => 1 + i / 7);
      const base = fill(n, s + 5, kd);
      const xs = Array.from({ length: count }, (_, i) => fill(n, s + i, kd));
      for (const b of availableKernels()) {
        useKernels(b);
        const fused = new Float32Array(n);
        k.dareLinear(fused, base, xs, ws, scales, lambda, cut, key);
        const taus = xs.map((x, j) => {
          const t = new Float32Array(n);
          k.sub(t, x, base);
          k.dareDrop(t, cut, key, j, scales[j]);
          return t;
        });
        const comp = new Float32Array(n);
        k.weightedSum(comp, taus, ws);
        k.addScaled(comp, base, lambda, comp);
        expect(bits(fused)).toEqual(bits(comp));
      }
    },
  );
});

describe('fused TIES gives exactly the reference composition', () => {
  const tieFill = fc.constantFrom(1, -1, 0, 'majority', 'minority') as fc.Arbitrary<
    -1 | 0 | 1 | 'majority' | 'minority'
  >;
  test.prop(
    [
      length,
      fc.integer({ min: 1, max: 6 }), // past 4: the native lane path's loop over any expert count
      kind,
      seed,
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.constantFrom('sum', 'count'),
      fc.constantFrom('mean', 'sum', 'max'),
      tieFill,
      fc.boolean(),
      fc.array(scalar, { minLength: 6, maxLength: 6 }),
      fc.option(fc.integer({ min: -50, max: 50 }), { nil: undefined }),
    ],
    opts,
  )(
    'deltaTopK and tiesMerge over experts and over task vectors',
    (n, count, kd, s, density, election, disjoint, tie, deltas, ws6, total) => {
      if (n < 2) return;
      const ws = ws6.slice(0, count);
      const kk = Math.min(n - 1, Math.max(1, Math.floor(density * n)));
      const inputs = [
        new Float32Array(n),
        fill(n, s + 50, kd),
        ...Array.from({ length: count }, (_, i) => fill(n, s + i, kd)),
      ];
      sameResult(inputs, ([o, b, ...xs]) => {
        const rules = xs.map((x) => k.deltaTopK(x, b, kk));
        const plain = rules.map(plainRule);
        const used = k.tiesMerge(o, b, xs, rules, {
          weights: ws,
          electionWeights: ws.map((w, i) => (i % 2 ? 1 : w)),
          election: election as 'sum' | 'count',
          disjoint: disjoint as 'mean' | 'sum' | 'max',
          tieFill: tie,
          signTotal: total,
          lambda: ws[0],
          deltas,
        });
        return [plain, used];
      });
    },
  );
});

describe('selection laws', () => {
  test.prop(
    [
      fc.integer({ min: 2, max: 3000 }),
      kind,
      seed,
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.constantFrom(...availableKernels()),
    ],
    opts,
  )(
    'absTopK is the k-th largest |value|, and trimming by its rule keeps exactly k of the largest',
    (n, kd, s, frac, backend) => {
      useKernels(backend);
      const x = fill(n, s, kd);
      const kk = Math.min(n - 1, Math.max(1, Math.ceil(frac * n)));
      const sorted = Array.from(x, Math.abs).sort((p, q) => q - p);
      const rule = k.absTopK(x, kk);
      expect(rule.threshold).toBe(sorted[kk - 1]);
      const out = x.slice();
      k.trimByRule(out, rule);
      let kept = 0;
      for (let i = 0; i < n; i++) {
        if (out[i] !== 0) kept++;
        expect(out[i] === 0 || out[i] === x[i]).toBe(true);
      }
      const nonzeroAtLeast = sorted.slice(0, kk).filter((v) => v !== 0).length;
      expect(kept).toBe(nonzeroAtLeast); // exactly k kept; kept zeros are invisible
      const minKept = Math.min(
        ...Array.from(out)
          .filter((v) => v !== 0)
          .map(Math.abs),
        Infinity,
      );
      const maxDropped = Math.max(
        ...Array.from(x)
          .filter((v, i) => out[i] === 0 && v !== 0)
          .map(Math.abs),
        0,
      );
      if (kept > 0) expect(minKept).toBeGreaterThanOrEqual(maxDropped);
    },
  );
});
