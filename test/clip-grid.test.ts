import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseClipStudy, runClipStudy } from '../src/clip/study.js';
import { csvObjects } from '../src/report/csv.js';
import { makeTinyClipTree, TINY_STUDY_COMMON } from './tiny-clip-tree.js';
import { TORCH } from './torch-available.js';

let root: string;
beforeAll(async () => {
  root = await makeTinyClipTree('clip-grid-');
}, 30_000);
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const study = (out: string, extra = '') =>
  parseClipStudy(
    `study: tiny-grid\nT: 2\nsteps: 2\nbatch: 4\nmethods: [finetune, ema_paint]\nbaselines: [zeroshot]\nseed: 1\nout: ${out}\n${TINY_STUDY_COMMON}${extra}`,
    root,
  );

/** A results CSV's rows without the columns that measure time. */
async function rows(path: string): Promise<Record<string, string>[]> {
  return csvObjects(await readFile(path, 'utf8')).map((r) => {
    for (const k of Object.keys(r)) if (k.endsWith('_seconds')) delete r[k];
    return r;
  });
}
const byRun = (rs: Record<string, string>[]) =>
  [...rs].sort((a, b) => (a.run_id + (a.step ?? '') < b.run_id + (b.step ?? '') ? -1 : 1));

describe('time-merge clip through the study driver (tfjs)', () => {
  it('shard 1/2 + 2/2 = the whole study, retrieval figures included; a resumed rerun keeps every run', async () => {
    const whole = await runClipStudy(study('whole', 'resume: true\n'), () => {});
    expect(whole.runs.map((r) => r.runId)).toEqual(['zeroshot-s1', 'finetune-s1', 'ema_paint-s1']);
    for (const index of [1, 2]) {
      const r = await runClipStudy(study('sharded', 'resume: true\n'), () => {}, { shard: { index, count: 2 } });
      expect(r.runs.map((x) => x.runId)).toEqual(index === 1 ? ['zeroshot-s1', 'ema_paint-s1'] : ['finetune-s1']);
    }
    for (const file of ['runs', 'steps', 'retrieval']) {
      const parts = [
        ...(await rows(join(root, 'sharded', `${file}.shard-1-of-2.csv`))),
        ...(await rows(join(root, 'sharded', `${file}.shard-2-of-2.csv`))),
      ];
      expect(byRun(parts), file).toEqual(byRun(await rows(join(root, 'whole', `${file}.csv`))));
    }
    expect(existsSync(join(root, 'sharded', 'runs.csv'))).toBe(false);

    const retrieval = readFileSync(join(root, 'whole', 'retrieval.csv'), 'utf8');
    const runsCsv = readFileSync(join(root, 'whole', 'runs.csv'), 'utf8');
    const logs: string[] = [];
    const again = await runClipStudy(study('whole', 'resume: true\n'), (m) => logs.push(m));
    expect([again.executed, again.kept]).toEqual([0, 3]);
    expect(logs).toContain(
      `3 finished run(s) kept from ${join(root, 'whole')}: zeroshot-s1, finetune-s1, ema_paint-s1`,
    );
    expect(logs.some((m) => m.startsWith('method '))).toBe(false);
    expect(readFileSync(join(root, 'whole', 'runs.csv'), 'utf8')).toBe(runsCsv);
    expect(readFileSync(join(root, 'whole', 'retrieval.csv'), 'utf8')).toBe(retrieval);

    // Another technique is another run for the methods (not kept), whose step logs then refuse to resume.
    await expect(runClipStudy(study('whole', 'resume: true\ntechnique: ties\n'), () => {})).rejects.toThrow(
      /resume\/(finetune|ema_paint)-s1\/run\.json was written by a different run \(technique: recorded "weighted-average", now "ties"\)/,
    );
  }, 120_000);

  it('runs one run at a time on tfjs: --workers and --gpus say what to use instead', async () => {
    await expect(runClipStudy(study('w'), () => {}, { slots: { count: 2 } })).rejects.toThrow(
      '--workers 2: the tfjs engine trains in this process, one run at a time; use engine: torch, or --shard i/n in separate processes',
    );
    await expect(
      runClipStudy(study('g', 'engine: tfjs\n'), () => {}, { slots: { count: 2, gpus: [0, 1] } }),
    ).rejects.toThrow('--gpus 0,1 needs the torch engine (engine: torch): the tfjs engine trains in this process');
  });
});

