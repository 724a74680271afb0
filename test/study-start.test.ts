import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { csvObjects } from '../src/report/csv.js';

const run = promisify(execFile);
const cli = (args: string[]) =>
  run(process.execPath, ['bin/time-merge.js', ...args], { cwd: join(import.meta.dirname, '..'), maxBuffer: 1 << 24 });
let root: string | undefined;
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

/** runs.csv without the timing column, which differs between any two runs. */
async function finalRows(dir: string): Promise<Record<string, string>[]> {
  return csvObjects(await readFile(join(dir, 'runs.csv'), 'utf8')).map(
    ({ wall_seconds: _, merge_seconds: __, ...rest }) => rest,
  );
}

describe('time-merge start', () => {
  it('runs the study afresh over a complete folder and replaces it only when done, report included', async () => {
    root = await mkdtemp(join(tmpdir(), 'start-cli-'));
    const out = join(root, 'default');
    const first = await cli(['start', '--quick', '--out', out, '--workers', '2']);
    expect(first.stdout).toMatch(/10 runs \(10 run now, 0 already in/);
    expect(first.stdout).toContain(`report: ${join(out, 'report.html')}`);
    for (const f of [
      'runs.csv',
      'steps.csv',
      'matrix.csv',
      'config.json',
      'findings.md',
      'report.html',
      'figures/plane.svg',
    ])
      expect(existsSync(join(out, f)), f).toBe(true);
    const before = await finalRows(out);
    await writeFile(join(out, 'stale.txt'), 'from the earlier folder');

    const second = await cli(['start', '--quick', '--out', out, '--workers', '2']);
    expect(second.stdout).toMatch(/10 runs \(10 run now, 0 already in/);
    expect(await finalRows(out)).toEqual(before);
    expect(existsSync(join(out, 'stale.txt'))).toBe(false);
    expect((await readdir(root)).sort()).toEqual(['default']);
  });
});
