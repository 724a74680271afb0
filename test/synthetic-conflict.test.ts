import { describe, expect, it } from 'vitest';
import { TimeMergeError } from '../src/params/errors.js';
import { DEFAULT_WORLD, resolveSyntheticConfig, WORLDS } from '../src/synthetic/config.js';
import { syntheticSetup } from '../src/synthetic/setup.js';
import { generateWorld, randomRotation } from '../src/synthetic/world.js';
import { runBaseline } from '../src/time/index.js';
import { NO_REPLAY, type ReplayMix } from '../src/time/types.js';
import { PAPER_REPLAY } from '../src/study/types.js';
import type { SyntheticConfig } from '../src/synthetic/config.js';

// Each conflict setting of the synthetic world, one at a time, with the effect it is there for.

/** Forgetting and A_ZS drop of continual fine-tuning without replay in a world. */
async function continual(stream: Partial<SyntheticConfig>, replay: ReplayMix = NO_REPLAY) {
  const s = syntheticSetup(stream);
  const r = await runBaseline('continual', {
    stream: s.world.stream,
    trainer: s.trainer,
    evaluator: s.evaluator,
    base: s.base,
    stepsPerTask: s.config.stepsPerTask,
    seed: 0,
    replay,
  });
  return { forgetting: r.final.forgetting!, zsDrop: r.steps[0].aZs! - r.final.aZs!, base: r.steps[0] };
}

describe('randomRotation', () => {
  it.each([0, 0.5, 1.5])('is orthogonal with trace m·cos(angle) (angle %f, m = 12)', (angle) => {
    const m = 12;
    const r = randomRotation(m, angle, 'test');
    let trace = 0;
    for (let i = 0; i < m; i++) {
      trace += r[i * m + i];
      for (let j = 0; j < m; j++) {
        let dot = 0;
        for (let l = 0; l < m; l++) dot += r[i * m + l] * r[j * m + l];
        expect(dot).toBeCloseTo(i === j ? 1 : 0, 12);
      }
    }
    expect(trace).toBeCloseTo(m * Math.cos(angle), 12);
  });

  it('angle 0 is the identity', () => {
    const r = randomRotation(5, 0, 'x');
    expect(Array.from(r)).toEqual([1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]);
  });
});

describe('named worlds', () => {
  it('a stream names its world; settings beside the name override it', () => {
    const orth = resolveSyntheticConfig({ world: 'orthogonal' });
    expect([orth.rotation, orth.zeroshotHeldOut, orth.datasets, orth.lr]).toEqual([0, false, 5, 0.008]);
    const under = resolveSyntheticConfig({ world: 'underparameterised', lr: 0.01 });
    expect([under.d, under.k, under.optimiser, under.lr]).toEqual([32, 16, 'adamw', 0.01]);
    expect(resolveSyntheticConfig({}).world).toBe(DEFAULT_WORLD);
    for (const [name, preset] of Object.entries(WORLDS))
      expect(resolveSyntheticConfig({ world: name })).toMatchObject(preset);
  });

  it('an unknown world is a CONFIG error naming the known ones', () => {
    expect(() => resolveSyntheticConfig({ world: 'nope' })).toThrow(TimeMergeError);
    expect(() => resolveSyntheticConfig({ world: 'nope' })).toThrow(
      'synthetic stream: unknown world "nope" (known: conflict, orthogonal, underparameterised)',
    );
  });

  it('the conflict settings leave pretraining data untouched (their own generators)', () => {
    const a = generateWorld(resolveSyntheticConfig({ world: 'orthogonal', seed: 3 }));
    const b = generateWorld(
      resolveSyntheticConfig({ world: 'orthogonal', seed: 3, rotation: 1, zeroshotHeldOut: true }),
    );
    expect(b.pretrain.train.x).toEqual(a.pretrain.train.x);
    expect(b.stream.adaptation[0].data.classLatents).toEqual(a.stream.adaptation[0].data.classLatents);
    expect(b.stream.adaptation[0].data.train.x).not.toEqual(a.stream.adaptation[0].data.train.x);
    expect(b.stream.zeroshot[0].data.classLatents).not.toEqual(a.stream.zeroshot[0].data.classLatents);
  });
});

describe('conflict settings and their effect (seed 0, continual fine-tuning)', () => {
  const base = { world: 'orthogonal', datasets: 20, zeroshotHeldOut: true, zeroshotShift: 1 } as const;

  it('a per-dataset rotation of the latent map makes fine-tuning forget', async () => {
    const flat = await continual({ ...base, rotation: 0 });
    const turned = await continual({ ...base, rotation: 1 });
    expect(flat.forgetting).toBeLessThan(0.06);
    expect(turned.forgetting).toBeGreaterThan(0.1);
    expect(turned.forgetting).toBeGreaterThan(flat.forgetting + 0.06);
  });

  it('more datasets per stream (each its own rotation) forget more', async () => {
    const few = await continual({ ...base, rotation: 1, datasets: 5 });
    const many = await continual({ ...base, rotation: 1 });
    expect(many.forgetting).toBeGreaterThan(few.forgetting + 0.05);
  });

  it('with pretraining replay, held-out zero-shot classes in shifted domains lose more A_ZS than pretraining classes', async () => {
    const pre = await continual({ ...base, rotation: 1, zeroshotHeldOut: false, zeroshotShift: 0.35 }, PAPER_REPLAY);
    const held = await continual({ ...base, rotation: 1 }, PAPER_REPLAY);
    expect(held.zsDrop).toBeGreaterThan(pre.zsDrop + 0.02);
    expect(held.zsDrop).toBeGreaterThan(0.02);
  });
});
