/**
 * CLIP training throughput on TensorFlow.js: optimiser steps/s and images/s for the tiny config (full
 * AdamW training step), and one ViT-B/16-sized forward and forward+backward (random weights, batch 1:
 * at batch 2 the backward pass no longer fits the 2 GB that tfjs-backend-wasm can address). Each figure
 * is also given as achieved GFLOP/s (src/clip/flops.ts) and as a ratio to a plain 1024^3 matMul measured
 * just before it in the same process, so runs on busy or different machines compare; the CPU share
 * (process CPU time / wall time) shows how much of a core the run actually got.
 *
 *   npm run bench:clip -- [--backend wasm|cpu|auto] [--batch 16] [--vit-batch 1] [--skip-vit] [--out results/bench/clip-throughput.csv]
 *
 * With --engine torch it measures the PyTorch worker instead (benchmarks/clip-torch.ts).
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
import { clipForwardFlops, clipTrainFlops } from '../src/clip/flops.js';
import { TINY_CLIP } from '../src/clip/tiny.js';

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    batch: { type: 'string', default: '16' },
    'vit-batch': { type: 'string', default: '1' },
    'skip-vit': { type: 'boolean', default: false },
    steps: { type: 'string', default: '20' },
    out: { type: 'string' },
    engine: { type: 'string', default: 'tfjs' },
    model: { type: 'string', default: 'tiny' },
    device: { type: 'string', default: 'auto' },
    'overhead-batch': { type: 'string', default: '2' },
    'skip-overhead': { type: 'boolean', default: false },
    'gpu-step-seconds': { type: 'string' },
  },
});
if (args.engine !== 'tfjs' && args.engine !== 'torch') throw new Error(`--engine ${args.engine}: choose tfjs or torch`);
if (args.engine === 'torch') {
  const { runTorchBench } = await import('./clip-torch.js');
  await runTorchBench({
    model: args.model!,
    batch: Number(args.batch),
    steps: Number(args.steps),
    device: args.device!,
    overheadBatch: Number(args['overhead-batch']),
    skipOverhead: args['skip-overhead']!,
    gpuStepSeconds: args['gpu-step-seconds'] ? Number(args['gpu-step-seconds']) : undefined,
    out: args.out ?? 'results/bench/clip-torch.csv',
  });
  process.exit(0);
}
args.out ??= 'results/bench/clip-throughput.csv';

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
  gflop_per_iteration: number;
  gflop_per_second: number;
  /** Process CPU time / wall time: near 1 for this single-threaded backend on an idle core, less when the machine is shared. */
  cpu_share: number;
  /** GFLOP/s of a 1024^3 matMul measured just before, in the same process state (heap, load). */
  matmul_gflop_per_second: number;
  ratio_to_matmul: number;
}
const rows: Row[] = [];

/** Wall and CPU seconds of `reps` calls of fn. */
function time(fn: () => void, reps: number): { wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = now();
  for (let i = 0; i < reps; i++) fn();
  const wall = now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1e6 };
}

/** GFLOP/s of a square float32 matMul: the backend's best case, the yardstick for the model figures. */
function matmulGflops(): { gflops: number; cpuShare: number } {
  const n = 1024;
  const a = tf.randomUniform([n, n], -1, 1, 'float32', 1);
  const b = tf.randomUniform([n, n], -1, 1, 'float32', 2);
  const once = () => void tf.tidy(() => tf.matMul(a, b).dataSync()[0]);
  once();
  const t = time(once, 5);
  tf.dispose([a, b]);
  return { gflops: (5 * 2 * n ** 3) / t.wall / 1e9, cpuShare: t.cpu / t.wall };
}

