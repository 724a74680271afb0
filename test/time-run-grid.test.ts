import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../src/params/safetensors/index.js';
import { csvObjects } from '../src/report/csv.js';
import { vec } from './time-helpers.js';

const execFileP = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');
const SCRIPTS = join(import.meta.dirname, 'fixtures', 'external');
let dir: string;
let trainer: string;

/**
 * A trainer that logs each call (its CUDA_VISIBLE_DEVICES, its run's exchange folder, start and end
 * times) to $TRAIN_LOG, takes 120 ms, then does what the fixture trainer does. A call on a GPU also waits
 * (up to 15 s) until some call has started on the other GPU, so runs that really go in parallel overlap
 * however loaded the machine is, and runs kept one at a time still show no overlap.
 */
const WRAPPER = `import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
const out = process.argv[process.argv.indexOf('--out') + 1];
const start = Date.now();
const gpu = process.env.CUDA_VISIBLE_DEVICES;
if (gpu === '0' || gpu === '1') {
  writeFileSync(process.env.TRAIN_LOG + '.started-' + gpu, '');
  const other = process.env.TRAIN_LOG + '.started-' + (gpu === '0' ? '1' : '0');
  for (let waited = 0; !existsSync(other) && waited < 15000; waited += 20) await new Promise((r) => setTimeout(r, 20));
}
await new Promise((r) => setTimeout(r, 120));
await import(${JSON.stringify(pathToFileURL(join(SCRIPTS, 'train.mjs')).href)});
appendFileSync(process.env.TRAIN_LOG, JSON.stringify({ gpu: process.env.CUDA_VISIBLE_DEVICES ?? null, out, start, end: Date.now() }) + '\\n');
`;

const yaml = (out: string) => `study: grid
base: base.safetensors
tasks:
  - { id: t1, data: [1, 0] }
  - { id: t2, data: [0, 2] }
zeroshot:
  - { id: zs, data: [] }
trainer: "node @TRAINER@ --init {init} --task {task} --data {data} --out {out} --seed {seed} --steps {steps}"
evaluator: "node ${join(SCRIPTS, 'evaluate.mjs')} --weights {weights} --tasks {tasks} --data {data}"
methods: [finetune, ema_paint]
baselines: [zeroshot]
steps: 3
seeds: [5, 6]
out: ${out}
`;

async function config(name: string): Promise<string> {
  const path = join(dir, `${name}.yaml`);
  await writeFile(path, yaml(name).replace('@TRAINER@', trainer));
  return path;
}

function cli(args: string[], log: string) {
  return execFileP(process.execPath, ['bin/time-merge.js', ...args], {
    cwd: ROOT,
    maxBuffer: 1 << 24,
    env: { ...process.env, TRAIN_LOG: log },
  });
}

interface Call {
  gpu: string | null;
  out: string;
  start: number;
  end: number;
}
const calls = (log: string): Call[] =>
  readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Call);
const runOf = (c: Call) => /work\/([^/]+)\/train/.exec(c.out)![1];

/** runs.csv (or a shard's) rows without the columns that measure time. */
async function rows(path: string): Promise<Record<string, string>[]> {
  return csvObjects(await readFile(path, 'utf8')).map(({ wall_seconds, merge_seconds, ...r }) => r);
}

