import * as tf from '@tensorflow/tfjs';
import { ParamSet } from '../params/paramset.js';
import type { ClipConfig } from './config.js';
import { clipForward } from './model.js';
import { AdamW, clipByGlobalNorm, excludedFromDecay, type AdamWOptions } from './optim.js';

/** open_clip clamps the learnable temperature to at most 100 after every step. */
const MAX_LOGIT_SCALE = Math.log(100);

export interface StepResult {
  readonly loss: number;
  readonly gradNorm: number;
}

/** Weights as tf variables plus their optimiser: one fine-tuning run, step by step. */
export class TrainingSession {
  private readonly names: string[];
  private readonly vars: tf.Variable[];
  private readonly optimizer: AdamW;
  private readonly shapes: ParamSet;

  constructor(
    init: ParamSet,
    private readonly config: ClipConfig,
    optim: AdamWOptions,
    private readonly maxGradNorm: number,
  ) {
    this.shapes = init;
    this.names = init.names();
    this.vars = this.names.map((n) => tf.variable(tf.tensor(init.data(n), [...init.get(n).shape], 'float32'), true));
    const decay = this.names.map((n) => !excludedFromDecay(n, init.get(n).shape));
    this.optimizer = new AdamW(this.vars, decay, optim);
  }

  /** One optimiser step on a batch of images [B,3,S,S] and token ids [B x context]. */
  step(images: tf.Tensor, tokens: Int32Array, lr: number): StepResult {
    const p: Record<string, tf.Tensor> = {};
    this.names.forEach((n, i) => (p[n] = this.vars[i]));
    const { value, grads } = tf.variableGrads(() => clipForward(p, this.config, images, tokens).loss, this.vars);
    const ordered = this.vars.map((v) => grads[v.name]);
    const { clipped, norm } = clipByGlobalNorm(ordered, this.maxGradNorm);
    this.optimizer.step(clipped, lr);
    const scale = this.vars[this.names.indexOf('logit_scale')];
    if (scale) tf.tidy(() => scale.assign(tf.clipByValue(scale, 0, MAX_LOGIT_SCALE)));
    const loss = value.dataSync()[0];
    tf.dispose([value, ...Object.values(grads), ...clipped]);
    return { loss, gradNorm: norm };
  }

  weights(label: string): ParamSet {
    const out = new ParamSet(label);
    this.names.forEach((n, i) => out.set(n, this.shapes.get(n).shape, this.vars[i].dataSync().slice() as Float32Array));
    return out;
  }

  dispose(): void {
    this.optimizer.dispose();
    tf.dispose(this.vars);
  }
}
