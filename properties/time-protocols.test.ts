/**
 * Laws of the TIME protocols over random streams:
 * - temporal weights are normalised; linear/exp/... never give an older expert more weight than a newer
 *   one, reverse-* never the opposite, and reverse-X is X reversed;
 * - EMA: the weight of expert i after step t is β(1-β)^(t-i) (θ0 keeps (1-β)^t; with the first-expert seed
 *   θs_1 keeps (1-β)^(t-1)); on a constant stream the distance to the constant shrinks by exactly 1-β a step;
 * - merge-all with uniform weights is the running mean of the experts, for every init protocol;
 * - the incremental merge-all equals the batch merge recomputed from the store after every step.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BASE_WEIGHTINGS,
  INIT_PROTOCOLS,
  MemoryStore,
  MergeAllTracker,
  TEMPORAL_WEIGHTINGS,
  isPrefixStable,
  runTime,
  temporalWeights,
  type InitProtocol,
  type Method,
  type TemporalWeighting,
} from '../src/time/index.js';
import type { Trainer } from '../src/time/types.js';
import { Capture, maxDiff, model, randomVectors, ShrinkTrainer, streamOf } from './time-arbitraries.js';

async function deployed(
  method: Method,
  vectors: number[][],
  base: number[],
  trainer: Trainer<number[]> = new ShrinkTrainer(),
) {
  const ev = new Capture();
  await runTime({
    stream: streamOf(vectors),
    trainer,
    evaluator: ev,
    base: model(base),
    method,
    stepsPerTask: 1,
    seed: 0,
  });
  return ev.seen.slice(1);
}

describe('temporal weights', () => {
  it('are normalised and ordered by recency (reverse-* the other way)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...BASE_WEIGHTINGS), fc.integer({ min: 1, max: 40 }), (kind, t) => {
        const w = temporalWeights(kind, t);
        const r = temporalWeights(`reverse-${kind}` as TemporalWeighting, t);
        expect(w).toHaveLength(t);
        expect(Math.abs(w.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-12);
        for (let i = 0; i + 1 < t; i++) {
          expect(w[i]).toBeGreaterThan(0);
          expect(w[i], `${kind}: older expert ${i + 1} outweighs newer ${i + 2}`).toBeLessThanOrEqual(w[i + 1]);
          expect(r[i]).toBeGreaterThanOrEqual(r[i + 1]);
        }
        expect(maxDiff(r, [...w].reverse())).toBeLessThan(1e-15);
        if (kind !== 'uniform' && t > 1) expect(w[0]).toBeLessThan(w[t - 1]);
      }),
      { numRuns: 60 },
    );
  });
});

describe('EMA deploy', () => {
  it('gives expert i the weight β(1-β)^(t-i) after step t (θ0 or the first expert keeps the rest)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom('base', 'first' as const),
        fc.nat(),
        async (beta, T, seed, s) => {
          const vs = randomVectors(s, T + 1, 4);
          const base = vs[T];
          const trainer = new ShrinkTrainer();
          const got = await deployed(
            { init: 'base', deploy: { kind: 'ema', beta, seed }, merge: { technique: 'weighted-average' } },
            vs.slice(0, T),
            base,
            trainer,
          );
          for (let t = 1; t <= T; t++) {
            const expected = base.map((b, k) => {
              let x = seed === 'base' ? (1 - beta) ** t * b : (1 - beta) ** (t - 1) * trainer.experts[0][k];
              for (let i = seed === 'base' ? 1 : 2; i <= t; i++)
                x += beta * (1 - beta) ** (t - i) * trainer.experts[i - 1][k];
              return x;
            });
            expect(maxDiff(got[t - 1], expected)).toBeLessThan(1e-5);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('converges geometrically at rate 1-β on a constant stream', async () => {
    await fc.assert(
      fc.asyncProperty(fc.double({ min: 0.05, max: 0.95, noNaN: true }), fc.nat(), async (beta, s) => {
        const [c, base] = randomVectors(s, 2, 4);
        const constant: Trainer<number[]> = {
          train: async (req) => ({ weights: req.init.unflatten(Float32Array.from(c)), steps: 1 }),
        };
        const got = await deployed(
          { init: 'ema', deploy: { kind: 'ema', beta, seed: 'base' }, merge: { technique: 'weighted-average' } },
          randomVectors(s + 1, 8, 4),
          base,
          constant,
        );
        let prev = maxDiff(base, c);
        for (const d of got) {
          const dist = maxDiff(d, c);
          expect(Math.abs(dist - (1 - beta) * prev)).toBeLessThan(1e-5);
          prev = dist;
        }
      }),
      { numRuns: 30 },
    );
  });
});

describe('merge-all', () => {
  it('with uniform weights is the running mean of the experts, for every init protocol', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...INIT_PROTOCOLS),
        fc.boolean(),
        fc.integer({ min: 1, max: 6 }),
        fc.nat(),
        async (init: InitProtocol, includeBase, T, s) => {
          const vs = randomVectors(s, T + 1, 5);
          const trainer = new ShrinkTrainer();
          const got = await deployed(
            {
              init,
              deploy: { kind: 'merge-all', includeBase, weighting: 'uniform' },
              merge: { technique: 'weighted-average' },
            },
            vs.slice(0, T),
            vs[T],
            trainer,
          );
          for (let t = 1; t <= T; t++) {
            const models = [...(includeBase ? [vs[T]] : []), ...trainer.experts.slice(0, t)];
            const mean = vs[T].map((_, k) => models.reduce((a, m) => a + m[k], 0) / models.length);
            expect(maxDiff(got[t - 1], mean)).toBeLessThan(1e-5);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('incremental form equals recomputation from the store after every step', async () => {
    const techniques = fc.oneof(
      fc.record({ technique: fc.constant('weighted-average'), params: fc.record({ normalize: fc.boolean() }) }),
      fc.record({
        technique: fc.constant('task-arithmetic'),
        params: fc.record({ lambda: fc.double({ min: -2, max: 2, noNaN: true }), normalize: fc.boolean() }),
      }),
      fc.record({
        technique: fc.constant('magmax'),
        params: fc.record({ lambda: fc.double({ min: 0.1, max: 2, noNaN: true }) }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(
        techniques,
        fc.constantFrom(...TEMPORAL_WEIGHTINGS),
        fc.boolean(),
        fc.integer({ min: 1, max: 7 }),
        fc.nat(),
        async (merge, weighting, includeBase, T, s) => {
          const vs = randomVectors(s, T + 1, 6);
          const store = new MemoryStore();
          const ctx = { base: model(vs[T]), store, merge };
          const inc = new MergeAllTracker(weighting, includeBase, ctx);
          const batch = new MergeAllTracker(weighting, includeBase, ctx, { forceRecompute: true });
          // Task arithmetic on the sum (normalize: false) keeps a running form for uniform weights only.
          const sums =
            merge.technique === 'task-arithmetic' && (merge.params as { normalize?: boolean }).normalize === false;
          expect(inc.incremental).toBe(
            merge.technique === 'magmax' || (isPrefixStable(weighting) && (!sums || weighting === 'uniform')),
          );
          expect(batch.incremental).toBe(false);
          for (let t = 1; t <= T; t++) {
            const e = model(vs[t - 1]);
            await store.put(t, e);
            await inc.add(e, t);
            await batch.add(e, t);
            const a = [...(await inc.current()).flatten()];
            const b = [...(await batch.current()).flatten()];
            expect(maxDiff(a, b)).toBeLessThan(merge.technique === 'magmax' ? 1e-7 : 2e-5);
          }
        },
      ),
      { numRuns: 80 },
    );
  });
});
