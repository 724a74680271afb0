import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { choosePython, cudaReport, resolveDevice, type TorchProbe } from '../src/clip/engine.js';
import { makeTinyClipTree, TINY_STUDY_COMMON } from './tiny-clip-tree.js';
import { TORCH } from './torch-available.js';

const run = promisify(execFile);
const REPO = join(import.meta.dirname, '..');
// Found once on the test's own PATH: the PATHs under test may not hold bash.
const BASH = execFileSync('sh', ['-c', 'command -v bash'], { encoding: 'utf8' }).trim();

/** gpu-check's copy of the rule, run as a machine without node would. */
async function shellChoice(env: NodeJS.ProcessEnv): Promise<[string, string]> {
  const { stdout } = await run(BASH, ['benchmarks/gpu-check-python.sh'], { cwd: REPO, env });
  return stdout.trim().split('\t') as [string, string];
}

describe.skipIf(!TORCH.ok)('the interpreter rule (engine, gpu-check, tests)', () => {
  let root: string;
  let noTorch: string;
  let withTorch: string;
  let other: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'python-rule-'));
    // A python3 without torch (as a bare venv would be), and one that has it (the real one behind a shim).
    noTorch = join(root, 'bare');
    withTorch = join(root, 'venv');
    other = join(root, 'other');
    for (const d of [noTorch, withTorch, other]) await mkdir(d);
    await writeFile(join(noTorch, 'python3'), '#!/bin/sh\necho "No module named \'torch\'" >&2\nexit 1\n');
    await writeFile(join(withTorch, 'python3'), `#!/bin/sh\nexec ${TORCH.python} "$@"\n`);
    await writeFile(join(other, 'python3'), `#!/bin/sh\nexec ${TORCH.python} "$@"\n`);
    for (const d of [noTorch, withTorch, other]) await chmod(join(d, 'python3'), 0o755);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('takes the first python3 on PATH that imports torch, passing over one that does not', async () => {
    const env = { PATH: [noTorch, withTorch, other, '/usr/bin', '/bin'].join(':') };
    const chosen = await choosePython(undefined, env);
    expect([chosen.source, chosen.probe.python, chosen.probe.ok]).toEqual(['PATH', join(withTorch, 'python3'), true]);
    expect(await shellChoice(env)).toEqual([join(withTorch, 'python3'), 'PATH']);
  });

  it('TIME_MERGE_PYTHON wins over the config, and the config over PATH', async () => {
    const env = { PATH: [withTorch, '/usr/bin', '/bin'].join(':'), TIME_MERGE_PYTHON: join(other, 'python3') };
    const byEnv = await choosePython(join(noTorch, 'python3'), env);
    expect([byEnv.source, byEnv.probe.python]).toEqual(['TIME_MERGE_PYTHON', join(other, 'python3')]);
    expect(await shellChoice(env)).toEqual([join(other, 'python3'), 'TIME_MERGE_PYTHON']);
    const byConfig = await choosePython(join(other, 'python3'), { PATH: env.PATH });
    expect([byConfig.source, byConfig.probe.python]).toEqual(['config', join(other, 'python3')]);
  });

  it('falls back to the system python3 when no python3 on PATH imports torch', async () => {
    const env = { PATH: noTorch };
    const chosen = await choosePython(undefined, env);
    expect([chosen.source, chosen.probe.python]).toEqual(['system', '/usr/bin/python3']);
    expect(await shellChoice(env)).toEqual(['/usr/bin/python3', 'system']);
  });
});

describe('the device: never a silent CPU', () => {
  const cpuTorch: Extract<TorchProbe, { ok: true }> = {
    ok: true,
    python: '/opt/venv/bin/python3',
    torch: '2.4.0+cpu',
    cuda: false,
    cudaBuild: null,
    gpu: null,
  };
  const gpuTorch = { ...cpuTorch, torch: '2.4.0+cu124', cuda: true, cudaBuild: '12.4', gpu: 'NVIDIA H100 80GB HBM3' };

  it('auto takes the GPU when torch sees one and says which device it took either way', () => {
    expect(resolveDevice('auto', gpuTorch)).toEqual({ device: 'cuda', why: 'auto: NVIDIA H100 80GB HBM3' });
    expect(resolveDevice('auto', cpuTorch)).toEqual({
      device: 'cpu',
      why: 'auto: torch 2.4.0+cpu at /opt/venv/bin/python3 sees no CUDA GPU (torch.cuda.is_available() is False; a CPU-only build)',
    });
    expect(resolveDevice('cpu', gpuTorch)).toEqual({ device: 'cpu', why: 'device: cpu in the config' });
  });

  it('device cuda or --gpus without CUDA is an error naming the interpreter and what it reported', () => {
    const cure = 'set TIME_MERGE_PYTHON (or "python:" in the config) to an interpreter whose torch has CUDA';
    expect(() => resolveDevice('cuda', { ...cpuTorch, cudaBuild: '12.1' })).toThrow(
      `device "cuda": torch 2.4.0+cpu at /opt/venv/bin/python3 sees no CUDA GPU (torch.cuda.is_available() is False; built for CUDA 12.1); ${cure}, or set device: cpu`,
    );
    expect(() => resolveDevice('auto', cpuTorch, '0,1')).toThrow(
      `--gpus 0,1: ${cudaReport(cpuTorch)}; ${cure}, or leave --gpus out to run on the CPU`,
    );
    expect(resolveDevice('auto', gpuTorch, '0,1').device).toBe('cuda');
  });
});

describe.skipIf(!TORCH.ok || TORCH.cuda)('time-merge clip asking for cuda on a CPU-only torch', () => {
  let root: string;
  beforeAll(async () => {
    root = await makeTinyClipTree('clip-no-cuda-');
    await writeFile(
      join(root, 'study.yaml'),
      `study: no-cuda\nT: 2\nsteps: 1\nbatch: 4\nmethods: [finetune]\nout: results\nengine: torch\ndevice: cuda\n${TINY_STUDY_COMMON}`,
    );
  }, 30_000);
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('exits 2 with one line naming the interpreter and what it reported, writing nothing', async () => {
    if (!TORCH.ok) return;
    const err = await run(process.execPath, ['bin/time-merge.js', 'clip', join(root, 'study.yaml')], {
      cwd: REPO,
    }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(2);
    expect(err?.stderr.trim()).toMatch(
      new RegExp(
        `^time-merge: device "cuda": torch \\S+ at ${TORCH.python.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} sees no CUDA GPU \\(torch\\.cuda\\.is_available\\(\\) is False; [^)]*\\); set TIME_MERGE_PYTHON \\(or "python:" in the config\\) to an interpreter whose torch has CUDA, or set device: cpu$`,
      ),
    );
    expect(existsSync(join(root, 'results'))).toBe(false);
  }, 60_000);
});
