import { describe, expect, it } from 'vitest';
import { ParamSet } from '../src/params/paramset.js';
import { expertDiagnostics } from '../src/study/expert-diagnostics.js';
import { NO_REPLAY, type Evaluator, type Task, type Trainer, type TrainRequest } from '../src/time/types.js';

interface Toy {
  readonly dataset: string;
  /** The coordinates a task's score reads. */
  readonly coords: readonly number[];
  /** What training on the task adds to θ0. */
  readonly tau: readonly number[];
}

const base = new ParamSet().set('w', [10], new Float32Array(10).fill(1));
const task = (id: string, data: Toy, role: Task['role'] = 'adaptation'): Task<Toy> => ({ id, role, data });
const tauOf = (entries: [number, number][]) => {
  const t = new Array(10).fill(0);
  for (const [i, v] of entries) t[i] = v;
  return t;
};
const A = task('a', {
  dataset: 'x',
  coords: [0, 1, 4],
  tau: tauOf([
    [0, 4],
    [1, 1],
    [4, 0.5],
  ]),
});
const B = task('b', {
  dataset: 'y',
  coords: [2, 3, 5],
  tau: tauOf([
    [2, 3],
    [3, 2],
    [5, 1],
  ]),
});
const Z = task('z', { dataset: 'z', coords: [9], tau: [] }, 'zeroshot');

/** Score 0.5 + 0.05 Σ (w_i - 1) over the task's coordinates. */
const evaluator: Evaluator<Toy> = {
  evaluate: async (w, tasks) =>
    tasks.map((t) => 0.5 + 0.05 * t.data.coords.reduce((s, i) => s + w.data('w')[i] - 1, 0)),
};

function recordingTrainer(requests: TrainRequest<Toy>[]): Trainer<Toy> {
  return {
    train: async (req) => {
      requests.push(req);
      const t = req.tasks[0].data.tau;
      const w = Float32Array.from(req.init.data('w'), (v, i) => v + t[i]);
      return { weights: new ParamSet().set('w', [10], w), steps: req.steps };
    },
  };
}

describe('expert diagnostics of any trainer and evaluator', () => {
  it('by hand: two experts from different datasets, trimmed to their top 2 of 10 values', async () => {
    const requests: TrainRequest<Toy>[] = [];
    const d = await expertDiagnostics({
      base,
      trainer: recordingTrainer(requests),
      evaluator,
      adaptation: [A, B],
      zeroshot: [Z],
      steps: 7,
      datasetOf: (t) => t.data.dataset,
      seedOf: (i) => 100 + i,
    });
    expect(d.experts).toBe(2);
    expect(d.tauRatio).toBeCloseTo((Math.sqrt(17.25) + Math.sqrt(14)) / 2 / Math.sqrt(10), 6);
    expect(d.crossCosine).toBe(0);
    // Gains 0.275 and 0.3; the trims keep 0.25 of each (A drops 0.5·e4, B drops e5).
    expect(d.tiesKeep).toBeCloseTo(0.5 / 0.575, 6);
    expect(d.baseAKa).toBeCloseTo(0.5, 12);
    expect(d.baseAZs).toBeCloseTo(0.5, 12);
    expect(d.expertScore).toBeCloseTo((0.775 + 0.8) / 2, 6);
    // Each expert from θ0 on its task alone, no replay, the stream's budget, its own seed.
    expect(
      requests.map((r) => [r.init, r.tasks.map((t) => t.id), r.previous.length, r.replay, r.steps, r.seed]),
    ).toEqual([
      [base, ['a'], 0, NO_REPLAY, 7, 100],
      [base, ['b'], 0, NO_REPLAY, 7, 101],
    ]);
  });

  it('trains experts only for the chosen tasks but scores θ0 over the whole stream', async () => {
    const requests: TrainRequest<Toy>[] = [];
    const d = await expertDiagnostics({
      base,
      trainer: recordingTrainer(requests),
      evaluator,
      adaptation: [A, B],
      zeroshot: [Z],
      steps: 1,
      datasetOf: (t) => t.data.dataset,
      seedOf: (i) => i,
      taskIndices: [1],
    });
    expect(requests.map((r) => r.tasks[0].id)).toEqual(['b']);
    expect(d.experts).toBe(1);
    expect(Number.isNaN(d.crossCosine)).toBe(true);
    expect(d.tiesKeep).toBeCloseTo(0.25 / 0.3, 6);
  });
});
