import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tensorRng } from '../src/merge/engine.js';
import { randomPick, randomPickByKey } from '../src/merge/random-selection.js';
import { counterKey } from '../src/params/counter-rng.js';
import { uniformStream } from '../src/merge/uniform.js';
import { parseLines, withLines } from '../src/merge/lines.js';
import { listTechniques } from '../src/merge/registry.js';
import type { MergeTechnique } from '../src/merge/types.js';
import { type Case, maxAbs, mergeCase, mergeOne, nearlyEqual, sameValues, value } from './merge-arbitraries.js';

const RUNS = { numRuns: 60 };

/** Every registered technique with each setting its facts name for a law. */
function lawCases(law: 'idempotent' | 'symmetric'): [MergeTechnique<any>, Readonly<Record<string, unknown>>][] {
  return listTechniques().flatMap((t) =>
    (t.facts.laws[law] ?? []).map((params): [MergeTechnique<any>, Readonly<Record<string, unknown>>] => [t, params]),
  );
}

describe('idempotence: merging copies of one model returns it', () => {
  for (const [t, params] of lawCases('idempotent')) {
    it(`${t.name} ${JSON.stringify(params)}`, () => {
      fc.assert(
        fc.property(mergeCase(t.experts.min, t.experts.max ?? 5), (c) => {
          const copies: Case = { ...c, experts: c.experts.map(() => c.experts[0]) };
          const out = mergeOne(t.name, { ...params }, copies);
          return nearlyEqual(out, Float32Array.from(c.experts[0]), maxAbs(c));
        }),
        RUNS,
      );
    });
  }
});

describe('a technique that does not read θ0 (facts.readsBase false) gives the same bits for any base', () => {
  // The merge engine skips the NaN/Inf scan of such a base, so the fact must hold exactly.
  const blind = listTechniques().filter((t) => !t.facts.readsBase);
  it(`covers ${blind.map((t) => t.name).join(', ')}`, () => {
    expect(blind.map((t) => t.name)).toContain('weighted-average');
  });
  for (const t of blind) {
    it(t.name, () => {
      fc.assert(
        fc.property(
          mergeCase(t.experts.min, t.experts.max ?? 5).chain((c) =>
            fc.record({
              c: fc.constant(c),
              other: fc.array(value, { minLength: c.base.length, maxLength: c.base.length }),
            }),
          ),
          ({ c, other }) => {
            const a = mergeOne(t.name, {}, c);
            const b = mergeOne(t.name, {}, { ...c, base: other.map((v, i) => (i % 2 ? Number.NaN : v)) });
            return sameBits(a, b);
          },
        ),
        RUNS,
      );
    });
  }
  it('LiNeS rescales from θ0, so a technique wrapped in it claims to read the base', () => {
    for (const t of blind)
      expect(withLines(t, parseLines({ alpha: 0.5, beta: 0.5, layers: 1 })).facts.readsBase).toBe(true);
  });
});

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function permute<T>(xs: readonly T[], order: readonly number[]): T[] {
  return order.map((i) => xs[i]);
}

describe('permutation invariance: reordering experts (with their weights) changes nothing', () => {
  for (const [t, params] of lawCases('symmetric')) {
    it(`${t.name} ${JSON.stringify(params)}`, () => {
      fc.assert(
        fc.property(
          mergeCase(t.experts.min, t.experts.max ?? 5).chain((c) =>
            fc.record({
              c: fc.constant(c),
              order: fc.shuffledSubarray([...c.experts.keys()], { minLength: c.experts.length }),
            }),
          ),
          ({ c, order }) => {
            const a = mergeOne(t.name, { ...params }, c);
            const b = mergeOne(
              t.name,
              { ...params },
              { ...c, experts: permute(c.experts, order), weights: permute(c.weights, order) },
            );
            return nearlyEqual(a, b, maxAbs(c) * c.experts.length);
          },
        ),
        RUNS,
      );
    });
  }
  it('magmax: the winner is the largest |τ|, and among equal magnitudes the latest (or earliest) expert', () => {
    fc.assert(
      fc.property(mergeCase(1, 5), fc.constantFrom('later', 'earlier'), (c, ties) => {
        const out = mergeOne('magmax', { ties }, c);
        for (let i = 0; i < c.base.length; i++) {
          const taus = c.experts.map((e) => Math.fround(e[i] - c.base[i]));
          const best = Math.max(...taus.map(Math.abs));
          const winners = taus.map((t, k) => (Math.abs(t) === best ? k : -1)).filter((k) => k >= 0);
          const k = ties === 'later' ? winners[winners.length - 1] : winners[0];
          if (out[i] !== Math.fround(c.base[i] + taus[k])) return false;
        }
        return true;
      }),
      RUNS,
    );
  });
});

