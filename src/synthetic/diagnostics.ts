import { continualDiagnostics, type ContinualDiagnostics } from '../study/continual-diagnostics.js';
import { expertDiagnostics, type StreamDiagnostics } from '../study/expert-diagnostics.js';
import { PAPER_REPLAY } from '../study/types.js';
import { SyntheticEvaluator } from './evaluator.js';
import type { SyntheticSetup } from './setup.js';

/**
 * θ0's A_KA over every adaptation task (class-incremental) and its A_ZS, with the world diagnostics, and
 * what continual fine-tuning forgets with and without replay.
 */
export type SyntheticDiagnostics = StreamDiagnostics & ContinualDiagnostics;

/** At most `max` task indices of 0..n-1, evenly spread (all of them when n <= max). */
export function spreadIndices(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: max }, (_, i) => Math.floor((i * n) / max));
}

/**
 * The world diagnostics of a synthetic setup: one expert per task (at most `maxTasks`, evenly spread over
 * the stream), each trained from θ0 on its task alone with the stream's budget, the structure of the world
 * rather than of a protocol. Deterministic: seeded by the world seed and the task.
 */
export async function syntheticDiagnostics(setup: SyntheticSetup, maxTasks = 20): Promise<SyntheticDiagnostics> {
  const { config, world, base, trainer } = setup;
  const tasks = world.stream.adaptation;
  const structural = await expertDiagnostics({
    base,
    trainer,
    evaluator: new SyntheticEvaluator(config),
    adaptation: tasks,
    zeroshot: world.stream.zeroshot,
    steps: config.stepsPerTask,
    datasetOf: (t) => t.data.dataset,
    seedOf: (i) => 7919 * (i + 1) + config.seed,
    taskIndices: spreadIndices(tasks.length, maxTasks),
  });
  const continual = await continualDiagnostics({
    stream: world.stream,
    trainer,
    evaluator: new SyntheticEvaluator(config),
    base,
    stepsPerTask: config.stepsPerTask,
    seed: config.seed,
    replay: PAPER_REPLAY,
  });
  return { ...structural, ...continual };
}
