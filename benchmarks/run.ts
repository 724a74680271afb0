/**
 * npm run bench [-- --quick] [--out DIR] [--check BASELINE.csv] [--write-baseline FILE] [--no-disk]
 *
 * Merge cost across techniques, deploy protocols, model sizes and horizons (tinybench medians), each as a
 * ratio to this machine's memory-copy bandwidth measured in the same run. Writes DIR/merge.csv (columns
 * in docs/results-format.md, "Benchmarks") and DIR/horizon.svg; see docs/benchmarks.md for the grid.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Command } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { mergeModels } from '../src/merge/engine.js';
import { listTechniques } from '../src/merge/registry.js';
import type { MergeTechnique } from '../src/merge/types.js';
import {
  absMaxSelect,
  addScaled,
  availableKernels,
  firstNonFinite,
  kernelBackend,
  lerp,
  magmax,
  taskArithmetic,
  useKernels,
  weightedDeltaSum,
  weightedSum,
} from '../src/params/kernels.js';
import { nativeThreads } from '../src/params/kernels/native/loader.js';
import { ParamSet } from '../src/params/paramset.js';
import { openSafetensors, writeSafetensors } from '../src/params/safetensors/index.js';
import { DEFAULT_ALPHA, DEFAULT_BETA, makeTracker, type CheckpointStore, type Tracker } from '../src/time/index.js';
import { DOP_ALPHA } from '../src/time/protocols/dop.js';
import { OPCM_ALPHA } from '../src/time/protocols/opcm.js';
import { copyBandwidth, timeInterleaved, timeIt } from './lib/measure.js';
import { makeBase, makeExpert, shapeParams, sizedShape, vitB16Shape, type ModelShape } from './lib/models.js';
import {
  BASELINE_COLUMNS,
  compareToBaseline,
  formatResult,
  lowestRatios,
  parseBaseline,
  type RatioRow,
} from './lib/regression.js';

const COLUMNS = [
  'suite',
  'technique',
  'protocol',
  'experts',
  'params',
  'load_seconds',
  'merge_seconds',
  'write_seconds',
  'bytes_read',
  'bytes_written',
  'gbps',
  'ratio_to_copy',
  'peak_rss_mb',
  'copy_gbps',
  'kernels',
] as const;
type Row = Record<(typeof COLUMNS)[number], string | number>;

interface Grid {
  /** Kernel suite: the hot kernels alone, into preallocated outputs, on both backends. */
  kernelParams: number;
  /** Technique suite: every technique, 2 experts, at these model shapes. */
  techniqueShapes: ModelShape[];
  /** Shapes at or above this many parameters skip the safetensors load/write timing (minutes of disk I/O). */
  ioMaxParams: number;
  /** Horizon suite: every technique at these horizons, at one size. */
  horizonParams: number;
  techniqueHorizons: number[];
  /** Deploy suite: protocols at these horizons, at one size. */
  deployParams: number;
  deployHorizons: number[];
  repeats: number;
  /** Measure load and write through safetensors files (technique suite). */
  io: boolean;
  /** SVD suite: the SVD techniques and continual protocols on models of four [d, d] matrices (and biases). */
  svdSizes: number[];
}

const FULL: Grid = {
  kernelParams: 1e8,
  // Every technique at 1e8 too (the targets are stated there); vitB16Shape() is kept for --vit.
  techniqueShapes: [sizedShape(1e5), sizedShape(1e6), sizedShape(1e7), sizedShape(1e8)],
  ioMaxParams: 1e7,
  horizonParams: 1e6,
  techniqueHorizons: [1, 2, 5, 10, 20],
  deployParams: 1e7,
  deployHorizons: [1, 2, 5, 10, 20, 50, 100],
  repeats: 3,
  io: true,
  svdSizes: [32, 64, 128],
};

const QUICK: Grid = {
  kernelParams: 4e6,
  techniqueShapes: [sizedShape(4e6)],
  ioMaxParams: 0,
  horizonParams: 1e6,
  techniqueHorizons: [],
  deployParams: 4e6,
  deployHorizons: [1, 10],
  repeats: 3,
  io: false,
  svdSizes: [32],
};

