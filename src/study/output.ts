import { appendFile, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fail, TimeMergeError } from '../params/errors.js';
import type { RunRecord, StepRecord } from '../time/record.js';
import { longMatrixRecords, resultFileName, writeResults, type ResultRun } from '../time/results.js';
import { parseCsvRecords } from '../report/csv.js';

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TimeMergeError('IO', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** A number as written; NaN for anything else (an empty or damaged field), which makes its run unfinished. */
const num = (s: string | undefined): number => (s === undefined || s.trim() === '' ? Number.NaN : Number(s));
const numOrNull = (s: string): number | null => (s === '' ? null : num(s));

/**
 * The rows of a results CSV keyed by its header. Every file is written whole with a final line end, so a
 * last record without one was cut short (a full disk, a copy stopped midway): it is left out, so its run
 * is not finished and runs again, and a cut number is never kept. Any other row whose fields do not match
 * the header is damage that resuming cannot repair: a DATA error naming the file and row.
 */
function resultRows(text: string, file: string): Record<string, string>[] {
  const records = parseCsvRecords(text, file);
  if (text !== '' && !text.endsWith('\n')) records.pop();
  const [header, ...rows] = records;
  if (!header) return [];
  return rows.map((r, i) => {
    if (r.length !== header.length)
      fail(
        'DATA',
        `${file}: row ${i + 1} has ${r.length} fields, the header has ${header.length} (a damaged results file; remove that row to run it again)`,
      );
    return Object.fromEntries(header.map((h, j) => [h, r[j]]));
  });
}

function matrixRecords(text: string, file: string): Record<string, string>[] {
  const rows = resultRows(text, file);
  if (rows.length === 0) return [];
  return longMatrixRecords(Object.keys(rows[0]), rows);
}

/**
 * A run is finished when it has steps, every step a score for each of its tasks, its steps in order from
 * 0, its totals the sums of its steps, and its last step the one runs.csv's final metrics were taken from.
 * A file cut short loses the last steps of a run (a cut falls after whole rows as often as inside one),
 * which only that last check can see; a row lost from the middle changes the sums.
 */
function complete(
  tasks: readonly ({ id: string } | undefined)[],
  steps: readonly StepRecord[],
  final: RunRecord['final'],
): boolean {
  if (steps.length === 0 || tasks.length === 0) return false;
  for (let j = 0; j < tasks.length; j++) if (tasks[j] === undefined) return false;
  // Index loops, not every(): the arrays are filled by index and every() would skip their holes.
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i];
    if (!Number.isInteger(s.step) || (i > 0 && s.step <= steps[i - 1].step)) return false;
    if (s.scores.length !== tasks.length) return false;
    for (let j = 0; j < tasks.length; j++) if (!Number.isFinite(s.scores[j])) return false;
    for (const v of [s.trainSteps, s.trainSeconds, s.mergeSeconds, s.evalSeconds, s.bytesRead, s.bytesStored])
      if (!Number.isFinite(v)) return false;
  }
  // Every run starts at step 0 (its initial evaluation), and its totals are the sums of its steps
  // (src/time/pipeline.ts): a row lost from the middle shows there.
  if (steps[0].step !== 0) return false;
  const sum = (k: 'trainSteps' | 'bytesRead' | 'bytesStored') => steps.reduce((a, s) => a + s[k], 0);
  if (sum('trainSteps') !== final.trainSteps || sum('bytesRead') !== final.bytesRead) return false;
  if (sum('bytesStored') !== final.bytesStored) return false;
  const last = steps[steps.length - 1];
  const same = (a: number | null, b: number | null) => (a === null ? b === null : a === b);
  if (!same(last.aKa, final.aKa) || !same(last.aZs, final.aZs) || !same(last.gm, final.gm)) return false;
  for (const v of Object.values(final)) if (v !== null && !Number.isFinite(v)) return false;
  return true;
}

/**
 * Runs already in a results folder (runs/steps/matrix CSVs with this suffix), rebuilt as ResultRuns so
 * that rewriting the folder reproduces their rows exactly (numbers are written in full precision). Runs
 * not in all three files are left out, so that resuming runs them again.
 */
