/**
 * An output is a new file renamed over its path, so a path that is a device, FIFO, symlink or directory
 * is refused before any work (exit 2 from the CLI) and left exactly as it was.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ParamSet } from '../src/params/paramset.js';
import { writeSafetensors } from '../src/params/safetensors/index.js';
import { writeAtomic } from '../src/time/results.js';
import { tempDir } from './fixtures/safetensors/build.js';

const tmp = tempDir('tm-out-');
afterAll(() => tmp.cleanup());

const model = (v: number) => ParamSet.fromEntries([['w', { shape: [4], data: new Float32Array(4).fill(v) }]]);

/** The special files a test can make here: a FIFO, a symlink, a directory, and a device node as root. */
function specials(dir: string): { path: string; kind: RegExp; same: () => boolean }[] {
  mkdirSync(dir, { recursive: true });
  const out: { path: string; kind: RegExp; same: () => boolean }[] = [];
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  out.push({ path: fifo, kind: /is a FIFO/, same: () => lstatSync(fifo).isFIFO() });
  const target = join(dir, 'target.safetensors');
  writeFileSync(target, 'keep');
  const link = join(dir, 'link.safetensors');
  symlinkSync(target, link);
  out.push({
    path: link,
    kind: /is a symbolic link/,
    same: () =>
      lstatSync(link).isSymbolicLink() && readlinkSync(link) === target && readFileSync(target, 'utf8') === 'keep',
  });
  const sub = join(dir, 'sub');
  mkdirSync(sub);
  out.push({ path: sub, kind: /is a directory/, same: () => lstatSync(sub).isDirectory() });
  const dev = join(dir, 'null');
  if (spawnSync('mknod', [dev, 'c', '1', '3']).status === 0)
    out.push({ path: dev, kind: /is a device/, same: () => lstatSync(dev).isCharacterDevice() });
  return out;
}

describe('special files as outputs', () => {
  it('the safetensors writer refuses them and leaves them as they were', async () => {
    for (const s of specials(join(tmp.dir, 'w'))) {
      await expect(writeSafetensors(s.path, model(1)), s.path).rejects.toThrowError(s.kind);
      expect(s.same(), s.path).toBe(true);
    }
  });

  it('results files refuse them too', async () => {
    for (const s of specials(join(tmp.dir, 'r'))) {
      await expect(writeAtomic(s.path, 'a\n1\n'), s.path).rejects.toThrowError(s.kind);
      expect(s.same(), s.path).toBe(true);
    }
  });

  it('time-merge merge -o refuses them with exit 2 and one line, before reading any model', async () => {
    const dir = join(tmp.dir, 'cli');
    const list = specials(dir);
    await writeSafetensors(join(dir, 'a.safetensors'), model(1));
    await writeSafetensors(join(dir, 'b.safetensors'), model(3));
    const config = join(dir, 'm.yaml');
    const text = 'merge_method: linear\nmodels: [a.safetensors, b.safetensors]\n';
    writeFileSync(config, text);
    // A directory is not special to `merge`: an OUT without .safetensors is a model folder, written in
    // place of an existing one (test/merge-folders.test.ts); a .safetensors OUT that is a folder is refused.
    const sub = list.find((s) => s.path.endsWith('sub'))!;
    list.splice(list.indexOf(sub), 1, { ...sub, path: `${sub.path}.safetensors`, kind: /is a folder/ });
    mkdirSync(`${sub.path}.safetensors`);
    for (const s of list) {
      const r = spawnSync(process.execPath, ['bin/time-merge.js', 'merge', config, '-q', '-o', s.path], {
        encoding: 'utf8',
      });
      expect(r.status, s.path).toBe(2);
      expect(r.stderr.trim().split('\n'), s.path).toHaveLength(1);
      expect(r.stderr, s.path).toMatch(s.kind);
      expect(s.same(), s.path).toBe(true);
    }
  });
});
