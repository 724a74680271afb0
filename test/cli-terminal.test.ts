import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distState } from '../bin/dist-state.js';
import { CONTROL, HAVE_PTY, plain, ROOT, runCli, STACK, TINY_STUDY, type CliResult } from './cli-terminal.js';

// The CLI as a person runs it: the bundle in dist/, in a terminal and piped into a file or another
// program. A terminal gets progress drawn in place; a pipe gets plain lines and no control sequences.

const REQUIRE_PTY = process.env.TIME_MERGE_REQUIRE_PTY === '1';
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tm-terminal-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function clean(r: CliResult): void {
  expect(r.stdout + r.stderr).not.toMatch(STACK);
  expect(r.stdout + r.stderr).not.toContain('through tsx');
}

it('runs the bundle in dist/, built by the test setup', () => {
  expect(distState(ROOT)).toBe('fresh');
  expect(HAVE_PTY || !REQUIRE_PTY, 'util-linux `script` is needed for the terminal tests').toBe(true);
});

describe.runIf(HAVE_PTY)('in a terminal', () => {
  it('merge --demo draws a progress bar, then the printed re-run command works', async () => {
    const r = await runCli(['merge', '--demo', join(dir, 'demo')], { tty: true });
    expect(r.code, r.stdout).toBe(0);
    clean(r);
    expect(r.stdout).toMatch(CONTROL);
    expect(plain(r.stdout)).toMatch(/merging \[[=-]+\] 3\/3 tensors, \d+s elapsed, \d+s left/);
    expect(plain(r.stdout)).toMatch(/merged 2 model\(s\) with task-arithmetic: 3 tensors, 24 parameters/);
    const rerun = /re-run with: time-merge (merge \S+)/.exec(plain(r.stdout));
    expect(rerun).not.toBeNull();
    const again = await runCli([...rerun![1].split(' '), '--output', join(dir, 'again.safetensors')], { tty: true });
    expect(again.code, again.stdout).toBe(0);
    clean(again);
    expect(await readFile(join(dir, 'again.safetensors'))).toEqual(
      await readFile(join(dir, 'demo', 'merged.safetensors')),
    );
  });

  it('sim draws its bars and ends with the summary; report and techniques answer', async () => {
    await writeFile(join(dir, 'tiny.yaml'), TINY_STUDY);
    const out = join(dir, 'sim-tty');
    const r = await runCli(['sim', join(dir, 'tiny.yaml'), '--out', out, '--workers', '2'], { tty: true });
    expect(r.code, r.stdout).toBe(0);
    clean(r);
    expect(r.stdout).toMatch(CONTROL);
    expect(plain(r.stdout)).toMatch(/runs +\|[█░]+\| \d\/4 \d+s elapsed/);
    expect(plain(r.stdout)).toMatch(/\| [1-3]\/4 \d+s elapsed, about \d+s left/);
    expect(plain(r.stdout)).toContain('4 runs: 4 to run, 2 at a time');
    expect(plain(r.stdout)).toMatch(/study tiny: 4 runs \(4 run now, 0 already in/);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    const report = await runCli(['report', out, '--out', join(dir, 'report-tty')], { tty: true });
    expect(report.code, report.stdout).toBe(0);
    clean(report);
    expect(plain(report.stdout)).toContain(`report: ${join(dir, 'report-tty', 'report.html')}`);
    expect(plain(report.stdout)).toMatch(/figures +\|[█░]+\| \d+\/\d+ \d+s elapsed/);
    const techniques = await runCli(['techniques'], { tty: true });
    expect(techniques.code).toBe(0);
    expect(plain(techniques.stdout)).toMatch(/^ties \(aliases: [^)]*\)/m);
  });

  it('start --quick runs the default study into its folder', async () => {
    const out = join(dir, 'start-tty');
    const r = await runCli(['start', '--quick', '--out', out, '--workers', '2'], { tty: true });
    expect(r.code, r.stdout).toBe(0);
    clean(r);
    expect(plain(r.stdout)).toMatch(/study default \(quick\): 10 runs/);
    expect(existsSync(join(out, 'runs.csv'))).toBe(true);
  });
});

describe('piped', () => {
  it('merge --demo prints plain lines, and the re-run command works', async () => {
    const r = await runCli(['merge', '--demo', join(dir, 'demo-pipe')]);
    expect(r.code, r.stderr).toBe(0);
    clean(r);
    expect(r.stdout + r.stderr).not.toMatch(CONTROL);
    expect(r.stdout).toMatch(/merged 2 model\(s\) with task-arithmetic: 3 tensors, 24 parameters/);
    // A log gets a line at the start and one at the end (and one every 10 s between).
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(/^merging \[-+\] 0\/3 tensors, 0s elapsed/),
      expect.stringMatching(/^merging \[=+\] 3\/3 tensors, \d+s elapsed, 0s left {2}done$/),
    ]);
    const rerun = /re-run with: time-merge (merge \S+)/.exec(r.stdout);
    const again = await runCli([...rerun![1].split(' '), '--output', join(dir, 'again-pipe.safetensors')]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/-> .*again-pipe\.safetensors/);
  });

  it('sim, report and techniques print no control sequences', async () => {
    await writeFile(join(dir, 'tiny.yaml'), TINY_STUDY);
    const out = join(dir, 'sim-pipe');
    const r = await runCli(['sim', join(dir, 'tiny.yaml'), '--out', out, '--workers', '2']);
    expect(r.code, r.stderr).toBe(0);
    clean(r);
    expect(r.stdout + r.stderr).not.toMatch(CONTROL);
    expect(r.stdout).toMatch(/study tiny: 4 runs \(4 run now, 0 already in/);
    const log = r.stderr.split('\n').filter(Boolean);
    expect(log[0]).toBe('4 runs: 4 to run, 2 at a time');
    expect(log[1]).toMatch(/^estimate: about \d+s for the 4 runs \(2 done\)$/);
    expect(log).toContainEqual(expect.stringMatching(/^runs 4\/4 in \d+s$/));
    // Then the report's figures.
    expect(log.at(-1)).toMatch(/^figures (\d+)\/\1 in \d+s$/);
    const report = await runCli(['report', out]);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout + report.stderr).not.toMatch(CONTROL);
    expect(report.stderr).toMatch(/^figures (\d+)\/\1 in \d+s$/m);
    const techniques = await runCli(['techniques']);
    expect(techniques.code).toBe(0);
    expect(techniques.stdout).not.toMatch(CONTROL);
  });
});

describe('sim --dry-run', () => {
  it('prints the expanded grid and the run count, runs and writes nothing', async () => {
    await writeFile(join(dir, 'tiny.yaml'), TINY_STUDY);
    const r = await runCli(['sim', 'tiny.yaml', '--dry-run'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')).toEqual([
      'setting  method         technique         seeds',
      'default  finetune       -                 0,1',
      'default  offline_merge  weighted-average  0,1',
      'study tiny: 4 runs (2 setting x method x technique points; T = 4); dry run, nothing was run',
      '',
    ]);
    expect(existsSync(join(dir, 'results'))).toBe(false);
  });
});
