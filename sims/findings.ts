import type { Study, TechniqueChoice } from '../src/study/types.js';
import { ALL_TECHNIQUES, fullProtocolGrid, NAMED_METHODS, WEIGHTED_AVERAGE } from './methods.js';

const QUICK_STREAM = { T: 6, datasets: 3, stepsPerTask: 15, pretrainSteps: 400, zeroshotTasks: 2 };
const PAPER_REPLAY = { pretrain: 0.33, current: 0.34, buffer: 0.33 };

/** Offline merging (train from θ0, merge all experts) against continual fine-tuning. */
export const offlineVsContinual: Study = {
  name: 'offline-vs-continual',
  description: 'Offline merging vs continual fine-tuning, with the baselines, on the default stream.',
  stream: {},
  methods: ['offline_merge', 'finetune'],
  techniques: WEIGHTED_AVERAGE,
  seeds: [0, 1, 2, 3, 4],
  baselines: ['zeroshot', 'continual', 'multitask'],
  findings: ['offline-vs-continual'],
  quick: { stream: QUICK_STREAM, seeds: [0] },
};

/** Replay (0.33 / 0.34 / 0.33 as in the released configs) and recency-weighted merges on offline merging. */
export const timeAwareOffline: Study = {
  name: 'time-aware-offline',
  description: 'Offline merging made time-aware: with and without replay, and with recency-weighted merge-all (linear, quadratic, exp) and its reverse.',
  stream: {},
  settings: [
    { label: 'no-replay' },
    { label: 'replay', replay: PAPER_REPLAY },
  ],
  methods: ['offline_merge', 'base+merge-all:linear', 'base+merge-all:quadratic', 'base+merge-all:exp', 'base+merge-all:reverse-linear', 'finetune'],
  techniques: WEIGHTED_AVERAGE,
  seeds: [0, 1, 2],
  baselines: ['continual'],
  findings: ['time-aware-offline', 'offline-vs-continual'],
  quick: { stream: QUICK_STREAM, seeds: [0] },
};

/** How far apart techniques are, against how far apart init/deploy protocols are. */
export const techniqueSpread: Study = {
  name: 'technique-spread',
  description: 'The named methods x every merging technique: does the technique matter as much as init and deploy?',
  stream: {},
  methods: [...NAMED_METHODS, 'merge-all+merge-all', 'ema+merge-all'],
  techniques: ALL_TECHNIQUES,
  seeds: [0, 1, 2],
  baselines: [],
  findings: ['init-deploy-over-technique'],
  quick: { stream: QUICK_STREAM, seeds: [0], techniques: [{ name: 'weighted-average' }, { name: 'magmax' }, { name: 'ties' }] },
};

/** Best-in-TIME against the official code's named methods and double merges. */
export const bestInTime: Study = {
  name: 'best-in-time',
  description: 'ema_paint (Best-in-TIME) against finetune, offline_merge, zs_paint, ft_paint and the double_merge family, with weighted averaging.',
  stream: {},
  methods: [
    ...NAMED_METHODS,
    ...['zs', 'ft', 'all', 'unrolled'].flatMap((i) => ['ft', 'all', 'unrolled'].map((d) => `double_merge_${i}_${d}`)),
  ],
  techniques: WEIGHTED_AVERAGE,
  seeds: [0, 1, 2, 3, 4],
  baselines: ['zeroshot', 'continual', 'multitask'],
  findings: ['best-in-time', 'offline-vs-continual'],
  quick: { stream: QUICK_STREAM, seeds: [0] },
};

const SCALING_METHODS = ['ema_paint', 'finetune', 'offline_merge'];

/** Model size: the embedding and input dimensions (k, d). */
export const scalingModel: Study = {
  name: 'scaling-model',
  description: 'Best-in-TIME vs finetune and offline_merge as the model grows (k x d from 8 x 16 to 64 x 128).',
  stream: {},
  settings: [
    { label: 'k8-d16', stream: { k: 8, d: 16 } },
    { label: 'k16-d32', stream: { k: 16, d: 32 } },
    { label: 'k32-d64', stream: { k: 32, d: 64 } },
    { label: 'k64-d128', stream: { k: 64, d: 128 } },
  ],
  methods: SCALING_METHODS,
  techniques: WEIGHTED_AVERAGE,
  seeds: [0, 1, 2],
  baselines: [],
  findings: ['scaling'],
  quick: { stream: QUICK_STREAM, seeds: [0], settings: [{ label: 'k8-d16', stream: { k: 8, d: 16 } }, { label: 'k16-d32', stream: { k: 16, d: 32 } }] },
};

