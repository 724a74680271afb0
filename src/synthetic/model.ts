import { ParamSet } from '../params/paramset.js';
import type { SyntheticConfig } from './config.js';
import { Rng } from './random.js';
import type { SynthTaskData } from './world.js';

export const IMAGE = 'image.weight';
export const TEXT = 'text.weight';

/** Dimensions of the two-tower linear model. */
export interface Dims {
  readonly d: number;
  readonly k: number;
  readonly m: number;
}

/** A fresh model before pretraining: image encoder W [k,d], text encoder V [k,m], scaled 1/sqrt(fan-in). */
export function initialModel(dims: Dims, seed: number): ParamSet {
  const rng = new Rng(`synthetic-init/${seed}`);
  return new ParamSet('synthetic-init')
    .set(IMAGE, [dims.k, dims.d], rng.gaussian(dims.k * dims.d, 1 / Math.sqrt(dims.d)))
    .set(TEXT, [dims.k, dims.m], rng.gaussian(dims.k * dims.m, 1 / Math.sqrt(dims.m)));
}

/**
 * Unit-norm class text embeddings E (c x k) = normalise(V μ_c), and the norms before normalising.
 * This is the zero-shot classifier head: one "prompt" per class.
 */
export function classEmbeddings(
  v: Float32Array,
  task: SynthTaskData,
  dims: Dims,
): { e: Float32Array; norms: Float64Array } {
  const { k, m } = dims;
  const c = task.classes;
  const e = new Float32Array(c * k);
  const norms = new Float64Array(c);
  const lat = task.classLatents;
  for (let ci = 0; ci < c; ci++) {
    let nn = 0;
    for (let r = 0; r < k; r++) {
      let s = 0;
      const vo = r * m;
      const lo = ci * m;
      for (let j = 0; j < m; j++) s += v[vo + j] * lat[lo + j];
      e[ci * k + r] = s;
      nn += s * s;
    }
    const norm = Math.sqrt(nn) || 1;
    norms[ci] = norm;
    for (let r = 0; r < k; r++) e[ci * k + r] /= norm;
  }
  return { e, norms };
}

/** Gradient buffers for one step; gV is absent when the text encoder is frozen. */
export interface Grads {
  readonly gW: Float32Array;
  readonly gV?: Float32Array;
}

/**
 * Adds the gradient of the mean cross-entropy of cosine logits τ·cos(W x, V μ_c) over `rows` of `task`
 * (each weighted 1/batch) to grads; returns the summed loss. Hand-written backward pass over Float32Array.
 */
export function accumulateGradients(
  w: Float32Array,
  v: Float32Array,
  task: SynthTaskData,
  rows: readonly number[],
  batch: number,
  dims: Dims,
  temperature: number,
  grads: Grads,
  z: Float64Array,
  dz: Float64Array,
): number {
  const { d, k, m } = dims;
  const c = task.classes;
  const { e, norms } = classEmbeddings(v, task, dims);
  const gE = grads.gV ? new Float64Array(c * k) : undefined;
  const logits = new Float64Array(c);
  const xs = task.train.x;
  const gW = grads.gW;
  let loss = 0;
  for (const row of rows) {
    const xo = row * d;
    let nz2 = 0;
    for (let r = 0; r < k; r++) {
      let s = 0;
      const wo = r * d;
      for (let i = 0; i < d; i++) s += w[wo + i] * xs[xo + i];
      z[r] = s;
      nz2 += s * s;
    }
    const nz = Math.sqrt(nz2) || 1;
    for (let r = 0; r < k; r++) z[r] /= nz;
    let max = -Infinity;
    for (let ci = 0; ci < c; ci++) {
      let s = 0;
      for (let r = 0; r < k; r++) s += z[r] * e[ci * k + r];
      logits[ci] = temperature * s;
      if (logits[ci] > max) max = logits[ci];
    }
    let sum = 0;
    for (let ci = 0; ci < c; ci++) {
      logits[ci] = Math.exp(logits[ci] - max);
      sum += logits[ci];
    }
    const y = task.train.y[row];
    loss -= Math.log(logits[y] / sum);
    // g_c = (p_c - 1[c = y]) / batch; dzn = τ Σ_c g_c e_c
    for (let r = 0; r < k; r++) dz[r] = 0;
    for (let ci = 0; ci < c; ci++) {
      const g = (temperature * (logits[ci] / sum - (ci === y ? 1 : 0))) / batch;
      const eo = ci * k;
      for (let r = 0; r < k; r++) dz[r] += g * e[eo + r];
      if (gE) for (let r = 0; r < k; r++) gE[eo + r] += g * z[r];
    }
    // Through the normalisation: dz = (dzn - zn (zn·dzn)) / |z|
    let dot = 0;
    for (let r = 0; r < k; r++) dot += z[r] * dz[r];
    for (let r = 0; r < k; r++) {
      const g = (dz[r] - z[r] * dot) / nz;
      const wo = r * d;
      for (let i = 0; i < d; i++) gW[wo + i] += g * xs[xo + i];
    }
  }
  if (gE && grads.gV) {
    const gV = grads.gV;
    const lat = task.classLatents;
    for (let ci = 0; ci < c; ci++) {
      const eo = ci * k;
      let dot = 0;
      for (let r = 0; r < k; r++) dot += e[eo + r] * gE[eo + r];
      for (let r = 0; r < k; r++) {
        const g = (gE[eo + r] - e[eo + r] * dot) / norms[ci];
        const vo = r * m;
        for (let j = 0; j < m; j++) gV[vo + j] += g * lat[ci * m + j];
      }
    }
  }
  return loss;
}

