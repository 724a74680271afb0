import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fail } from '../params/errors.js';
import type { RunRecord } from '../time/record.js';
import { resultFileName, type ResultRun } from '../time/results.js';
import { shardRuns, shardSuffix } from './expand.js';
import { readFinishedRuns, RunJournal } from './output.js';
import { journaledRunIds, setLiveStudy } from './live-study.js';
import { StudyProgress, type StudyProgressOptions } from './progress.js';
import { runSlots } from './slots.js';

/** One run of any study: what the driver needs to place, skip and record it. */
export interface GridRun {
  readonly runId: string;
  /** Position in the full expanded list (shards and output order use it). */
  readonly index: number;
  /** Written as param_<name> columns; a finished run is kept only when they match. */
  readonly params: Readonly<Record<string, string | number | boolean>>;
  /**
   * What else decides the run's results, where the params do not say it all (a technique's parameters,
   * evaluation settings): a finished run is kept only when it matches too. Recorded in config.json.
   */
  readonly fingerprint?: string;
}

/** What a run kind hands back for each run it executed. */
export interface ExecutedGridRun {
  readonly record: RunRecord;
}

/** Runs a study's runs, some at once: a run kind opened for one study (see src/study/kinds/). */
export interface RunExecutor<R extends GridRun, O extends ExecutedGridRun = ExecutedGridRun> {
  /** How many runs go at once; each slot runs one at a time. */
  readonly slots: number;
  run(spec: R, slot: number): Promise<O>;
  close(): Promise<void>;
}

export interface DriveOptions<R extends GridRun, O extends ExecutedGridRun> {
  readonly out: string;
  readonly shard?: { index: number; count: number };
  /** Keep the runs already finished in `out` (default true); false runs everything again. */
  readonly resume?: boolean;
  /**
   * Progress of the runs to execute (src/study/progress.ts): bars on a terminal, plain lines off one
   * when asked; undefined shows none.
   */
  readonly progress?: Omit<StudyProgressOptions, 'todo' | 'title'>;
  /** Called with the runs to execute before any starts, and their progress when shown. */
  onPlan?(todo: readonly R[], progress?: StudyProgress): void;
  /** After each run is recorded, with every finished run so far in the study's order. */
  onDone?(spec: R, out: O, finished: readonly ResultRun[]): Promise<void> | void;
}

export interface DriveResult<R extends GridRun> {
  /** The runs of this shard, in the study's order. */
  readonly runs: readonly R[];
  /** Their results, in the same order. */
  readonly results: readonly ResultRun[];
  readonly executed: number;
  readonly kept: number;
  /** Run id to fingerprint, for config.json (`run_fingerprints`); undefined when no run has one. */
  readonly fingerprints?: Readonly<Record<string, string>>;
  readonly suffix?: string;
  readonly journal: RunJournal;
}

async function storedFingerprints(dir: string, suffix?: string): Promise<Record<string, string>> {
  try {
    const text = await readFile(join(dir, resultFileName('config', 'json', suffix)), 'utf8');
    const fp = (JSON.parse(text) as { run_fingerprints?: Record<string, string> }).run_fingerprints;
    return fp && typeof fp === 'object' ? fp : {};
  } catch {
    return {};
  }
}

function sameRun(run: ResultRun & { fingerprint?: string }, spec: GridRun | undefined, stored?: string): boolean {
  if (spec === undefined) return false;
  if (!Object.entries(spec.params).every(([k, v]) => String(run.params?.[k]) === String(v))) return false;
  return spec.fingerprint === undefined || (run.fingerprint ?? stored) === spec.fingerprint;
}

/**
 * The study driver every trainer shares: takes this shard's runs, keeps those already finished in the
 * results folder (its CSVs, and the journal of an interrupted study) when their settings match, runs the
 * rest on the executor's slots, and journals each as it finishes, so a killed study loses only the runs
 * in flight. The caller writes the folder from the results (writeStudyFolder drops the journal).
 */
export async function driveRuns<R extends GridRun, O extends ExecutedGridRun>(
  all: readonly R[],
  executor: () => Promise<RunExecutor<R, O>>,
  options: DriveOptions<R, O>,
): Promise<DriveResult<R>> {
  const runs = options.shard ? shardRuns(all, options.shard) : [...all];
  const suffix = shardSuffix(options.shard);
  await mkdir(options.out, { recursive: true }).catch((e) =>
    fail('IO', `cannot create ${options.out}: ${(e as Error).message}`),
  );
  const journal = new RunJournal(options.out, suffix);
  const done = new Map<string, ResultRun & { fingerprint?: string }>();
  if (options.resume !== false) {
    const stored = await storedFingerprints(options.out, suffix);
    const found = new Map([...(await readFinishedRuns(options.out, suffix)), ...(await journal.read())]);
    // A run of the same id made with other settings (a --quick run, an edited study) is not this run.
    const wanted = new Map(runs.map((r) => [r.runId, r]));
    for (const [id, run] of found) if (sameRun(run, wanted.get(id), stored[id])) done.set(id, run);
  } else {
    await journal.remove();
  }
  const todo = runs.filter((r) => !done.has(r.runId));
  const kept = runs.length - todo.length;
  // What an interruption reports: the runs a rerun keeps, those kept now and those journaled since.
  const keptIds = [...done.keys()];
  const journaledBefore = journaledRunIds(journal.path).length;
  setLiveStudy({
    dir: options.out,
    total: runs.length,
    finished: () => new Set([...keptIds, ...journaledRunIds(journal.path).slice(journaledBefore)]).size,
  });
  const progress = options.progress
    ? new StudyProgress({
        ...options.progress,
        slots: Math.min(options.progress.slots, Math.max(1, todo.length)),
        todo: todo.length,
        title:
          todo.length === 0
            ? `${runs.length} runs: all kept in ${options.out}`
            : `${runs.length} runs: ${todo.length} to run${kept ? `, ${kept} kept in ${options.out}` : ''}, ${Math.min(options.progress.slots, todo.length)} at a time`,
      })
    : undefined;
  options.onPlan?.(todo, progress);
  const finished = () => runs.flatMap((r) => done.get(r.runId) ?? []);
  if (todo.length > 0) {
    const exec = await executor();
    try {
      await runSlots(
        todo,
        exec.slots,
        (spec, slot) => exec.run(spec, slot),
        async (spec, out) => {
          const run = {
            runId: spec.runId,
            record: out.record,
            params: spec.params,
            ...(spec.fingerprint !== undefined ? { fingerprint: spec.fingerprint } : {}),
          };
          done.set(spec.runId, run);
          await journal.append(run);
          progress?.done();
          await options.onDone?.(spec, out, finished());
        },
      );
    } finally {
      progress?.stop();
      await exec.close();
    }
  }
  const withPrint = runs.filter((r) => r.fingerprint !== undefined);
  return {
    runs,
    results: runs.map((r) => {
      const { fingerprint: _, ...run } = done.get(r.runId)!;
      return run;
    }),
    executed: todo.length,
    kept,
    fingerprints: withPrint.length ? Object.fromEntries(withPrint.map((r) => [r.runId, r.fingerprint!])) : undefined,
    suffix,
    journal,
  };
}

/** A short hash of the settings that decide a run's results (GridRun.fingerprint). */
export function fingerprintOf(settings: unknown): string {
  return createHash('sha256').update(JSON.stringify(settings)).digest('hex').slice(0, 16);
}
