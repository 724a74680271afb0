/** Timing (tinybench medians), memory-copy bandwidth and peak resident memory for the benchmarks. */
import { readFileSync, writeFileSync } from 'node:fs';
import { Bench } from 'tinybench';
import { median } from '../../src/study/rows.js';

const gc = (globalThis as { gc?: () => void }).gc;

/** Collects garbage when node runs with --expose-gc (npm run bench does), so runs start from the same heap. */
export function collect(): void {
  gc?.();
}

/** Resets the kernel's peak-RSS counter (Linux: /proc/self/clear_refs); false where unsupported. */
export function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** Peak resident memory in MB since the last reset (VmHWM), or since start where reset is unsupported. */
export function peakRssMb(): number {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // fall through: not Linux
  }
  return process.resourceUsage().maxRSS / 1024;
}

export interface Timing {
  /** Median seconds over the repeats. */
  readonly seconds: number;
  /** Largest peak RSS (MB) seen during any repeat. */
  readonly peakRssMb: number;
  readonly repeats: number;
}

/**
 * Median time of `fn` over `repeats` runs after one warm-up run, via tinybench. `setup` runs before each
 * run, untimed (fresh inputs for in-place kernels). Peak RSS is reset before each run and read after.
 */
export async function timeIt(fn: () => unknown, repeats: number, setup?: () => unknown): Promise<Timing> {
  let peak = 0;
  const bench = new Bench({ iterations: repeats, time: 0, warmupIterations: 1, warmupTime: 0, throws: true });
  bench.add('run', fn as () => Promise<void>, {
    beforeEach: async () => {
      await setup?.();
      collect();
      resetPeakRss();
    },
    afterEach: () => {
      peak = Math.max(peak, peakRssMb());
    },
  });
  await bench.run();
  const r = bench.tasks[0].result;
  if (r.state !== 'completed') throw new Error(`benchmark run ended in state ${r.state}`);
  return { seconds: r.latency.p50 / 1000, peakRssMb: peak, repeats };
}

/**
 * Median time of each of `fns` over `repeats` rounds, the functions taking turns within a round (round r
 * runs fns[0], fns[1], ... once each). Used where the compared cases must see the same machine state:
 * on these VMs memory the process has just filled reads slower for a few seconds afterwards, so cases
 * timed one after another differ by when they ran, not by what they do. Peak RSS as in timeIt.
 */
export async function timeInterleaved(fns: (() => unknown)[], repeats: number): Promise<Timing[]> {
  const seconds = fns.map(() => [] as number[]);
  const peaks = fns.map(() => 0);
  for (let r = 0; r < repeats; r++) {
    for (let i = 0; i < fns.length; i++) {
      collect();
      resetPeakRss();
      const t = performance.now();
      await fns[i]();
      seconds[i].push((performance.now() - t) / 1000);
      peaks[i] = Math.max(peaks[i], peakRssMb());
    }
  }
  return seconds.map((s, i) => ({ seconds: median(s), peakRssMb: peaks[i], repeats }));
}

/**
 * Memory-copy bandwidth: a Float32Array .set of `mb` megabytes into an already-touched array, counted as
 * bytes read + bytes written per second (GB/s = 1e9 B/s), median of `repeats`.
 */
export async function copyBandwidth(mb = 256, repeats = 7): Promise<{ gbps: number; seconds: number }> {
  const n = Math.floor((mb * 1024 * 1024) / 4);
  const src = new Float32Array(n);
  for (let i = 0; i < n; i += 1024) src[i] = i;
  const dst = new Float32Array(n);
  dst.set(src);
  const t = await timeIt(() => dst.set(src), repeats);
  return { gbps: (2 * n * 4) / t.seconds / 1e9, seconds: t.seconds };
}
