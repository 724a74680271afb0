import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initClipParams } from '../src/clip/init.js';
import { parseClipStudy, runClipStudy } from '../src/clip/study.js';
import { TINY_CLIP } from '../src/clip/tiny.js';
import { saveClipCheckpoint } from '../src/clip/weights.js';
import { ParamSet } from '../src/params/paramset.js';
import { runFingerprint } from '../src/time/resume.js';
import { makeTinyClipTree, TINY_STUDY_COMMON } from './tiny-clip-tree.js';

let root: string;
beforeAll(async () => {
  root = await makeTinyClipTree('clip-resume-settings-');
}, 30_000);
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A resumable study (zeroshot baseline, then finetune), with `edit` applied to its YAML. */
const study = (out: string, edit: (yaml: string) => string = (y) => y) =>
  parseClipStudy(
    edit(
      `study: tiny-resume\nT: 2\nsteps: 2\nbatch: 4\nmethods: [finetune]\nbaselines: [zeroshot]\nseed: 1\nresume: true\nout: ${out}\n${TINY_STUDY_COMMON}`,
    ),
    root,
  );

describe('resuming a clip study after a setting that changes its scores', () => {
  it('keeps every run when the checkpoint is a copy in another folder', async () => {
    const first = await runClipStudy(study('same'), () => {});
    expect([first.executed, first.kept]).toEqual([2, 0]);
    await mkdir(join(root, 'copy'));
    await copyFile(join(root, 'model.safetensors'), join(root, 'copy', 'model.safetensors'));
    const copy = await runClipStudy(
      study('same', (y) => y.replace('model: model.safetensors', 'model: copy/model.safetensors')),
      () => {},
    );
    expect([copy.executed, copy.kept]).toEqual([0, 2]);
  }, 60_000);

  it('a changed eval setting reruns the baseline and is refused, naming it, by the method’s step log', async () => {
    await runClipStudy(study('eval'), () => {});
    const logs: string[] = [];
    await expect(
      runClipStudy(
        study('eval', (y) => y.replace('eval: { maxSamples: 4 }', 'eval: { maxSamples: 3 }')),
        (m) => logs.push(m),
      ),
    ).rejects.toThrow(
      `resume/finetune-s1/run.json was written by a different run (eval: recorded {"batch":64,"maxSamples":4,"k":5,"subset":1,"seed":0}, now {"batch":64,"maxSamples":3,"k":5,"subset":1,"seed":0})`,
    );
    expect(logs).toContain('baseline zeroshot, seed 1');
    expect(logs.some((m) => m.includes('finished run(s) kept'))).toBe(false);
  }, 60_000);

  it('so is a trainer setting outside the params columns (warm-up)', async () => {
    await runClipStudy(study('warmup'), () => {});
    await expect(
      runClipStudy(
        study('warmup', (y) => `${y}warmup: 0.5\n`),
        () => {},
      ),
    ).rejects.toThrow('resume/finetune-s1/run.json was written by a different run (warmup: recorded 0.1, now 0.5)');
  }, 60_000);

  it('a checkpoint replaced at the same path is another θ0: no run is kept', async () => {
    await runClipStudy(study('model'), () => {});
    const logs: string[] = [];
    await saveClipCheckpoint(join(root, 'other.safetensors'), initClipParams(TINY_CLIP, 3), TINY_CLIP, 'open_clip');
    await copyFile(join(root, 'other.safetensors'), join(root, 'model.safetensors'));
    await expect(runClipStudy(study('model'), (m) => logs.push(m))).rejects.toThrow(
      /resume\/finetune-s1\/run\.json was written by a different run \(base: recorded/,
    );
    expect(logs).toContain('baseline zeroshot, seed 1');
  }, 60_000);
});

describe('the step log fingerprint', () => {
  it('takes the caller’s settings beside its own, refusing one that would replace a key of its own', async () => {
    const stream = { name: 's', adaptation: [], zeroshot: [] };
    const head = { method: 'm', init: 'i', deploy: 'd', technique: 't' };
    const c = { stream, base: new ParamSet(), stepsPerTask: 1, seed: 0 };
    const fp = await runFingerprint({ ...c, settings: { lr: 0.1, eval: { k: 5 } } }, head);
    expect([fp.lr, fp.eval, fp.seed]).toEqual([0.1, { k: 5 }, 0]);
    await expect(runFingerprint({ ...c, settings: { seed: 4 } }, head)).rejects.toThrow(
      `run setting "seed" is already part of every run's fingerprint; give it another name`,
    );
  });
});
