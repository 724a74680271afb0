/** Shared pieces of the TIME property suites: seeded random vectors, tiny two-tensor models, a scripted trainer. */
import seedrandom from 'seedrandom';
import { ParamSet } from '../src/params/paramset.js';
import type { Evaluator, TaskStream, Trainer } from '../src/time/types.js';

export function randomVectors(seed: number, n: number, dim: number): number[][] {
  const rng = seedrandom(`vectors/${seed}`);
  return Array.from({ length: n }, () => Array.from({ length: dim }, () => Math.fround(rng() * 2 - 1)));
}

export function model(v: readonly number[]): ParamSet {
  const half = Math.ceil(v.length / 2);
  return ParamSet.fromEntries([
    ['layers.0.w', { shape: [half], data: Float32Array.from(v.slice(0, half)) }],
    ['head.b', { shape: [v.length - half], data: Float32Array.from(v.slice(half)) }],
  ]);
}

export function streamOf(vectors: readonly number[][]): TaskStream<number[]> {
  return {
    name: 'random',
    adaptation: vectors.map((v, i) => ({ id: `t${i}`, role: 'adaptation', data: [...v] })),
    zeroshot: [{ id: 'zs', role: 'zeroshot', data: [] }],
  };
}

/** expert = shrink·init + v_t: the init matters, so init protocols change the experts. */
export class ShrinkTrainer implements Trainer<number[]> {
  readonly experts: number[][] = [];
  constructor(private readonly shrink = 0.5) {}
  async train(req: Parameters<Trainer<number[]>['train']>[0]) {
    const init = req.init.flatten();
    const v = req.tasks[0].data;
    const out = Array.from(init, (x, i) => Math.fround(this.shrink * x + (v[i] ?? 0)));
    this.experts.push(out);
    return { weights: req.init.unflatten(Float32Array.from(out), 'expert'), steps: req.steps };
  }
}

export class Capture implements Evaluator<number[]> {
  readonly seen: number[][] = [];
  async evaluate(w: ParamSet, tasks: readonly unknown[]) {
    this.seen.push([...w.flatten()]);
    return tasks.map(() => 0.5);
  }
}

export function maxDiff(a: readonly number[], b: readonly number[]): number {
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
}