describe('weight-scale invariance: techniques that normalise weights ignore a common factor', () => {
  // A sign election can meet votes that cancel to within rounding (two equal-magnitude values of opposite
  // sign under weights one ulp apart), and any other factor may round such a vote to the other sign; a
  // power of two scales every vote exactly, so for the electing techniques the factor is one.
  const anyFactor = fc.double({ min: 0.01, max: 100, noNaN: true });
  const powerOfTwo = fc.integer({ min: -6, max: 6 }).map((e) => 2 ** e);
  for (const t of listTechniques()) {
    for (const { params, factor, tolerance } of t.facts.laws.weightScale ?? []) {
      it(`${t.name} ${JSON.stringify(params)}`, () => {
        fc.assert(
          fc.property(
            mergeCase(t.experts.min, t.experts.max ?? 5),
            factor === 'any' ? anyFactor : powerOfTwo,
            (c, s) => {
              const a = mergeOne(t.name, { ...params }, c);
              const b = mergeOne(t.name, { ...params }, { ...c, weights: c.weights.map((w) => w * s) });
              return nearlyEqual(a, b, maxAbs(c) * tolerance);
            },
          ),
          RUNS,
        );
      });
    }
  }
  it('weights a technique ignores: any weights give the identical merge', () => {
    const ignoring = listTechniques().filter((t) => t.facts.weights === 'ignored');
    fc.assert(
      fc.property(
        mergeCase(2, 2),
        fc.constantFrom(...ignoring),
        fc.array(fc.double({ min: -8, max: 8, noNaN: true }), { minLength: 2, maxLength: 2 }),
        (c, t, w) => sameValues(mergeOne(t.name, {}, c), mergeOne(t.name, {}, { ...c, weights: w })),
      ),
      RUNS,
    );
  });
  it('random-selection: probabilities, so a power-of-two factor gives the identical draw', () => {
    fc.assert(
      fc.property(mergeCase(), fc.integer({ min: -6, max: 6 }), (c, e) => {
        const a = mergeOne('random-selection', {}, c);
        const b = mergeOne('random-selection', {}, { ...c, weights: c.weights.map((w) => w * 2 ** e) });
        return sameValues(a, b);
      }),
      RUNS,
    );
  });
});

describe('per-model parameters: every model given the same value is the shared parameter, bit for bit', () => {
  for (const t of listTechniques()) {
    for (const key of t.facts.perModel) {
      it(`${t.name} ${key}`, () => {
        // values the technique accepts with its other parameters at their defaults
        const valid = [0, 0.01, 0.05, 0.1, 0.3, 0.5, 0.8, 2].filter((v) => {
          try {
            t.parse({ [key]: v });
            return true;
          } catch {
            return false;
          }
        });
        const values = fc.constantFrom(...valid);
        fc.assert(
          fc.property(mergeCase(t.experts.min, t.experts.max ?? 5), values, (c, v) => {
            const shared = mergeOne(t.name, { [key]: v }, c);
            const each = mergeOne(
              t.name,
              {},
              c,
              tensorRng(c.seed, 'w'),
              c.experts.map(() => ({ [key]: v })),
            );
            return sameValues(shared, each);
          }),
          RUNS,
        );
      });
    }
  }
});

