import type { ParamSet } from '../params/paramset.js';
import type { Evaluator, Task } from '../time/types.js';
import type { SyntheticConfig } from './config.js';
import { accuracy, dimsOf, type Dims } from './model.js';
import type { SynthTaskData } from './world.js';

/** Zero-shot classification accuracy on each task's held-out samples, by cosine to class text embeddings. */
export class SyntheticEvaluator implements Evaluator<SynthTaskData> {
  private readonly dims: Dims;

  constructor(cfg: SyntheticConfig) {
    this.dims = dimsOf(cfg);
  }

  async evaluate(weights: ParamSet, tasks: readonly Task<SynthTaskData>[]): Promise<number[]> {
    return tasks.map((t) => accuracy(weights, t.data, this.dims));
  }
}