/**
 * A stand-in interpreter for a machine with GPUs: the probe says CUDA is there; the worker is the real
 * one on the CPU (an init asking for cuda is turned into cpu), and every command it gets is logged with
 * the worker's CUDA_VISIBLE_DEVICES, the device asked for and the time.
 */
const shim = (python: string) => `#!${python}
import json, os, sys, time
def note(**kw):
    with open(os.environ['FAKE_GPU_LOG'], 'a') as f:
        f.write(json.dumps({'pid': os.getpid(), 'gpu': os.environ.get('CUDA_VISIBLE_DEVICES'), 't': time.time(), **kw}) + '\\n')
if sys.argv[1] == '-c':
    import torch
    print(json.dumps({'torch': torch.__version__, 'cuda': True}))
    sys.exit(0)
class Commands:
    def __iter__(self):
        for line in sys.__stdin__:
            req = json.loads(line)
            note(cmd=req.get('cmd'), device=req.get('device'))
            if req.get('cmd') == 'init':
                req['device'] = 'cpu'
            yield json.dumps(req) + '\\n'
sys.stdin = Commands()
import runpy
sys.argv = ['worker']
runpy.run_module('time_merge_torch.worker', run_name='__main__')
`;

describe.skipIf(!TORCH.ok)('time-merge clip --gpus on the torch engine', () => {
  const torchStudy = (out: string, extra = '') => study(out, `engine: torch\nloaderWorkers: 0\n${extra}`);

  it('starts one worker per GPU, each seeing only its GPU and asked for cuda, running at once, to the one-slot results', async () => {
    if (!TORCH.ok) return;
    const interpreter = join(root, 'fake-gpu-python');
    await writeFile(interpreter, shim(TORCH.python));
    await chmod(interpreter, 0o755);
    const log = join(root, 'fake-gpu.log');
    const old = { python: process.env.TIME_MERGE_PYTHON, log: process.env.FAKE_GPU_LOG };
    process.env.TIME_MERGE_PYTHON = interpreter;
    process.env.FAKE_GPU_LOG = log;
    const lines: string[] = [];
    try {
      await runClipStudy(torchStudy('torch-gpus'), (m) => lines.push(m), { slots: { count: 2, gpus: [0, 1] } });
    } finally {
      for (const [k, v] of [
        ['TIME_MERGE_PYTHON', old.python],
        ['FAKE_GPU_LOG', old.log],
      ] as const)
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    }
    const cmds = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { pid: number; gpu: string; t: number; cmd: string; device?: string });
    const pids = [...new Set(cmds.map((c) => c.pid))];
    expect(pids).toHaveLength(2);
    const gpuOf = pids.map((p) => [...new Set(cmds.filter((c) => c.pid === p).map((c) => c.gpu))]);
    expect(gpuOf.map((g) => g.length)).toEqual([1, 1]);
    expect(gpuOf.flat().sort()).toEqual(['0', '1']);
    expect(cmds.filter((c) => c.cmd === 'init').map((c) => c.device)).toEqual(['cuda', 'cuda']);
    // The two workers were alive and working at the same time.
    const span = (p: number) => {
      const ts = cmds.filter((c) => c.pid === p).map((c) => c.t);
      return [Math.min(...ts), Math.max(...ts)];
    };
    const [a, b] = pids.map(span);
    expect(Math.max(a[0], b[0])).toBeLessThan(Math.min(a[1], b[1]));
    expect(lines.some((l) => /^\[gpu [01]\] method (finetune|ema_paint) \(weighted-average\), seed 1$/.test(l))).toBe(
      true,
    );

    // The same study on one CPU worker gives the same runs (the backend column aside).
    await runClipStudy(torchStudy('torch-one'), () => {});
    const strip = (rs: Record<string, string>[]) => rs.map(({ param_backend, ...r }) => r);
    const gpus = await rows(join(root, 'torch-gpus', 'runs.csv'));
    expect(gpus.map((r) => r.param_backend)).toEqual(['torch:cuda', 'torch:cuda', 'torch:cuda']);
    expect(strip(gpus)).toEqual(strip(await rows(join(root, 'torch-one', 'runs.csv'))));
    expect(JSON.parse(readFileSync(join(root, 'torch-gpus', 'config.json'), 'utf8')).gpus).toEqual([0, 1]);
  }, 240_000);

  it('--gpus where torch sees no GPU, or with device cpu, is an error saying what to do instead', async () => {
    if (TORCH.ok && !TORCH.cuda)
      await expect(runClipStudy(torchStudy('no-gpu'), () => {}, { slots: { count: 1, gpus: [0] } })).rejects.toThrow(
        /^--gpus 0: torch \S+ at \S+ sees no CUDA GPU \(torch\.cuda\.is_available\(\) is False; .*\); set TIME_MERGE_PYTHON .*, or leave --gpus out to run on the CPU$/,
      );
    await expect(
      runClipStudy(torchStudy('cpu', 'device: cpu\n'), () => {}, { slots: { count: 2, gpus: [0, 1] } }),
    ).rejects.toThrow(
      '--gpus 0,1 runs each run on its own GPU, but device is cpu; for runs at once on the CPU use --workers',
    );
  }, 60_000);
});

