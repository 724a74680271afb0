/**
 * The demos of `time-merge clip` and `time-merge run`, run exactly as docs/clip.md and docs/pipeline.md
 * print them, through the bundled CLI (bin/time-merge.js), in a fresh folder.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvObjects } from '../src/report/csv.js';
import { docCommands, timeMerge } from './doc-commands.js';

let cwd: string;
beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'tm-demos-'));
});
afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});

const csv = (path: string) => csvObjects(readFileSync(path, 'utf8'));

describe('docs/clip.md: the clip demo', () => {
  const [write, runIt] = docCommands('docs/clip.md', '## Quick start');

  it('prints the two commands: write the demo, then run it', () => {
    expect(write).toEqual(['clip', '--demo', 'clip-demo']);
    expect(runIt).toEqual(['clip', 'clip-demo/clip-demo.yaml']);
  });

  it('writes the demo and names the command that runs it', async () => {
    const { stdout } = await timeMerge(write, cwd);
    expect(stdout.trim().split('\n').at(-1)?.trim()).toBe(`time-merge ${runIt.join(' ')}`);
    for (const f of ['clip-demo.yaml', 'model/model.safetensors', 'model/tokenizer.json', 'fomo/datasets.json'])
      expect(existsSync(join(cwd, 'clip-demo', f)), f).toBe(true);
  }, 60_000);

  it('runs end to end on the engine present, with findings and a report; methods learn the stream', async () => {
    const { stdout, stderr } = await timeMerge(runIt, cwd);
    expect(stderr).not.toMatch(/\n\s+at /);
    const out = join(cwd, 'clip-demo', 'results');
    expect(stdout).toContain(`results: ${out}`);
    for (const f of ['runs.csv', 'steps.csv', 'matrix.csv', 'retrieval.csv', 'findings.md', 'report.html'])
      expect(existsSync(join(out, f)), f).toBe(true);
    const runs = csv(join(out, 'runs.csv'));
    expect(runs.map((r) => r.run_id)).toEqual(['zeroshot-s0', 'finetune-s0', 'offline_merge-s0', 'ema_paint-s0']);
    const steps = csv(join(out, 'steps.csv'));
    const aKa = (run: string, step: string) => Number(steps.find((s) => s.run_id === run && s.step === step)!.a_ka);
    // A fresh CLIP is near chance; every method trained on the 3 tasks ends above its own step 0.
    for (const run of ['finetune-s0', 'offline_merge-s0', 'ema_paint-s0'])
      expect(aKa(run, '3'), run).toBeGreaterThan(aKa(run, '0'));
    expect(readFileSync(join(out, 'findings.md'), 'utf8')).toContain('Best-in-TIME');
  }, 120_000);

  it('runs on TensorFlow.js too (the engine where Python with torch is missing)', async () => {
    const { stdout } = await timeMerge([...runIt, '--engine', 'tfjs', '--out', 'tfjs', '--no-report'], cwd);
    expect(stdout).toMatch(/^tensor backend: /m);
    expect(csv(join(cwd, 'tfjs', 'runs.csv')).map((r) => r.param_backend)).not.toContain('torch:cpu');
  }, 120_000);
});

describe('docs/pipeline.md: the run demo', () => {
  const [write, runIt] = docCommands('docs/pipeline.md', '### `time-merge run CONFIG`');

  it('prints the two commands: write the demo, then run it', () => {
    expect(write).toEqual(['run', '--demo', 'run-demo']);
    expect(runIt).toEqual(['run', 'run-demo/run-demo.yaml']);
  });

  it('writes the demo in the language found and names the command that runs it', async () => {
    const { stdout } = await timeMerge(write, cwd);
    expect(stdout.trim().split('\n').at(-1)?.trim()).toBe(`time-merge ${runIt.join(' ')}`);
    const python = stdout.includes('Python with numpy');
    for (const f of python ? ['train.py', 'eval.py', 'demo_safetensors.py'] : ['train.mjs', 'eval.mjs', 'demo-lib.mjs'])
      expect(existsSync(join(cwd, 'run-demo', f)), f).toBe(true);
  }, 60_000);

  it('runs end to end and writes findings.md and report.html like sim and clip', async () => {
    const { stdout, stderr } = await timeMerge(runIt, cwd);
    expect(stderr).not.toMatch(/\n\s+at /);
    const out = join(cwd, 'run-demo', 'results');
    expect(stdout).toContain(`report: ${join(out, 'report.html')}`);
    for (const f of ['runs.csv', 'steps.csv', 'matrix.csv', 'findings.md', 'report.html'])
      expect(existsSync(join(out, f)), f).toBe(true);
    const runs = csv(join(out, 'runs.csv'));
    expect(runs).toHaveLength(8);
    const gm = (method: string) => runs.filter((r) => r.method === method).map((r) => Number(r.gm));
    // Fine-tuning forgets the pretraining clouds; the merges keep more of them (the demo's point).
    const aZs = (method: string) => runs.filter((r) => r.method === method).map((r) => Number(r.a_zs));
    for (const [i, ft] of aZs('finetune').entries()) expect(aZs('offline_merge')[i]).toBeGreaterThan(ft);
    expect(gm('finetune')).toHaveLength(2);
    const findings = readFileSync(join(out, 'findings.md'), 'utf8');
    expect(findings).toContain('Offline merging falls behind continual fine-tuning');
    // The seeds' interval is reported (two seeds).
    expect(findings).toMatch(/\[-?\d+\.\d, [-+]?\d+\.\d\]/);
    // The plane keeps to its plot and legend (iso-GM labels once spread far outside it).
    const plane = readFileSync(join(out, 'figures', 'plane.svg'), 'utf8');
    expect(Number(/<svg[^>]* width="([\d.]+)"/.exec(plane)?.[1])).toBeLessThan(800);
  }, 180_000);

  it('the Node programs run the same study where Python with numpy is missing', async () => {
    const { writeRunDemo } = await import('../src/cli/run-demo.js');
    const { config } = await writeRunDemo(join(cwd, 'node-demo'), 'node');
    await timeMerge(['run', config, '--no-report', '--quiet'], cwd);
    const runs = csv(join(cwd, 'node-demo', 'results', 'runs.csv'));
    expect(runs.map((r) => r.run_id)).toEqual([
      'zeroshot-s0',
      'finetune-s0',
      'offline_merge-s0',
      'ema_paint-s0',
      'zeroshot-s1',
      'finetune-s1',
      'offline_merge-s1',
      'ema_paint-s1',
    ]);
    // θ0 scores the same whichever language evaluates it: the data and base are the same files.
    const python = csv(join(cwd, 'run-demo', 'results', 'runs.csv'));
    expect(runs[0].a_ka).toBe(python[0].a_ka);
    expect(existsSync(join(cwd, 'node-demo', 'train.mjs'))).toBe(true);
  }, 180_000);
});
