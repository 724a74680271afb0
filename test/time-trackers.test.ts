import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/time/store.js';
import { makeTracker, MergeAllTracker } from '../src/time/trackers.js';
import { parseMethod, runTime } from '../src/time/index.js';
import type { Trainer, TrainRequest } from '../src/time/types.js';
import { RecordingEvaluator, stream, values, vec } from './time-helpers.js';

describe('EMA tracker memory', () => {
  it('writes e_t over e_{t-2} (no new model per step) and still gives the EMA recursion exactly', async () => {
    const base = vec([0, 0]);
    const ema = makeTracker(
      { kind: 'ema', beta: 0.5, seed: 'base' },
      { base, store: new MemoryStore(), merge: { technique: 'weighted-average' } },
    );
    const experts = [vec([4, 0]), vec([0, 8]), vec([2, 2]), vec([6, -2])];
    const states: Float32Array[] = [];
    const expected: number[][] = [];
    let e = [0, 0];
    for (const [i, x] of experts.entries()) {
      await ema.add(x, i + 1);
      const cur = await ema.current();
      states.push(cur.data('w'));
      e = e.map((v, j) => 0.5 * values(x)[j] + 0.5 * v);
      expected.push(e);
      expect(values(cur)).toEqual(expected[i]);
    }
    // e_1, e_2 are fresh; e_3 reuses e_1's memory and e_4 reuses e_2's.
    expect(states[1]).not.toBe(states[0]);
    expect(states[2]).toBe(states[0]);
    expect(states[3]).toBe(states[1]);
    // The experts are never written.
    expect(experts.map(values)).toEqual([
      [4, 0],
      [0, 8],
      [2, 2],
      [6, -2],
    ]);
  });

  it('a trainer that returns its init unchanged gives the same run as one that returns a copy', async () => {
    // Step 2 trains nothing and hands back its init: under ema init that is the tracker's own e_1, whose
    // memory e_3 is written over. The stored expert must keep e_1's values (the store keeps its own
    // copy): merge-all with reverse weights re-reads every stored expert at every step, so a changed
    // expert would change the deployed models.
    class IdleAtStep2 implements Trainer<number[]> {
      constructor(private readonly copy: boolean) {}
      async train(req: TrainRequest<number[]>) {
        if (req.previous.length === 1) return { weights: this.copy ? req.init.clone() : req.init, steps: 0 };
        const w = req.init.map((d) => d.map((v, i) => v + req.tasks[0].data[i]), 'expert');
        return { weights: w, steps: req.steps };
      }
    }
    const run = async (copy: boolean) => {
      const evaluator = new RecordingEvaluator();
      await runTime({
        stream: stream([
          [4, 0],
          [0, 8],
          [2, 2],
          [6, -2],
        ]),
        trainer: new IdleAtStep2(copy),
        evaluator,
        base: vec([0, 0]),
        method: parseMethod('ema+merge-all:reverse-linear'),
        stepsPerTask: 1,
        seed: 0,
      });
      return evaluator.seen;
    };
    const shared = await run(false);
    expect(shared).toEqual(await run(true));
    // By hand: e_1 = (2, 0) from θs_1 = (4, 0); θs_2 = e_1; e_2 = (2, 0); θs_3 = e_2 + (2, 2) = (4, 2);
    // e_3 = (3, 1); θs_4 = e_3 + (6, -2) = (9, -1). Step 4 deploys reverse-linear weights 4, 3, 2, 1 / 10.
    expect(shared[4]).toEqual(
      [(4 * 4 + 3 * 2 + 2 * 4 + 1 * 9) / 10, (4 * 0 + 3 * 0 + 2 * 2 + 1 * -1) / 10].map(Math.fround),
    );
  });
});

describe('merge-all with task arithmetic on the sum (normalize: false)', () => {
  const base = vec([1, 1]);
  const experts = [vec([3, 1]), vec([1, 5]), vec([2, 2])];
  // τ = (2, 0), (0, 4), (1, 1): sum (3, 5).
  async function deployed(weighting: 'uniform' | 'linear', params: Record<string, unknown>, forceRecompute = false) {
    const store = new MemoryStore();
    const ctx = { base, store, merge: { technique: 'task-arithmetic', params } };
    const t = new MergeAllTracker(weighting, false, ctx, { forceRecompute });
    for (const [i, x] of experts.entries()) {
      await store.put(i + 1, x);
      await t.add(x, i + 1);
    }
    return { incremental: t.incremental, values: values(await t.current()) };
  }

  it('gives θ0 + λ Σ τ_k with uniform weights, running and batch alike', async () => {
    const running = await deployed('uniform', { lambda: 0.5, normalize: false });
    const batch = await deployed('uniform', { lambda: 0.5, normalize: false }, true);
    expect(running.incremental).toBe(true);
    expect(running.values).toEqual([1 + 0.5 * 3, 1 + 0.5 * 5]);
    expect(batch.values).toEqual(running.values);
  });

  it('scales other temporal weights to mean 1 (linear 1, 2, 3 -> 0.5, 1, 1.5)', async () => {
    const r = await deployed('linear', { lambda: 1, normalize: false });
    expect(r.incremental).toBe(false);
    expect(r.values[0]).toBeCloseTo(1 + 0.5 * 2 + 1.5 * 1, 6);
    expect(r.values[1]).toBeCloseTo(1 + 1 * 4 + 1.5 * 1, 6);
  });

  it('keeps the weighted mean when normalize is not given', async () => {
    const r = await deployed('uniform', { lambda: 0.5 });
    expect(r.values[0]).toBeCloseTo(1 + 0.5 * 1, 6);
    expect(r.values[1]).toBeCloseTo(1 + 0.5 * (5 / 3), 6);
  });
});