/** Deploy steps take milliseconds: more repeats (each step reads another expert) steady their medians at no real cost. */
const DEPLOY_REPEATS = 25;

/** Runs of the grid a written baseline takes each row's lowest ratio from. */
const BASELINE_RUNS = 3;

const log = (s: string) => process.stderr.write(`${s}\n`);

/** A store the benchmark trackers never read (every protocol timed here keeps its own state). */
const NO_STORE: CheckpointStore = {
  kind: 'memory',
  bytesRead: 0,
  bytesStored: 0,
  steps: () => [],
  put: async () => undefined,
  open: async () => {
    throw new Error('benchmark trackers do not read the store');
  },
  load: async () => {
    throw new Error('benchmark trackers do not read the store');
  },
};

/** Whether a technique reads θ0 (all but a plain weighted average do: task vectors are θ_k - θ0). */
function readsBase(t: MergeTechnique<any>): boolean {
  return t.facts.readsBase;
}

function allowed(t: MergeTechnique<any>, experts: number): boolean {
  return experts >= t.experts.min && (t.experts.max === undefined || experts <= t.experts.max);
}

class Bench {
  readonly rows: Row[] = [];
  copyGbps = 0;
  constructor(readonly grid: Grid) {}

  /**
   * The copy bandwidth the next rows' ratios divide by. It is re-measured before each kernel and each
   * technique, so a ratio compares two figures taken seconds apart: on a shared machine the bandwidth
   * left to this process drifts by tens of percent over a run, and a ratio against a copy timed minutes
   * earlier measured the neighbours as much as the merge.
   */
  async measureCopy(quiet = false): Promise<void> {
    // The re-measurements before each row copy 64 MB (128 MB touched, far past the caches) 3 times: a few
    // tens of milliseconds, so the quick grid stays well under a minute.
    this.copyGbps = (quiet ? await copyBandwidth(64, 3) : await copyBandwidth(256, 7)).gbps;
    if (!quiet) log(`copy bandwidth: ${this.copyGbps.toFixed(2)} GB/s`);
  }

  record(r: {
    suite: string;
    technique: string;
    protocol: string;
    experts: number;
    params: number;
    seconds: number;
    bytesRead: number;
    bytesWritten: number;
    peak: number;
    load?: number;
    write?: number;
    kernels?: string;
  }): void {
    const gbps = (r.bytesRead + r.bytesWritten) / r.seconds / 1e9;
    const row: Row = {
      suite: r.suite,
      technique: r.technique,
      protocol: r.protocol,
      experts: r.experts,
      params: r.params,
      load_seconds: r.load ?? '',
      merge_seconds: r.seconds,
      write_seconds: r.write ?? '',
      bytes_read: r.bytesRead,
      bytes_written: r.bytesWritten,
      gbps,
      ratio_to_copy: gbps / this.copyGbps,
      peak_rss_mb: Math.round(r.peak),
      copy_gbps: this.copyGbps,
      kernels: r.kernels ?? kernelBackend(),
    };
    this.rows.push(row);
    log(
      `${r.suite.padEnd(9)} ${(r.technique + ' ' + r.protocol).padEnd(30)} T=${String(r.experts).padEnd(3)} P=${String(r.params).padEnd(9)} ${(r.seconds * 1e3).toFixed(2).padStart(9)} ms  ${gbps.toFixed(2).padStart(6)} GB/s  ratio ${(gbps / this.copyGbps).toFixed(3)}  peak ${Math.round(r.peak)} MB`,
    );
  }

