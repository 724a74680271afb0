import seedrandom from 'seedrandom';
import { fail } from '../params/errors.js';
import type { TrainRequest } from '../time/types.js';
import { batchShares, pickCaption, PoolSampler } from './batches.js';
import type { ClipTaskData, FomoData } from './data.js';
import type { Sample } from './fomo.js';

/** One training step's draw: the samples (pretraining share, current task, replay buffer), crop seeds, texts. */
export interface StepDraw {
  readonly batch: Sample[];
  /** One seed per sample for its RandomResizedCrop. */
  readonly cropSeeds: number[];
  readonly texts: string[];
}

/**
 * The batches of one Train request, drawn step by step from the request's seed. Both engines draw through
 * this, so the tfjs and the torch engine see the same samples and captions in the same order.
 */
export class TaskBatches {
  private readonly rng: seedrandom.PRNG;
  private readonly current: PoolSampler;
  private readonly buffer: PoolSampler;
  private readonly pretrain: PoolSampler;
  private readonly shares: { pretrain: number; current: number; buffer: number };

  constructor(
    data: FomoData,
    req: TrainRequest<ClipTaskData>,
    batchSize: number,
    pretrainDatasets: readonly string[] = [],
  ) {
    const pool = (tasks: readonly { data: ClipTaskData }[]) => tasks.flatMap((t) => data.samples(t.data, 'train'));
    this.rng = seedrandom(`clip-train/${req.seed}`);
    this.current = new PoolSampler('current task', pool(req.tasks), this.rng);
    if (this.current.size === 0) fail('DATA', `tasks ${req.tasks.map((t) => t.id).join(', ')} have no training images`);
    this.buffer = new PoolSampler('replay buffer', pool(req.previous), this.rng);
    if (req.replay.pretrain > 0 && pretrainDatasets.length === 0)
      fail('CONFIG', 'replay.pretrain > 0 needs pretrain datasets (pretrain: [...] in the config)');
    this.pretrain = new PoolSampler(
      'pretraining',
      pretrainDatasets.flatMap((d) => data.split(d, 'train')),
      this.rng,
    );
    this.shares = batchShares(batchSize, req.replay, {
      pretrain: this.pretrain.size > 0,
      buffer: this.buffer.size > 0,
    });
  }

  next(): StepDraw {
    const batch = [
      ...this.pretrain.take(this.shares.pretrain),
      ...this.current.take(this.shares.current),
      ...this.buffer.take(this.shares.buffer),
    ];
    // Every random number is drawn here in a fixed order, before any image is decoded.
    const cropSeeds = batch.map(() => this.rng.int32());
    const texts = batch.map((s) => pickCaption(s, this.rng));
    return { batch, cropSeeds, texts };
  }
}
