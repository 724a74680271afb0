import { syntheticSetup } from '../synthetic/setup.js';
import { runNamed, type TimeEvent } from '../time/pipeline.js';
import type { RunRecord } from '../time/record.js';
import type { RunSpec } from './types.js';

/** Trainer memo per thread: runs of one seed that train from the same weights share the work. */
const TRAIN_CACHE = 2048;

export interface ExecutedRun {
  readonly record: RunRecord;
  /** FLOPs of training actually computed in this run (cache hits excluded), and its optimiser steps. */
  readonly flops: number;
  readonly computedSteps: number;
}

/** Runs one spec to completion in this thread: world and θ0 (cached per thread), then the TIME loop. */
export async function executeRun(spec: RunSpec, onEvent?: (e: TimeEvent) => void): Promise<ExecutedRun> {
  const setup = syntheticSetup(spec.stream, { cacheSize: TRAIN_CACHE });
  const flops0 = setup.trainer.flopsSpent;
  const steps0 = setup.trainer.trainedSteps;
  const config = {
    stream: setup.world.stream,
    trainer: setup.trainer,
    evaluator: setup.evaluator,
    base: setup.base,
    stepsPerTask: spec.stream.stepsPerTask,
    seed: spec.runSeed,
    replay: spec.replay,
    onEvent,
  };
  const merge = {
    technique: spec.technique === '-' ? 'weighted-average' : (spec.techniqueName ?? spec.technique),
    params: spec.techniqueParams as Record<string, unknown> | undefined,
    seed: spec.runSeed,
  };
  let record = await runNamed(spec.kind, spec.method, config, merge);
  if (spec.kind === 'method' && (spec.technique === '-' || spec.techniqueName))
    record = { ...record, technique: spec.technique };
  // The grid seed identifies the run in results; the loop seed derived from it is in config.json.
  record = { ...record, seed: spec.seed };
  return { record, flops: setup.trainer.flopsSpent - flops0, computedSteps: setup.trainer.trainedSteps - steps0 };
}
