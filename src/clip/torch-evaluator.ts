import { rmSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import type { ParamSet } from '../params/paramset.js';
import type { Evaluator, Task } from '../time/types.js';
import type { ClipTaskData } from './data.js';
import { evalSubset, type ClipEvaluatorOptions } from './evaluator.js';
import type { Sample } from './fomo.js';
import type { ClipTokenizer } from './tokenizer.js';
import type { TorchEngine } from './torch-engine.js';

interface PartReply {
  readonly score: number;
  readonly i2t_r1?: number;
  readonly i2t_r5?: number;
  readonly t2i_r1?: number;
  readonly t2i_r5?: number;
}

/**
 * The TIME Eval stage on the torch worker: the same tasks, subsets, prompts, captions and scores as
 * ClipEvaluator (zero-shot accuracy with one primer prompt per class; R@k over both directions for
 * retrieval sets), with features and similarity ranks computed on the worker's device.
 */
export class TorchEvaluator implements Evaluator<ClipTaskData> {
  private readonly prompts = new Map<string, number[][]>();

  constructor(
    private readonly engine: TorchEngine,
    private readonly tokenizer: ClipTokenizer,
    private readonly options: Omit<ClipEvaluatorOptions, 'cacheMb'> & {
      log?: (msg: string) => void;
      onEvaluated?: (reply: Record<string, unknown>) => void;
    } = {},
  ) {}

  async evaluate(weights: ParamSet, tasks: readonly Task<ClipTaskData>[]): Promise<number[]> {
    const texts: Record<string, number[][]> = {};
    const parts: Record<string, unknown>[] = [];
    const where: { taskIndex: number; task: Task<ClipTaskData>; dataset: string; n: number }[] = [];
    const data = this.engine.data;
    for (const [taskIndex, task] of tasks.entries()) {
      for (const part of task.data.parts) {
        const samples = evalSubset(
          data.samples({ parts: [part] }, 'test'),
          `${task.id}/${part.dataset}`,
          this.options.maxSamples,
          this.options.seed ?? 0,
          this.options.subset,
        );
        if (samples.length === 0) continue;
        const ids = samples.map((s) => this.engine.id(s));
        if (data.info(part.dataset).type === 'retrieval') {
          const key = `captions:${taskIndex}:${part.dataset}`;
          texts[key] = this.tokens(samples.map((s) => s.captions[0]));
          parts.push({ kind: 'retrieval', samples: ids, texts: key });
        } else {
          const key = `prompts:${part.dataset}`;
          texts[key] = this.classifier(part.dataset);
          const index = new Map(data.classnames(part.dataset).map((c, i) => [c, i]));
          parts.push({
            kind: 'classification',
            samples: ids,
            texts: key,
            targets: samples.map((s: Sample) => index.get(s.classname) ?? s.target),
          });
        }
        where.push({ taskIndex, task, dataset: part.dataset, n: samples.length });
      }
    }
    const weightsPath = await this.engine.writeWeights(weights, 'eval');
    const request = this.engine.file('eval', 'json');
    try {
      await writeFile(`${request}.tmp`, JSON.stringify({ texts, parts }));
      await rename(`${request}.tmp`, request);
      const reply = await this.engine.worker.request('eval', {
        weights: weightsPath,
        request,
        batch: this.options.batchSize ?? 256,
        k: this.options.retrievalK ?? 5,
      });
      this.options.onEvaluated?.(reply);
      const scores = reply.parts as PartReply[];
      const sum = new Array<number>(tasks.length).fill(0);
      const count = new Array<number>(tasks.length).fill(0);
      where.forEach((w, i) => {
        const r = scores[i];
        if (r.i2t_r1 !== undefined) {
          this.options.onRetrieval?.({
            taskIndex: w.taskIndex,
            taskId: w.task.id,
            dataset: w.dataset,
            pairs: w.n,
            imageToTextR1: r.i2t_r1,
            imageToTextR5: r.i2t_r5!,
            textToImageR1: r.t2i_r1!,
            textToImageR5: r.t2i_r5!,
            score: r.score,
          });
        }
        sum[w.taskIndex] += r.score * w.n;
        count[w.taskIndex] += w.n;
      });
      // The rate leaves out the weights' load, so it is the evaluation's own speed; steps.csv's
      // eval_seconds holds the whole cost of each step's evaluation.
      const seconds = reply.seconds as number;
      const load = (reply.loadSeconds as number | undefined) ?? 0;
      this.options.log?.(
        `  evaluated ${reply.images} images in ${seconds.toFixed(1)} s (${((reply.images as number) / Math.max(seconds - load, 1e-9)).toFixed(1)} images/s after ${load.toFixed(1)} s loading the weights)`,
      );
      return sum.map((s, t) => (count[t] === 0 ? 0 : s / count[t]));
    } finally {
      for (const f of [weightsPath, request]) rmSync(f, { force: true });
    }
  }

  private classifier(dataset: string): number[][] {
    let p = this.prompts.get(dataset);
    if (!p) {
      const primer = this.engine.data.info(dataset).primer;
      p = this.tokens(this.engine.data.classnames(dataset).map((c) => primer.replaceAll('{}', c)));
      this.prompts.set(dataset, p);
    }
    return p;
  }

  /** Token ids without the zero padding (the worker pads to the context length). */
  private tokens(texts: string[]): number[][] {
    const ctx = this.engine.config.text.contextLength;
    const flat = this.tokenizer.tokenize(texts, ctx);
    return texts.map((_, i) => {
      const row = Array.from(flat.subarray(i * ctx, (i + 1) * ctx));
      let end = row.length;
      while (end > 0 && row[end - 1] === 0) end--;
      return row.slice(0, end);
    });
  }
}