describe('boundaries', () => {
  it('λ = 0 returns the base for every technique with a λ (it scales the merged task vector)', () => {
    const names = listTechniques()
      .filter((t) => t.params.some((p) => p.name === 'lambda'))
      .map((t) => t.name);
    fc.assert(
      fc.property(mergeCase(), fc.constantFrom(...names), (c, name) =>
        sameValues(mergeOne(name, { lambda: 0 }, c), Float32Array.from(c.base)),
      ),
      RUNS,
    );
  });
  it('no trimming (TIES density 1, DARE p = 0, Breadcrumbs p = gamma = 0) with one expert is task arithmetic, bit for bit', () => {
    fc.assert(
      fc.property(mergeCase(1, 1), fc.double({ min: -2, max: 2, noNaN: true }), (c, lambda) => {
        const one = { ...c, weights: [1] };
        const ta = mergeOne('task-arithmetic', { lambda }, one);
        return (
          sameValues(mergeOne('ties', { density: 1, lambda }, one), ta) &&
          sameValues(mergeOne('dare-linear', { p: 0, lambda }, one), ta) &&
          sameValues(mergeOne('breadcrumbs', { p: 0, gamma: 0, lambda }, one), ta)
        );
      }),
      RUNS,
    );
  });
  it('DARE p = 0 and Breadcrumbs p = gamma = 0 are task arithmetic for any weights', () => {
    fc.assert(
      fc.property(mergeCase(), (c) => {
        const ta = mergeOne('task-arithmetic', {}, c);
        return (
          sameValues(mergeOne('dare-linear', { p: 0 }, c), ta) &&
          sameValues(mergeOne('breadcrumbs', { p: 0, gamma: 0 }, c), ta)
        );
      }),
      RUNS,
    );
  });
  it('SLERP t = 0 and t = 1 return the endpoints exactly, in either space', () => {
    fc.assert(
      fc.property(mergeCase(2, 2), fc.constantFrom('weights', 'task-vectors'), (c, space) => {
        return (
          sameValues(mergeOne('slerp', { t: 0, space }, c), Float32Array.from(c.experts[0])) &&
          sameValues(mergeOne('slerp', { t: 1, space }, c), Float32Array.from(c.experts[1]))
        );
      }),
      RUNS,
    );
  });
  it('SLERP symmetry: slerp(t, [A, B]) = slerp(1 - t, [B, A]) within float tolerance, in either space', () => {
    fc.assert(
      fc.property(
        mergeCase(2, 2),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.constantFrom('weights', 'task-vectors'),
        (c, t, space) => {
          const ab = mergeOne('slerp', { t, space }, c);
          const ba = mergeOne(
            'slerp',
            { t: 1 - t, space },
            { ...c, experts: [c.experts[1], c.experts[0]], weights: [c.weights[1], c.weights[0]] },
          );
          return nearlyEqual(ab, ba, maxAbs(c), 1e-4);
        },
      ),
      RUNS,
    );
  });
  it('SLERP of two unit vectors stays on the unit sphere (off the linear fallback)', () => {
    fc.assert(
      fc.property(mergeCase(2, 2, 20), fc.double({ min: 0, max: 1, noNaN: true }), (c, t) => {
        const unit = c.experts.map((e) => {
          const n = Math.hypot(...e);
          return n === 0 ? e : e.map((v) => v / n);
        });
        if (unit.some((e) => Math.hypot(...e) === 0)) return true;
        const out = mergeOne('slerp', { t }, { ...c, experts: unit });
        const cos = unit[0].reduce((s, v, i) => s + v * unit[1][i], 0);
        // off the linear fallback, slerp of unit vectors stays on the unit sphere
        return Math.abs(cos) > 0.9995 || Math.abs(Math.hypot(...out) - 1) < 1e-4;
      }),
      RUNS,
    );
  });
});

describe('degenerate inputs never give NaN or Infinity', () => {
  it('zero task vectors, opposite task vectors and repeated experts, for every technique', () => {
    const techniques = listTechniques();
    fc.assert(
      fc.property(mergeCase(1, 4), fc.constantFrom('zero', 'opposite', 'same'), (c, kind) => {
        const tau0 = c.experts[0].map((v, i) => Math.fround(v - c.base[i]));
        const experts =
          kind === 'zero'
            ? c.experts.map(() => c.base)
            : kind === 'opposite'
              ? c.experts.map((_, k) => c.base.map((b, i) => Math.fround(b + (k % 2 === 0 ? tau0[i] : -tau0[i]))))
              : c.experts.map(() => c.experts[0]);
        for (const t of techniques) {
          const n = Math.max(t.experts.min, Math.min(t.experts.max ?? 99, experts.length));
          const es = Array.from({ length: n }, (_, k) => experts[k % experts.length]);
          const ws = Array.from({ length: n }, (_, k) => c.weights[k % c.weights.length]);
          let out: Float32Array;
          try {
            out = mergeOne(t.name, {}, { ...c, experts: es, weights: ws });
          } catch {
            return false;
          }
          if (out.some((v) => !Number.isFinite(v))) return false;
        }
        return true;
      }),
      { numRuns: 40 },
    );
  });
  it('model-stock with negativeCos: keep either merges finitely or names the singular tensor', () => {
    fc.assert(
      fc.property(mergeCase(2, 4), (c) => {
        try {
          return mergeOne('model-stock', { negativeCos: 'keep' }, c).every((v) => Number.isFinite(v));
        } catch (e) {
          return /model-stock: tensor "w"/.test((e as Error).message);
        }
      }),
      RUNS,
    );
  });
});

