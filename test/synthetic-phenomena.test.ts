import { describe, expect, it } from 'vitest';
import type { ParamSet } from '../src/params/paramset.js';
import { syntheticSetup } from '../src/synthetic/index.js';
import { syntheticDiagnostics, type SyntheticDiagnostics } from '../src/synthetic/diagnostics.js';
import { summarise } from '../src/study/calibration.js';
import { regimeChecks } from '../src/study/world-diagnostics.js';
import { parseMethod, runBaseline, runTime } from '../src/time/index.js';
import { NO_REPLAY } from '../src/time/types.js';

// The under-parameterised world, three seeds: the phenomena that make temporal merging hard must all be
// present and strong (the default world, in the CLIP regime, is checked by its diagnostics below).
const SEEDS = [0, 1, 2];
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function distance(a: ParamSet, b: ParamSet): number {
  let s = 0;
  for (const [name, t] of a.entries()) {
    const x = b.data(name);
    for (let i = 0; i < x.length; i++) s += (t.data[i] - x[i]) ** 2;
  }
  return Math.sqrt(s);
}

function average(models: readonly ParamSet[]): ParamSet {
  return models[0].map((d, name) => {
    const out = new Float32Array(d.length);
    for (const m of models) {
      const x = m.data(name);
      for (let i = 0; i < out.length; i++) out[i] += x[i] / models.length;
    }
    return out;
  });
}

/** Spearman rank correlation. */
function spearman(a: readonly number[], b: readonly number[]): number {
  const rank = (xs: readonly number[]) => {
    const idx = xs.map((x, i) => [x, i] as const).sort((p, q) => p[0] - q[0]);
    const r = new Array<number>(xs.length);
    idx.forEach(([, i], k) => (r[i] = k));
    return r;
  };
  const ra = rank(a);
  const rb = rank(b);
  const ma = mean(ra);
  const mb = mean(rb);
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += (ra[i] - ma) * (rb[i] - mb);
    da += (ra[i] - ma) ** 2;
    db += (rb[i] - mb) ** 2;
  }
  return num / Math.sqrt(da * db);
}

describe.each(SEEDS)('under-parameterised synthetic world, seed %i', (seed) => {
  const s = syntheticSetup({ world: 'underparameterised', seed });
  const cfg = {
    stream: s.world.stream,
    trainer: s.trainer,
    evaluator: s.evaluator,
    base: s.base,
    stepsPerTask: s.config.stepsPerTask,
    seed,
  };

  it('θ0 starts with low A_KA and high A_ZS', async () => {
    const r = await runBaseline('zeroshot', cfg);
    expect(r.final.aKa!).toBeLessThan(0.45);
    expect(r.final.aZs!).toBeGreaterThan(0.85);
  });

  it('sequential fine-tuning learns each task, then forgets it', async () => {
    const r = await runTime({ ...cfg, method: parseMethod('finetune') });
    const T = r.T;
    const justLearned = mean(r.steps.slice(1).map((st, i) => st.scores[i]));
    const atEnd = mean(r.steps[T].scores.slice(0, T - 1));
    // Scored class-incrementally (against all 32 classes of the task's dataset), not over its own 8.
    expect(justLearned).toBeGreaterThan(0.65);
    expect(r.final.forgetting!).toBeGreaterThan(0.1);
    expect(atEnd).toBeLessThan(justLearned - 0.1);
  });

  it('zero-shot retention falls as the weights drift from θ0', async () => {
    const { adaptation, zeroshot } = s.world.stream;
    let w = s.base;
    const drift = [0];
    const zs = [mean(await s.evaluator.evaluate(w, zeroshot))];
    for (let t = 0; t < adaptation.length; t++) {
      w = (
        await s.trainer.train({
          init: w,
          tasks: [adaptation[t]],
          previous: [],
          replay: NO_REPLAY,
          steps: s.config.stepsPerTask,
          seed: 100 + t,
        })
      ).weights;
      drift.push(distance(w, s.base));
      zs.push(mean(await s.evaluator.evaluate(w, zeroshot)));
    }
    expect(zs[zs.length - 1]).toBeLessThan(zs[0] - 0.2);
    expect(spearman(drift, zs)).toBeLessThan(-0.6);
  });

  it('experts trained from θ0 interfere when merged', async () => {
    const { adaptation } = s.world.stream;
    const experts: ParamSet[] = [];
    const own: number[] = [];
    for (let t = 0; t < adaptation.length; t++) {
      const e = (
        await s.trainer.train({
          init: s.base,
          tasks: [adaptation[t]],
          previous: [],
          replay: NO_REPLAY,
          steps: s.config.stepsPerTask,
          seed: 200 + t,
        })
      ).weights;
      experts.push(e);
      own.push((await s.evaluator.evaluate(e, [adaptation[t]]))[0]);
    }
    const merged = await s.evaluator.evaluate(average(experts), adaptation);
    expect(mean(own) - mean(merged)).toBeGreaterThan(0.25);
  });

  it('the multitask run beats continual fine-tuning on A_KA', async () => {
    const multi = await runBaseline('multitask', cfg);
    const cont = await runBaseline('continual', cfg);
    expect(multi.final.aKa!).toBeGreaterThan(cont.final.aKa! + 0.05);
  });
});

describe('default synthetic world: the behaviour it was calibrated for', () => {
  const diagnostics = new Map<number, Promise<SyntheticDiagnostics>>();
  const of = (seed: number) => {
    if (!diagnostics.has(seed)) diagnostics.set(seed, syntheticDiagnostics(syntheticSetup({ seed }), 10));
    return diagnostics.get(seed)!;
  };

  it.each([0, 1, 2])(
    'seed %i: fine-tuning forgets and loses A_ZS; nearly orthogonal task vectors that survive a TIES trim',
    async (seed) => {
      const d = await of(seed);
      expect(d.ftForgetting).toBeGreaterThan(0.08);
      expect(d.ftZsDrop).toBeGreaterThan(0.05);
      expect(d.tauRatio).toBeLessThan(0.2);
      expect(d.crossCosine).toBeLessThan(0.05);
      expect(d.top20Energy).toBeGreaterThan(0.8);
      expect(d.tiesKeep).toBeGreaterThan(0.88);
      expect(d.expertScore).toBeGreaterThan(d.baseScore + 0.2);
    },
  );

  it('meets every behaviour target on the mean over seeds 0-2', async () => {
    const ds = await Promise.all([0, 1, 2].map(of));
    const summary = summarise(
      'default',
      ds.map((d, seed) => ({ ...d, setting: 'default', seed })),
    );
    expect(summary.misses).toEqual([]);
    expect(regimeChecks({ ...ds[0], crossCosine: summary.crossCosine, tiesKeep: summary.tiesKeep })).toMatchObject({
      crossCosine: true,
      tiesKeep: true,
    });
  });

  it('the under-parameterised world is outside it', async () => {
    const d = await syntheticDiagnostics(syntheticSetup({ world: 'underparameterised', seed: 0 }), 10);
    expect(d.tauRatio).toBeGreaterThan(0.3);
    expect(d.tiesKeep).toBeLessThan(0.6);
  });
});
