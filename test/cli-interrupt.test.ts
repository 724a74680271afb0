import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import seedrandom from 'seedrandom';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParamSet } from '../src/params/paramset.js';
import { writeSafetensors } from '../src/params/safetensors/index.js';
import { csvObjects } from '../src/report/csv.js';
import { HAVE_PTY, plain, runCli, STACK, startCli } from './cli-terminal.js';

// Ctrl-C and SIGTERM as a person or a scheduler sends them: at seeded random moments of a study, then the
// same command again, which must finish with the results an uninterrupted run writes.

/** A study of 12 runs that takes a few seconds on 2 threads. */
const STUDY = `name: stoppable
description: A study to interrupt.
methods: [finetune, offline_merge, ema_paint]
techniques: [weighted-average]
seeds: [0, 1, 2, 3]
stream: { T: 6, datasets: 3, stepsPerTask: 30, pretrainSteps: 200, zeroshotTasks: 1, d: 24, k: 12 }
`;
const MESSAGE = /time-merge: interrupted: (\d+) of 12 runs kept in (.+); rerun the same command to resume/;
// Columns that time the work rather than compute it.
const TIMING = /seconds|^started$/;

let dir: string;
let reference: Record<string, string>[];

function results(text: string): Record<string, string>[] {
  return csvObjects(text).map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !TIMING.test(k))));
}

/** Resolves when `ready()` holds or the process has ended. */
async function until(ready: () => boolean, ended: Promise<unknown>): Promise<void> {
  let over = false;
  void ended.then(() => {
    over = true;
  });
  while (!over && !ready()) await new Promise((r) => setTimeout(r, 20));
}

/** Runs in a study's journal: its complete lines (each finished run appends one). */
function journaled(path: string): number {
  return existsSync(path)
    ? readFileSync(path, 'utf8')
        .split('\n')
        .slice(0, -1)
        .filter((l) => l.startsWith('{')).length
    : 0;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tm-interrupt-'));
  await writeFile(join(dir, 'stoppable.yaml'), STUDY);
  const r = await runCli(['sim', 'stoppable.yaml', '--out', 'whole', '--workers', '2', '--no-report'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  reference = results(await readFile(join(dir, 'whole', 'runs.csv'), 'utf8'));
  expect(reference).toHaveLength(12);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('an interrupted study', () => {
  const rng = seedrandom('time-merge interrupt test');
  const cases = [
    { signal: 'SIGINT', tty: false, workers: '2' },
    { signal: 'SIGTERM', tty: false, workers: '2' },
    { signal: 'SIGINT', tty: false, workers: '1' },
    ...(HAVE_PTY ? [{ signal: 'Ctrl-C', tty: true, workers: '2' }] : []),
    // A moment in the study: after `after` runs are journaled, and a random fraction of a run more.
  ].map((c) => ({ ...c, after: Math.floor(rng() * 9), delayMs: Math.round(rng() * 400) }));

  it.each(cases)(
    '$signal $delayMs ms after $after runs (terminal: $tty, $workers workers): kept runs, then a rerun completes identically',
    async ({ signal, tty, workers, after, delayMs }) => {
      const out = `cut-${signal}-${tty}-${workers}`;
      const args = ['sim', 'stoppable.yaml', '--out', out, '--workers', workers, '--no-report'];
      const cli = startCli(args, { cwd: dir, tty });
      // Once the study has started (its lock is taken): before that there is nothing to keep.
      const journal = join(dir, out, '.journal.ndjson');
      await until(() => existsSync(join(dir, `.${out}.lock`)) && journaled(journal) >= after, cli.done);
      await new Promise((r) => setTimeout(r, delayMs));
      if (signal === 'SIGTERM') cli.child.kill('SIGTERM');
      else cli.interrupt();
      const r = await cli.done;
      const said = plain(r.stdout + r.stderr);
      expect(said).not.toMatch(STACK);
      expect(r.code, said).toBe(signal === 'SIGTERM' ? 143 : 130);
      const m = MESSAGE.exec(said);
      expect(m, said).not.toBeNull();
      expect(m![2]).toBe(out);
      // The lock is released; the journal holds exactly the runs it says were kept.
      expect(readdirSync(dir).filter((f) => f.endsWith('.lock'))).toEqual([]);
      expect(journaled(journal)).toBe(Number(m![1]));
      expect(Number(m![1])).toBeGreaterThanOrEqual(after);
      const again = await runCli(args, { cwd: dir });
      expect(again.code, again.stderr).toBe(0);
      expect(results(await readFile(join(dir, out, 'runs.csv'), 'utf8'))).toEqual(reference);
      expect(await readFile(join(dir, out, 'findings.md'), 'utf8')).toBe(
        await readFile(join(dir, 'whole', 'findings.md'), 'utf8'),
      );
    },
  );

  it('a second signal right after the first exits at once with the same status', async () => {
    const cli = startCli(['sim', 'stoppable.yaml', '--out', 'twice', '--workers', '2'], { cwd: dir });
    await until(() => existsSync(join(dir, '.twice.lock')), cli.done);
    await new Promise((r) => setTimeout(r, 300));
    cli.child.kill('SIGINT');
    cli.child.kill('SIGINT');
    const r = await cli.done;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).not.toMatch(STACK);
  });
});

describe.runIf(HAVE_PTY)('an interrupted merge', () => {
  it('removes its temporary output, says so, and leaves no output', async () => {
    // Many small tensors and an iterative technique: long enough to interrupt between tensors.
    const rand = seedrandom('merge to interrupt');
    const model = (label: string) =>
      ParamSet.fromEntries(
        Array.from({ length: 300 }, (_, i) => [
          `layer.${i}.weight`,
          { shape: [64, 64], data: Float32Array.from({ length: 4096 }, () => rand() * 2 - 1) },
        ]),
        label,
      );
    for (const name of ['base', 'a', 'b']) await writeSafetensors(join(dir, `${name}.safetensors`), model(name));
    const config = join(dir, 'slow.yaml');
    await writeFile(
      config,
      'merge_method: karcher\nbase_model: base.safetensors\nmodels: [a.safetensors, b.safetensors]\n' +
        'parameters: { maxIter: 400, tol: 0 }\noutput: merged.safetensors\n',
    );
    const cli = startCli(['merge', config], { tty: true });
    await cli.waitFor(/merging \[[=-]+\] [1-9]\d*\/300/);
    cli.interrupt();
    const r = await cli.done;
    const said = plain(r.stdout);
    expect(r.code, said).toBe(130);
    expect(said).not.toMatch(STACK);
    expect(said).toMatch(/time-merge: interrupted: removed the unfinished .*\.merged\.safetensors\.\d+\.\d+\.tmp/);
    expect(readdirSync(dirname(config)).filter((f) => f.includes('merged.safetensors'))).toEqual([]);
  });
});
