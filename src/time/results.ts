import { mkdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { fail, TimeMergeError } from '../params/errors.js';
import type { RunRecord } from './record.js';
import { renameOver } from '../params/replace-target.js';

/** One run for the results folder: its id, record, and settings written as `param_<name>` columns. */
export interface ResultRun {
  readonly runId: string;
  readonly record: RunRecord;
  readonly params?: Readonly<Record<string, string | number | boolean>>;
}

export interface StudyResults {
  readonly study: string;
  readonly runs: readonly ResultRun[];
  /** Written as config.json when given (the study definition, seeds, version, backend, start time). */
  readonly config?: unknown;
  /** Written as findings.md when given. */
  readonly findings?: string;
}

export const RUNS_COLUMNS = [
  'run_id',
  'study',
  'method',
  'init',
  'deploy',
  'technique',
  'seed',
  'T',
  'a_ka',
  'a_zs',
  'gm',
  'forgetting',
  'bwt',
  'fwt',
  'train_steps',
  'merge_seconds',
  'bytes_read',
  'bytes_stored',
  'wall_seconds',
] as const;
export const STEPS_COLUMNS = [
  'run_id',
  'step',
  'a_ka',
  'a_zs',
  'gm',
  'train_steps',
  'train_seconds',
  'merge_seconds',
  'eval_seconds',
  'bytes_read',
  'bytes_stored',
] as const;
export const MATRIX_COLUMNS = ['run_id', 'step', 'task_index', 'task_id', 'role', 'score'] as const;

type Cell = string | number | boolean | null | undefined;

/** Numbers in full precision (String keeps every digit needed to read the same double back); null is empty. */
function cell(v: Cell): string {
  if (v === null || v === undefined) return '';
  return String(v);
}

function checkIds(runs: readonly ResultRun[]): void {
  const seen = new Set<string>();
  for (const r of runs) {
    if (!r.runId) fail('CONFIG', 'results: a run has an empty run_id');
    if (seen.has(r.runId)) fail('CONFIG', `results: run_id "${r.runId}" appears twice`);
    seen.add(r.runId);
  }
}

/** Header and rows of runs.csv; `param_*` columns are the union over runs, sorted by name. */
export function runsRows(study: string, runs: readonly ResultRun[]): string[][] {
  checkIds(runs);
  const paramNames = [...new Set(runs.flatMap((r) => Object.keys(r.params ?? {})))].sort();
  for (const p of paramNames)
    if (!/^[A-Za-z0-9_.-]+$/.test(p))
      fail('CONFIG', `results: parameter name "${p}" must be letters, digits, _ . or -`);
  const header = [...RUNS_COLUMNS, ...paramNames.map((p) => `param_${p}`)];
  const rows = runs.map(({ runId, record: r, params }) => {
    const f = r.final;
    const base: Cell[] = [
      runId,
      study,
      r.method,
      r.init,
      r.deploy,
      r.technique,
      r.seed,
      r.T,
      f.aKa,
      f.aZs,
      f.gm,
      f.forgetting,
      f.bwt,
      f.fwt,
      f.trainSteps,
      f.mergeSeconds,
      f.bytesRead,
      f.bytesStored,
      f.wallSeconds,
    ];
    return [...base, ...paramNames.map((p) => params?.[p])].map(cell);
  });
  return [header, ...rows];
}

export function stepsRows(runs: readonly ResultRun[]): string[][] {
  checkIds(runs);
  const rows = runs.flatMap(({ runId, record }) =>
    record.steps.map((s) =>
      [
        runId,
        s.step,
        s.aKa,
        s.aZs,
        s.gm,
        s.trainSteps,
        s.trainSeconds,
        s.mergeSeconds,
        s.evalSeconds,
        s.bytesRead,
        s.bytesStored,
      ].map(cell),
    ),
  );
  return [[...STEPS_COLUMNS], ...rows];
}

/** A matrix.csv column of the wide format: the task's role and id, `adaptation:ds0.t0`. */
export const matrixColumn = (task: { id: string; role: string }): string => `${task.role}:${task.id}`;

/**
 * The wide format's task columns: every run's tasks, merged so that each run's tasks keep their order
 * (a task first seen in a run goes right after that run's previous task). Undefined when two runs list
 * shared tasks in different orders, which only the long format can hold.
 */
function taskColumns(runs: readonly ResultRun[]): string[] | undefined {
  const columns: string[] = [];
  for (const { record } of runs) {
    let at = -1;
    for (const t of record.tasks) {
      const name = matrixColumn(t);
      let i = columns.indexOf(name);
      if (i < 0) columns.splice((i = at + 1), 0, name);
      if (i <= at) return undefined;
      at = i;
    }
  }
  return columns;
}

function checkScores(runId: string, record: RunRecord): void {
  for (const s of record.steps) {
    if (s.scores.length !== record.tasks.length)
      fail('PIPELINE', `run ${runId}: step ${s.step} has ${s.scores.length} scores for ${record.tasks.length} tasks`);
  }
}

/**
 * matrix.csv: one row per run and step, one column per task (`<role>:<task_id>`, empty where the run
 * has no such task), so the file stays small enough to keep with the results. When runs order shared
 * tasks differently, the long format instead: one row per run, step and task (MATRIX_COLUMNS).
 */
export function matrixRows(runs: readonly ResultRun[]): string[][] {
  checkIds(runs);
  for (const { runId, record } of runs) checkScores(runId, record);
  const columns = taskColumns(runs);
  if (columns === undefined) {
    const rows = runs.flatMap(({ runId, record }) =>
      record.steps.flatMap((s) =>
        s.scores.map((score, j) => [runId, s.step, j, record.tasks[j].id, record.tasks[j].role, score].map(cell)),
      ),
    );
    return [[...MATRIX_COLUMNS], ...rows];
  }
  const position = new Map(columns.map((c, i) => [c, i]));
  const rows = runs.flatMap(({ runId, record }) => {
    const at = record.tasks.map((t) => position.get(matrixColumn(t))!);
    return record.steps.map((s) => {
      const row: Cell[] = new Array(columns.length).fill('');
      s.scores.forEach((score, j) => (row[at[j]] = score));
      return [runId, s.step, ...row].map(cell);
    });
  });
  return [['run_id', 'step', ...columns], ...rows];
}

/**
 * matrix.csv rows (header-keyed records, either format) as long records: run_id, step, task_index
 * (the task's position among the run's tasks), task_id, role, score. Wide rows give one record per
 * non-empty task cell.
 */
export function longMatrixRecords(
  columns: readonly string[],
  rows: readonly Record<string, string>[],
  file = 'matrix.csv',
): Record<string, string>[] {
  if (columns.includes('task_index')) return [...rows];
  const tasks = columns
    .filter((c) => c !== 'run_id' && c !== 'step')
    .map((c) => {
      const colon = c.indexOf(':');
      if (colon < 0) fail('DATA', `${file}: column "${c}" is neither run_id, step nor <role>:<task_id>`);
      return { column: c, role: c.slice(0, colon), id: c.slice(colon + 1) };
    });
  const out: Record<string, string>[] = [];
  for (const r of rows) {
    let j = 0;
    for (const t of tasks) {
      const score = (r[t.column] ?? '').trim();
      if (score === '') continue;
      out.push({ run_id: r.run_id, step: r.step, task_index: String(j++), task_id: t.id, role: t.role, score });
    }
  }
  return out;
}

export function toCsv(rows: readonly (readonly string[])[]): string {
  return stringify(rows as string[][]);
}

/** `runs.csv` or, with a suffix, `runs.<suffix>.csv`. */
export function resultFileName(stem: string, ext: string, suffix?: string): string {
  return suffix ? `${stem}.${suffix}.${ext}` : `${stem}.${ext}`;
}

export async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, text);
    await renameOver(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    if (e instanceof TimeMergeError) throw e;
    throw new TimeMergeError('IO', `results: cannot write ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Writes a results folder (docs/results-format.md): runs.csv, steps.csv, matrix.csv, and config.json /
 * findings.md when given; each file under a temporary name, renamed when complete. A shard suffix
 * (`shard-1-of-4`) goes before every file's extension. Returns the paths written.
 */
export async function writeResults(
  dir: string,
  results: StudyResults,
  options: { suffix?: string } = {},
): Promise<string[]> {
  const { suffix } = options;
  if (suffix !== undefined && !/^[A-Za-z0-9_.-]+$/.test(suffix))
    fail('CONFIG', `results: file suffix "${suffix}" must be letters, digits, _ . or -`);
  // Build every file first, so bad input fails before anything is written.
  const files: [string, string][] = [
    [resultFileName('runs', 'csv', suffix), toCsv(runsRows(results.study, results.runs))],
    [resultFileName('steps', 'csv', suffix), toCsv(stepsRows(results.runs))],
    [resultFileName('matrix', 'csv', suffix), toCsv(matrixRows(results.runs))],
  ];
  if (results.config !== undefined)
    files.push([resultFileName('config', 'json', suffix), `${JSON.stringify(results.config, null, 2)}\n`]);
  if (results.findings !== undefined) files.push([resultFileName('findings', 'md', suffix), results.findings]);
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw new TimeMergeError('IO', `results: cannot create ${dir}: ${(e as Error).message}`, { cause: e });
  }
  const paths: string[] = [];
  for (const [name, text] of files) {
    const path = join(dir, name);
    await writeAtomic(path, text);
    paths.push(path);
  }
  return paths;
}
