import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { fail } from '../params/errors.js';
import type { TrainRequest, TrainResult, Trainer } from '../time/types.js';
import type { ClipConfig } from './config.js';
import type { ClipTaskData, FomoData } from './data.js';
import type { Sample } from './fomo.js';
import { loadTrainImage } from './images.js';
import { ADAMW_DEFAULTS, cosineLr, type AdamWOptions } from './optim.js';
import { TrainingSession } from './session.js';
import { TaskBatches } from './task-batches.js';
import { trainProgressLine } from './train-log.js';
import type { ClipTokenizer } from './tokenizer.js';

export interface ClipTrainerOptions {
  readonly batchSize: number;
  readonly optim?: Partial<AdamWOptions>;
  /** Fraction of each task's steps spent warming up (restarted per task). */
  readonly warmupFraction?: number;
  /** Global gradient-norm limit; 0 turns clipping off. */
  readonly maxGradNorm?: number;
  /** Datasets whose train split stands in for pretraining data in the replay mix. */
  readonly pretrainDatasets?: readonly string[];
  readonly log?: (msg: string) => void;
  /** Log the loss every this many steps (0: never). */
  readonly logEvery?: number;
  /** Sees every batch as drawn (pretraining share, current task, replay buffer, in that order), before training on it. */
  readonly onBatch?: (batch: readonly Sample[], step: number) => void;
}

/** Fine-tunes CLIP with the contrastive loss on a task's image-caption pairs (the TIME Train stage). */
export class ClipTrainer implements Trainer<ClipTaskData> {
  private readonly optim: AdamWOptions;

  constructor(
    private readonly data: FomoData,
    private readonly config: ClipConfig,
    private readonly tokenizer: ClipTokenizer,
    private readonly options: ClipTrainerOptions,
  ) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 2)
      fail(
        'CONFIG',
        `batch size must be an integer >= 2 (the contrastive loss needs negatives), got ${options.batchSize}`,
      );
    this.optim = { ...ADAMW_DEFAULTS, ...options.optim };
    for (const [k, v] of Object.entries(this.optim))
      if (!(Number.isFinite(v) && v >= 0))
        fail('CONFIG', `optimiser setting ${k} must be a non-negative number, got ${v}`);
  }

  async train(req: TrainRequest<ClipTaskData>): Promise<TrainResult> {
    const draws = new TaskBatches(this.data, req, this.options.batchSize, this.options.pretrainDatasets);
    const session = new TrainingSession(req.init, this.config, this.optim, this.options.maxGradNorm ?? 1);
    const size = this.config.vision.imageSize;
    const logEvery = this.options.logEvery ?? 0;
    const started = performance.now();
    try {
      for (let step = 0; step < req.steps; step++) {
        const { batch, cropSeeds, texts } = draws.next();
        this.options.onBatch?.(batch, step);
        const pixels = await Promise.all(
          batch.map((s, i) => loadTrainImage(s.path, size, this.data.info(s.dataset), seedrandom(`${cropSeeds[i]}`))),
        );
        const flat = new Float32Array(batch.length * 3 * size * size);
        pixels.forEach((p, i) => flat.set(p, i * p.length));
        const images = tf.tensor4d(flat, [batch.length, 3, size, size]);
        const tokens = this.tokenizer.tokenize(texts, this.config.text.contextLength);
        const lr = cosineLr(step, req.steps, this.optim.lr, this.options.warmupFraction ?? 0.1);
        const { loss } = session.step(images, tokens, lr);
        images.dispose();
        if (!Number.isFinite(loss))
          fail(
            'PIPELINE',
            `training diverged: loss ${loss} at step ${step + 1} of ${req.tasks.map((t) => t.id).join(', ')}`,
          );
        if (logEvery > 0 && ((step + 1) % logEvery === 0 || step + 1 === req.steps)) {
          const rate = ((step + 1) * batch.length) / ((performance.now() - started) / 1000);
          this.options.log?.(trainProgressLine(step + 1, req.steps, loss, lr, rate, batch.length));
        }
      }
      return { weights: session.weights(`expert(${req.tasks.map((t) => t.id).join(',')})`), steps: req.steps };
    } finally {
      session.dispose();
    }
  }
}
