import { type ClipRunSpec, type ClipSetup, executeClipRun } from '../clip-run.js';
import { tfjsClipSlot } from '../clip-slot.js';
import { fail } from '../../params/errors.js';
import type { RunKind } from '../../study/kinds/index.js';

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
    const engines = tfjsClipSlot({
      data: setup.data,
      config: setup.ckpt.config,
      tokenizer: setup.tokenizer,
      settings: setup.study,
      log: setup.log,
      logEvery: setup.logEvery,
      onRetrieval: setup.retrieval.collector(0),
    });
    return { slots: 1, run: (spec, slot) => executeClipRun(setup, spec, slot, engines), close: async () => {} };
  },
};
