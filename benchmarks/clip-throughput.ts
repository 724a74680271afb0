/**
 * CLIP training throughput on TensorFlow.js: optimiser steps/s and images/s for the tiny config (full
 * AdamW training step), and one ViT-B/16-sized forward and forward+backward (random weights, batch 1:
 * at batch 2 the backward pass no longer fits the 2 GB that tfjs-backend-wasm can address).
 *
 *   npm run bench:clip -- [--backend wasm|cpu|auto] [--batch 16] [--vit-batch 1] [--skip-vit] [--out results/bench/clip-throughput.csv]
 */
import * as tf from '@tensorflow/tfjs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import seedrandom from 'seedrandom';
import { parseBackend, selectBackend } from '../src/clip/backend.js';
import { VIT_B_16, type ClipConfig } from '../src/clip/config.js';
import { initClipParams } from '../src/clip/init.js';
import { clipForward } from '../src/clip/model.js';
import { ADAMW_DEFAULTS } from '../src/clip/optim.js';
import { TrainingSession } from '../src/clip/session.js';
import { toTensors } from '../src/clip/tensors.js';
import { TINY_CLIP } from '../src/clip/tiny.js';

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    batch: { type: 'string', default: '16' },
    'vit-batch': { type: 'string', default: '1' },
    'skip-vit': { type: 'boolean', default: false },
    steps: { type: 'string', default: '20' },
    out: { type: 'string', default: 'results/bench/clip-throughput.csv' },
  },
});

function randomBatch(c: ClipConfig, batch: number, seed: number): { images: tf.Tensor; tokens: Int32Array } {
  const rng = seedrandom(`bench/${seed}`);
  const s = c.vision.imageSize;
  const px = new Float32Array(batch * 3 * s * s).map(() => rng() * 2 - 1);
  const L = c.text.contextLength;
  const tokens = new Int32Array(batch * L);
  for (let b = 0; b < batch; b++) {
    const len = 5 + Math.floor(rng() * 10);
    tokens[b * L] = 49406;
    for (let i = 1; i < len; i++) tokens[b * L + i] = 1 + Math.floor(rng() * 40000);
    tokens[b * L + len] = 49407;
  }
  return { images: tf.tensor4d(px, [batch, 3, s, s]), tokens };
}

const now = () => performance.now() / 1000;

interface Row {
  model: string;
  backend: string;
  measure: string;
  batch: number;
  iterations: number;
  seconds_per_iteration: number;
  iterations_per_second: number;
  images_per_second: number;
  params: number;
}
const rows: Row[] = [];

function record(model: string, backend: string, measure: string, batch: number, iterations: number, seconds: number, params: number): void {
  const per = seconds / iterations;
  const row = { model, backend, measure, batch, iterations, seconds_per_iteration: per, iterations_per_second: 1 / per, images_per_second: batch / per, params };
  rows.push(row);
  console.log(`${model} ${measure} batch ${batch} on ${backend}: ${per.toFixed(3)} s/it, ${(1 / per).toFixed(2)} it/s, ${(batch / per).toFixed(1)} images/s`);
}

const backend = await selectBackend(parseBackend(args.backend!), console.log);

// Tiny config: full training steps (forward, backward, clipping, AdamW), after two warm-up steps.
{
  const batch = Number(args.batch);
  const steps = Number(args.steps);
  const init = initClipParams(TINY_CLIP, 0);
  const session = new TrainingSession(init, TINY_CLIP, ADAMW_DEFAULTS, 1);
  const { images, tokens } = randomBatch(TINY_CLIP, batch, 0);
  for (let i = 0; i < 2; i++) session.step(images, tokens, 1e-5);
  const t0 = now();
  for (let i = 0; i < steps; i++) session.step(images, tokens, 1e-5);
  record('tiny', backend, 'train_step', batch, steps, now() - t0, init.numel());
  session.dispose();
  images.dispose();
}

// ViT-B/16 shape: one forward and one forward+backward (gradients of every parameter), random weights.
if (!args['skip-vit']) {
  const batch = Number(args['vit-batch']);
  const t0 = now();
  const init = initClipParams(VIT_B_16, 0);
  console.log(`ViT-B/16 random init: ${init.numel()} parameters in ${(now() - t0).toFixed(1)} s`);
  const names = init.names();
  const vars = names.map((n) => tf.variable(tf.tensor(init.data(n), [...init.get(n).shape]), true));
  const p: Record<string, tf.Tensor> = {};
  names.forEach((n, i) => (p[n] = vars[i]));
  const { images, tokens } = randomBatch(VIT_B_16, batch, 1);
  const forward = () => tf.tidy(() => clipForward(p, VIT_B_16, images, tokens).loss.dataSync()[0]);
  forward(); // warm-up: kernel set-up and weight upload
  let t = now();
  forward();
  record('ViT-B/16', backend, 'forward', batch, 1, now() - t, init.numel());
  t = now();
  const { value, grads } = tf.variableGrads(() => clipForward(p, VIT_B_16, images, tokens).loss, vars);
  value.dataSync();
  for (const g of Object.values(grads)) g.dataSync();
  record('ViT-B/16', backend, 'forward_backward', batch, 1, now() - t, init.numel());
  tf.dispose([value, ...Object.values(grads), ...vars, images]);
}

const header = Object.keys(rows[0]) as (keyof Row)[];
const csv = [header.join(','), ...rows.map((r) => header.map((k) => String(r[k])).join(','))].join('\n') + '\n';
await mkdir(dirname(args.out!), { recursive: true });
await writeFile(`${args.out}.tmp`, csv);
await rename(`${args.out}.tmp`, args.out!);
console.log(`wrote ${args.out}`);
