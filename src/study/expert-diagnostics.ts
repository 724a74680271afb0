import type { ParamSet } from '../params/paramset.js';
import { NO_REPLAY, type Evaluator, type Task, type Trainer } from '../time/types.js';
import { mean } from './rows.js';
import {
  diagnose,
  scaledExpert,
  trimmedExpert,
  type DiagnosedExpert,
  type WorldDiagnostics,
} from './world-diagnostics.js';

/** The world diagnostics with θ0's own scores over the whole stream. */
export interface StreamDiagnostics extends WorldDiagnostics {
  /** θ0's mean score over every adaptation task (A_KA at step 0) and every evaluation-only task (A_ZS). */
  readonly baseAKa: number;
  readonly baseAZs: number;
  /** Mean over experts of θ0's A_ZS minus the expert's: what one task's fine-tune costs in retention. */
  readonly expertZsDrop: number;
  /** Share of the experts' gain on their own tasks kept at θ0 + τ/2: Σ(half - base) / Σ(expert - base). */
  readonly halfTauKeep: number;
}

export interface ExpertDiagnosticsInput<D> {
  readonly base: ParamSet;
  readonly trainer: Trainer<D>;
  readonly evaluator: Evaluator<D>;
  readonly adaptation: readonly Task<D>[];
  readonly zeroshot: readonly Task<D>[];
  /** Optimiser steps per expert: the stream's budget per task. */
  readonly steps: number;
  /** The dataset a task comes from: cross-dataset cosines pair experts whose datasets differ. */
  readonly datasetOf: (task: Task<D>) => string | number;
  /** The training seed of the expert for adaptation task i. */
  readonly seedOf: (i: number) => number;
  /** Which adaptation tasks get an expert (default: all). */
  readonly taskIndices?: readonly number[];
}

/**
 * The structural diagnostics of any trainer's task vectors: one expert per chosen task, each trained
 * from θ0 on that task alone without replay (the structure of the world, not of a protocol), scored by
 * the evaluator on its own task as it is, and trimmed to TIES density 0.2.
 */
export async function expertDiagnostics<D>(input: ExpertDiagnosticsInput<D>): Promise<StreamDiagnostics> {
  const { base, trainer, evaluator, adaptation } = input;
  const indices = input.taskIndices ?? adaptation.map((_, i) => i);
  const baseScores = await evaluator.evaluate(base, adaptation);
  const baseAZs = mean(await evaluator.evaluate(base, input.zeroshot));
  const experts: DiagnosedExpert[] = [];
  const zsDrops: number[] = [];
  let halfGain = 0;
  for (const i of indices) {
    // A turn for the event loop per expert: studies run this beside their worker pool.
    await new Promise((resolve) => setImmediate(resolve));
    const task = adaptation[i];
    const { weights } = await trainer.train({
      init: base,
      tasks: [task],
      previous: [],
      replay: NO_REPLAY,
      steps: input.steps,
      seed: input.seedOf(i),
    });
    const [expertScore] = await evaluator.evaluate(weights, [task]);
    const [trimmedScore] = await evaluator.evaluate(trimmedExpert(base, weights), [task]);
    const [halfScore] = await evaluator.evaluate(scaledExpert(base, weights, 0.5), [task]);
    halfGain += halfScore - baseScores[i];
    zsDrops.push(baseAZs - mean(await evaluator.evaluate(weights, input.zeroshot)));
    experts.push({ weights, dataset: input.datasetOf(task), baseScore: baseScores[i], expertScore, trimmedScore });
  }
  const gain = experts.reduce((s, e) => s + e.expertScore - e.baseScore, 0);
  return {
    ...diagnose(base, experts),
    baseAKa: mean(baseScores),
    baseAZs,
    expertZsDrop: mean(zsDrops),
    halfTauKeep: gain === 0 ? NaN : halfGain / gain,
  };
}
