import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { lockPathOf, withResultsLock } from '../src/cli/results-lock.js';
import { tempDir } from './fixtures/safetensors/build.js';

const tmp = tempDir('tm-lock-');
afterAll(() => tmp.cleanup());
const run = promisify(execFile);
const BIN = join(import.meta.dirname, '..', 'bin', 'time-merge.js');

describe('results folder lock', () => {
  it('is a hidden sibling of the folder, one per shard', () => {
    expect(lockPathOf('/r/results/default')).toBe('/r/results/.default.lock');
    expect(lockPathOf('/r/results/default/', 'shard-2-of-4')).toBe('/r/results/.default.shard-2-of-4.lock');
  });

  it('refuses a second holder, naming the first; releases when done, also after a failure', async () => {
    const folder = tmp.file('a');
    const lock = lockPathOf(folder);
    await withResultsLock(folder, async () => {
      const holder = JSON.parse(readFileSync(lock, 'utf8')) as { pid: number; host: string };
      expect(holder).toMatchObject({ pid: process.pid, host: hostname() });
      await expect(withResultsLock(folder, async () => 1)).rejects.toMatchObject({
        code: 'CONFIG',
        message: expect.stringMatching(
          new RegExp(
            `^results folder .*a is in use by another run: pid ${process.pid} on ${hostname()} \\(time-merge[^)]*, since \\d{4}-.*\\) holds .*\\.a\\.lock`,
          ),
        ),
      });
    });
    expect(existsSync(lock)).toBe(false);
    await expect(
      withResultsLock(folder, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(existsSync(lock)).toBe(false);
    expect(await withResultsLock(folder, async () => 7)).toBe(7);
  });

  it('takes over a lock whose process no longer runs, and says so', async () => {
    const folder = tmp.file('b');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    await withResultsLock(folder, async () => undefined); // creates the parent folder
    writeFileSync(
      lockPathOf(folder),
      JSON.stringify({ pid: dead, host: hostname(), command: 'time-merge sim x', started: '2020-01-01T00:00:00Z' }),
    );
    const notes: string[] = [];
    await withResultsLock(folder, async () => undefined, { onStale: (m) => notes.push(m) });
    expect(notes).toEqual([
      `taking over ${lockPathOf(folder)}, left by pid ${dead} (time-merge sim x), which is no longer running`,
    ]);
    expect(existsSync(lockPathOf(folder))).toBe(false);
  });

  it('time-merge sim into a folder another run holds stops at once with status 2, naming the holder', async () => {
    const folder = tmp.file('c');
    await withResultsLock(folder, async () => {
      const err = await run(process.execPath, [
        BIN,
        'sim',
        'offline-vs-continual',
        '--quick',
        '--no-report',
        '--workers',
        '1',
        '--out',
        folder,
      ]).then(
        () => undefined,
        (e: { code: number; stderr: string }) => e,
      );
      expect(err?.code).toBe(2);
      expect(err?.stderr).toMatch(
        new RegExp(`time-merge: results folder .*c is in use by another run: pid ${process.pid}`),
      );
      expect(existsSync(join(folder, 'runs.csv'))).toBe(false);
    });
  });
});
