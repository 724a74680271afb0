import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { fail } from '../params/errors.js';
import type { ResultRun } from '../time/results.js';
import { effectiveStudy, expandStudy, shardRuns } from './expand.js';
import { evaluateFindings, findingsMarkdown, findingsSummary, type FindingResult } from './findings.js';
import { join } from 'node:path';
import { resultFileName, toCsv, writeAtomic } from '../time/results.js';
import {
  diagnosticsMarkdown,
  diagnosticsRows,
  studyDiagnosticsOffThread,
  type DiagnosticsRow,
} from './diagnostics-run.js';
import { regimeMarkdown, regimePoints } from './regime.js';
import { driveRuns } from './driver.js';
import type { ExecutedRun } from './execute.js';
import { RUN_KINDS } from './kinds/index.js';
import { writeStudyFolder } from './output.js';
import type { StudyProgress } from './progress.js';
import { toRows } from './rows.js';
import { summaryTable } from './summary.js';
import type { RunSpec, Study } from './types.js';

export interface StudyOptions {
  readonly out: string;
  /** Worker threads (default: the machine's cores); 1 runs in this thread. */
  readonly workers?: number;
  readonly shard?: { index: number; count: number };
  readonly quick?: boolean;
  readonly seeds?: readonly number[];
  /**
   * Progress on stderr: undefined, bars when stderr is a terminal; true, also plain lines (at most one
   * per 10 s) when it is not, as the CLI shows; false, none.
   */
  readonly progress?: boolean;
  /** Compute and write the world diagnostics (default true). */
  readonly diagnostics?: boolean;
}

export interface StudyOutcome {
  readonly dir: string;
  readonly study: Study;
  readonly runs: readonly ResultRun[];
  /** Runs computed now (the rest were already in the folder). */
  readonly executed: number;
  readonly skippedAsDone: number;
  readonly summary: string;
  readonly findings: readonly FindingResult[];
  readonly findingsText: string;
  /** One row per (setting, seed); empty when switched off. */
  readonly diagnostics: readonly DiagnosticsRow[];
  readonly wallSeconds: number;
  /** Training FLOPs computed now, and the optimiser steps they took (trainer cache hits excluded). */
  readonly trainFlops: number;
  readonly trainSteps: number;
  readonly trainSeconds: number;
  readonly files: readonly string[];
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
}

/**
 * Runs a study (or one shard of it) into `out`: skips runs already there, runs the rest over worker
 * threads, and writes runs/steps/matrix CSVs in the study's run order, config.json and findings.md.
 */
export async function runStudy(definition: Study, options: StudyOptions): Promise<StudyOutcome> {
  const t0 = performance.now();
  const study = effectiveStudy(definition, { quick: options.quick, seeds: options.seeds });
  const { runs: all, skipped } = expandStudy(study);
  const workers = options.workers ?? availableParallelism();
  if (!Number.isInteger(workers) || workers < 1) fail('CONFIG', `--workers must be a positive integer, got ${workers}`);

  let progress: StudyProgress | undefined;
  let trainFlops = 0;
  let trainSteps = 0;
  let trainSeconds = 0;
  const shardOnly = options.shard ? shardRuns(all, options.shard) : all;
  // The diagnostics run on a thread of their own beside the pool.
  let diagnosing: Promise<DiagnosticsRow[]> = Promise.resolve([]);
  const kind = await RUN_KINDS.synthetic();
  const driven = await driveRuns<RunSpec, ExecutedRun>(
    all,
    () =>
      kind.open(
        {
          onStart: (spec, slot) => progress?.start(slot, spec.runId, spec.stream.T),
          onStep: (_spec, slot, step) => progress?.step(slot, step),
        },
        { count: workers },
      ),
    {
      out: options.out,
      shard: options.shard,
      progress:
        options.progress === false ? undefined : { slots: workers, perSlot: true, lines: options.progress === true },
      onPlan: (_todo, shown) => {
        progress = shown;
        if (options.diagnostics !== false) diagnosing = studyDiagnosticsOffThread(shardOnly);
        diagnosing.catch(() => undefined);
      },
      onDone: (_spec, out: ExecutedRun) => {
        trainFlops += out.flops;
        trainSteps += out.computedSteps;
        trainSeconds += out.record.steps.reduce((a, s) => a + s.trainSeconds, 0);
      },
    },
  );
  const { runs, suffix, journal } = driven;

  const diagnostics = await diagnosing;
  const ordered = driven.results;
  const rows = toRows(ordered);
  const sharded = options.shard !== undefined && options.shard.count > 1;
  const findings = sharded ? [] : evaluateFindings(study.findings, rows);
  const regime = sharded ? '' : regimeMarkdown(regimePoints(rows, diagnostics));
  const findingsText =
    findingsMarkdown(study.name, study.description, findings, ordered.length, study.seeds) +
    (diagnostics.length ? `\n${diagnosticsMarkdown(diagnostics)}` : '') +
    (regime ? `\n${regime}` : '');
  const config = {
    study,
    quick: options.quick ?? false,
    seeds: study.seeds,
    shard: options.shard ?? null,
    runs: runs.map((r) => ({ run_id: r.runId, seed: r.seed, world_seed: r.stream.seed, loop_seed: r.runSeed })),
    skipped,
    package_version: packageVersion(),
    backend: 'typescript: Float32Array loops with hand-written gradients (synthetic linear CLIP)',
    started: new Date(Date.now() - (performance.now() - t0)).toISOString(),
  };
  const files: string[] = await writeStudyFolder(options.out, study.name, ordered, {
    config,
    findings: sharded ? undefined : findingsText,
    suffix,
    journal,
  });
  if (diagnostics.length > 0) {
    const path = join(options.out, resultFileName('diagnostics', 'csv', suffix));
    await writeAtomic(path, toCsv(diagnosticsRows(diagnostics)));
    files.push(path);
  }
  return {
    dir: options.out,
    study,
    runs: ordered,
    diagnostics,
    executed: driven.executed,
    skippedAsDone: driven.kept,
    summary: summaryTable(rows),
    findings,
    findingsText,
    wallSeconds: (performance.now() - t0) / 1000,
    trainFlops,
    trainSteps,
    trainSeconds,
    files,
  };
}

export { findingsSummary };
