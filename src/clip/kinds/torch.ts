import { cpus } from 'node:os';
import { type ClipRunSpec, type ClipSetup, type ClipSlot, executeClipRun } from '../clip-run.js';
import { torchClipSlot } from '../clip-slot.js';
import type { TorchEngine } from '../torch-engine.js';
import { type RunKind, slotEnv, slotLog } from '../../study/kinds/index.js';

export interface ClipTorchContext extends ClipSetup {
  readonly python: string;
  /** As decided (and printed) before the run: cuda with --gpus, never a silent CPU. */
  readonly device: 'cuda' | 'cpu';
}

/**
 * CLIP runs on the PyTorch worker (engines/torch): one worker process per slot, started when the slot
 * takes its first run and kept for its later ones. With GPUs, a slot's worker sees only its GPU
 * (CUDA_VISIBLE_DEVICES) and runs on cuda.
 */
export const clipTorchKind: RunKind<ClipTorchContext, ClipRunSpec> = {
  name: 'clip-torch',
  async open(setup, slots) {
    const s = setup.study;
    const device = setup.device;
    // Several workers share the machine's cores for image decoding.
    const loaderWorkers =
      s.loaderWorkers ?? (slots.count > 1 ? Math.max(1, Math.floor(cpus().length / slots.count)) : undefined);
    const started = new Map<number, Promise<{ engine: TorchEngine; slot: ClipSlot }>>();
    const start = (slot: number) =>
      torchClipSlot({
        data: setup.data,
        stream: setup.stream,
        config: setup.ckpt.config,
        tokenizer: setup.tokenizer,
        settings: s,
        python: setup.python,
        device,
        loaderWorkers,
        env: slotEnv(slots, slot),
        log: slotLog(slots, slot, setup.log),
        logEvery: setup.logEvery,
        onRetrieval: setup.retrieval.collector(slot),
      });
    const engines = (slot: number) => {
      let e = started.get(slot);
      if (!e) started.set(slot, (e = start(slot)));
      return e;
    };
    return {
      slots: slots.count,
      run: async (spec, slot) => executeClipRun(setup, spec, slot, (await engines(slot)).slot),
      close: async () => {
        await Promise.all([...started.values()].map((p) => p.then((e) => e.engine.close()).catch(() => undefined)));
      },
    };
  },
};
