import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseClipStudy, runClipStudy } from '../src/clip/study.js';
import { csvObjects, parseCsvRecords } from '../src/report/csv.js';
import { DIAGNOSTICS_COLUMNS } from '../src/study/diagnostics-run.js';
import { makeTinyClipTree, TINY_STUDY_COMMON } from './tiny-clip-tree.js';
import { TORCH } from './torch-available.js';

const run = promisify(execFile);
const cli = (args: string[]) =>
  run(process.execPath, ['bin/time-merge.js', ...args], { cwd: join(import.meta.dirname, '..'), maxBuffer: 1 << 24 });

describe('time-merge clip CONFIG --diagnostics', () => {
  let root: string;
  const config = `study: tiny-diag\nT: 2\nsteps: 2\nbatch: 4\nmethods: [finetune]\nseeds: [0, 1]\nout: results\n${TINY_STUDY_COMMON}`;

  beforeAll(async () => {
    root = await makeTinyClipTree('clip-study-diagnostics-');
    await writeFile(join(root, 'study.yaml'), config);
  }, 30_000);
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("writes diagnostics.csv of the study's experts (one row per seed) beside its results", async () => {
    const out = join(root, 'results');
    const { stdout } = await cli(['clip', join(root, 'study.yaml'), '--diagnostics', '--no-report']);
    expect(stdout).toMatch(/^diagnostics, seed 0: ‖τ‖\/‖θ0‖ \d\.\d{4}, cross-dataset cos/m);
    const text = await readFile(join(out, 'diagnostics.csv'), 'utf8');
    expect(parseCsvRecords(text)[0]).toEqual([...DIAGNOSTICS_COLUMNS]);
    const rows = csvObjects(text);
    expect(rows.map((r) => [r.setting, r.seed, r.experts])).toEqual([
      ['tiny-diag', '0', '2'],
      ['tiny-diag', '1', '2'],
    ]);
    // θ0 is the checkpoint, scored by the study's evaluator: its A_KA and A_ZS are the runs' step 0.
    const steps = csvObjects(await readFile(join(out, 'steps.csv'), 'utf8')).filter((s) => s.step === '0');
    expect(steps.map((s) => s.run_id)).toEqual(['finetune-s0', 'finetune-s1']);
    for (const r of rows) {
      expect(Number(r.base_a_ka)).toBeCloseTo(Number(steps[0].a_ka), 12);
      expect(Number(r.base_a_zs)).toBeCloseTo(Number(steps[0].a_zs), 12);
      expect(Number(r.tau_ratio)).toBeGreaterThan(0);
      expect(Number(r.tau_ratio)).toBeLessThan(1);
      expect(Number(r.top20_energy)).toBeGreaterThan(0.2);
      expect(Number(r.top20_energy)).toBeLessThanOrEqual(1 + 1e-12);
      // COLOURS and SKETCHES are different datasets: one cross-dataset pair, no same-dataset pair.
      expect(Math.abs(Number(r.cross_cosine))).toBeLessThanOrEqual(1);
      expect(r.same_cosine).toBe('');
    }
    // Each seed trains its own experts.
    expect(rows[0].tau_ratio).not.toBe(rows[1].tau_ratio);
  }, 120_000);

  it.skipIf(!TORCH.ok)(
    'on the torch engine: θ0 scores as on tfjs, with its own experts',
    async () => {
      // The tfjs figures the first test wrote.
      const tfjs = csvObjects(await readFile(join(root, 'results', 'diagnostics.csv'), 'utf8'));
      const torchConfig = config.replace('seeds: [0, 1]', 'seeds: [0]').replace('out: results', 'out: results-torch');
      const study = parseClipStudy(`${torchConfig}engine: torch\nloaderWorkers: 0\n`, root);
      const result = await runClipStudy(study, () => {}, { diagnostics: true });
      expect(result.diagnostics?.map((d) => [d.setting, d.seed, d.experts])).toEqual([['tiny-diag', 0, 2]]);
      const [torch] = result.diagnostics!;
      expect(torch.baseAKa).toBeCloseTo(Number(tfjs[0].base_a_ka), 6);
      expect(torch.baseAZs).toBeCloseTo(Number(tfjs[0].base_a_zs), 6);
      expect(torch.tauRatio).toBeGreaterThan(0);
      expect(result.files).toContain(join(root, 'results-torch', 'diagnostics.csv'));
    },
    120_000,
  );

  it('is refused with a shard of several, before any work', async () => {
    const study = parseClipStudy(config, root);
    await expect(runClipStudy(study, () => {}, { diagnostics: true, shard: { index: 1, count: 2 } })).rejects.toThrow(
      '--diagnostics with --shard 1/2: the diagnostics cover the whole stream; compute them in a run without --shard',
    );
  });
});