/** Compute: optimiser steps per task. */
export const scalingCompute: Study = {
  name: 'scaling-compute',
  description: 'Best-in-TIME vs finetune and offline_merge as the training budget per task grows (10 to 160 steps).',
  stream: {},
  settings: [10, 20, 40, 80, 160].map((s) => ({ label: `steps${s}`, stream: { stepsPerTask: s } })),
  methods: SCALING_METHODS,
  techniques: WEIGHTED_AVERAGE,
  seeds: [0, 1, 2],
  baselines: [],
  findings: ['scaling'],
  quick: { stream: QUICK_STREAM, seeds: [0], settings: [{ label: 'steps10', stream: { stepsPerTask: 10 } }, { label: 'steps20', stream: { stepsPerTask: 20 } }] },
};

/** Horizon: the number of tasks T, up to 200. */
export const scalingHorizon: Study = {
  name: 'scaling-horizon',
  description: 'Best-in-TIME vs finetune and offline_merge as the stream gets longer (T = 10 to 200 tasks, 10 datasets).',
  stream: { datasets: 10, zeroshotTasks: 3 },
  settings: [10, 20, 50, 100, 200].map((T) => ({ label: `T${T}`, stream: { T } })),
  methods: SCALING_METHODS,
  techniques: WEIGHTED_AVERAGE,
  seeds: [0, 1],
  baselines: [],
  findings: ['scaling'],
  quick: { stream: { ...QUICK_STREAM, datasets: 3 }, seeds: [0], settings: [{ label: 'T6', stream: { T: 6 } }, { label: 'T12', stream: { T: 12 } }] },
};

/**
 * Techniques configured as the paper's code (fomo_in_flux) configures them (docs/techniques.md), where
 * the default study uses milder or registry settings: TIES keeps 80% (prunes 20%) with a model-wide
 * ranking and FusionBench-style election; DARE and Breadcrumbs run their TIES variants with p = 0.2;
 * MagMax breaks ties to the earlier expert. Task arithmetic keeps λ = 0.3 (no released setting).
 */
export const FOMO_TECHNIQUES: readonly TechniqueChoice[] = [
  { name: 'weighted-average' },
  { name: 'task-arithmetic', params: { lambda: 0.3 } },
  { name: 'ties', params: { density: 0.8, scope: 'model', tieRule: 'majority', weightsAt: 'after' } },
  { name: 'dare-ties', params: { p: 0.2, mask: 'exact', tieRule: 'majority', weightsAt: 'after' } },
  { name: 'breadcrumbs-ties', params: { p: 0.2, gamma: 0.2, granularity: 'row', disjoint: 'sum', tieRule: 'majority', weightsAt: 'after' } },
  { name: 'magmax', params: { ties: 'earlier' } },
  { name: 'model-stock' },
  { name: 'slerp' },
  { name: 'random-selection' },
];

/** The default grid again, with the paper code's technique settings: is the technique spread an artefact of ours? */
export const techniqueSettings: Study = {
  name: 'technique-settings',
  description: 'The full init x deploy grid of the default study with every technique configured as fomo_in_flux configures it (TIES density 0.8, DARE-TIES and Breadcrumbs-TIES p 0.2).',
  stream: {},
  methods: fullProtocolGrid(),
  techniques: FOMO_TECHNIQUES,
  seeds: [0, 1, 2],
  baselines: ['zeroshot'],
  findings: ['init-deploy-over-technique', 'best-in-time'],
  quick: { stream: QUICK_STREAM, seeds: [0], methods: ['offline_merge', 'ema_paint', 'zs_paint'], techniques: FOMO_TECHNIQUES.slice(0, 4) },
};
