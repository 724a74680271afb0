import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSeeds } from '../src/cli/commands/sim.js';
import { csvObjects } from '../src/report/csv.js';

const run = promisify(execFile);
const cli = (args: string[]) =>
  run(process.execPath, ['bin/time-merge.js', ...args], { cwd: join(import.meta.dirname, '..'), maxBuffer: 1 << 24 });
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('time-merge sim', () => {
  it('lists the studies', async () => {
    const { stdout } = await cli(['sim', '--list']);
    for (const name of [
      'default',
      'offline-vs-continual',
      'time-aware-offline',
      'best-in-time',
      'technique-variants',
      'scaling-model',
      'scaling-compute',
      'scaling-horizon',
      'continual-merging',
    ]) {
      expect(stdout).toMatch(new RegExp(`^${name} +sims/${name}\\.yaml `, 'm'));
    }
  });

  it('runs the quick default study end to end: results folder, summary, findings, and a resumed rerun', async () => {
    const out = await mkdtemp(join(tmpdir(), 'sim-cli-'));
    dirs.push(out);
    const { stdout } = await cli(['sim', 'default', '--quick', '--out', out, '--workers', '2', '--no-report']);
    expect(stdout).toMatch(/study default \(quick\): 10 runs \(10 run now, 0 already in/);
    expect(stdout).toMatch(/method\s+technique\s+seeds\s+A_KA%\s+A_ZS%\s+GM%/);
    expect(stdout).toContain('findings (');
    for (const f of ['runs.csv', 'steps.csv', 'matrix.csv', 'config.json', 'findings.md'])
      expect(existsSync(join(out, f)), f).toBe(true);
    const runs = csvObjects(await readFile(join(out, 'runs.csv'), 'utf8'));
    expect(runs).toHaveLength(10);
    expect(runs.every((r) => r.study === 'default' && r.param_T === '6')).toBe(true);
    for (const r of runs) expect(Number(r.gm)).toBeCloseTo(Math.sqrt(Number(r.a_ka) * Number(r.a_zs)), 12);
    const again = await cli(['sim', 'default', '--quick', '--out', out, '--workers', '1', '--no-report']);
    expect(again.stdout).toMatch(/10 runs \(0 run now, 10 already in/);
  });

  it('names the problem on bad input', async () => {
    await expect(cli(['sim', 'nope'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('unknown study "nope"'),
    });
    const dir = await mkdtemp(join(tmpdir(), 'sim-cli-'));
    dirs.push(dir);
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'methods: [finetune]\ntechniques: [{ name: ties, params: { density: 3 } }]\n');
    await expect(cli(['sim', file])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining(`${file}: techniques[0].params:`),
    });
  });
});

describe('--seeds', () => {
  it('takes lists and ranges, and rejects anything else', () => {
    expect(parseSeeds('0,1,2')).toEqual([0, 1, 2]);
    expect(parseSeeds('3-6,9')).toEqual([3, 4, 5, 6, 9]);
    expect(() => parseSeeds('a,b')).toThrow(/--seeds "a,b"/);
  });
});
