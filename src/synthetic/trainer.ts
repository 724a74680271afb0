import { fail } from '../params/errors.js';
import type { ParamSet } from '../params/paramset.js';
import type { ReplayMix, Trainer, TrainRequest, TrainResult } from '../time/types.js';
import type { SyntheticConfig } from './config.js';
import { IMAGE, TEXT, accumulateGradients, dimsOf, trainingFlops, type Dims, type Grads } from './model.js';
import { cosineWithWarmup, ParamOptimiser, type OptimiserSettings } from './optim.js';
import { Rng } from './random.js';
import type { SynthTaskData } from './world.js';

/** How a model is trained: optimiser, schedule, batch and whether the text encoder moves. */
export interface TrainSettings extends OptimiserSettings {
  readonly lr: number;
  readonly batchSize: number;
  readonly warmup: number;
  readonly temperature: number;
  readonly trainText: boolean;
}

export function trainSettings(cfg: SyntheticConfig): TrainSettings {
  return {
    kind: cfg.optimiser,
    lr: cfg.lr,
    weightDecay: cfg.weightDecay,
    momentum: cfg.momentum,
    batchSize: cfg.batchSize,
    warmup: cfg.warmup,
    temperature: cfg.temperature,
    trainText: cfg.trainText,
  };
}

/** How many samples of a batch come from pretraining data, the current task(s) and the earlier tasks. */
export function batchComposition(
  batch: number,
  mix: ReplayMix,
  hasPrevious: boolean,
): { pretrain: number; current: number; buffer: number } {
  for (const [key, v] of Object.entries(mix)) {
    if (!Number.isFinite(v) || v < 0) fail('CONFIG', `replay mix: ${key} must be a finite number >= 0, got ${v}`);
  }
  const total = mix.pretrain + mix.current + (hasPrevious ? mix.buffer : 0);
  if (total <= 0) fail('CONFIG', `replay mix ${JSON.stringify(mix)} gives a batch no data`);
  const pretrain = Math.round((batch * mix.pretrain) / total);
  const buffer = hasPrevious ? Math.round((batch * mix.buffer) / total) : 0;
  return { pretrain, buffer: Math.min(buffer, batch - pretrain), current: Math.max(0, batch - pretrain - buffer) };
}

/**
 * Trains a copy of `init` for `steps` optimiser steps on batches drawn from `sources` (with their counts
 * per batch). Returns the weights and the FLOPs spent. The optimiser state starts fresh.
 */
export function trainModel(
  init: ParamSet,
  groups: readonly { tasks: readonly SynthTaskData[]; perBatch: number }[],
  steps: number,
  settings: TrainSettings,
  dims: Dims,
  seed: string,
): { weights: ParamSet; flops: number } {
  const weights = init.clone('synthetic-expert');
  const w = weights.data(IMAGE);
  const v = weights.data(TEXT);
  const rng = new Rng(seed);
  const grads: Grads = {
    gW: new Float32Array(w.length),
    gV: settings.trainText ? new Float32Array(v.length) : undefined,
  };
  const optW = new ParamOptimiser(w, settings);
  const optV = settings.trainText ? new ParamOptimiser(v, settings) : undefined;
  const z = new Float64Array(dims.k);
  const dz = new Float64Array(dims.k);
  const batch = groups.reduce((s, g) => s + g.perBatch, 0);
  const rowsOf = new Map<SynthTaskData, number[]>();
  let flops = 0;
  for (let step = 0; step < steps; step++) {
    rowsOf.clear();
    for (const g of groups) {
      for (let i = 0; i < g.perBatch; i++) {
        const task = g.tasks[g.tasks.length === 1 ? 0 : rng.int(g.tasks.length)];
        let rows = rowsOf.get(task);
        if (!rows) rowsOf.set(task, (rows = []));
        rows.push(rng.int(task.train.n));
      }
    }
    grads.gW.fill(0);
    grads.gV?.fill(0);
    for (const [task, rows] of rowsOf) {
      accumulateGradients(w, v, task, rows, batch, dims, settings.temperature, grads, z, dz);
      flops += trainingFlops(dims, task.classes, rows.length, settings.trainText);
    }
    const lr = cosineWithWarmup(settings.lr, step, steps, settings.warmup);
    optW.step(grads.gW, lr);
    if (optV && grads.gV) optV.step(grads.gV, lr);
  }
  return { weights, flops };
}

