import { appendFile, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fail, TimeMergeError } from '../params/errors.js';
import type { RunRecord, StepRecord } from '../time/record.js';
import { longMatrixRecords, resultFileName, writeResults, type ResultRun } from '../time/results.js';
import { csvObjects, parseCsvRecords } from '../report/csv.js';

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TimeMergeError('IO', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

const num = (s: string): number => Number(s);

function matrixRecords(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsvRecords(text);
  if (!header) return [];
  return longMatrixRecords(
    header,
    rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? '']))),
  );
}
const numOrNull = (s: string): number | null => (s === '' ? null : Number(s));

/** A run is finished when it has steps, and every step a score for each of its tasks. */
function complete(tasks: readonly ({ id: string } | undefined)[], steps: readonly StepRecord[]): boolean {
  if (steps.length === 0 || tasks.length === 0) return false;
  for (let j = 0; j < tasks.length; j++) if (tasks[j] === undefined) return false;
  // Index loops, not every(): the arrays are filled by index and every() would skip their holes.
  for (const s of steps) {
    if (s.scores.length !== tasks.length) return false;
    for (let j = 0; j < tasks.length; j++) if (s.scores[j] === undefined) return false;
  }
  return true;
}

/**
 * Runs already in a results folder (runs/steps/matrix CSVs with this suffix), rebuilt as ResultRuns so
 * that rewriting the folder reproduces their rows exactly (numbers are written in full precision). Runs
 * not in all three files are left out, so that resuming runs them again.
 */
export async function readFinishedRuns(dir: string, suffix?: string): Promise<Map<string, ResultRun>> {
  const out = new Map<string, ResultRun>();
  const runsText = await readText(join(dir, resultFileName('runs', 'csv', suffix)));
  if (runsText === undefined) return out;
  const stepsText = (await readText(join(dir, resultFileName('steps', 'csv', suffix)))) ?? '';
  const matrixText = (await readText(join(dir, resultFileName('matrix', 'csv', suffix)))) ?? '';
  const steps = new Map<string, Record<string, string>[]>();
  for (const s of csvObjects(stepsText)) {
    const list = steps.get(s.run_id) ?? [];
    list.push(s);
    steps.set(s.run_id, list);
  }
  const matrix = new Map<string, Record<string, string>[]>();
  for (const m of matrixRecords(matrixText)) {
    const list = matrix.get(m.run_id) ?? [];
    list.push(m);
    matrix.set(m.run_id, list);
  }
  for (const r of csvObjects(runsText)) {
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
    if (!complete(tasks, stepRecords)) continue; // a run missing from steps.csv or matrix.csv is run again
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
      final: {
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
      },
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