describe('elementwise techniques give the same result in chunks as in one piece', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['weighted-average', {}],
    ['task-arithmetic', { lambda: 0.7 }],
    ['magmax', {}],
    ['ties', { density: 1, election: 'count' }],
    ['ties', { density: 1, disjoint: 'max', weightsAt: 'after' }],
  ];
  for (const [name, params] of cases) {
    it(`${name} ${JSON.stringify(params)}`, () => {
      fc.assert(
        fc.property(
          mergeCase().chain((c) => fc.record({ c: fc.constant(c), cut: fc.integer({ min: 0, max: c.base.length }) })),
          ({ c, cut }) => {
            const whole = mergeOne(name, params, c);
            const part = (a: number, b: number): Case => ({
              ...c,
              base: c.base.slice(a, b),
              experts: c.experts.map((e) => e.slice(a, b)),
            });
            const n = c.base.length;
            const first = cut > 0 ? [...mergeOne(name, params, part(0, cut))] : [];
            const second = cut < n ? [...mergeOne(name, params, part(cut, n))] : [];
            return sameValues(whole, [...first, ...second]);
          },
        ),
        RUNS,
      );
    });
  }
});

describe('random selection and the draw stream', () => {
  it('picking in chunks from one shared stream equals picking in one piece', () => {
    fc.assert(
      fc.property(
        mergeCase().chain((c) => fc.record({ c: fc.constant(c), cut: fc.integer({ min: 0, max: c.base.length }) })),
        ({ c, cut }) => {
          const f = (xs: number[], a: number, b: number) => Float32Array.from(xs.slice(a, b));
          const n = c.base.length;
          const whole = randomPick(
            f(c.base, 0, n),
            c.experts.map((e) => f(e, 0, n)),
            c.weights,
            uniformStream(tensorRng(c.seed, 'w')),
          );
          const u = uniformStream(tensorRng(c.seed, 'w'));
          const first = randomPick(
            f(c.base, 0, cut),
            c.experts.map((e) => f(e, 0, cut)),
            c.weights,
            u,
          );
          const second = randomPick(
            f(c.base, cut, n),
            c.experts.map((e) => f(e, cut, n)),
            c.weights,
            u,
          );
          return sameValues(whole, [...first, ...second]);
        },
      ),
      RUNS,
    );
  });
  it('counter picks are deterministic per seed and follow the weights (counts within 6 sd)', () => {
    fc.assert(
      fc.property(fc.integer(), fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 4 }), (seed, w) => {
        if (w.every((v) => v === 0)) return true;
        const n = 20000;
        const base = new Float32Array(n);
        const experts = w.map((_, k) => new Float32Array(n).fill(k + 1));
        const a = randomPickByKey(base, experts, w, counterKey(tensorRng(seed, 'w')));
        const b = randomPickByKey(base, experts, w, counterKey(tensorRng(seed, 'w')));
        if (!sameValues(a, [...b])) return false;
        const total = w.reduce((x, y) => x + y, 0);
        return w.every((wk, k) => {
          const q = wk / total;
          const c = a.filter((v) => v === k + 1).length;
          return Math.abs(c - n * q) <= 6 * Math.sqrt(n * q * (1 - q)) + 1;
        });
      }),
      { numRuns: 20 },
    );
  });
  it('the stream is deterministic per seed, in [0, 1), and roughly uniform', () => {
    fc.assert(
      fc.property(fc.integer(), fc.string(), (seed, name) => {
        const a = uniformStream(tensorRng(seed, name));
        const b = uniformStream(tensorRng(seed, name));
        const bins = new Array<number>(10).fill(0);
        for (let i = 0; i < 5000; i++) {
          const u = a();
          if (u !== b() || !(u >= 0 && u < 1)) return false;
          bins[Math.floor(u * 10)]++;
        }
        // each bin expects 500 (sd about 21): 6 sd of slack
        return bins.every((c) => Math.abs(c - 500) < 130);
      }),
      { numRuns: 20 },
    );
  });
});
