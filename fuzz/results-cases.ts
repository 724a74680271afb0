/**
 * Corrupted results folders for the fuzz suite: a folder of four runs written by the project, then what
 * an interruption or a partial copy leaves: a file cut at any byte, rows lost or doubled, a garbage line,
 * a file emptied or removed. Resuming from it (readFinishedRuns) must keep only runs exactly as written,
 * or fail naming the file. (A digit changed inside a field is not among them: without checksums nothing
 * can tell it from the number written; docs/reliability.md.)
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { readFinishedRuns, writeStudyFolder } from '../src/study/output.js';
import type { RunRecord } from '../src/time/record.js';
import type { ResultRun } from '../src/time/results.js';
import { accept, type CaseResult, defect, judgeError } from './outcome.js';
import { isDeepStrictEqual } from 'node:util';

const FILES = ['runs.csv', 'steps.csv', 'matrix.csv'] as const;

/**
 * A run of T steps over two tasks, its numbers a function of k (short binary expansions, as 0.90625), its
 * totals the sums of its steps as the pipeline writes them.
 */
export function sampleRun(k: number, T: number): ResultRun {
  const score = (s: number, j: number) => 0.5 + ((k * 7 + s * 3 + j) % 16) / 32;
  const steps = Array.from({ length: T + 1 }, (_, s) => ({
    step: s,
    aKa: score(s, 0),
    aZs: score(s, 1),
    gm: Math.sqrt(score(s, 0) * score(s, 1)),
    scores: [score(s, 0), score(s, 1)],
    trainSteps: s === 0 ? 0 : 10,
    trainSeconds: 0.25 * s,
    mergeSeconds: 0.125,
    evalSeconds: 0.5,
    bytesRead: 1024 * s,
    bytesStored: 4096,
  }));
  const last = steps[T];
  const record = {
    method: `m${k}`,
    init: 'last',
    deploy: 'last',
    technique: 'weighted-average',
    seed: k,
    T,
    stream: '',
    tasks: [
      { id: 'ds0.t0', role: 'adaptation' },
      { id: 'ds1.t0', role: 'zeroshot' },
    ],
    steps,
    final: {
      aKa: last.aKa,
      aZs: last.aZs,
      gm: last.gm,
      forgetting: k % 2 ? null : 0.03125,
      bwt: null,
      fwt: 0.0625,
      trainSteps: 10 * T,
      mergeSeconds: 0.125 * (T + 1),
      bytesRead: (1024 * T * (T + 1)) / 2,
      bytesStored: 4096 * (T + 1),
      wallSeconds: 3.5,
    },
  } as RunRecord;
  return { runId: `study/m${k}/s${k}`, record, params: { lambda: '0.5' } };
}

const corruptionArb = fc.oneof(
  fc.record({ op: fc.constant('cut' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ op: fc.constantFrom('drop-row' as const, 'double-row' as const), row: fc.nat() }),
  fc.record({
    op: fc.constant('garbage' as const),
    row: fc.nat(),
    text: fc.constantFrom('x,"unterminated', ',,,', 'a,b', '\u0000', '"""', 'run,1,2,3'),
  }),
  fc.record({ op: fc.constantFrom('remove' as const, 'empty' as const) }),
);

export const resultsCaseArb = fc.record({
  file: fc.constantFrom(...FILES),
  corruptions: fc.array(corruptionArb, { minLength: 1, maxLength: 2 }),
});
export type ResultsCase = typeof resultsCaseArb extends fc.Arbitrary<infer T> ? T : never;

const RUNS = [sampleRun(0, 2), sampleRun(1, 3), sampleRun(2, 1), sampleRun(3, 2)];
let whole: Map<string, ResultRun> | undefined;

export async function checkResultsCase(c: ResultsCase, dir: string): Promise<CaseResult> {
  await writeStudyFolder(dir, 'study', RUNS, { config: {} });
  whole ??= await readFinishedRuns(dir);
  if (whole.size !== RUNS.length) return defect(`an intact folder keeps ${whole.size} of ${RUNS.length} runs`);
  const path = join(dir, c.file);
  let text = readFileSync(path, 'utf8');
  for (const k of c.corruptions) {
    const lines = text.split('\n');
    const row = 'row' in k ? 1 + (k.row % Math.max(1, lines.length - 2)) : 0;
    if (k.op === 'cut') text = text.slice(0, Math.floor(k.at * text.length));
    else if (k.op === 'drop-row') text = [...lines.slice(0, row), ...lines.slice(row + 1)].join('\n');
    else if (k.op === 'double-row') text = [...lines.slice(0, row + 1), ...lines.slice(row)].join('\n');
    else if (k.op === 'garbage') text = [...lines.slice(0, row), k.text, ...lines.slice(row)].join('\n');
    else if (k.op === 'empty') text = '';
  }
  if (c.corruptions.some((k) => k.op === 'remove')) rmSync(path);
  else writeFileSync(path, text);
  try {
    const kept = await readFinishedRuns(dir);
    for (const [id, run] of kept) {
      const original = whole.get(id);
      if (!original) return defect(`kept a run that was never written: ${id}`);
      if (!isDeepStrictEqual(run, original)) return defect(`kept run ${id} with values it was not written with`);
    }
    return accept();
  } catch (err) {
    return judgeError(err, [dir]);
  }
}
