/**
 * Resuming from a results folder whose CSVs were cut short (a full disk, a copy stopped midway) keeps
 * only runs that are whole and exactly as written: a run with any row lost or cut is run again, at
 * every cut position of every file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readFinishedRuns, writeStudyFolder } from '../src/study/output.js';
import type { ResultRun } from '../src/time/results.js';
import { sampleRun as run } from '../fuzz/results-cases.js';
import { tempDir } from './fixtures/safetensors/build.js';

const tmp = tempDir('tm-cut-results-');
afterAll(() => tmp.cleanup());

async function folder(name: string): Promise<{ dir: string; whole: Map<string, ResultRun> }> {
  const dir = join(tmp.dir, name);
  await writeStudyFolder(dir, 'study', [run(0, 2), run(1, 3), run(2, 1), run(3, 2)], { config: {} });
  return { dir, whole: await readFinishedRuns(dir) };
}

describe('resuming from a cut results folder', () => {
  for (const file of ['steps.csv', 'matrix.csv', 'runs.csv']) {
    it(`keeps only whole runs, exactly as written, wherever ${file} is cut`, async () => {
      const { dir, whole } = await folder(file);
      expect(whole.size).toBe(4);
      const text = readFileSync(join(dir, file), 'utf8');
      const rowsOf = (id: string) => text.split('\n').filter((l) => l.startsWith(`${id},`)).length;
      for (let cut = 0; cut < text.length; cut++) {
        writeFileSync(join(dir, file), text.slice(0, cut));
        const kept = await readFinishedRuns(dir);
        for (const [id, r] of kept) expect(r, `${file} cut at ${cut}`).toEqual(whole.get(id));
        // a run whose rows in this file are not all there before the cut is not kept
        const before = text.slice(0, cut);
        for (const id of whole.keys()) {
          const whole_ = before
            .split('\n')
            .slice(0, -1)
            .filter((l) => l.startsWith(`${id},`)).length;
          if (whole_ < rowsOf(id)) expect(kept.has(id), `${file} cut at ${cut}: ${id}`).toBe(false);
        }
      }
      writeFileSync(join(dir, file), text);
    });
  }

  it('a row lost from the middle of steps.csv leaves its run unfinished', async () => {
    const { dir, whole } = await folder('middle');
    const path = join(dir, 'steps.csv');
    const lines = readFileSync(path, 'utf8').split('\n');
    for (let row = 1; row < lines.length - 1; row++) {
      writeFileSync(path, [...lines.slice(0, row), ...lines.slice(row + 1)].join('\n'));
      const kept = await readFinishedRuns(dir);
      const lost = lines[row].split(',')[0];
      expect([...kept.keys()].sort(), `row ${row}`).toEqual([...whole.keys()].filter((id) => id !== lost).sort());
    }
  });

  it('a damaged row in the middle of a file is an error naming the file', async () => {
    const { dir } = await folder('garbage');
    const path = join(dir, 'runs.csv');
    const lines = readFileSync(path, 'utf8').split('\n');
    writeFileSync(path, [...lines.slice(0, 2), 'x,"unterminated', ...lines.slice(2)].join('\n'));
    await expect(readFinishedRuns(dir)).rejects.toThrowError(`${path}: unterminated quoted field`);
    writeFileSync(path, [...lines.slice(0, 2), 'garbage,row', ...lines.slice(2)].join('\n'));
    await expect(readFinishedRuns(dir)).rejects.toThrowError(`${path}: row 2 has 2 fields, the header has`);
  });
});
