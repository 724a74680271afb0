import { describe, expect, it } from 'vitest';
import { mergeModels } from '../src/merge/engine.js';
import { expandStudy } from '../src/study/expand.js';
import type { Study } from '../src/study/types.js';
import { parseMethod, runTime } from '../src/time/index.js';
import { mostModelsMerged } from '../src/time/protocols.js';
import { RecordingEvaluator, ScriptedTrainer, stream, values, vec } from './time-helpers.js';

const slerp = { technique: 'slerp', params: { t: 0.5 } };

describe('how many models a merge-all merges', () => {
  it('counts the experts, and θ0 only when the protocol includes it', () => {
    expect(mostModelsMerged(parseMethod('offline_merge'), 2)).toBe(2);
    expect(mostModelsMerged(parseMethod('base+merge-all:uniform:with-base'), 2)).toBe(3);
    expect(mostModelsMerged(parseMethod('merge-all+last'), 3)).toBe(2);
    expect(mostModelsMerged(parseMethod('merge-all:uniform:with-base+last'), 3)).toBe(3);
    expect(mostModelsMerged(parseMethod('merge-all+merge-all'), 4)).toBe(4);
    expect(mostModelsMerged(parseMethod('ema_paint'), 20)).toBe(0);
  });

  it('offline_merge with SLERP runs at T = 2 (two models) and deploys the SLERP of the two experts', async () => {
    const V = [
      [1, 0],
      [0, 2],
    ];
    const base = vec([0.5, -0.25]);
    const evaluator = new RecordingEvaluator();
    await runTime({
      stream: stream(V),
      base,
      stepsPerTask: 1,
      seed: 0,
      method: parseMethod('offline_merge', slerp),
      trainer: new ScriptedTrainer(),
      evaluator,
    });
    const experts = V.map((v) => vec(values(base).map((b, i) => b + v[i])));
    const expected = values(await mergeModels(slerp, base, experts));
    expect(evaluator.seen.at(-1)!.map((x) => Math.fround(x))).toEqual(expected.map((x) => Math.fround(x)));
  });

  it('still refuses SLERP where merge-all needs three models, saying how many', async () => {
    const run = runTime({
      stream: stream([[1], [2], [3]]),
      base: vec([0]),
      stepsPerTask: 1,
      seed: 0,
      method: parseMethod('offline_merge', slerp),
      trainer: new ScriptedTrainer(),
      evaluator: new RecordingEvaluator(),
    });
    await expect(run).rejects.toThrow('slerp merges at most 2 models; merge-all needs 3');
  });

  it('a study at T = 2 plans offline_merge with SLERP instead of skipping it', () => {
    const study: Study = {
      name: 'two',
      description: 'T = 2',
      stream: {
        T: 2,
        datasets: 2,
        stepsPerTask: 4,
        pretrainSteps: 50,
        zeroshotTasks: 1,
        d: 8,
        k: 4,
        m: 3,
        trainPerClass: 4,
        testPerClass: 2,
        classesPerTask: 2,
      },
      methods: ['offline_merge', 'base+merge-all:uniform:with-base'],
      techniques: [{ name: 'slerp' }],
      seeds: [0],
      baselines: [],
      findings: [],
    };
    const { runs, skipped } = expandStudy(study);
    expect(runs.map((r) => r.method)).toEqual(['offline_merge']);
    expect(skipped.map((s) => s.reason)).toEqual(['slerp merges at most 2 models; merge-all needs 3']);
  });
});
