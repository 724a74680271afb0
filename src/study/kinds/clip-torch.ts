import { cpus } from 'node:os';
import { type ClipRunSpec, type ClipSetup, type ClipSlot, executeClipRun } from '../../clip/clip-run.js';
import type { DeviceChoice } from '../../clip/engine.js';
import { TorchEngine } from '../../clip/torch-engine.js';
import { TorchEvaluator } from '../../clip/torch-evaluator.js';
import { TorchTrainer } from '../../clip/torch-trainer.js';
import { type RunKind, slotEnv, slotLog } from './index.js';

export interface ClipTorchContext extends ClipSetup {
  readonly python: string;
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
    const device: DeviceChoice = slots.gpus ? 'cuda' : s.device;
    // Several workers share the machine's cores for image decoding.
    const loaderWorkers =
      s.loaderWorkers ??
      (slots.count > 1 ? Math.max(0, Math.min(8, Math.floor(cpus().length / slots.count) - 1)) : undefined);
    const started = new Map<number, Promise<{ engine: TorchEngine; slot: ClipSlot }>>();
    const start = async (slot: number) => {
      const log = slotLog(slots, slot, setup.log);
      const engine = await TorchEngine.start(setup.data, setup.stream, setup.ckpt.config, s.pretrain ?? [], {
        python: setup.python,
        device,
        microBatch: s.microBatch,
        loaderWorkers,
        log,
        env: slotEnv(slots, slot),
      });
      log(`engine: ${engine.description} (${setup.python})`);
      const trainer = new TorchTrainer(engine, setup.tokenizer, {
        batchSize: s.batch,
        lr: s.lr,
        weightDecay: s.weightDecay,
        warmupFraction: s.warmup,
        maxGradNorm: s.maxGradNorm,
        pretrainDatasets: s.pretrain,
        log,
        logEvery: setup.logEvery,
      });
      const evaluator = new TorchEvaluator(engine, setup.tokenizer, {
        batchSize: s.eval.batch,
        maxSamples: s.eval.maxSamples,
        retrievalK: s.eval.k,
        onRetrieval: setup.retrieval.collector(slot),
        log,
      });
      return { engine, slot: { trainer, evaluator, log } };
    };
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
