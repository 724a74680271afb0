import { diagnose, trimmedExpert, type DiagnosedExpert, type WorldDiagnostics } from '../study/world-diagnostics.js';
import { NO_REPLAY } from '../time/types.js';
import { accuracy, dimsOf } from './model.js';
import type { SyntheticSetup } from './setup.js';

export interface SyntheticDiagnostics extends WorldDiagnostics {
  /** θ0's A_KA over every adaptation task (class-incremental) and its A_ZS. */
  readonly baseAKa: number;
  readonly baseAZs: number;
}

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
  const dims = dimsOf(config);
  const tasks = world.stream.adaptation;
  const experts: DiagnosedExpert[] = [];
  for (const i of spreadIndices(tasks.length, maxTasks)) {
    const task = tasks[i];
    const { weights } = await trainer.train({
      init: base,
      tasks: [task],
      previous: [],
      replay: NO_REPLAY,
      steps: config.stepsPerTask,
      seed: 7919 * (i + 1) + config.seed,
    });
    experts.push({
      weights,
      dataset: task.data.dataset,
      baseScore: accuracy(base, task.data, dims),
      expertScore: accuracy(weights, task.data, dims),
      trimmedScore: accuracy(trimmedExpert(base, weights), task.data, dims),
    });
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    ...diagnose(base, experts),
    baseAKa: mean(tasks.map((t) => accuracy(base, t.data, dims))),
    baseAZs: mean(world.stream.zeroshot.map((t) => accuracy(base, t.data, dims))),
  };
}
