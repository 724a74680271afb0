import type { ParamSet } from '../params/paramset.js';
import { resolveSyntheticConfig, type SyntheticConfig } from './config.js';
import { SyntheticEvaluator } from './evaluator.js';
import { dimsOf, initialModel } from './model.js';
import { SyntheticTrainer, trainModel, type SyntheticTrainerOptions } from './trainer.js';
import { generateWorld, type SyntheticWorld } from './world.js';

/** A world ready for the TIME loop: its stream, a pretrained θ0, a trainer and an evaluator. */
export interface SyntheticSetup {
  readonly config: SyntheticConfig;
  readonly world: SyntheticWorld;
  readonly base: ParamSet;
  readonly trainer: SyntheticTrainer;
  readonly evaluator: SyntheticEvaluator;
}

/**
 * θ0: a random model trained (both towers) on the broad pretraining distribution, so it classifies
 * pretraining-like domains well and the shifted adaptation domains poorly.
 */
export function pretrainBase(world: SyntheticWorld): ParamSet {
  const cfg = world.config;
  const dims = dimsOf(cfg);
  const settings = {
    kind: cfg.optimiser,
    lr: cfg.pretrainLr,
    weightDecay: cfg.weightDecay,
    momentum: cfg.momentum,
    batchSize: cfg.batchSize,
    warmup: cfg.warmup,
    temperature: cfg.temperature,
    trainText: true,
  };
  const init = initialModel(dims, cfg.seed);
  const { weights } = trainModel(
    init,
    [{ tasks: [world.pretrain], perBatch: cfg.batchSize }],
    cfg.pretrainSteps,
    settings,
    dims,
    `synthetic-pretrain/${cfg.seed}`,
  );
  return weights.clone('theta0');
}

const setups = new Map<string, SyntheticSetup>();

/** Builds (or reuses, within this thread) the world, θ0, trainer and evaluator for a configuration. */
export function syntheticSetup(
  partial: Partial<SyntheticConfig> = {},
  options: SyntheticTrainerOptions = {},
): SyntheticSetup {
  const config = resolveSyntheticConfig(partial);
  const key = JSON.stringify([config, options]);
  const hit = setups.get(key);
  if (hit) return hit;
  const world = generateWorld(config);
  const base = pretrainBase(world);
  const setup: SyntheticSetup = {
    config,
    world,
    base,
    trainer: new SyntheticTrainer(config, world.pretrain, options),
    evaluator: new SyntheticEvaluator(config),
  };
  if (setups.size >= 8) setups.delete(setups.keys().next().value as string);
  setups.set(key, setup);
  return setup;
}
