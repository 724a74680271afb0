import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TORCH_ENGINE_DIR } from '../src/clip/engine.js';
import { TORCH } from './torch-available.js';

const run = promisify(execFile);
const REPO = join(import.meta.dirname, '..');
const gpuCheck = (args: string[], env: NodeJS.ProcessEnv) =>
  run('bash', ['benchmarks/gpu-check.sh', ...args], {
    cwd: REPO,
    env: { ...process.env, ...env },
    maxBuffer: 1 << 24,
  }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

describe.skipIf(!TORCH.ok)('benchmarks/gpu-check.sh', () => {
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'gpu-check-'));
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it.skipIf(TORCH.ok && TORCH.cuda)(
    'requires CUDA: exit 2 naming the interpreter, and no stale figures left',
    async () => {
      await writeFile(join(out, 'torch-gpu-check.json'), '{"device": "cuda", "stale": true}\n');
      const r = await gpuCheck([], { OUT: out });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        /^gpu-check: \S+ \(torch \S+ cuda \S+ available False\) sees no CUDA GPU; the GPU check needs one/m,
      );
      expect(existsSync(join(out, 'torch-gpu-check.json'))).toBe(false);
    },
    60_000,
  );

  it('names numpy and pillow when the interpreter lacks them', async () => {
    const shim = join(out, 'python3');
    await writeFile(shim, '#!/bin/sh\necho "ModuleNotFoundError: No module named \'PIL\'" >&2\nexit 1\n');
    await chmod(shim, 0o755);
    const r = await gpuCheck(['--tiny'], { OUT: out, TIME_MERGE_PYTHON: shim });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `gpu-check: needs python3 with torch, numpy and pillow; ${shim} failed: ModuleNotFoundError: No module named 'PIL'`,
    );
  });

  it('keeps the figures of the stages it finished when cut by its deadline', async () => {
    if (!TORCH.ok) return;
    const json = join(out, 'cut.json');
    await run(
      TORCH.python,
      ['-m', 'time_merge_torch.bench', '--size', 'tiny', '--batches', '8', '--deadline', '0.001', '--out', json],
      { env: { ...process.env, PYTHONPATH: TORCH_ENGINE_DIR } },
    );
    const r = JSON.parse(readFileSync(json, 'utf8')) as { complete: boolean; skipped: string[]; size: string };
    expect(r).toMatchObject({ complete: false, size: 'tiny' });
    expect(r.skipped).toEqual(['plain_8', 'worker']);
  }, 60_000);

  it('--tiny measures every target end to end on this machine', async () => {
    // No budget here: on a busy machine a stage past the 8 minutes would be skipped, and this test must
    // not depend on the machine's speed.
    const r = await gpuCheck(['--tiny'], { OUT: out, GPU_CHECK_BUDGET: '100000' });
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(readFileSync(join(out, 'torch-gpu-check-tiny.json'), 'utf8')) as Record<string, never>;
    expect(j.complete).toBe(true);
    for (const key of ['plain_8', 'plain_16', 'train_8', 'train_16', 'loader_alone', 'eval_first', 'eval_again'])
      expect((j[key] as { images_per_s: number }).images_per_s, key).toBeGreaterThan(0);
    expect((j.eval_again as { load_s: number }).load_s).toBeGreaterThan(0);
    expect(j.ratio_16).toBeGreaterThan(0);
    const p = j.projection as {
      from_batch: number;
      pipeline_step_s: number;
      overhead_fraction: number;
      hours: { training: number; evaluation: number; overhead: number };
      total_hours: number;
    };
    expect(p.from_batch).toBe(16);
    expect(p.pipeline_step_s).toBeGreaterThan(0);
    expect(p.total_hours).toBeCloseTo(p.hours.training + p.hours.evaluation + p.hours.overhead, 9);
    expect(readFileSync(join(out, 'torch-gpu-check-tiny.log'), 'utf8')).toMatch(/gpu-check: \d+ s in all, exit 0/);
  }, 1_200_000);
});
