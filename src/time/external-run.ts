import { join } from 'node:path';
import { driveRuns, fingerprintOf } from '../study/driver.js';
import { expandSeedGrid, shardSuffix } from '../study/expand.js';
import { RUN_KINDS, type SlotPlan } from '../study/kinds/index.js';
import type { ExternalRunSpec } from '../study/kinds/external.js';
import { writeStudyFolder } from '../study/output.js';
import {
  evaluateFindings,
  FINDING_IDS,
  findingsMarkdown,
  findingsSummary,
  type FindingResult,
} from '../study/findings.js';
import { toRows } from '../study/rows.js';
import { summaryTable } from '../study/summary.js';
import { TimeMergeError } from '../params/errors.js';
import type { ParamSet } from '../params/paramset.js';
import { readSafetensors } from '../params/safetensors/index.js';
import { writeResults, type ResultRun } from './results.js';
import type { ExternalRunConfig } from './run-config.js';

export interface ExternalRunResult {
  readonly runs: readonly ResultRun[];
  /** The results files written (runs.csv, steps.csv, matrix.csv, config.json). */
  readonly files: readonly string[];
  /** Runs executed now, and runs kept from the results folder. */
  readonly executed: number;
  readonly kept: number;
  /** The paper's claims judged on the runs (none for a shard of several). */
  readonly findings: readonly FindingResult[];
}

export interface ExternalRunOptions {
  readonly log?: (message: string) => void;
  /** Recorded in config.json. */
  readonly version?: string;
  /** Shard i of n: files get a shard suffix. */
  readonly shard?: { index: number; count: number };
  /** Runs at once (default 1); with gpus, one per GPU. */
  readonly slots?: SlotPlan;
}

/**
 * Runs every baseline and method x seed of a `time-merge run` config with the external trainer and
 * evaluator (through the study driver: shards, runs at once, finished runs kept when `resume`), and
 * writes the results folder after each run, so a stopped study keeps what it finished.
 */
export async function runExternalStudy(
  c: ExternalRunConfig,
  options: ExternalRunOptions = {},
): Promise<ExternalRunResult> {
  const log = options.log ?? (() => undefined);
  const started = new Date().toISOString();
  let base: ParamSet;
  try {
    base = await readSafetensors(c.base);
  } catch (err) {
    if (err instanceof TimeMergeError)
      throw new TimeMergeError(err.code, `${c.source}: base ${c.base}: ${err.message}`, { cause: err });
    throw err;
  }
  log(
    `base: ${c.base} (${base.numel()} parameters); ${c.stream.adaptation.length} tasks, ${c.stream.zeroshot.length} evaluation-only`,
  );

  const params = {
    stream: c.study,
    steps: c.steps,
    replay: `${c.replay.pretrain}/${c.replay.current}/${c.replay.buffer}`,
  };
  // The programs' commands are left out, as in the step log's fingerprint: fixing a command keeps the work.
  const decides = {
    base: c.base,
    tasks: [...c.stream.adaptation, ...c.stream.zeroshot].map((t) => [t.role, t.id, t.data]),
    technique: c.technique,
    parameters: c.parameters,
  };
  const specs: ExternalRunSpec[] = expandSeedGrid(
    { seeds: c.seeds, baselines: c.baselines, methods: c.methods },
    (_kind, method, seed) => `${method}-s${seed}`,
    c.source,
  ).map((r) => ({
    ...r,
    params,
    fingerprint: fingerprintOf({ ...decides, ...(r.kind === 'baseline' ? { technique: '-', parameters: {} } : {}) }),
  }));
  const slots = options.slots ?? { count: 1 };
  const kind = await RUN_KINDS.external();
  const config = (fingerprints?: Readonly<Record<string, string>>) => ({
    study: c.study,
    started,
    version: options.version,
    source: c.source,
    settings: describeConfig(c),
    shard: options.shard ?? null,
    ...(slots.gpus ? { gpus: slots.gpus } : {}),
    ...(fingerprints ? { run_fingerprints: fingerprints } : {}),
  });
  const suffix = shardSuffix(options.shard);
  const fingerprints = (runs: readonly ResultRun[]) =>
    Object.fromEntries(runs.map((r) => [r.runId, specs.find((s) => s.runId === r.runId)!.fingerprint!]));
  const driven = await driveRuns(specs, () => kind.open({ config: c, base, log }, slots), {
    out: c.out,
    shard: options.shard,
    resume: c.resume,
    // Plain lines with elapsed time and time left between the run's own lines (a bar would garble them).
    progress: options.log ? { slots: slots.count, lines: true, bar: false } : undefined,
    onPlan: (todo) => {
      const kept = specs.length - todo.length;
      if (kept > 0 && todo.length < specs.length) log(`${kept} finished run(s) kept from ${c.out}`);
    },
    onDone: async (_spec, _out, finished) => {
      await writeResults(c.out, { study: c.study, runs: finished, config: config(fingerprints(finished)) }, { suffix });
    },
  });
  // A shard judges no claims: its runs are part of the grid (as time-merge sim and clip do).
  const sharded = options.shard !== undefined && options.shard.count > 1;
  const findings = sharded ? [] : evaluateFindings(FINDING_IDS, toRows(driven.results));
  const r = c.replay;
  const description =
    `External trainer \`${c.trainer.command}\` and evaluator \`${c.evaluator.command}\` on ${c.stream.adaptation.length} tasks ` +
    `(${c.stream.zeroshot.length} evaluation-only), ${c.steps} steps per task, replay ${r.pretrain}/${r.current}/${r.buffer} ` +
    `(pretraining/current/buffer), technique ${c.technique}.`;
  const files = await writeStudyFolder(c.out, c.study, driven.results, {
    config: config(driven.fingerprints),
    findings: sharded ? undefined : findingsMarkdown(c.study, description, findings, driven.results.length, c.seeds),
    suffix: driven.suffix,
    journal: driven.journal,
  });
  // The same per-method table as time-merge sim prints (mean over seeds, best GM first).
  log(`\n${summaryTable(toRows(driven.results))}\n`);
  if (!sharded) log(`findings (${join(c.out, 'findings.md')}):\n${findingsSummary(findings)}\n`);
  log(`results: ${c.out}`);
  return { runs: driven.results, files, executed: driven.executed, kept: driven.kept, findings };
}

/** The config's settings as config.json records them (paths resolved, defaults filled in). */
function describeConfig(c: ExternalRunConfig): Record<string, unknown> {
  return {
    base: c.base,
    tasks: c.stream.adaptation.map((t) => ({ id: t.id, data: t.data })),
    zeroshot: c.stream.zeroshot.map((t) => ({ id: t.id, data: t.data })),
    trainer: c.trainer,
    evaluator: c.evaluator,
    methods: c.methods,
    technique: c.technique,
    parameters: c.parameters,
    baselines: c.baselines,
    steps: c.steps,
    replay: c.replay,
    seeds: c.seeds,
    out: c.out,
    store: c.store,
    resume: c.resume,
  };
}