  /**
   * The hot kernels alone over a model's worth of [1024, 1024] tensors, writing into preallocated arrays
   * (what a merge costs without allocating its output or checking it): the weighted average of 2 models,
   * task arithmetic (weighted task-vector sum, then θ0 + λτ; and the fused one-pass form), the in-place
   * EMA step, MagMax selection (and the fused θ0 + λ·τ_max), the non-finite scan. Every backend that loads.
   */
  async kernelSuite(): Promise<void> {
    await this.measureCopy();
    const P = this.grid.kernelParams;
    const shape = sizedShape(P);
    const base = makeBase(shape);
    const [x, y] = [makeExpert(base, 1), makeExpert(base, 2)];
    const out = base.map((d) => new Float32Array(d.length).fill(1), 'out');
    const names = base.names();
    const kernels: { name: string; reads: number; writes: number; run: () => void }[] = [
      {
        name: 'weightedSum',
        reads: 2,
        writes: 1,
        run: () => {
          for (const n of names) weightedSum(out.data(n), [x.data(n), y.data(n)], [0.5, 0.5]);
        },
      },
      {
        name: 'weightedDeltaSum+addScaled',
        reads: 5,
        writes: 2,
        run: () => {
          for (const n of names) {
            const o = out.data(n);
            weightedDeltaSum(o, base.data(n), [x.data(n), y.data(n)], [1, 1]);
            addScaled(o, base.data(n), 0.3, o);
          }
        },
      },
      {
        name: 'lerp (EMA step, in place)',
        reads: 2,
        writes: 1,
        run: () => {
          for (const n of names) lerp(out.data(n), out.data(n), x.data(n), 0.5);
        },
      },
      {
        name: 'taskArithmetic (fused)',
        reads: 3,
        writes: 1,
        run: () => {
          for (const n of names) taskArithmetic(out.data(n), base.data(n), [x.data(n), y.data(n)], [1, 1], 0.3);
        },
      },
      {
        name: 'absMaxSelect',
        reads: 2,
        writes: 1,
        run: () => {
          for (const n of names) absMaxSelect(out.data(n), [x.data(n), y.data(n)]);
        },
      },
      {
        name: 'magmax (fused)',
        reads: 3,
        writes: 1,
        run: () => {
          for (const n of names) magmax(out.data(n), base.data(n), [x.data(n), y.data(n)], 1, true);
        },
      },
      {
        name: 'firstNonFinite',
        reads: 1,
        writes: 0,
        run: () => {
          for (const n of names) firstNonFinite(x.data(n));
        },
      },
    ];
    const before = kernelBackend();
    try {
      for (const backend of [...availableKernels()].reverse()) {
        useKernels(backend);
        for (const k of kernels) {
          await this.measureCopy(true);
          const timing = await timeIt(k.run, this.grid.repeats);
          this.record({
            suite: 'kernel',
            technique: `${backend}:${k.name}`,
            protocol: '-',
            experts: 2,
            params: P,
            seconds: timing.seconds,
            bytesRead: k.reads * 4 * P,
            bytesWritten: k.writes * 4 * P,
            peak: timing.peakRssMb,
            kernels: backend,
          });
        }
      }
    } finally {
      useKernels(before);
    }
  }

  /**
   * Every technique merging 2 experts through mergeModels, at each model shape, two ways: protocol '-'
   * allocates every output tensor (what a one-off merge costs, allocation included), protocol 'into'
   * writes into the previous merge's tensors (MergeOptions.into: what a step-to-step pipeline reusing its
   * output memory costs). Load and write are timed through safetensors for the smaller shapes.
   */
  async techniqueSuite(): Promise<void> {
    for (const shape of this.grid.techniqueShapes) {
      await this.measureCopy();
      const P = shapeParams(shape);
      const base = makeBase(shape);
      const experts = [makeExpert(base, 1), makeExpert(base, 2)];
      const io = this.grid.io && P <= this.grid.ioMaxParams ? await this.ioTimes(base, experts) : undefined;
      for (const t of listTechniques()) {
        if (!allowed(t, 2) || t.facts.cost === 'svd') continue;
        const bytes = { bytesRead: (2 + (readsBase(t) ? 1 : 0)) * 4 * P, bytesWritten: 4 * P };
        await this.measureCopy(true);
        const fresh = await timeIt(() => mergeModels({ technique: t.name }, base, experts), this.grid.repeats);
        this.record({
          suite: 'technique',
          technique: t.name,
          protocol: '-',
          experts: 2,
          params: P,
          seconds: fresh.seconds,
          ...bytes,
          peak: fresh.peakRssMb,
          load: io?.load,
          write: io?.write,
        });
        let into = await mergeModels({ technique: t.name }, base, experts);
        const reused = await timeIt(async () => {
          into = await mergeModels({ technique: t.name }, base, experts, { into });
        }, this.grid.repeats);
        this.record({
          suite: 'technique',
          technique: t.name,
          protocol: 'into',
          experts: 2,
          params: P,
          seconds: reused.seconds,
          ...bytes,
          peak: reused.peakRssMb,
        });
      }
    }
  }