describe('--gpus, --workers, --shard and --resume on the clip and run commands', () => {
  const command = async (name: 'clip' | 'run', args: string[]) => {
    const { Command } = await import('commander');
    const program = new Command().exitOverride();
    if (name === 'clip') (await import('../src/cli/commands/clip.js')).registerClip(program);
    else (await import('../src/cli/commands/run.js')).registerRun(program);
    return program.parseAsync([name, ...args], { from: 'user' });
  };

  it('rejects a bad GPU list, both --workers and --gpus, and a bad shard before any work', async () => {
    const config = join(root, 'flags.yaml');
    await writeFile(config, `study: flags\nT: 2\nsteps: 1\nbatch: 4\nout: flags-out\n${TINY_STUDY_COMMON}`);
    for (const name of ['clip', 'run'] as const) {
      await expect(command(name, [config, '--gpus', '0,0'])).rejects.toThrow(
        '--gpus "0,0": GPU 0 is listed twice (each GPU runs one run at a time)',
      );
      await expect(command(name, [config, '--gpus', 'cuda:0'])).rejects.toThrow(/"cuda:0" is not a GPU number/);
      await expect(command(name, [config, '--workers', '2', '--gpus', '0,1'])).rejects.toThrow(
        /--workers and --gpus both set the runs at once/,
      );
      await expect(command(name, [config, '--shard', '3/2'])).rejects.toThrow('--shard "3/2": need 1 <= i <= n');
    }
    expect(existsSync(join(root, 'flags-out'))).toBe(false);
  });

  it('--resume and --no-resume override the config', async () => {
    const config = join(root, 'resume-flag.yaml');
    await writeFile(
      config,
      `study: rf\nT: 2\nsteps: 1\nbatch: 4\nmethods: [finetune]\nout: rf-out\nresume: true\n${TINY_STUDY_COMMON}`,
    );
    await command('clip', [config, '--no-report']);
    const first = readFileSync(join(root, 'rf-out', 'runs.csv'), 'utf8');
    // Kept: the file is rewritten from the kept run, byte for byte (wall time included).
    await command('clip', [config, '--no-report']);
    expect(readFileSync(join(root, 'rf-out', 'runs.csv'), 'utf8')).toBe(first);
    // --no-resume runs it again: its wall time is measured anew.
    await command('clip', [config, '--no-report', '--no-resume']);
    const again = csvObjects(readFileSync(join(root, 'rf-out', 'runs.csv'), 'utf8'));
    expect(again[0].wall_seconds).not.toBe(csvObjects(first)[0].wall_seconds);
  }, 60_000);
});
