import { ParamSet } from '../src/params/paramset.js';
import type { Evaluator, Task, TaskStream, Trainer, TrainRequest } from '../src/time/types.js';

/** A task whose data is the vector its scripted expert adds to the init weights. */
export type VecTask = Task<number[]>;

export function vec(values: readonly number[], label = 'model'): ParamSet {
  return ParamSet.fromEntries([['w', { shape: [values.length], data: Float32Array.from(values) }]], label);
}

export function values(p: ParamSet): number[] {
  return [...p.data('w')];
}

export function stream(vectors: readonly number[][], zeroshot = 1): TaskStream<number[]> {
  return {
    name: 'scripted',
    adaptation: vectors.map((v, i) => ({ id: `task-${i + 1}`, role: 'adaptation', data: v })),
    zeroshot: Array.from({ length: zeroshot }, (_, i) => ({ id: `zs-${i + 1}`, role: 'zeroshot', data: [] })),
  };
}

/** expert = init + Σ of the task vectors asked for (one per step; all of them for multitask). */
export class ScriptedTrainer implements Trainer<number[]> {
  readonly requests: TrainRequest<number[]>[] = [];
  readonly inits: number[][] = [];
  async train(req: TrainRequest<number[]>) {
    this.requests.push(req);
    this.inits.push(values(req.init));
    const out = req.init.map((d) => {
      const o = d.slice();
      for (const t of req.tasks) t.data.forEach((v, i) => (o[i] += v));
      return o;
    }, 'expert');
    return { weights: out, steps: req.steps };
  }
}

/**
 * Records every model it is shown. Adaptation task j scores 1 / (1 + |w - target_j|_1) where the target
 * is its vector; zero-shot tasks score 1 / (1 + |w|_1) (closeness to θ0 = 0).
 */
export class RecordingEvaluator implements Evaluator<number[]> {
  readonly seen: number[][] = [];
  async evaluate(weights: ParamSet, tasks: readonly VecTask[]): Promise<number[]> {
    const w = values(weights);
    this.seen.push(w);
    return tasks.map((t) => {
      const target = t.role === 'adaptation' ? t.data : w.map(() => 0);
      const dist = w.reduce((a, x, i) => a + Math.abs(x - (target[i] ?? 0)), 0);
      return 1 / (1 + dist);
    });
  }
}
