import { join } from 'node:path';
import type { GridRun } from '../study/driver.js';
import type { SeedGridRun } from '../study/expand.js';
import { runNamed, type RunConfig, type TimeEvent } from '../time/pipeline.js';
import type { RunRecord } from '../time/record.js';
import type { StoreSpec } from '../time/index.js';
import type { Evaluator, TaskStream, Trainer } from '../time/types.js';
import type { ClipTaskData, FomoData } from './data.js';
import type { RetrievalLog } from './retrieval-log.js';
import type { ClipStudy } from './study.js';
import type { ClipTokenizer } from './tokenizer.js';
import { formatDuration } from './train-log.js';
import type { ClipCheckpoint } from './weights.js';

/** What every run of a `time-merge clip` study shares, loaded once: data, stream, checkpoint, tokenizer. */
export interface ClipSetup {
  readonly study: ClipStudy;
  /** What decides a run's scores besides its method, seed and θ0; every step log records it. */
  readonly scoreSettings: Readonly<Record<string, unknown>>;
  readonly data: FomoData;
  readonly stream: TaskStream<ClipTaskData>;
  readonly ckpt: ClipCheckpoint;
  readonly tokenizer: ClipTokenizer;
  readonly retrieval: RetrievalLog;
  /** Trainer progress lines per task. */
  readonly logEvery: number;
  readonly log: (msg: string) => void;
}

/** One run of a clip study: a method or baseline at one seed. */
export type ClipRunSpec = GridRun & SeedGridRun;

/** A slot's Trainer and Evaluator (one tfjs model in this process, or one torch worker per slot). */
export interface ClipSlot {
  readonly trainer: Trainer<ClipTaskData>;
  readonly evaluator: Evaluator<ClipTaskData>;
  readonly log: (msg: string) => void;
}

function fmt(v: number | null): string {
  return v === null ? '-' : v.toFixed(4);
}

/**
 * Runs one method or baseline of a clip study on a slot's Trainer and Evaluator. Each run keeps its
 * experts apart (on disk: experts/<run id>/) and, with resume, its step log (resume/<run id>/).
 */
export async function executeClipRun(
  setup: ClipSetup,
  spec: ClipRunSpec,
  slot: number,
  engines: ClipSlot,
): Promise<{ record: RunRecord }> {
  const s = setup.study;
  const { log } = engines;
  const resumable = spec.kind === 'method' || spec.method === 'continual';
  const onDisk = s.store === 'disk' || (s.resume && resumable);
  const store: StoreSpec = onDisk ? { kind: 'disk', dir: join(s.out, 'experts', spec.runId) } : { kind: 'memory' };
  let firstStepAt = 0;
  setup.retrieval.runStarted(spec.runId, slot);
  const onEvent = (e: TimeEvent) => {
    if (e.type === 'step') {
      setup.retrieval.stepDone(spec.runId, e.step, slot);
      // The time left extrapolates the TIME steps trained so far in this run (step 0 only evaluates).
      if (e.step === 0) firstStepAt = performance.now();
      const left =
        e.step > 0 && firstStepAt > 0
          ? `, ${formatDuration((((performance.now() - firstStepAt) / 1000) * (e.T - e.step)) / e.step)} left in this run`
          : '';
      log(`  step ${e.step}/${e.T}: A_KA ${fmt(e.record.aKa)} A_ZS ${fmt(e.record.aZs)} GM ${fmt(e.record.gm)}${left}`);
    }
    if (e.type === 'resumed') setup.retrieval.stepResumed(spec.runId, e.step);
  };
  const config: RunConfig<ClipTaskData> = {
    stream: setup.stream,
    trainer: engines.trainer,
    evaluator: engines.evaluator,
    base: setup.ckpt.params,
    stepsPerTask: s.steps,
    seed: spec.seed,
    replay: s.replay,
    store,
    resumeDir: s.resume && resumable ? join(s.out, 'resume', spec.runId) : undefined,
    settings: setup.scoreSettings,
    onEvent,
  };
  log(`${spec.kind} ${spec.method}${spec.kind === 'method' ? ` (${s.technique})` : ''}, seed ${spec.seed}`);
  const merge = { technique: s.technique, params: s.techniqueParams, seed: spec.seed };
  return { record: await runNamed(spec.kind, spec.method, config, merge) };
}
