import * as tf from '@tensorflow/tfjs';

export interface AdamWOptions {
  readonly lr: number;
  readonly weightDecay: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
}

/** open_clip's optimiser defaults for ViT models, with FoMo-in-Flux's lr 1e-5 and weight decay 0.2. */
export const ADAMW_DEFAULTS: AdamWOptions = { lr: 1e-5, weightDecay: 0.2, beta1: 0.9, beta2: 0.98, eps: 1e-6 };

/**
 * open_clip's rule for which parameters skip weight decay: gains, biases, layer norms, the logit scale
 * (anything with fewer than 2 dims, or "ln"/"bn"/"bias"/"logit_scale" in the name), and, as current
 * open_clip does (its towers' no_weight_decay sets), both positional embeddings. The torch engine's
 * train.py has the same rule.
 */
export function excludedFromDecay(name: string, shape: readonly number[]): boolean {
  return (
    shape.length < 2 ||
    name.includes('bn') ||
    name.includes('ln') ||
    name.includes('bias') ||
    name.includes('logit_scale') ||
    name.includes('positional_embedding')
  );
}

/** Learning rate at optimiser step `step` (0-based) of `total`: linear warm-up, then cosine to zero. */
export function cosineLr(step: number, total: number, base: number, warmupFraction = 0.1): number {
  const warmup = Math.floor(total * warmupFraction);
  if (step < warmup) return (base * (step + 1)) / warmup;
  const e = step - warmup;
  const es = total - warmup;
  return es <= 0 ? base : 0.5 * (1 + Math.cos((Math.PI * e) / es)) * base;
}

/** Scales gradients so their global L2 norm is at most maxNorm (torch.nn.utils.clip_grad_norm_). */
export function clipByGlobalNorm(grads: readonly tf.Tensor[], maxNorm: number): { clipped: tf.Tensor[]; norm: number } {
  const norm = Math.sqrt(tf.tidy(() => tf.addN(grads.map((g) => tf.sum(tf.square(g)))).dataSync()[0]));
  if (!(maxNorm > 0)) return { clipped: [...grads], norm };
  const coef = Math.min(1, maxNorm / (norm + 1e-6));
  return { clipped: coef < 1 ? grads.map((g) => tf.mul(g, coef)) : [...grads], norm };
}

/** Decoupled-weight-decay Adam, step for step as torch.optim.AdamW (decay applied before the update). */
export class AdamW {
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  private t = 0;

  constructor(
    private readonly params: readonly tf.Variable[],
    private readonly decay: readonly boolean[],
    private readonly opts: AdamWOptions,
  ) {
    this.m = params.map((p) => tf.variable(tf.zerosLike(p), false));
    this.v = params.map((p) => tf.variable(tf.zerosLike(p), false));
  }

  step(grads: readonly tf.Tensor[], lr: number): void {
    this.t++;
    const { beta1, beta2, eps, weightDecay } = this.opts;
    const bc1 = 1 - beta1 ** this.t;
    const bc2 = 1 - beta2 ** this.t;
    tf.tidy(() => {
      this.params.forEach((p, i) => {
        const g = grads[i];
        const m = tf.add(tf.mul(this.m[i], beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(this.v[i], beta2), tf.mul(tf.square(g), 1 - beta2));
        this.m[i].assign(m);
        this.v[i].assign(v);
        const decayed = this.decay[i] && weightDecay > 0 ? tf.mul(p, 1 - lr * weightDecay) : p;
        const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(bc2)), eps);
        p.assign(tf.sub(decayed, tf.mul(tf.div(m, denom), lr / bc1)));
      });
    });
  }

  dispose(): void {
    tf.dispose([...this.m, ...this.v]);
  }
}
