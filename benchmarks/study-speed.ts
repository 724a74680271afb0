/**
 * Times the default study end to end (all runs, results folder, HTML report) and compares the training
 * throughput it achieved with a tight Float32Array matmul of the same shape measured in the same process.
 *
 *   npx tsx benchmarks/study-speed.ts [--quick] [--workers N] [--out DIR] [--keep]
 *
 * Training GFLOP/s is per thread: FLOPs computed by the trainer / seconds spent in its train stage,
 * summed over runs (so it compares directly with the one-thread matmul peak). Runs served from the
 * trainer's cache count neither FLOPs nor seconds.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateReport } from '../src/report/index.js';
import { runStudy } from '../src/study/runner.js';
import { DEFAULT_SYNTHETIC } from '../src/synthetic/config.js';
import { getStudy } from '../sims/index.js';

/** GFLOP/s of C[n,k] = X[n,d] Wᵀ (W: k x d), the training forward's shape, best of `reps`. */
export function matmulPeak(n: number, d: number, k: number, reps = 7): number {
  const x = new Float32Array(n * d).map((_, i) => Math.sin(i));
  const w = new Float32Array(k * d).map((_, i) => Math.cos(i));
  const out = new Float32Array(n * k);
  let best = Infinity;
  const inner = Math.max(1, Math.round(2e8 / (2 * n * d * k)));
  for (let rep = 0; rep < reps; rep++) {
    const t0 = performance.now();
    for (let it = 0; it < inner; it++) {
      for (let row = 0; row < n; row++) {
        const xo = row * d;
        for (let r = 0; r < k; r++) {
          const wo = r * d;
          let s = 0;
          for (let i = 0; i < d; i++) s += w[wo + i] * x[xo + i];
          out[row * k + r] = s;
        }
      }
    }
    best = Math.min(best, (performance.now() - t0) / 1000 / inner);
  }
  if (!Number.isFinite(out[0])) throw new Error('matmul produced a non-finite value');
  return (2 * n * d * k) / best / 1e9;
}

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    workers: { type: 'string' },
    out: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const workers = values.workers ? Number(values.workers) : availableParallelism();
const out = values.out ?? (await mkdtemp(join(tmpdir(), 'study-speed-')));
const cfg = DEFAULT_SYNTHETIC;
const peak = matmulPeak(cfg.batchSize * 8, cfg.d, cfg.k);

// Other jobs on the machine slow every figure below; the load average says how busy it was.
const loadBefore = loadavg()[0];
const t0 = performance.now();
const outcome = await runStudy(getStudy('default'), { out, workers, quick: values.quick, progress: false });
const tStudy = (performance.now() - t0) / 1000;
const rep = await generateReport(out);
const total = (performance.now() - t0) / 1000;

const trainGflops = outcome.trainFlops / outcome.trainSeconds / 1e9;
console.log(
  `default study${values.quick ? ' (quick)' : ''}: ${outcome.runs.length} runs on ${workers} worker(s), ${availableParallelism()} cores; ` +
    `1-minute load average ${loadBefore.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after`,
);
console.log(
  `  runs + results folder: ${tStudy.toFixed(1)} s; with report (${rep.figures.length} figure files): ${total.toFixed(1)} s (target < 180 s)`,
);
console.log(
  `  training: ${(outcome.trainFlops / 1e9).toFixed(2)} GFLOP in ${outcome.trainSteps} optimiser steps, ${outcome.trainSeconds.toFixed(1)} thread-seconds`,
);
console.log(
  `  training throughput: ${trainGflops.toFixed(2)} GFLOP/s per thread; matmul peak (Float32Array, ${cfg.batchSize * 8}x${cfg.d} · ${cfg.d}x${cfg.k}): ${peak.toFixed(2)} GFLOP/s per thread; ratio ${(trainGflops / peak).toFixed(2)}`,
);
console.log(
  JSON.stringify({
    runs: outcome.runs.length,
    workers,
    load_before: loadBefore,
    load_after: loadavg()[0],
    study_seconds: tStudy,
    total_seconds: total,
    train_gflop: outcome.trainFlops / 1e9,
    train_thread_seconds: outcome.trainSeconds,
    train_gflops_per_thread: trainGflops,
    matmul_peak_gflops_per_thread: peak,
  }),
);
if (!values.keep && !values.out) await rm(out, { recursive: true, force: true });
