import { describe, expect, it, vi } from 'vitest';
import type { SynthTaskData } from '../src/synthetic/world.js';

/**
 * Every call of the gradient step, with the task whose samples it was given and how many: the trainer is
 * instrumented where its batches are consumed, so the test sees what training actually used, not what
 * the request asked for.
 */
const gradientCalls: { task: SynthTaskData; samples: number }[] = [];
vi.mock('../src/synthetic/model.js', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../src/synthetic/model.js')>();
  return {
    ...orig,
    accumulateGradients: (...args: Parameters<typeof orig.accumulateGradients>) => {
      gradientCalls.push({ task: args[2], samples: args[3].length });
      return orig.accumulateGradients(...args);
    },
  };
});

const { syntheticSetup } = await import('../src/synthetic/setup.js');
const { parseMethod, runTime } = await import('../src/time/index.js');

type Source = 'pretrain' | `task-${number}`;

/** Which data reached the gradient step during each training call of a finetune run over T = 3 tasks. */
async function samplesPerStep(replay: {
  pretrain: number;
  current: number;
  buffer: number;
}): Promise<Map<Source, number>[]> {
  const s = syntheticSetup({
    T: 3,
    datasets: 3,
    d: 8,
    k: 4,
    classesPerTask: 3,
    batchSize: 12,
    stepsPerTask: 5,
    pretrainSteps: 20,
    zeroshotTasks: 1,
    seed: 11,
  });
  const sourceOf = new Map<SynthTaskData, Source>([[s.world.pretrain, 'pretrain']]);
  s.world.stream.adaptation.forEach((t, i) => sourceOf.set(t.data, `task-${i + 1}`));
  const perStep: Map<Source, number>[] = [];
  const trainer = {
    async train(req: Parameters<typeof s.trainer.train>[0]) {
      gradientCalls.length = 0;
      const out = await s.trainer.train(req);
      const used = new Map<Source, number>();
      for (const c of gradientCalls) {
        const src = sourceOf.get(c.task);
        if (!src) throw new Error('a gradient step saw data of no known task');
        used.set(src, (used.get(src) ?? 0) + c.samples);
      }
      perStep.push(used);
      return out;
    },
  };
  await runTime({
    stream: s.world.stream,
    trainer,
    evaluator: s.evaluator,
    base: s.base,
    method: parseMethod('finetune'),
    stepsPerTask: 5,
    seed: 2,
    replay,
  });
  return perStep;
}

describe('replay reaches the training step', () => {
  it('with a buffer share > 0, step t trains on samples of every earlier task, in the set proportions', async () => {
    const perStep = await samplesPerStep({ pretrain: 0.33, current: 0.34, buffer: 0.33 });
    expect(perStep).toHaveLength(3);
    // Batch 12 over 5 steps. Step 1 has no earlier tasks: the buffer share goes to pretrain and current
    // (round(12 · 0.33 / 0.67) = 6 pretraining samples per batch, 6 current).
    expect(Object.fromEntries(perStep[0])).toEqual({ pretrain: 30, 'task-1': 30 });
    // Steps 2 and 3: round(12 · 0.33) = 4 pretraining, 4 buffer, 4 current per batch.
    for (const t of [2, 3]) {
      const used = perStep[t - 1];
      expect(used.get('pretrain')).toBe(20);
      expect(used.get(`task-${t}`)).toBe(20);
      const earlier = Array.from({ length: t - 1 }, (_, i) => `task-${i + 1}` as Source);
      const buffer = earlier.reduce((a, id) => a + (used.get(id) ?? 0), 0);
      expect(buffer).toBe(20);
      for (const id of earlier) expect(used.get(id), `${id} replayed at step ${t}`).toBeGreaterThan(0);
      expect([...used.keys()].sort()).toEqual(['pretrain', ...earlier, `task-${t}`].sort());
    }
  });

  it('with 0 / 1 / 0, each step trains on its own task only: no pretraining data, no earlier task', async () => {
    const perStep = await samplesPerStep({ pretrain: 0, current: 1, buffer: 0 });
    expect(perStep.map((u) => Object.fromEntries(u))).toEqual([{ 'task-1': 60 }, { 'task-2': 60 }, { 'task-3': 60 }]);
  });
});