function record(
  model: string,
  backend: string,
  measure: string,
  batch: number,
  reps: number,
  t: { wall: number; cpu: number },
  params: number,
  flops: number,
  matmul: number,
): void {
  const per = t.wall / reps;
  const gflops = flops / per / 1e9;
  rows.push({
    model,
    backend,
    measure,
    batch,
    iterations: reps,
    seconds_per_iteration: per,
    iterations_per_second: 1 / per,
    images_per_second: batch / per,
    params,
    gflop_per_iteration: flops / 1e9,
    gflop_per_second: gflops,
    cpu_share: t.cpu / t.wall,
    matmul_gflop_per_second: matmul,
    ratio_to_matmul: gflops / matmul,
  });
  console.log(
    `${model} ${measure} batch ${batch} on ${backend}: ${per.toFixed(3)} s/it, ${(1 / per).toFixed(2)} it/s, ${(batch / per).toFixed(1)} images/s, ` +
      `${gflops.toFixed(2)} GFLOP/s = ${(gflops / matmul).toFixed(3)} x matMul (${matmul.toFixed(1)} GFLOP/s), CPU share ${(t.cpu / t.wall).toFixed(2)}`,
  );
}

/** A matMul-only row, so the yardstick's own spread shows in the file. */
function recordMatmul(backend: string, when: string): number {
  const m = matmulGflops();
  rows.push({
    model: 'matmul',
    backend,
    measure: `matmul_1024_${when}`,
    batch: 0,
    iterations: 5,
    seconds_per_iteration: (2 * 1024 ** 3) / m.gflops / 1e9,
    iterations_per_second: m.gflops / ((2 * 1024 ** 3) / 1e9),
    images_per_second: 0,
    params: 0,
    gflop_per_iteration: (2 * 1024 ** 3) / 1e9,
    gflop_per_second: m.gflops,
    cpu_share: m.cpuShare,
    matmul_gflop_per_second: m.gflops,
    ratio_to_matmul: 1,
  });
  console.log(`matMul 1024^3 ${when}: ${m.gflops.toFixed(2)} GFLOP/s, CPU share ${m.cpuShare.toFixed(2)}`);
  return m.gflops;
}

const backend = await selectBackend(parseBackend(args.backend!), console.log);
recordMatmul(backend, 'start');

// Tiny config: full training steps (forward, backward, clipping, AdamW), after two warm-up steps.
{
  const batch = Number(args.batch);
  const steps = Number(args.steps);
  const init = initClipParams(TINY_CLIP, 0);
  const session = new TrainingSession(init, TINY_CLIP, ADAMW_DEFAULTS, 1);
  const { images, tokens } = randomBatch(TINY_CLIP, batch, 0);
  for (let i = 0; i < 2; i++) session.step(images, tokens, 1e-5);
  const matmul = matmulGflops().gflops;
  const t = time(() => session.step(images, tokens, 1e-5), steps);
  record('tiny', backend, 'train_step', batch, steps, t, init.numel(), clipTrainFlops(TINY_CLIP, batch), matmul);
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
  let matmul = matmulGflops().gflops;
  record(
    'ViT-B/16',
    backend,
    'forward',
    batch,
    1,
    time(forward, 1),
    init.numel(),
    clipForwardFlops(VIT_B_16, batch),
    matmul,
  );
  matmul = matmulGflops().gflops;
  const backward = () => {
    const { value, grads } = tf.variableGrads(() => clipForward(p, VIT_B_16, images, tokens).loss, vars);
    value.dataSync();
    for (const g of Object.values(grads)) g.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
  };
  record(
    'ViT-B/16',
    backend,
    'forward_backward',
    batch,
    1,
    time(backward, 1),
    init.numel(),
    clipTrainFlops(VIT_B_16, batch),
    matmul,
  );
  tf.dispose([...vars, images]);
}

recordMatmul(backend, 'end');

const header = Object.keys(rows[0]) as (keyof Row)[];
const csv = [header.join(','), ...rows.map((r) => header.map((k) => String(r[k])).join(','))].join('\n') + '\n';
await mkdir(dirname(args.out!), { recursive: true });
await writeFile(`${args.out}.tmp`, csv);
await rename(`${args.out}.tmp`, args.out!);
console.log(`wrote ${args.out}`);
