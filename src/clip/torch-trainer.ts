import { rmSync } from 'node:fs';
import { fail } from '../params/errors.js';
import { ParamSet } from '../params/paramset.js';
import type { TrainRequest, TrainResult, Trainer } from '../time/types.js';
import type { ClipTaskData } from './data.js';
import { TaskBatches } from './task-batches.js';
import type { ClipTokenizer } from './tokenizer.js';
import { writeInt32Safetensors, type TorchEngine } from './torch-engine.js';
import { trainProgressLine } from './train-log.js';

export interface TorchTrainerOptions {
  readonly batchSize: number;
  readonly lr: number;
  readonly weightDecay: number;
  readonly warmupFraction: number;
  readonly maxGradNorm: number;
  readonly pretrainDatasets?: readonly string[];
  readonly log?: (msg: string) => void;
  readonly logEvery?: number;
  /** Sees the worker's reply to each train command (images/s, seconds, micro-batch), for benchmarks. */
  readonly onTrained?: (reply: Record<string, unknown>) => void;
}

/**
 * The TIME Train stage on the torch worker. The batches are drawn here exactly as the tfjs trainer draws
 * them (TaskBatches) and sent as a plan: per step the image ids, a crop seed each, and the caption (an
 * index into the plan's table of distinct tokenised captions); the worker decodes, trains and writes the
 * expert back.
 */
export class TorchTrainer implements Trainer<ClipTaskData> {
  constructor(
    private readonly engine: TorchEngine,
    private readonly tokenizer: ClipTokenizer,
    private readonly options: TorchTrainerOptions,
  ) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 2)
      fail(
        'CONFIG',
        `batch size must be an integer >= 2 (the contrastive loss needs negatives), got ${options.batchSize}`,
      );
  }

  async train(req: TrainRequest<ClipTaskData>): Promise<TrainResult> {
    const label = `expert(${req.tasks.map((t) => t.id).join(',')})`;
    if (req.steps === 0) return { weights: copy(req.init, label), steps: 0 };
    const plan = this.plan(req);
    const planPath = this.engine.file('plan');
    await writeInt32Safetensors(planPath, plan);
    const init = await this.engine.writeWeights(req.init, 'init');
    const out = this.engine.file('expert');
    const batch = this.options.batchSize;
    try {
      const reply = await this.engine.train(
        {
          init,
          plan: planPath,
          out,
          lr: this.options.lr,
          weightDecay: this.options.weightDecay,
          warmup: this.options.warmupFraction,
          maxGradNorm: this.options.maxGradNorm,
          logEvery: this.options.logEvery ?? 0,
        },
        (p) => this.options.log?.(trainProgressLine(p.step, p.steps, p.loss, p.lr, p.imagesPerSecond, batch)),
      );
      this.options.onTrained?.(reply);
      return { weights: await this.engine.readWeights(out, req.init, label), steps: req.steps };
    } finally {
      for (const f of [planPath, init, out]) rmSync(f, { force: true });
    }
  }

  private plan(req: TrainRequest<ClipTaskData>): Record<string, { shape: number[]; data: Int32Array }> {
    const draws = new TaskBatches(this.engine.data, req, this.options.batchSize, this.options.pretrainDatasets);
    const n = req.steps * this.options.batchSize;
    const samples = new Int32Array(n);
    const seeds = new Int32Array(n);
    const captions = new Int32Array(n);
    const texts = new Map<string, number>();
    let at = 0;
    for (let step = 0; step < req.steps; step++) {
      const d = draws.next();
      d.batch.forEach((s, i) => {
        samples[at] = this.engine.id(s);
        seeds[at] = d.cropSeeds[i];
        let c = texts.get(d.texts[i]);
        if (c === undefined) texts.set(d.texts[i], (c = texts.size));
        captions[at++] = c;
      });
    }
    const ctx = this.engine.config.text.contextLength;
    const tokens = this.tokenizer.tokenize([...texts.keys()], ctx);
    const shape = [req.steps, this.options.batchSize];
    return {
      samples: { shape, data: samples },
      seeds: { shape, data: seeds },
      captions: { shape, data: captions },
      tokens: { shape: [texts.size, ctx], data: tokens },
    };
  }
}

function copy(p: ParamSet, label: string): ParamSet {
  const out = new ParamSet(label);
  for (const name of p.names()) out.set(name, p.get(name).shape, p.data(name).slice());
  return out;
}
