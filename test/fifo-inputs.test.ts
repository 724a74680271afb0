/** A FIFO given as a model (or as a sharded index) is refused at once, naming it; opening it must not wait for a writer. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../src/params/safetensors/index.js';
import { tempDir } from './fixtures/safetensors/build.js';

const tmp = tempDir('tm-fifo-');
afterAll(() => tmp.cleanup());

describe('a FIFO as an input', () => {
  for (const name of ['model.safetensors', 'model.safetensors.index.json']) {
    it(`is an IO error, not a hang (${name})`, async () => {
      const fifo = join(tmp.dir, name);
      execFileSync('mkfifo', [fifo]);
      // Without a writer a blocking open never returns: the test would time out instead of failing.
      await expect(openCheckpoint(fifo, { map: true })).rejects.toThrowError(`${fifo}: not a regular file`);
    });
  }
});
