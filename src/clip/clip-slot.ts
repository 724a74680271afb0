import type { TaskStream } from '../time/types.js';
import type { ClipSlot } from './clip-run.js';
import type { ClipConfig } from './config.js';
import type { ClipTaskData, FomoData } from './data.js';
import type { DeviceChoice } from './engine.js';
import { ClipEvaluator, type RetrievalPart } from './evaluator.js';
import type { ClipStudy } from './study.js';
import type { ClipTokenizer } from './tokenizer.js';
import { TorchEngine } from './torch-engine.js';
import { TorchEvaluator } from './torch-evaluator.js';
import { TorchTrainer } from './torch-trainer.js';
import { ClipTrainer } from './trainer.js';

/** The settings of a clip study that configure its Trainer and Evaluator, the same on both engines. */
export type ClipSlotSettings = Pick<
  ClipStudy,
  'batch' | 'lr' | 'weightDecay' | 'warmup' | 'maxGradNorm' | 'pretrain' | 'microBatch' | 'eval'
>;

/** What a slot's Trainer and Evaluator are built from. */
export interface ClipSlotInputs {
  readonly data: FomoData;
  readonly config: ClipConfig;
  readonly tokenizer: ClipTokenizer;
  readonly settings: ClipSlotSettings;
  readonly log: (msg: string) => void;
  /** Trainer progress lines per task (0 or absent: none). */
  readonly logEvery?: number;
  readonly onRetrieval?: (part: RetrievalPart) => void;
}

/** The torch worker's own settings: where it runs and what it sees. */
export interface TorchSlotInputs extends ClipSlotInputs {
  readonly stream: TaskStream<ClipTaskData>;
  readonly python: string;
  readonly device: DeviceChoice;
  readonly loaderWorkers?: number;
  readonly env?: Readonly<Record<string, string>>;
}

/** The tfjs engine's Trainer and Evaluator: one model in this process. */
export function tfjsClipSlot(i: ClipSlotInputs): ClipSlot {
  const s = i.settings;
  return {
    trainer: new ClipTrainer(i.data, i.config, i.tokenizer, {
      batchSize: s.batch,
      optim: { lr: s.lr, weightDecay: s.weightDecay },
      warmupFraction: s.warmup,
      maxGradNorm: s.maxGradNorm,
      pretrainDatasets: s.pretrain,
      log: i.log,
      logEvery: i.logEvery,
    }),
    evaluator: new ClipEvaluator(i.data, i.config, i.tokenizer, {
      batchSize: s.eval.batch,
      maxSamples: s.eval.maxSamples,
      subset: s.eval.subset,
      seed: s.eval.seed,
      retrievalK: s.eval.k,
      onRetrieval: i.onRetrieval,
    }),
    log: i.log,
  };
}

/** Starts a torch worker and builds the Trainer and Evaluator on it; the caller closes the engine. */
export async function torchClipSlot(i: TorchSlotInputs): Promise<{ engine: TorchEngine; slot: ClipSlot }> {
  const s = i.settings;
  const engine = await TorchEngine.start(i.data, i.stream, i.config, s.pretrain ?? [], {
    python: i.python,
    device: i.device,
    microBatch: s.microBatch,
    loaderWorkers: i.loaderWorkers,
    log: i.log,
    env: i.env,
  });
  try {
    i.log(`engine: ${engine.description} (${i.python})`);
    const trainer = new TorchTrainer(engine, i.tokenizer, {
      batchSize: s.batch,
      lr: s.lr,
      weightDecay: s.weightDecay,
      warmupFraction: s.warmup,
      maxGradNorm: s.maxGradNorm,
      pretrainDatasets: s.pretrain,
      log: i.log,
      logEvery: i.logEvery,
    });
    const evaluator = new TorchEvaluator(engine, i.tokenizer, {
      batchSize: s.eval.batch,
      maxSamples: s.eval.maxSamples,
      subset: s.eval.subset,
      seed: s.eval.seed,
      retrievalK: s.eval.k,
      onRetrieval: i.onRetrieval,
      log: i.log,
    });
    return { engine, slot: { trainer, evaluator, log: i.log } };
  } catch (err) {
    // A setting the Trainer or Evaluator refuses must not leave the worker running.
    await engine.close();
    throw err;
  }
}