/**
 * FLOPs of one accumulateGradients call over `rows` samples of a task with `classes` classes: 2 per
 * multiply-add of its products (the vector norms and softmax are left out, as in matmul FLOP counts).
 * Per sample: z = W x and gW += dz xᵀ (k·d each), the logits and dz (c·k each), and with a trained text
 * encoder gE += g zᵀ (c·k). Per call: the class embeddings V μ_c (c·k·m), and with a trained text
 * encoder their backward gV (c·k·m).
 */
export function trainingFlops(dims: Dims, classes: number, rows: number, trainText: boolean): number {
  const { d, k, m } = dims;
  const text = trainText ? 1 : 0;
  const perSample = 2 * k * d + (2 + text) * classes * k;
  const perCall = (1 + text) * classes * k * m;
  return 2 * (rows * perSample + perCall);
}

/**
 * Zero-shot accuracy: argmax over the task's classes (every class of its dataset when the task says so,
 * see SynthTaskData.evalClasses) of cos(W x, V μ_c), on held-out samples. |W x| is
 * common to all classes, so the argmax is that of x·(Wᵀ e_c): project the class embeddings back to input
 * space once (U = E W, c x d) and score each sample with c·d multiply-adds instead of k·d + c·k.
 */
export function accuracy(weights: ParamSet, task: SynthTaskData, dims: Dims): number {
  const { d, k } = dims;
  const w = weights.data(IMAGE);
  const scope = task.evalClasses;
  const { e } = classEmbeddings(
    weights.data(TEXT),
    scope ? { ...task, classLatents: scope.latents, classes: scope.classes } : task,
    dims,
  );
  const c = scope ? scope.classes : task.classes;
  const offset = scope ? scope.offset : 0;
  const u = new Float64Array(c * d);
  for (let ci = 0; ci < c; ci++) {
    for (let r = 0; r < k; r++) {
      const g = e[ci * k + r];
      const wo = r * d;
      const uo = ci * d;
      for (let i = 0; i < d; i++) u[uo + i] += g * w[wo + i];
    }
  }
  const { x, y, n } = task.test;
  let correct = 0;
  for (let row = 0; row < n; row++) {
    const xo = row * d;
    let best = 0;
    let bestScore = -Infinity;
    for (let ci = 0; ci < c; ci++) {
      let s = 0;
      const uo = ci * d;
      for (let i = 0; i < d; i++) s += u[uo + i] * x[xo + i];
      if (s > bestScore) {
        bestScore = s;
        best = ci;
      }
    }
    if (best === y[row] + offset) correct++;
  }
  return n === 0 ? 0 : correct / n;
}

export function dimsOf(cfg: SyntheticConfig): Dims {
  return { d: cfg.d, k: cfg.k, m: cfg.m };
}