  /** Median seconds to read base + experts from safetensors files, and to write one model. */
  async ioTimes(base: ParamSet, experts: ParamSet[]): Promise<{ load: number; write: number }> {
    const dir = await mkdtemp(join(tmpdir(), 'time-merge-bench-'));
    try {
      const files = [base, ...experts].map((_, i) => join(dir, `m${i}.safetensors`));
      for (let i = 0; i < files.length; i++) await writeSafetensors(files[i], i === 0 ? base : experts[i - 1]);
      const load = await timeIt(
        async () => {
          for (const f of files) {
            const src = await openSafetensors(f);
            await ParamSet.fromSource(src);
            await src.close();
          }
        },
        Math.min(3, this.grid.repeats),
      );
      const out = join(dir, 'out.safetensors');
      const write = await timeIt(
        () => writeSafetensors(out, base),
        Math.min(3, this.grid.repeats),
        () => rmSync(out, { force: true }),
      );
      return { load: load.seconds, write: write.seconds };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Every technique over T experts (cost against horizon) at one size. */
  async horizonSuite(): Promise<void> {
    if (this.grid.techniqueHorizons.length === 0) return;
    await this.measureCopy();
    const P = this.grid.horizonParams;
    const base = makeBase(sizedShape(P));
    // Distinct experts at every horizon: the blocked kernels would read a repeated expert from cache.
    const pool = Array.from({ length: Math.max(...this.grid.techniqueHorizons) }, (_, i) => makeExpert(base, i + 1));
    for (const t of listTechniques()) {
      if (t.facts.cost === 'svd') continue;
      for (const T of this.grid.techniqueHorizons) {
        if (!allowed(t, T)) continue;
        const experts = pool.slice(0, T);
        const timing = await timeIt(() => mergeModels({ technique: t.name }, base, experts), this.grid.repeats);
        this.record({
          suite: 'horizon',
          technique: t.name,
          protocol: '-',
          experts: T,
          params: P,
          seconds: timing.seconds,
          bytesRead: (T + (readsBase(t) ? 1 : 0)) * 4 * P,
          bytesWritten: 4 * P,
          peak: timing.peakRssMb,
        });
      }
    }
  }

  /**
   * Deploy protocols with weighted averaging. ema / paint / merge-all (incremental): the cost of the deploy
   * step at step T (a tracker per horizon, advanced through steps 1..T-1 first; the median is over its
   * steps T, T+1, ..., timed in turns with the other horizons' trackers).
   * merge-all (batch): one merge over all T experts, as a store-backed recompute does.
   */
  async deploySuite(): Promise<void> {
    await this.measureCopy();
    const P = this.grid.deployParams;
    const base = makeBase(sizedShape(P));
    const repeats = Math.max(this.grid.repeats, DEPLOY_REPEATS);
    // Distinct experts up to the largest horizon (merge-all:batch reads T of them at once; a repeated one
    // would come from cache); the timed steps past it reuse the first ones.
    const pool = Array.from({ length: Math.max(...this.grid.deployHorizons) }, (_, i) => makeExpert(base, i + 1));
    const expert = (step: number) => pool[(step - 1) % pool.length];
    const ctx = { base, store: NO_STORE, merge: { technique: 'weighted-average' } };
    const protocols: { name: string; make: () => Tracker }[] = [
      { name: 'ema', make: () => makeTracker({ kind: 'ema', beta: DEFAULT_BETA, seed: 'base' }, ctx) },
      { name: 'paint', make: () => makeTracker({ kind: 'paint', alpha: DEFAULT_ALPHA }, ctx) },
      {
        name: 'merge-all:incremental',
        make: () => makeTracker({ kind: 'merge-all', weighting: 'uniform', includeBase: false }, ctx),
      },
    ];
    const horizons = this.grid.deployHorizons;
    for (const proto of protocols) {
      // One tracker per horizon, advanced untimed through steps 1..T-1; then the trackers take turns, one
      // timed step each per round, so every horizon is timed over the same stretch of the run.
      const trackers = horizons.map(() => proto.make());
      const steps = horizons.map(() => 0);
      const advance = async (h: number) => {
        const step = ++steps[h];
        await trackers[h].add(expert(step), step);
        await trackers[h].current();
      };
      for (let h = 0; h < horizons.length; h++) while (steps[h] < horizons[h] - 1) await advance(h);
      const timings = await timeInterleaved(
        horizons.map((_, h) => () => advance(h)),
        repeats,
      );
      horizons.forEach((T, h) => {
        this.record({
          suite: 'deploy',
          technique: 'weighted-average',
          protocol: proto.name,
          experts: T,
          params: P,
          seconds: timings[h].seconds,
          bytesRead: 2 * 4 * P,
          bytesWritten: 4 * P,
          peak: timings[h].peakRssMb,
        });
      });
    }
    for (const T of this.grid.deployHorizons) {
      const experts = Array.from({ length: T }, (_, i) => expert(i + 1));
      const timing = await timeIt(() => mergeModels({ technique: 'weighted-average' }, base, experts), repeats);
      this.record({
        suite: 'deploy',
        technique: 'weighted-average',
        protocol: 'merge-all:batch',
        experts: T,
        params: P,
        seconds: timing.seconds,
        bytesRead: T * 4 * P,
        bytesWritten: 4 * P,
        peak: timing.peakRssMb,
      });
    }
  }

  /**
   * The merges that decompose each matrix (facts.cost 'svd': TSV-M, Iso-C, Iso-CTS, OPCM, DoP over 2
   * experts), and one deploy step of the continual protocols (OPCM, DoP: the tracker adds an expert to its
   * running merge) beside the EMA step, on models of four [d, d] matrices: their cost grows as d³ a
   * matrix, so the element-wise grid's [1024, 1024] tensors would take minutes a merge.
   */
  async svdSuite(): Promise<void> {
    for (const d of this.grid.svdSizes) {
      await this.measureCopy(true);
      const shape: ModelShape = {
        label: `4x${d}x${d}`,
        tensors: Array.from({ length: 4 }, (_, i) => [
          { name: `layers.${i}.weight`, shape: [d, d] },
          { name: `layers.${i}.bias`, shape: [d] },
        ]).flat(),
      };
      const P = shapeParams(shape);
      const base = makeBase(shape);
      const pool = [1, 2, 3, 4].map((i) => makeExpert(base, i));
      const bytes = { bytesRead: 3 * 4 * P, bytesWritten: 4 * P };
      for (const t of listTechniques()) {
        if (t.facts.cost !== 'svd') continue;
        const timing = await timeIt(
          () => mergeModels({ technique: t.name }, base, pool.slice(0, 2)),
          this.grid.repeats,
        );
        this.record({
          suite: 'svd',
          technique: t.name,
          protocol: '-',
          experts: 2,
          params: P,
          seconds: timing.seconds,
          ...bytes,
          peak: timing.peakRssMb,
        });
      }
      const ctx = { base, store: NO_STORE, merge: { technique: 'weighted-average' } };
      const protocols: { name: string; make: () => Tracker }[] = [
        { name: 'ema', make: () => makeTracker({ kind: 'ema', beta: DEFAULT_BETA, seed: 'base' }, ctx) },
        { name: 'opcm', make: () => makeTracker({ kind: 'opcm', alpha: OPCM_ALPHA }, ctx) },
        { name: 'dop', make: () => makeTracker({ kind: 'dop', alpha: DOP_ALPHA, mgda: true }, ctx) },
      ];
      for (const proto of protocols) {
        const tracker = proto.make();
        let step = 1;
        await tracker.add(pool[0], step);
        // Each timed step adds the next expert to the running merge and reads the deployed model.
        const timing = await timeIt(async () => {
          step++;
          await tracker.add(pool[(step - 1) % pool.length], step);
          await tracker.current();
        }, this.grid.repeats);
        this.record({
          suite: 'svd',
          technique: '-',
          protocol: `${proto.name} step`,
          experts: 2,
          params: P,
          seconds: timing.seconds,
          ...bytes,
          peak: timing.peakRssMb,
        });
      }
    }
  }
}

/** Least-squares slope and intercept of seconds against T. */
function fitLine(points: { x: number; y: number }[]): { slope: number; intercept: number; r2: number } {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let sxy = 0,
    sxx = 0,
    syy = 0;
  for (const p of points) {
    sxy += (p.x - mx) * (p.y - my);
    sxx += (p.x - mx) ** 2;
    syy += (p.y - my) ** 2;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { slope, intercept: my - slope * mx, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy) };
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Summary lines for the targets in docs/benchmarks.md. */
function summarize(rows: Row[]): string[] {
  const out: string[] = [];
  const num = (r: Row, c: keyof Row) => Number(r[c]);
  // The issue's targets: ratios at the largest technique size, allocation included ('-') and into reused memory.
  const techniqueRows = rows.filter((r) => r.suite === 'technique');
  const largest = Math.max(0, ...techniqueRows.map((r) => num(r, 'params')));
  const targets = listTechniques().flatMap((t): [string, number][] =>
    t.facts.benchTarget === undefined ? [] : [[t.name, t.facts.benchTarget]],
  );
  for (const [name, target] of targets) {
    const at = (protocol: string) =>
      techniqueRows.find((r) => r.technique === name && r.protocol === protocol && num(r, 'params') === largest);
    const fresh = at('-');
    const into = at('into');
    if (fresh && into) {
      const met = num(into, 'ratio_to_copy') >= target ? 'met into reused memory' : 'missed';
      out.push(
        `${name} at ${largest} params: ratio ${num(fresh, 'ratio_to_copy').toFixed(3)} allocating, ${num(into, 'ratio_to_copy').toFixed(3)} into reused memory (target ${target}: ${met}; ${fresh.kernels} kernels)`,
      );
    }
  }
  const emaKernel = rows.find((r) => r.suite === 'kernel' && String(r.technique).startsWith(`${kernelBackend()}:lerp`));
  if (emaKernel)
    out.push(
      `EMA step (lerp in place) at ${emaKernel.params} params: ratio ${num(emaKernel, 'ratio_to_copy').toFixed(3)} (target 0.7; ${emaKernel.kernels} kernels)`,
    );
  const deploy = rows.filter((r) => r.suite === 'deploy');
  for (const proto of ['ema', 'paint', 'merge-all:incremental']) {
    const pts = deploy.filter((r) => r.protocol === proto).sort((a, b) => num(a, 'experts') - num(b, 'experts'));
    if (pts.length >= 2) {
      const first = pts[0];
      const last = pts[pts.length - 1];
      out.push(
        `${proto} deploy step: ${(num(first, 'merge_seconds') * 1e3).toFixed(2)} ms at T=${first.experts}, ${(num(last, 'merge_seconds') * 1e3).toFixed(2)} ms at T=${last.experts} (x${(num(last, 'merge_seconds') / num(first, 'merge_seconds')).toFixed(2)})`,
      );
    }
  }
  // The SVD merges and continual steps against the EMA step on the same model, at each size.
  for (const params of new Set(rows.filter((r) => r.suite === 'svd').map((r) => num(r, 'params')))) {
    const at = rows.filter((r) => r.suite === 'svd' && num(r, 'params') === params);
    const ema = at.find((r) => r.protocol === 'ema step');
    if (!ema) continue;
    const x = (r: Row) =>
      `${String(r.technique === '-' ? r.protocol : r.technique)} x${(num(r, 'merge_seconds') / num(ema, 'merge_seconds')).toFixed(0)}`;
    out.push(
      `SVD merges at ${params} params (four square matrices), time as a multiple of an EMA step: ${at
        .filter((r) => r !== ema)
        .map(x)
        .join(', ')}`,
    );
  }
  const batch = deploy.filter((r) => r.protocol === 'merge-all:batch');
  if (batch.length >= 2) {
    const f = fitLine(batch.map((r) => ({ x: num(r, 'experts'), y: num(r, 'merge_seconds') })));
    out.push(
      `merge-all (batch) over T experts of ${batch[0].params} params: ${(f.slope * 1e3).toFixed(2)} ms per expert + ${(f.intercept * 1e3).toFixed(2)} ms (r^2 = ${f.r2.toFixed(4)})`,
    );
  }
  return out;
}

async function plot(rows: Row[], dir: string): Promise<void> {
  const horizonRows = rows.filter((r) => r.suite === 'horizon' || r.suite === 'deploy');
  if (horizonRows.length === 0) return;
  try {
    const { benchFigure } = await import('../src/report/figures/bench.js');
    const { makeContext } = await import('../src/report/figures/types.js');
    const { loadResults } = await import('../src/report/load.js');
    const { renderSvg } = await import('../src/report/render.js');
    const csv = join(dir, `.horizon-${process.pid}.csv`);
    writeFileSync(csv, stringify(horizonRows, { header: true, columns: [...COLUMNS] }));
    try {
      const fig = benchFigure(makeContext(loadResults(dir, { benchCsv: csv })));
      if (fig.kind !== 'figure') return;
      writeAtomic(join(dir, 'horizon.svg'), await renderSvg(fig.spec, fig.name));
    } finally {
      rmSync(csv, { force: true });
    }
  } catch (e) {
    log(`plot skipped: ${(e as Error).message}`);
  }
}

/** 8 experts of 1 GB each merged from disk in a child process (benchmarks/disk-merge.ts): a 'disk' row. */
async function diskMerge(bench: Bench): Promise<string | undefined> {
  await bench.measureCopy();
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'disk-merge.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    log(`disk merge failed (exit ${r.status})`);
    return undefined;
  }
  const d = JSON.parse(r.stdout.trim()) as {
    experts: number;
    paramsPerModel: number;
    bytesPerModel: number;
    seconds: number;
    peakRssMb: number;
    technique: string;
  };
  // The engine reads θ0 too (every technique gets it), so the files read are base + experts.
  bench.record({
    suite: 'disk',
    technique: d.technique,
    protocol: '-',
    experts: d.experts,
    params: d.paramsPerModel,
    seconds: d.seconds,
    bytesRead: (d.experts + 1) * d.bytesPerModel,
    bytesWritten: d.bytesPerModel,
    peak: d.peakRssMb,
  });
  return `disk merge of ${d.experts} x ${(d.bytesPerModel / 1e9).toFixed(2)} GB (weighted average, safetensors in and out): ${d.seconds.toFixed(1)} s, peak RSS ${Math.round(d.peakRssMb)} MB`;
}

async function main(): Promise<void> {
  const program = new Command()
    .name('bench')
    .option('--quick', 'the CI grid: every technique at 5e6 parameters, a few deploy steps (under a minute)')
    .option(
      '--out <dir>',
      'where merge.csv and horizon.svg go (default results/bench, or results/bench/quick with --quick)',
    )
    .option('--check <baseline>', 'fail (exit 1) when a ratio falls below half of this baseline CSV')
    .option('--write-baseline <file>', "write a baseline CSV: each row's lowest ratio over this run and two more")
    .option('--no-disk', 'skip the 8 x 1 GB merge from disk (full run only)')
    .option('--vit', 'technique suite at the ViT-B/16 layout and 1e8 parameters (slow: about 10 minutes)')
    .parse();
  const o = program.opts<{
    quick?: boolean;
    out?: string;
    check?: string;
    writeBaseline?: string;
    disk: boolean;
    vit?: boolean;
  }>();
  const grid = o.quick ? QUICK : o.vit ? { ...FULL, techniqueShapes: [vitB16Shape(), sizedShape(1e8)] } : FULL;
  const dir = o.out ?? (o.quick ? 'results/bench/quick' : 'results/bench');
  mkdirSync(dir, { recursive: true });
  log(
    `kernels: ${kernelBackend()} (available: ${availableKernels().join(', ')}; native threads: ${nativeThreads()}); grid: ${o.quick ? 'quick' : 'full'}; repeats: ${grid.repeats}`,
  );
  const started = performance.now();

  const bench = new Bench(grid);
  await bench.kernelSuite();
  await bench.techniqueSuite();
  await bench.horizonSuite();
  await bench.deploySuite();
  await bench.svdSuite();

  const diskLine = !o.quick && o.disk ? await diskMerge(bench) : undefined;
  writeAtomic(join(dir, 'merge.csv'), stringify(bench.rows, { header: true, columns: [...COLUMNS] }));
  await plot(bench.rows, dir);
  const summary = summarize(bench.rows);
  if (diskLine) summary.push(diskLine);
  summary.push(`kernels ${kernelBackend()}, ${((performance.now() - started) / 1000).toFixed(0)} s in all`);
  writeAtomic(join(dir, 'summary.txt'), `${summary.join('\n')}\n`);
  for (const s of summary) log(s);
  log(`wrote ${join(dir, 'merge.csv')}`);

  const ratioRows = (rows: Row[]): RatioRow[] =>
    rows.map((r) => ({
      suite: String(r.suite),
      technique: String(r.technique),
      protocol: String(r.protocol),
      experts: Number(r.experts),
      params: Number(r.params),
      kernels: String(r.kernels),
      ratio_to_copy: Number(r.ratio_to_copy),
    }));
  if (o.writeBaseline) {
    // The lowest ratio of each row over this run and BASELINE_RUNS - 1 more (lowestRatios).
    const runs = [ratioRows(bench.rows)];
    for (let r = 1; r < BASELINE_RUNS; r++) {
      log(`baseline: run ${r + 1} of ${BASELINE_RUNS}`);
      const again = new Bench(grid);
      await again.kernelSuite();
      await again.techniqueSuite();
      await again.horizonSuite();
      await again.deploySuite();
      await again.svdSuite();
      runs.push(ratioRows(again.rows));
    }
    writeAtomic(o.writeBaseline, stringify(lowestRatios(runs), { header: true, columns: [...BASELINE_COLUMNS] }));
    log(`wrote baseline ${o.writeBaseline} (lowest ratio of ${BASELINE_RUNS} runs per row)`);
  }
  if (o.check) {
    const baseline = parseBaseline(readFileSync(o.check, 'utf8'), o.check);
    const available = availableKernels();
    let results = compareToBaseline(ratioRows(bench.rows), baseline, 0.5, available);
    // A failing row is measured again (twice at most) before it counts: one busy moment on a shared
    // machine should not fail CI, a real slowdown fails every attempt.
    for (let attempt = 0; attempt < 2 && results.some((r) => !r.ok); attempt++) {
      log(`re-measuring ${results.filter((r) => !r.ok).length} row(s) below the floor`);
      const again = new Bench(grid);
      await again.kernelSuite();
      await again.techniqueSuite();
      await again.deploySuite();
      await again.svdSuite();
      const retry = compareToBaseline(ratioRows(again.rows), baseline, 0.5, available);
      results = results.map((r, i) => (r.ok ? r : retry[i]));
    }
    for (const r of results) log(formatResult(r));
    const skipped = results.filter((r) => r.skipped);
    if (skipped.length > 0)
      log(
        `benchmark regression: ${skipped.length} row(s) skipped, measured on other kernels than the baseline (this run: ${kernelBackend()}; available: ${available.join(', ')})`,
      );
    const failed = results.filter((r) => !r.ok);
    if (failed.length > 0) {
      log(`benchmark regression: ${failed.length} of ${results.length} rows below half of ${o.check}`);
      process.exitCode = 1;
    } else
      log(
        `benchmark regression check: ${results.length - skipped.length} compared rows at or above half of ${o.check}${skipped.length ? `, ${skipped.length} skipped` : ''}`,
      );
  }
}

await main();