export async function readFinishedRuns(dir: string, suffix?: string): Promise<Map<string, ResultRun>> {
  const out = new Map<string, ResultRun>();
  const [runsFile, stepsFile, matrixFile] = ['runs', 'steps', 'matrix'].map((stem) =>
    join(dir, resultFileName(stem, 'csv', suffix)),
  );
  const runsText = await readText(runsFile);
  if (runsText === undefined) return out;
  const stepsText = (await readText(stepsFile)) ?? '';
  const matrixText = (await readText(matrixFile)) ?? '';
  const steps = new Map<string, Record<string, string>[]>();
  for (const s of resultRows(stepsText, stepsFile)) {
    const list = steps.get(s.run_id) ?? [];
    list.push(s);
    steps.set(s.run_id, list);
  }
  const matrix = new Map<string, Record<string, string>[]>();
  for (const m of matrixRecords(matrixText, matrixFile)) {
    const list = matrix.get(m.run_id) ?? [];
    list.push(m);
    matrix.set(m.run_id, list);
  }
  for (const r of resultRows(runsText, runsFile)) {
    const id = r.run_id;
    const cells = matrix.get(id) ?? [];
    const tasks: { id: string; role: 'adaptation' | 'zeroshot' }[] = [];
    const scores = new Map<number, number[]>();
    for (const c of cells) {
      const j = num(c.task_index);
      tasks[j] = { id: c.task_id, role: c.role as 'adaptation' | 'zeroshot' };
      const row = scores.get(num(c.step)) ?? [];
      row[j] = num(c.score);
      scores.set(num(c.step), row);
    }
    const stepRecords: StepRecord[] = (steps.get(id) ?? []).map((s) => ({
      step: num(s.step),
      aKa: numOrNull(s.a_ka),
      aZs: numOrNull(s.a_zs),
      gm: numOrNull(s.gm),
      scores: scores.get(num(s.step)) ?? [],
      trainSteps: num(s.train_steps),
      trainSeconds: num(s.train_seconds),
      mergeSeconds: num(s.merge_seconds),
      evalSeconds: num(s.eval_seconds),
      bytesRead: num(s.bytes_read),
      bytesStored: num(s.bytes_stored),
    }));
    const final = {
      aKa: numOrNull(r.a_ka),
      aZs: numOrNull(r.a_zs),
      gm: numOrNull(r.gm),
      forgetting: numOrNull(r.forgetting),
      bwt: numOrNull(r.bwt),
      fwt: numOrNull(r.fwt),
      trainSteps: num(r.train_steps),
      mergeSeconds: num(r.merge_seconds),
      bytesRead: num(r.bytes_read),
      bytesStored: num(r.bytes_stored),
      wallSeconds: num(r.wall_seconds),
    };
    // a run missing from steps.csv or matrix.csv, or cut short in one of them, is run again
    if (!complete(tasks, stepRecords, final) || !Number.isInteger(num(r.seed)) || !Number.isInteger(num(r.T))) continue;
    const record = {
      method: r.method,
      init: r.init,
      deploy: r.deploy,
      technique: r.technique,
      seed: num(r.seed),
      T: num(r.T),
      stream: '',
      tasks,
      steps: stepRecords,
      final,
    } as RunRecord;
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(r)) if (k.startsWith('param_')) params[k.slice('param_'.length)] = v;
    out.set(id, { runId: id, record, params });
  }
  return out;
}

/**
 * Completed runs appended one JSON line each as they finish, so an interrupted study loses at most the
 * runs in flight. Folded into the CSVs (and deleted) when the study completes.
 */
export class RunJournal {
  readonly path: string;

  constructor(dir: string, suffix?: string) {
    this.path = join(dir, suffix ? `.journal.${suffix}.ndjson` : '.journal.ndjson');
  }

  async read(): Promise<Map<string, ResultRun>> {
    const out = new Map<string, ResultRun>();
    const text = await readText(this.path);
    if (text === undefined) return out;
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const run = JSON.parse(line) as ResultRun;
        out.set(run.runId, run);
      } catch {
        // A line cut short by an interruption: that run is simply run again.
      }
    }
    return out;
  }

  async append(run: ResultRun): Promise<void> {
    try {
      await appendFile(this.path, `${JSON.stringify(run)}\n`);
    } catch (e) {
      fail('IO', `cannot append to ${this.path}: ${(e as Error).message}`);
    }
  }

  async remove(): Promise<void> {
    await unlink(this.path).catch(() => undefined);
  }
}

/** Writes the folder's CSVs (runs in the given order), config.json and findings.md; then drops the journal. */
export async function writeStudyFolder(
  dir: string,
  study: string,
  runs: readonly ResultRun[],
  extra: { config: unknown; findings?: string; suffix?: string; journal?: RunJournal },
): Promise<string[]> {
  const paths = await writeResults(
    dir,
    { study, runs, config: extra.config, findings: extra.findings },
    { suffix: extra.suffix },
  );
  await extra.journal?.remove();
  return paths;
}
