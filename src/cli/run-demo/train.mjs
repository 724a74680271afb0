// The demo's trainer (Node version of train.py): a linear softmax classifier (tensors W [classes,
// features] and b [classes]) trained by minibatch SGD on the task's train.csv, from the weights
// time-merge hands over. time-merge runs it once per TIME step:
//   node train.mjs --init INIT --task TASK --data DATA --previous IDS --replay P,C,B --out OUT --seed S --steps N
// INIT holds the start weights (float32 safetensors); the expert goes to OUT with the same tensors. DATA
// is the task's folder (data/<task>); several tasks (the multitask baseline) come as a JSON list. Replay:
// each batch mixes the pretraining data (data/pretrain), the current task and the earlier tasks
// (--previous) in the proportions P,C,B. Every random draw comes from --seed.
import { dirname, join, normalize } from 'node:path';
import { loadCsv, logits, options, readF32, rng, writeF32 } from './demo-lib.mjs';

const BATCH = 32;
const LR = 0.2;
const a = options();
const current = a.data.startsWith('[') ? JSON.parse(a.data) : [a.data];
const root = dirname(normalize(current[0]));
const previous = (a.previous ?? '')
  .split(',')
  .filter(Boolean)
  .map((t) => join(root, t));
const share = (a.replay || '0,1,0').split(',').map(Number);
const merge = (sets) => ({ x: sets.flatMap((s) => s.x), y: sets.flatMap((s) => s.y) });
const pools = [
  [share[0], merge([loadCsv(join(root, 'pretrain'), 'train')])],
  [share[1], merge(current.map((f) => loadCsv(f, 'train')))],
  [share[2], merge(previous.map((f) => loadCsv(f, 'train')))],
].filter(([s, p]) => s > 0 && p.y.length > 0);
const total = pools.reduce((s, [w]) => s + w, 0);

const w = readF32(a.init);
const W = w.W.data;
const b = w.b.data;
const [classes, features] = w.W.shape;
const random = rng(Number(a.seed));
for (let step = 0; step < Number(a.steps); step++) {
  const gW = new Float64Array(W.length);
  const gb = new Float64Array(classes);
  for (let i = 0; i < BATCH; i++) {
    let r = random() * total;
    const [, pool] = pools.find(([s]) => (r -= s) < 0) ?? pools[pools.length - 1];
    const k = Math.floor(random() * pool.y.length);
    const x = pool.x[k];
    const z = logits(W, b, x);
    const top = Math.max(...z);
    const e = z.map((v) => Math.exp(v - top));
    const sum = e.reduce((s, v) => s + v, 0);
    for (let c = 0; c < classes; c++) {
      const g = e[c] / sum - (c === pool.y[k] ? 1 : 0); // the cross-entropy gradient of logit c
      gb[c] += g;
      for (let j = 0; j < features; j++) gW[c * features + j] += g * x[j];
    }
  }
  for (let i = 0; i < W.length; i++) W[i] -= (LR * gW[i]) / BATCH;
  for (let c = 0; c < classes; c++) b[c] -= (LR * gb[c]) / BATCH;
}
writeF32(a.out, { W: { shape: w.W.shape, data: W }, b: { shape: w.b.shape, data: b } });
console.log(JSON.stringify({ steps: Number(a.steps) })); // the last stdout line: the optimiser steps taken
