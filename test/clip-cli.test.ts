import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerClip } from '../src/cli/commands/clip.js';
import { TimeMergeError } from '../src/params/errors.js';
import { csvObjects } from '../src/report/csv.js';
import { makeTinyClipTree, TINY_STUDY_COMMON } from './tiny-clip-tree.js';

const run = promisify(execFile);
const cli = (args: string[]) =>
  run(process.execPath, ['bin/time-merge.js', ...args], { cwd: join(import.meta.dirname, '..'), maxBuffer: 1 << 24 });

describe('time-merge clip CONFIG', () => {
  let root: string;
  const config = (extra = '') =>
    `study: tiny-cli\nT: 2\nsteps: 3\nbatch: 4\nmethods: [finetune]\nout: results\n${TINY_STUDY_COMMON}${extra}`;

  beforeAll(async () => {
    root = await makeTinyClipTree('clip-cli-');
    await writeFile(join(root, 'study.yaml'), config());
  }, 30_000);
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('runs the study and writes the results folder; --steps and --out override the config', async () => {
    const out = join(root, 'cli-out');
    const { stdout } = await cli(['clip', join(root, 'study.yaml'), '--steps', '2', '--out', out]);
    expect(stdout).toMatch(/^tensor backend: wasm \(forced\)$/m);
    expect(stdout).toMatch(/stream tiny_sequence\/T=2: 2 adaptation tasks, 1 evaluation-only datasets/);
    expect(stdout).toContain(`results: ${out}`);
    for (const f of ['runs.csv', 'steps.csv', 'matrix.csv', 'config.json', 'retrieval.csv'])
      expect(existsSync(join(out, f)), f).toBe(true);
    expect(existsSync(join(root, 'results'))).toBe(false);
    const runs = csvObjects(await readFile(join(out, 'runs.csv'), 'utf8'));
    expect(runs.map((r) => [r.run_id, r.study, r.method, r.T, r.train_steps, r.param_steps, r.param_backend])).toEqual([
      ['finetune-s0', 'tiny-cli', 'finetune', '2', '4', '2', 'wasm'],
    ]);
    expect(Number(runs[0].gm)).toBeCloseTo(Math.sqrt(Number(runs[0].a_ka) * Number(runs[0].a_zs)), 12);
    expect(csvObjects(await readFile(join(out, 'steps.csv'), 'utf8')).map((s) => s.step)).toEqual(['0', '1', '2']);
    const retrieval = csvObjects(await readFile(join(out, 'retrieval.csv'), 'utf8'));
    expect(retrieval.map((r) => `${r.step}/${r.task_id}/${r.pairs}`)).toEqual([
      '0/t2:SKETCHES/4',
      '1/t2:SKETCHES/4',
      '2/t2:SKETCHES/4',
    ]);
    const written = JSON.parse(await readFile(join(out, 'config.json'), 'utf8')) as {
      study: { steps: number };
      backend: string;
    };
    expect([written.study.steps, written.backend]).toEqual([2, 'wasm']);
  }, 60_000);

  it('names a missing weights file, exiting with code 2', async () => {
    await writeFile(
      join(root, 'no-model.yaml'),
      config().replace('model: model.safetensors', 'model: missing.safetensors'),
    );
    await expect(cli(['clip', join(root, 'no-model.yaml')])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining(
        `time-merge: ${join(root, 'missing.safetensors')}: model checkpoint not found (set "model"`,
      ),
    });
  }, 30_000);

  it('rejects an unknown backend, a bad setting and a missing config before any work', async () => {
    // The command's action in-process: the same parsing as the CLI without a process start per case.
    const clip = (args: string[]) => {
      const program = new Command().exitOverride();
      registerClip(program);
      return program.parseAsync(['clip', ...args], { from: 'user' });
    };
    await writeFile(join(root, 'bad-backend.yaml'), config().replace('backend: wasm', 'backend: gpu'));
    await expect(clip([join(root, 'bad-backend.yaml')])).rejects.toThrow(
      new TimeMergeError('CONFIG', 'backend "gpu": choose one of auto, tensorflow, webgpu, wasm, cpu'),
    );
    await expect(clip([join(root, 'study.yaml'), '--backend', 'tpu'])).rejects.toThrow(/^backend "tpu": choose one of/);
    await writeFile(join(root, 'bad-batch.yaml'), config().replace('batch: 4', 'batch: 1'));
    await expect(clip([join(root, 'bad-batch.yaml')])).rejects.toThrow(
      'clip config: "batch" must be at least 2 (the contrastive loss contrasts each image with the other captions of its batch), got 1',
    );
    await expect(clip([join(root, 'study.yaml'), '--steps', 'many'])).rejects.toThrow(
      '--steps must be a non-negative integer, got "many"',
    );
    await expect(clip([join(root, 'absent.yaml')])).rejects.toThrow(
      /absent\.yaml: cannot read the clip config \(ENOENT\)/,
    );
  });

  it('names a missing data root before any backend starts, missing evaluation-only annotations, and why a GPU backend cannot start', async () => {
    const clip = (args: string[]) => {
      const program = new Command().exitOverride();
      registerClip(program);
      return program.parseAsync(['clip', ...args], { from: 'user' });
    };
    // backend: tensorflow would fail (not installed): the data root is reported first.
    await writeFile(
      join(root, 'no-root.yaml'),
      config().replace('data: { root: .', 'data: { root: absent-data').replace('backend: wasm', 'backend: tensorflow'),
    );
    await expect(clip([join(root, 'no-root.yaml')])).rejects.toThrow(
      `${join(root, 'absent-data')}: data root not found (set "data.root" to the FoMo-in-Flux folder`,
    );
    const info = join(root, 'info-no-heldout');
    await mkdir(info, { recursive: true });
    for (const f of await readdir(join(root, 'data_lib', '00_info')))
      if (!f.startsWith('HELDOUT_test')) await copyFile(join(root, 'data_lib', '00_info', f), join(info, f));
    await writeFile(
      join(root, 'no-zs.yaml'),
      config().replace('registry: datasets.json', 'registry: datasets.json, infoDir: info-no-heldout'),
    );
    await expect(clip([join(root, 'no-zs.yaml')])).rejects.toThrow(
      `no evaluation-only dataset has test annotations in ${info} (looked for HELDOUT_test.json); A_ZS needs them, or set "zeroshot: []" to run without`,
    );
    await writeFile(
      join(root, 'named-zs.yaml'),
      config('zeroshot: [HELDOUT]\n').replace(
        'registry: datasets.json',
        'registry: datasets.json, infoDir: info-no-heldout',
      ),
    );
    await expect(clip([join(root, 'named-zs.yaml')])).rejects.toThrow(
      `zeroshot: no test annotations for HELDOUT in ${info}`,
    );
    await expect(clip([join(root, 'study.yaml'), '--backend', 'webgpu', '--no-report'])).rejects.toThrow(
      /tensor backend "webgpu" is not available here: Node has no navigator\.gpu unless the `webgpu` package/,
    );
    await expect(clip([join(root, 'study.yaml'), '--backend', 'tensorflow', '--no-report'])).rejects.toThrow(
      /neither @tensorflow\/tfjs-node-gpu \(CUDA\) nor @tensorflow\/tfjs-node is installed/,
    );
    await expect(clip([join(root, 'study.yaml'), '--engine', 'jax'])).rejects.toThrow(
      'engine "jax": choose one of auto, tfjs, torch',
    );
  }, 30_000);
});
