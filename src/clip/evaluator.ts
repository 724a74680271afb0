import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import type { ParamSet } from '../params/paramset.js';
import type { Evaluator, Task } from '../time/types.js';
import type { ClipConfig } from './config.js';
import type { ClipTaskData, FomoData } from './data.js';
import type { Sample } from './fomo.js';
import { loadEvalImage } from './images.js';
import { accuracy, retrievalScores, similarities, type RetrievalScores } from './metrics.js';
import { encodeImage, encodeText, l2normalize, type ClipWeights } from './model.js';
import { toTensors } from './tensors.js';
import type { ClipTokenizer } from './tokenizer.js';

export interface ClipEvaluatorOptions {
  readonly batchSize?: number;
  /** Evaluate at most this many test images per task part (a fixed seeded subset); default all. */
  readonly maxSamples?: number;
  /** Evaluate this fraction of each task part's test images (a fixed seeded subset); default 1. */
  readonly subset?: number;
  /** k of the retrieval score (R@k averaged over both directions); default 5 as FoMo-in-Flux reports. */
  readonly retrievalK?: number;
  /** Preprocessed test images kept in memory across evaluations, in megabytes (default 512). */
  readonly cacheMb?: number;
  readonly seed?: number;
  /** Receives the full retrieval figures of every retrieval task part, each time one is evaluated. */
  readonly onRetrieval?: (part: RetrievalPart) => void;
}

/** One retrieval dataset's figures within one evaluated task (a task may span several datasets). */
export interface RetrievalPart extends RetrievalScores {
  /** Position of the task in the list evaluated (the task order of the results files). */
  readonly taskIndex: number;
  readonly taskId: string;
  readonly dataset: string;
  /** Image-caption pairs ranked against each other. */
  readonly pairs: number;
}

/** A fixed subset of a task part's test images: the same at every step, so scores are comparable over time. */
export function evalSubset(
  samples: Sample[],
  key: string,
  max: number | undefined,
  seed: number,
  fraction = 1,
): Sample[] {
  // fomo_in_flux's validate_on_subset: a fraction of each test set (at least one image), then the cap.
  const n = Math.min(max ?? Number.POSITIVE_INFINITY, Math.max(1, Math.ceil(samples.length * fraction)));
  if (samples.length <= n) return samples;
  const rng = seedrandom(`clip-eval/${seed}/${key}`);
  const idx = [...samples.keys()];
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx
    .slice(0, n)
    .sort((a, b) => a - b)
    .map((i) => samples[i]);
}

/** Zero-shot classification (one primer prompt per class) and image-text retrieval on test splits. */
export class ClipEvaluator implements Evaluator<ClipTaskData> {
  private readonly cache = new Map<string, Float32Array>();
  private cachedFloats = 0;

  constructor(
    private readonly data: FomoData,
    private readonly config: ClipConfig,
    private readonly tokenizer: ClipTokenizer,
    private readonly options: ClipEvaluatorOptions = {},
  ) {}

  async evaluate(weights: ParamSet, tasks: readonly Task<ClipTaskData>[]): Promise<number[]> {
    const p = toTensors(weights);
    const classifiers = new Map<string, Float32Array>();
    try {
      const out: number[] = [];
      for (const [taskIndex, task] of tasks.entries()) {
        let weighted = 0;
        let count = 0;
        for (const part of task.data.parts) {
          const samples = this.subset(this.data.samples({ parts: [part] }, 'test'), `${task.id}/${part.dataset}`);
          if (samples.length === 0) continue;
          let score: number;
          if (this.data.info(part.dataset).type === 'retrieval') {
            const r = await this.retrieval(p, samples);
            this.options.onRetrieval?.({
              taskIndex,
              taskId: task.id,
              dataset: part.dataset,
              pairs: samples.length,
              ...r,
            });
            score = r.score;
          } else {
            score = await this.classification(p, samples, part.dataset, classifiers);
          }
          weighted += score * samples.length;
          count += samples.length;
        }
        out.push(count === 0 ? 0 : weighted / count);
      }
      return out;
    } finally {
      tf.dispose(Object.values(p));
    }
  }

  private subset(samples: Sample[], key: string): Sample[] {
    return evalSubset(samples, key, this.options.maxSamples, this.options.seed ?? 0, this.options.subset);
  }

  private async classification(
    p: ClipWeights,
    samples: Sample[],
    dataset: string,
    classifiers: Map<string, Float32Array>,
  ): Promise<number> {
    const classnames = this.data.classnames(dataset);
    let cls = classifiers.get(dataset);
    if (!cls) {
      const primer = this.data.info(dataset).primer;
      cls = this.textFeatures(
        p,
        classnames.map((c) => primer.replaceAll('{}', c)),
      );
      classifiers.set(dataset, cls);
    }
    const img = await this.imageFeatures(p, samples);
    const d = this.config.embedDim;
    const index = new Map(classnames.map((c, i) => [c, i]));
    // Targets by class name, so retrieval-style sets and remapped ids still line up with the prompts.
    const targets = samples.map((s) => index.get(s.classname) ?? s.target);
    return accuracy(
      similarities(img, samples.length, cls, classnames.length, d),
      samples.length,
      classnames.length,
      targets,
    );
  }

  /** Each test image against its own caption (the first candidate), among all pairs of the part. */
  private async retrieval(p: ClipWeights, samples: Sample[]): Promise<RetrievalScores> {
    const img = await this.imageFeatures(p, samples);
    const txt = this.textFeatures(
      p,
      samples.map((s) => s.captions[0]),
    );
    const n = samples.length;
    return retrievalScores(similarities(img, n, txt, n, this.config.embedDim), n, this.options.retrievalK ?? 5);
  }

  private textFeatures(p: ClipWeights, texts: string[]): Float32Array {
    const bs = this.options.batchSize ?? 64;
    const d = this.config.embedDim;
    const out = new Float32Array(texts.length * d);
    for (let i = 0; i < texts.length; i += bs) {
      const chunk = texts.slice(i, i + bs);
      const tokens = this.tokenizer.tokenize(chunk, this.config.text.contextLength);
      const f = tf.tidy(() => l2normalize(encodeText(p, this.config, tokens, chunk.length)));
      out.set(f.dataSync(), i * d);
      f.dispose();
    }
    return out;
  }

  private async pixels(s: Sample): Promise<Float32Array> {
    const hit = this.cache.get(s.path);
    if (hit) return hit;
    const px = await loadEvalImage(s.path, this.config.vision.imageSize, this.data.info(s.dataset));
    if ((this.cachedFloats + px.length) * 4 <= (this.options.cacheMb ?? 512) * 1e6) {
      this.cache.set(s.path, px);
      this.cachedFloats += px.length;
    }
    return px;
  }

  private async imageFeatures(p: ClipWeights, samples: Sample[]): Promise<Float32Array> {
    const bs = this.options.batchSize ?? 64;
    const size = this.config.vision.imageSize;
    const d = this.config.embedDim;
    const out = new Float32Array(samples.length * d);
    for (let i = 0; i < samples.length; i += bs) {
      const chunk = samples.slice(i, i + bs);
      const px = await Promise.all(chunk.map((s) => this.pixels(s)));
      const flat = new Float32Array(chunk.length * 3 * size * size);
      px.forEach((x, j) => flat.set(x, j * x.length));
      const f = tf.tidy(() =>
        l2normalize(encodeImage(p, this.config, tf.tensor4d(flat, [chunk.length, 3, size, size]))),
      );
      out.set(f.dataSync(), i * d);
      f.dispose();
    }
    return out;
  }
}
