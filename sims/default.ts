import type { Study } from '../src/study/types.js';
import { ALL_TECHNIQUES, fullProtocolGrid } from './methods.js';

/**
 * What `npm start` runs: every init protocol x deploy protocol x technique, and the three baselines,
 * on the default stream (T = 20), three seeds. Methods that merge nothing (base+last, finetune) run once
 * per seed; deployed+last is finetune and is skipped; SLERP (two models) cannot do merge-all.
 */
export const defaultStudy: Study = {
  name: 'default',
  description:
    'Full TIME grid on the default synthetic stream (T = 20 tasks from 5 shifted datasets, dataset-incremental order): ' +
    'init {base, last, merge-all, ema, paint, deployed} x deploy {last, merge-all, ema, paint} x every merging technique, plus the zero-shot, continual and multitask baselines.',
  stream: {},
  methods: fullProtocolGrid(),
  techniques: ALL_TECHNIQUES,
  seeds: [0, 1, 2],
  baselines: ['zeroshot', 'continual', 'multitask'],
  findings: ['offline-vs-continual', 'init-deploy-over-technique', 'best-in-time'],
  quick: {
    stream: { T: 6, datasets: 3, stepsPerTask: 15, pretrainSteps: 400, zeroshotTasks: 2 },
    methods: ['finetune', 'offline_merge', 'ema_paint', 'zs_paint', 'merge-all+merge-all'],
    techniques: [{ name: 'weighted-average' }, { name: 'magmax' }],
    seeds: [0],
  },
};
