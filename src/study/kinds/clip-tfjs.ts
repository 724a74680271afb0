import { type ClipRunSpec, type ClipSetup, executeClipRun } from '../../clip/clip-run.js';
import { ClipEvaluator } from '../../clip/evaluator.js';
import { ClipTrainer } from '../../clip/trainer.js';
import { fail } from '../../params/errors.js';
import type { RunKind } from './index.js';

/** CLIP runs on TensorFlow.js in this process: one model, so one run at a time. */
export const clipTfjsKind: RunKind<ClipSetup, ClipRunSpec> = {
  name: 'clip-tfjs',
  async open(setup, slots) {
    if (slots.gpus)
      fail('CONFIG', '--gpus needs the torch engine (engine: torch): the tfjs engine trains in this process');
    if (slots.count > 1)
      fail(
        'CONFIG',
        `--workers ${slots.count}: the tfjs engine trains in this process, one run at a time; use engine: torch, or --shard i/n in separate processes`,
      );
    const s = setup.study;
    const evalOptions = {
      batchSize: s.eval.batch,
      maxSamples: s.eval.maxSamples,
      retrievalK: s.eval.k,
      onRetrieval: setup.retrieval.collector(0),
    };
    const engines = {
      trainer: new ClipTrainer(setup.data, setup.ckpt.config, setup.tokenizer, {
        batchSize: s.batch,
        optim: { lr: s.lr, weightDecay: s.weightDecay },
        warmupFraction: s.warmup,
        maxGradNorm: s.maxGradNorm,
        pretrainDatasets: s.pretrain,
        log: setup.log,
        logEvery: setup.logEvery,
      }),
      evaluator: new ClipEvaluator(setup.data, setup.ckpt.config, setup.tokenizer, evalOptions),
      log: setup.log,
    };
    return { slots: 1, run: (spec, slot) => executeClipRun(setup, spec, slot, engines), close: async () => {} };
  },
};
