import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, STACK, startCli, TINY_STUDY } from './cli-terminal.js';

// The results folder's lock sits beside the folder the study writes (results/<its name>), wherever the
// study file is, and a run leaves no folder it made empty behind.

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tm-lock-cli-'));
  await mkdir(join(dir, 'sub'));
  await mkdir(join(dir, 'other'));
  await writeFile(join(dir, 'sub', 'tiny.yaml'), TINY_STUDY);
  // The same study name from another file: it writes the same folder.
  await writeFile(join(dir, 'other', 'tiny.yaml'), TINY_STUDY.replace('seeds: [0, 1]', 'seeds: [0, 1, 2, 3, 4, 5]'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('the results-folder lock of study files', () => {
  it('locks results/<study> for a relative and an absolute study file path, and leaves no other folder', async () => {
    const first = await runCli(['sim', 'sub/tiny.yaml', '--no-report'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    const second = await runCli(['sim', join(dir, 'sub', 'tiny.yaml'), '--no-report'], { cwd: dir });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/4 runs \(0 run now, 4 already in results\/tiny\)/);
    expect(readdirSync(join(dir, 'results'))).toEqual(['tiny']);
    expect(readdirSync(dir).sort()).toEqual(['other', 'results', 'sub']);
  });

  it('stops a second run writing the same folder with status 2, naming the holder', async () => {
    const holder = startCli(['sim', 'other/tiny.yaml', '--out', 'shared', '--workers', '1', '--no-report'], {
      cwd: dir,
    });
    const lock = join(dir, '.shared.lock');
    while (!existsSync(lock)) await new Promise((r) => setTimeout(r, 20));
    const second = await runCli(['sim', 'sub/tiny.yaml', '--out', 'shared', '--no-report'], { cwd: dir });
    expect(second.code).toBe(2);
    expect(second.stderr).not.toMatch(STACK);
    const lines = second.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^time-merge: results folder shared is in use by another run: pid ${holder.child.pid} on .*other/tiny\\.yaml`,
      ),
    );
    expect(JSON.parse(await readFile(lock, 'utf8'))).toMatchObject({ pid: holder.child.pid });
    holder.interrupt();
    expect((await holder.done).code).toBe(130);
    expect(existsSync(lock)).toBe(false);
  });

  it('removes the folders it made when interrupted before any run finished', async () => {
    const cwd = join(dir, 'fresh');
    await mkdir(cwd);
    // Pretraining θ0 long enough that no run finishes before the signal.
    await writeFile(join(cwd, 'tiny.yaml'), TINY_STUDY.replace('pretrainSteps: 100', 'pretrainSteps: 20000'));
    const cli = startCli(['sim', 'tiny.yaml', '--workers', '1', '--no-report'], { cwd });
    // Once the study has made its folder and planned its runs.
    while (!existsSync(join(cwd, 'results', 'tiny'))) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 200));
    cli.interrupt();
    const r = await cli.done;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/interrupted: 0 of 4 runs kept in results\/tiny/);
    expect(readdirSync(cwd)).toEqual(['tiny.yaml']);
  });
});
