import { describe, expect, it } from 'vitest';
import { ParamSet } from '../src/params/paramset.js';
import { continualDiagnostics } from '../src/study/continual-diagnostics.js';
import { expertDiagnostics } from '../src/study/expert-diagnostics.js';
import { PAPER_REPLAY } from '../src/study/types.js';
import { chooseWorld, summarise } from '../src/study/calibration.js';
import type { DiagnosticsRow } from '../src/study/diagnostics-run.js';
import type { Evaluator, Task, TrainRequest, Trainer } from '../src/time/types.js';

// A one-weight world worked by hand: task a wants w = 1, task b wants w = -1, the zero-shot task w = 0;
// a score is max(0, 1 - |w - target| / 2). Training jumps to the current target, or with a replay buffer
// and earlier tasks to the mean of the current and earlier targets.
type D = { target: number };
const task = (id: string, target: number, role: 'adaptation' | 'zeroshot' = 'adaptation'): Task<D> => ({
  id,
  role,
  data: { target },
});
const weights = (w: number) => new ParamSet('w').set('w', [1], Float32Array.of(w));
const trainer: Trainer<D> = {
  async train(r: TrainRequest<D>) {
    const targets = [r.tasks[0].data.target];
    if (r.replay.buffer > 0) targets.push(...r.previous.map((t) => t.data.target));
    return { weights: weights(targets.reduce((a, b) => a + b, 0) / targets.length), steps: r.steps };
  },
};
const evaluator: Evaluator<D> = {
  async evaluate(p, tasks) {
    const w = p.data('w')[0];
    return tasks.map((t) => Math.max(0, 1 - Math.abs(w - t.data.target) / 2));
  },
};
const adaptation = [task('a', 1), task('b', -1)];
const zeroshot = [task('z', 0, 'zeroshot')];

describe('behaviour diagnostics on a hand-worked world', () => {
  it("one expert's A_ZS drop and the gain kept at half its task vector", async () => {
    const d = await expertDiagnostics({
      base: weights(0),
      trainer,
      evaluator,
      adaptation,
      zeroshot,
      steps: 1,
      datasetOf: (t) => t.id,
      seedOf: (i) => i,
    });
    // Experts at ±1 score 1 on their task (θ0: 0.5), 0.5 on the zero-shot task (θ0: 1); at ±0.5 they score 0.75.
    expect(d.expertZsDrop).toBeCloseTo(0.5, 12);
    expect(d.halfTauKeep).toBeCloseTo(0.5, 12);
  });

  it('forgetting and A_ZS drop of continual fine-tuning without and with replay', async () => {
    const d = await continualDiagnostics({
      stream: { name: 'hand', adaptation, zeroshot },
      trainer,
      evaluator,
      base: weights(0),
      stepsPerTask: 1,
      seed: 0,
      replay: PAPER_REPLAY,
    });
    // No replay: w = 1 then -1, task a falls from 1 to 0, the zero-shot task from 1 to 0.5.
    // Replay: w = 1 then 0, task a falls from 1 to 0.5, the zero-shot task ends at 1.
    expect(d).toEqual({
      ftForgetting: 1,
      ftZsDrop: 0.5,
      ftAKa: 0.5,
      replayForgetting: 0.5,
      replayZsDrop: 0,
      replayAKa: 0.5,
    });
  });
});

describe('world calibration on behaviour targets', () => {
  const row = (over: Partial<DiagnosticsRow>): DiagnosticsRow => ({
    setting: 'x',
    seed: 0,
    experts: 10,
    tauRatio: 0.15,
    crossCosine: 0.01,
    sameCosine: 0.3,
    top20Energy: 0.9,
    tiesKeep: 0.95,
    baseScore: 0.4,
    expertScore: 0.9,
    baseAKa: 0.4,
    baseAZs: 0.9,
    expertZsDrop: 0.02,
    halfTauKeep: 0.8,
    ftForgetting: 0.15,
    ftZsDrop: 0.1,
    ftAKa: 0.7,
    replayForgetting: 0,
    replayZsDrop: 0.04,
    replayAKa: 0.75,
    ...over,
  });

  it('names each missed target, averaging over seeds', () => {
    const s = summarise('a', [row({ ftForgetting: 0.12, baseAKa: 0.1 }), row({ ftForgetting: 0.06, baseAKa: 0.2 })]);
    expect(s.ftForgetting).toBeCloseTo(0.09, 12);
    expect(s.misses).toEqual(['forgetting without replay', 'θ0 partly competent']);
    expect(summarise('b', [row({ replayZsDrop: 0.01, replayForgetting: 0.02 })]).misses).toEqual(['loss with replay']);
    expect(summarise('c', [row({ replayZsDrop: 0.01, replayForgetting: 0.05 })]).misses).toEqual([]);
  });

  it('chooses the valid world with the smallest ‖τ‖/‖θ0‖, never an invalid one', () => {
    const worlds = [
      summarise('small but forgets nothing', [row({ tauRatio: 0.05, ftForgetting: 0.01 })]),
      summarise('valid, larger', [row({ tauRatio: 0.2 })]),
      summarise('valid, smaller', [row({ tauRatio: 0.12 })]),
    ];
    expect(chooseWorld(worlds)?.name).toBe('valid, smaller');
    expect(chooseWorld(worlds.slice(0, 1))).toBeUndefined();
  });
});
