/**
 * An input truncated while a merge reads it through a memory map is an IO error naming the file, not a
 * SIGBUS: the addon turns the fault into zero pages and a mark (src/params/kernels/native/src/map.c),
 * and the engine verifies every source before writing what it computed from it. Run in a child process,
 * so a regression shows as its death by signal rather than the test runner's.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { nativeFiles } from '../src/params/kernels/native/loader.js';
import { tempDir } from './fixtures/safetensors/build.js';

describe.runIf(nativeFiles() !== undefined)('a mapped input truncated under the merge', () => {
  // keep: nothing past the header, part of the first tensor, most of the file
  for (const keep of [200, 5000, 8388000]) {
    it(`is an IO error naming the file (cut to ${keep} bytes)`, () => {
      const tmp = tempDir('tm-cut-');
      try {
        const r = spawnSync(
          process.execPath,
          ['--import', 'tsx', 'test/fixtures/faults/truncate-mapped.ts', tmp.dir, String(keep)],
          { encoding: 'utf8' },
        );
        expect(r.signal, r.stderr).toBeNull();
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout.trim()).toBe(
          `IO ${tmp.dir}/y.safetensors: the file shrank to ${keep} of its 8388760 bytes while it was being read; an input must not change during a merge`,
        );
      } finally {
        tmp.cleanup();
      }
    });
  }
});
