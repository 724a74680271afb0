import { join } from 'node:path';
import { TimeMergeError } from '../params/errors.js';
import type { ParamSet } from '../params/paramset.js';
import { readSafetensors } from '../params/safetensors/index.js';
import { ExternalEvaluator, ExternalTrainer } from './external.js';
import { parseMethod } from './method.js';
import { runBaseline, runTime, type RunConfig, type TimeEvent } from './pipeline.js';
import { writeResults, type ResultRun } from './results.js';
import type { ExternalRunConfig } from './run-config.js';

export interface ExternalRunResult {
  readonly runs: readonly ResultRun[];
  /** The results files written (runs.csv, steps.csv, matrix.csv, config.json). */
  readonly files: readonly string[];
}

export interface ExternalRunOptions {
  readonly log?: (message: string) => void;
  /** Recorded in config.json. */
  readonly version?: string;
}

/**
 * Runs every baseline and method x seed of a `time-merge run` config with the external trainer and
 * evaluator, and writes the results folder after each run (so a stopped study keeps what it finished).
 * Each run has its own store (<store>/<run id>), exchange folder (<out>/work/<run id>) and, when
 * resumable, resume log (<out>/resume/<run id>).
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
  const config = { study: c.study, started, version: options.version, source: c.source, settings: describeConfig(c) };
  const runs: ResultRun[] = [];
  let files: string[] = [];
  const onEvent = (e: TimeEvent) => {
    if (e.type === 'step')
      log(`  step ${e.step}/${e.T}: A_KA ${fmt(e.record.aKa)} A_ZS ${fmt(e.record.aZs)} GM ${fmt(e.record.gm)}`);
    if (e.type === 'resumed') log(`  step ${e.step}/${e.T}: already finished`);
  };
  const runConfig = (runId: string, seed: number, resumable: boolean): RunConfig<unknown> => {
    const work = join(c.out, 'work', runId);
    return {
      stream: c.stream,
      trainer: new ExternalTrainer({
        command: c.trainer.command,
        workDir: join(work, 'train'),
        cwd: c.cwd,
        timeoutMs: c.trainer.timeoutMs,
      }),
      evaluator: new ExternalEvaluator({
        command: c.evaluator.command,
        workDir: join(work, 'eval'),
        cwd: c.cwd,
        timeoutMs: c.evaluator.timeoutMs,
      }),
      base,
      stepsPerTask: c.steps,
      seed,
      replay: c.replay,
      store: { kind: 'disk', dir: join(c.store, runId) },
      resumeDir: c.resume && resumable ? join(c.out, 'resume', runId) : undefined,
      onEvent,
    };
  };
  for (const seed of c.seeds) {
    for (const b of c.baselines) {
      const runId = `${b}-s${seed}`;
      log(`baseline ${b}, seed ${seed}`);
      runs.push({ runId, record: await runBaseline(b, runConfig(runId, seed, b === 'continual')), params });
      files = await writeResults(c.out, { study: c.study, runs, config });
    }
    for (const name of c.methods) {
      const runId = `${name}-s${seed}`;
      log(`method ${name} (${c.technique}), seed ${seed}`);
      const method = parseMethod(name, { technique: c.technique, params: c.parameters, seed });
      runs.push({ runId, record: await runTime({ ...runConfig(runId, seed, true), method }), params });
      files = await writeResults(c.out, { study: c.study, runs, config });
    }
  }
  log(`results: ${c.out}`);
  return { runs, files };
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

function fmt(v: number | null): string {
  return v === null ? '-' : v.toFixed(4);
}