const ALL = ['zeroshot-s5', 'finetune-s5', 'ema_paint-s5', 'zeroshot-s6', 'finetune-s6', 'ema_paint-s6'];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'time-run-grid-'));
  trainer = join(dir, 'logging-train.mjs');
  await writeFile(trainer, WRAPPER);
  await writeSafetensors(join(dir, 'base.safetensors'), vec([0, 0]));
  await cli(['run', await config('one'), '--quiet'], join(dir, 'one.log'));
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('time-merge run through the study driver', () => {
  it('--gpus 0,1 runs two runs at once, each on its own GPU, to the same results as one at a time', async () => {
    const log = join(dir, 'gpus.log');
    const { stdout } = await cli(['run', await config('gpus'), '--gpus', '0,1'], log);
    expect(stdout).toMatch(/^\[gpu [01]\] method ema_paint \(weighted-average\), seed 6$/m);
    // The summary table time-merge sim prints: mean over the 2 seeds per method.
    expect(stdout).toMatch(/^setting default \(3 method x technique pairs\)$/m);
    expect(stdout).toMatch(/^ema_paint +weighted-average +2 /m);
    const cs = calls(log);
    // Every run's trainer calls saw one GPU, and a GPU never had two calls at once.
    const gpuOfRun = new Map<string, Set<string | null>>();
    for (const c of cs) gpuOfRun.set(runOf(c), (gpuOfRun.get(runOf(c)) ?? new Set()).add(c.gpu));
    expect([...gpuOfRun.keys()].sort()).toEqual(ALL.filter((id) => !id.startsWith('zeroshot')).sort());
    for (const [run, gpus] of gpuOfRun) {
      expect(gpus.size, run).toBe(1);
      expect(['0', '1']).toContain([...gpus][0]);
    }
    for (const gpu of ['0', '1']) {
      const mine = cs.filter((c) => c.gpu === gpu).sort((a, b) => a.start - b.start);
      expect(mine.length, `calls on GPU ${gpu}`).toBeGreaterThan(0);
      for (let i = 1; i < mine.length; i++) expect(mine[i].start).toBeGreaterThanOrEqual(mine[i - 1].end);
    }
    // Both GPUs worked at the same time: some call on GPU 0 overlaps one on GPU 1.
    const on = (g: string) => cs.filter((c) => c.gpu === g);
    expect(on('0').some((a) => on('1').some((b) => a.start < b.end && b.start < a.end))).toBe(true);
    expect(await rows(join(dir, 'gpus', 'runs.csv'))).toEqual(await rows(join(dir, 'one', 'runs.csv')));
    expect(readFileSync(join(dir, 'gpus', 'matrix.csv'), 'utf8')).toBe(
      readFileSync(join(dir, 'one', 'matrix.csv'), 'utf8'),
    );
    expect(JSON.parse(readFileSync(join(dir, 'gpus', 'config.json'), 'utf8')).gpus).toEqual([0, 1]);
    // Without --gpus no GPU is hidden or chosen.
    expect(new Set(calls(join(dir, 'one.log')).map((c) => c.gpu))).toEqual(
      new Set([process.env.CUDA_VISIBLE_DEVICES ?? null]),
    );
  }, 60_000);

  it('--workers 2 gives the same runs.csv; shard 1/2 + 2/2 = the whole study', async () => {
    await cli(['run', await config('two'), '--workers', '2', '--quiet'], join(dir, 'two.log'));
    expect(await rows(join(dir, 'two', 'runs.csv'))).toEqual(await rows(join(dir, 'one', 'runs.csv')));
    const path = await config('shards');
    await cli(['run', path, '--shard', '1/2', '--quiet'], join(dir, 'shards.log'));
    await cli(['run', path, '--shard', '2/2', '--quiet'], join(dir, 'shards.log'));
    const parts = [
      ...(await rows(join(dir, 'shards', 'runs.shard-1-of-2.csv'))),
      ...(await rows(join(dir, 'shards', 'runs.shard-2-of-2.csv'))),
    ];
    const byId = (rs: Record<string, string>[]) => [...rs].sort((a, b) => (a.run_id < b.run_id ? -1 : 1));
    expect(byId(parts)).toEqual(byId(await rows(join(dir, 'one', 'runs.csv'))));
    expect(existsSync(join(dir, 'shards', 'runs.csv'))).toBe(false);
  }, 60_000);

  it('after the study is killed, a rerun redoes only the runs that had not finished', async () => {
    const path = await config('killed');
    const log = join(dir, 'killed.log');
    const journal = join(dir, 'killed', '.journal.ndjson');
    const child = spawn(process.execPath, ['bin/time-merge.js', 'run', path, '--quiet'], {
      cwd: ROOT,
      env: { ...process.env, TRAIN_LOG: log },
      stdio: 'ignore',
    });
    const closed = new Promise((r) => child.on('close', r));
    // Kill it once two runs are finished (journaled) and the third has started training.
    for (let i = 0; i < 300; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const lines = existsSync(journal) ? readFileSync(journal, 'utf8').trim().split('\n').length : 0;
      if (lines >= 2 && existsSync(log) && calls(log).some((c) => runOf(c) === 'ema_paint-s5')) break;
    }
    child.kill('SIGKILL');
    await closed;
    const finished = readFileSync(journal, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { runId: string }).runId);
    expect(finished.length).toBeGreaterThanOrEqual(2);
    expect(finished.length).toBeLessThan(6);
    const before = calls(log).length;
    const { stdout, stderr } = await cli(['run', path], log);
    expect(stderr).toMatch(/stale|took over|no longer/i);
    expect(stdout).toContain(`${finished.length} finished run(s) kept from ${join(dir, 'killed')}`);
    const redone = new Set(calls(log).slice(before).map(runOf));
    for (const id of finished) expect(redone.has(id), id).toBe(false);
    for (const id of ALL.filter((x) => !finished.includes(x) && !x.startsWith('zeroshot')))
      expect(redone.has(id), id).toBe(true);
    expect(await rows(join(dir, 'killed', 'runs.csv'))).toEqual(await rows(join(dir, 'one', 'runs.csv')));
    expect(existsSync(journal)).toBe(false);
  }, 60_000);
});
