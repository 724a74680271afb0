import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { fail } from '../params/errors.js';
import type { TrainRequest, TrainResult, Trainer } from '../time/types.js';
import type { ClipConfig } from './config.js';
import { batchShares, pickCaption, PoolSampler } from './batches.js';
import type { ClipTaskData, FomoData } from './data.js';
import type { Sample } from './fomo.js';
import { loadTrainImage } from './images.js';
import { ADAMW_DEFAULTS, cosineLr, type AdamWOptions } from './optim.js';
import { TrainingSession } from './session.js';
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
    if (!Number.isInteger(options.batchSize) || options.batchSize < 2) fail('CONFIG', `batch size must be an integer >= 2 (the contrastive loss needs negatives), got ${options.batchSize}`);
    this.optim = { ...ADAMW_DEFAULTS, ...options.optim };
    for (const [k, v] of Object.entries(this.optim)) if (!(Number.isFinite(v) && v >= 0)) fail('CONFIG', `optimiser setting ${k} must be a non-negative number, got ${v}`);
  }

  private pool(tasks: readonly { data: ClipTaskData }[]): Sample[] {
    return tasks.flatMap((t) => this.data.samples(t.data, 'train'));
  }

  async train(req: TrainRequest<ClipTaskData>): Promise<TrainResult> {
    const rng = seedrandom(`clip-train/${req.seed}`);
    const current = new PoolSampler('current task', this.pool(req.tasks), rng);
    if (current.size === 0) fail('DATA', `tasks ${req.tasks.map((t) => t.id).join(', ')} have no training images`);
    const buffer = new PoolSampler('replay buffer', this.pool(req.previous), rng);
    const pretrainSets = this.options.pretrainDatasets ?? [];
    if (req.replay.pretrain > 0 && pretrainSets.length === 0) fail('CONFIG', 'replay.pretrain > 0 needs pretrain datasets (pretrain: [...] in the config)');
    const pretrain = new PoolSampler('pretraining', pretrainSets.flatMap((d) => this.data.split(d, 'train')), rng);
    const shares = batchShares(this.options.batchSize, req.replay, { pretrain: pretrain.size > 0, buffer: buffer.size > 0 });

    const session = new TrainingSession(req.init, this.config, this.optim, this.options.maxGradNorm ?? 1);
    const size = this.config.vision.imageSize;
    const logEvery = this.options.logEvery ?? 0;
    try {
      for (let step = 0; step < req.steps; step++) {
        const batch = [...pretrain.take(shares.pretrain), ...current.take(shares.current), ...buffer.take(shares.buffer)];
        this.options.onBatch?.(batch, step);
        // Draw every random number on this thread in a fixed order before decoding in parallel.
        const crops = batch.map(() => seedrandom(`${rng.int32()}`));
        const texts = batch.map((s) => pickCaption(s, rng));
        const pixels = await Promise.all(batch.map((s, i) => loadTrainImage(s.path, size, this.data.info(s.dataset), crops[i])));
        const flat = new Float32Array(batch.length * 3 * size * size);
        pixels.forEach((p, i) => flat.set(p, i * p.length));
        const images = tf.tensor4d(flat, [batch.length, 3, size, size]);
        const tokens = this.tokenizer.tokenize(texts, this.config.text.contextLength);
        const lr = cosineLr(step, req.steps, this.optim.lr, this.options.warmupFraction ?? 0.1);
        const { loss } = session.step(images, tokens, lr);
        images.dispose();
        if (!Number.isFinite(loss)) fail('PIPELINE', `training diverged: loss ${loss} at step ${step + 1} of ${req.tasks.map((t) => t.id).join(', ')}`);
        if (logEvery > 0 && ((step + 1) % logEvery === 0 || step + 1 === req.steps)) {
          this.options.log?.(`  step ${step + 1}/${req.steps} loss ${loss.toFixed(4)} lr ${lr.toExponential(2)}`);
        }
      }
      return { weights: session.weights(`expert(${req.tasks.map((t) => t.id).join(',')})`), steps: req.steps };
    } finally {
      session.dispose();
    }
  }
}
