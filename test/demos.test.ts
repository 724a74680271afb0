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
