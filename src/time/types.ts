import type { ParamSet } from '../params/paramset.js';

/**
 * A task as the pipeline sees it: an id and a role. What the data is (synthetic samples, FoMo-in-Flux
 * image lists, a path for an external script) is the business of the Trainer and Evaluator that made it.
 */
export interface Task<D = unknown> {
  readonly id: string;
  /** adaptation tasks are trained on and count towards A_KA; zeroshot tasks are evaluation-only (A_ZS). */
  readonly role: 'adaptation' | 'zeroshot';
  readonly data: D;
}

/** The sequence the TIME loop walks: T adaptation tasks in order, and held-out evaluation-only tasks. */
export interface TaskStream<D = unknown> {
  readonly name: string;
  readonly adaptation: readonly Task<D>[];
  readonly zeroshot: readonly Task<D>[];
}

/** Proportions of each training batch: pretraining-like data, the current task(s), earlier tasks. */
export interface ReplayMix {
  readonly pretrain: number;
  readonly current: number;
  readonly buffer: number;
}

export const NO_REPLAY: ReplayMix = { pretrain: 0, current: 1, buffer: 0 };

export interface TrainRequest<D = unknown> {
  /** Weights training starts from (the init protocol's output). Trainers must not modify it. */
  readonly init: ParamSet;
  /** The task(s) to learn now: one per TIME step; all of them for the multitask baseline. */
  readonly tasks: readonly Task<D>[];
  /** Tasks seen at earlier steps, for the replay buffer. */
  readonly previous: readonly Task<D>[];
  readonly replay: ReplayMix;
  /** Optimiser steps allowed. */
  readonly steps: number;
  readonly seed: number;
}

export interface TrainResult {
  readonly weights: ParamSet;
  /** Optimiser steps actually taken. */
  readonly steps: number;
  /** Optional: multiply-adds or FLOPs spent, for throughput figures. */
  readonly flops?: number;
}

/** Train: init weights + task + budget + seed -> expert. */
export interface Trainer<D = unknown> {
  train(request: TrainRequest<D>): Promise<TrainResult>;
}

/** Eval: weights -> a score in [0, 1] per task (accuracy, recall@5, ...), in the order given. */
export interface Evaluator<D = unknown> {
  evaluate(weights: ParamSet, tasks: readonly Task<D>[]): Promise<number[]>;
}
