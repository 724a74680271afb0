import type { Optimiser } from './config.js';

/** Learning rate at step s of n: linear warm-up over the first `warmup` fraction, then cosine to 0. */
export function cosineWithWarmup(base: number, step: number, steps: number, warmup: number): number {
  const warm = Math.floor(warmup * steps);
  if (step < warm) return (base * (step + 1)) / warm;
  const span = Math.max(1, steps - warm);
  return 0.5 * base * (1 + Math.cos((Math.PI * (step - warm)) / span));
}

export interface OptimiserSettings {
  readonly kind: Optimiser;
  readonly weightDecay: number;
  /** SGD momentum (heavy ball); ignored by AdamW. */
  readonly momentum: number;
}

/** One parameter array's optimiser; state is created fresh for every task, as the paper restarts per task. */
export class ParamOptimiser {
  private readonly m: Float32Array;
  private readonly v: Float32Array | undefined;
  private t = 0;

  constructor(
    private readonly params: Float32Array,
    private readonly settings: OptimiserSettings,
  ) {
    this.m = new Float32Array(params.length);
    this.v = settings.kind === 'adamw' ? new Float32Array(params.length) : undefined;
  }

  step(grad: Float32Array, lr: number): void {
    const p = this.params;
    const m = this.m;
    const wd = this.settings.weightDecay;
    this.t++;
    if (this.v) {
      // AdamW (decoupled weight decay), β = (0.9, 0.999), ε = 1e-8.
      const v = this.v;
      const b1 = 0.9;
      const b2 = 0.999;
      const c1 = 1 / (1 - b1 ** this.t);
      const c2 = 1 / (1 - b2 ** this.t);
      for (let i = 0; i < p.length; i++) {
        const g = grad[i];
        m[i] = b1 * m[i] + (1 - b1) * g;
        v[i] = b2 * v[i] + (1 - b2) * g * g;
        p[i] -= lr * ((m[i] * c1) / (Math.sqrt(v[i] * c2) + 1e-8) + wd * p[i]);
      }
    } else {
      const mu = this.settings.momentum;
      for (let i = 0; i < p.length; i++) {
        m[i] = mu * m[i] + grad[i] + wd * p[i];
        p[i] -= lr * m[i];
      }
    }
  }
}