/** 64-bit-ish FNV-1a fingerprint of a model's bits, so identical requests can share one training run. */
function fingerprint(ps: ParamSet): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (const [name, t] of ps.entries()) {
    for (let i = 0; i < name.length; i++) h1 = Math.imul(h1 ^ name.charCodeAt(i), 16777619);
    const bits = new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length);
    for (let i = 0; i < bits.length; i++) {
      h1 = Math.imul(h1 ^ bits[i], 16777619);
      h2 = Math.imul(h2 ^ bits[i], 2246822519) ^ (h2 >>> 13);
    }
  }
  return `${(h1 >>> 0).toString(16)}${(h2 >>> 0).toString(16)}`;
}

export interface SyntheticTrainerOptions {
  /**
   * Remember results of identical requests (same init bits, tasks, mix, steps, seed) and return a copy.
   * Training is a pure function of the request, so this changes no result; it saves repeated work
   * when many runs of a study share a training step (every run that trains from θ0 at step t).
   */
  readonly cacheSize?: number;
}

/** Trainer over synthetic tasks: SGD or AdamW with a step budget, cosine schedule with warm-up, replay. */
export class SyntheticTrainer implements Trainer<SynthTaskData> {
  private readonly dims: Dims;
  private readonly settings: TrainSettings;
  private readonly cache = new Map<string, { weights: ParamSet; flops: number }>();
  private readonly cacheSize: number;
  /** Steps served from the cache (for throughput figures: those FLOPs were not spent again). */
  cachedSteps = 0;
  trainedSteps = 0;
  flopsSpent = 0;

  constructor(
    cfg: SyntheticConfig,
    private readonly pretrain: SynthTaskData,
    options: SyntheticTrainerOptions = {},
  ) {
    this.dims = dimsOf(cfg);
    this.settings = trainSettings(cfg);
    this.cacheSize = options.cacheSize ?? 0;
  }

  async train(req: TrainRequest<SynthTaskData>): Promise<TrainResult> {
    if (!Number.isInteger(req.steps) || req.steps < 0)
      fail('CONFIG', `synthetic trainer: steps must be an integer >= 0, got ${req.steps}`);
    if (req.tasks.length === 0) fail('CONFIG', 'synthetic trainer: a training request needs at least one task');
    const key =
      this.cacheSize > 0
        ? [
            fingerprint(req.init),
            req.tasks.map((t) => t.id).join(','),
            req.previous.map((t) => t.id).join(','),
            JSON.stringify(req.replay),
            req.steps,
            req.seed,
          ].join('|')
        : '';
    const hit = key ? this.cache.get(key) : undefined;
    if (hit) {
      this.cachedSteps += req.steps;
      return { weights: hit.weights.clone(), steps: req.steps, flops: hit.flops };
    }
    const mix = batchComposition(this.settings.batchSize, req.replay, req.previous.length > 0);
    const groups = [
      { tasks: [this.pretrain], perBatch: mix.pretrain },
      { tasks: req.tasks.map((t) => t.data), perBatch: mix.current },
      { tasks: req.previous.map((t) => t.data), perBatch: mix.buffer },
    ].filter((g) => g.perBatch > 0 && g.tasks.length > 0);
    const out = trainModel(
      req.init,
      groups,
      req.steps,
      this.settings,
      this.dims,
      `synthetic-train/${req.seed}/${req.tasks.map((t) => t.id).join(',')}`,
    );
    this.trainedSteps += req.steps;
    this.flopsSpent += out.flops;
    if (key) {
      if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(key, { weights: out.weights.clone(), flops: out.flops });
    }
    return { weights: out.weights, steps: req.steps, flops: out.flops };
  }
}
