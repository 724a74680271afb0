/**
 * Peak memory of `time-merge merge` on two large checkpoints.
 *
 *   npx tsx benchmarks/merge-memory.ts [--mib 1024] [--dtype f32|f16|bf16] [--technique weighted-average]
 *
 * Writes two checkpoints of about --mib MiB each (F32, a ViT-like layout: 16 MiB weight matrices and
 * small vectors) into a temporary directory, merges them with the CLI in a child process under
 * `/usr/bin/time -v` (or, where that is missing, with the child reporting process.resourceUsage()),
 * and prints the child's peak RSS against the checkpoint size. A `time-merge --help` run gives the
 * baseline RSS of Node + the CLI. Everything is removed afterwards (about 3x --mib of disk at peak).
 */
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import seedrandom from 'seedrandom';
import { createSafetensorsWriter } from '../src/params/safetensors/index.js';
import type { TensorInfo } from '../src/params/tensor.js';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '..', 'bin', 'time-merge.js');
const TIME = '/usr/bin/time';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** Blocks of a ViT-like model: [width, width] matrices with their biases and norms, until `bytes`. */
function layout(bytes: number, width = 2048): TensorInfo[] {
  const infos: TensorInfo[] = [];
  let total = 0;
  for (let l = 0; total < bytes; l++) {
    for (const [name, shape] of [
      [`blocks.${l}.attn.weight`, [width, width]],
      [`blocks.${l}.attn.bias`, [width]],
      [`blocks.${l}.mlp.weight`, [width, width]],
      [`blocks.${l}.mlp.bias`, [width]],
      [`blocks.${l}.norm.weight`, [width]],
    ] as const) {
      infos.push({ name, shape: [...shape], dtype: 'F32' });
      total += shape.reduce((a, b) => a * b, 1) * 4;
    }
  }
  return infos;
}

/** Fills a checkpoint with seeded values (xorshift seeded from seedrandom: fast enough for GBs). */
async function writeCheckpoint(path: string, infos: TensorInfo[], seed: string): Promise<void> {
  let s = (seedrandom(seed).int32() | 1) >>> 0;
  const writer = createSafetensorsWriter(path, infos);
  try {
    for (const info of infos) {
      const data = new Float32Array(info.shape.reduce((a, b) => a * b, 1));
      for (let i = 0; i < data.length; i++) {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        data[i] = ((s >>> 0) / 4294967296 - 0.5) * 0.1;
      }
      await writer.write(info, data);
    }
    await writer.finish();
  } catch (err) {
    await writer.abort();
    throw err;
  }
}

/** Runs the CLI and returns its peak RSS in bytes and wall time in seconds. */
async function measure(args: string[]): Promise<{ rss: number; seconds: number }> {
  const t0 = performance.now();
  if (existsSync(TIME)) {
    const { stderr } = await run(TIME, ['-v', process.execPath, BIN, ...args], { maxBuffer: 1 << 24 });
    const kb = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
    if (!kb) throw new Error(`no RSS in /usr/bin/time output:\n${stderr}`);
    return { rss: Number(kb[1]) * 1024, seconds: (performance.now() - t0) / 1000 };
  }
  // No /usr/bin/time: load the CLI in a child that prints its own peak RSS (maxRSS is in KiB) on exit.
  const probe = `process.on('exit', () => console.error('MAXRSS ' + process.resourceUsage().maxRSS)); process.argv.splice(1, 1, ${JSON.stringify(BIN)}); await import(${JSON.stringify(BIN)});`;
  const { stderr } = await run(process.execPath, ['--input-type=module', '-e', probe, BIN, ...args], {
    maxBuffer: 1 << 24,
  });
  const kb = /MAXRSS (\d+)/.exec(stderr);
  if (!kb) throw new Error(`no RSS reported by the child:\n${stderr}`);
  return { rss: Number(kb[1]) * 1024, seconds: (performance.now() - t0) / 1000 };
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

async function main(): Promise<void> {
  const size = Number(arg('mib', '1024')) * 2 ** 20;
  const dtype = arg('dtype', 'f32');
  const technique = arg('technique', 'weighted-average');
  const dir = await mkdtemp(join(tmpdir(), 'time-merge-bench-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    const infos = layout(size);
    const largest = Math.max(...infos.map((t) => t.shape.reduce((a, b) => a * b, 1) * 4));
    const t0 = performance.now();
    await writeCheckpoint(join(dir, 'a.safetensors'), infos, 'bench-a');
    await writeCheckpoint(join(dir, 'b.safetensors'), infos, 'bench-b');
    const ckpt = statSync(join(dir, 'a.safetensors')).size;
    console.log(
      `wrote 2 checkpoints of ${mib(ckpt)} (${infos.length} tensors, largest ${mib(largest)}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const config = join(dir, 'merge.yaml');
    await writeFile(
      config,
      `merge_method: ${technique}\nbase_model: a.safetensors\nmodels: [a.safetensors, b.safetensors]\ndtype: ${dtype}\noutput: merged.safetensors\n`,
    );

    const baseline = await measure(['--help']);
    const merge = await measure(['merge', config, '--quiet']);
    const out = statSync(join(dir, 'merged.safetensors')).size;
    console.log(`baseline (time-merge --help): peak RSS ${mib(baseline.rss)}`);
    console.log(
      `merge ${technique} of 2 x ${mib(ckpt)} -> ${mib(out)} ${dtype}: peak RSS ${mib(merge.rss)} (${((100 * merge.rss) / ckpt).toFixed(1)}% of one checkpoint, ${mib(merge.rss - baseline.rss)} above baseline), ${merge.seconds.toFixed(1)} s, ${((2 * ckpt) / 2 ** 20 / merge.seconds).toFixed(0)} MiB/s read`,
    );
    console.log(`measured with ${existsSync(TIME) ? '/usr/bin/time -v' : 'process.resourceUsage().maxRSS'}`);
  } finally {
    await cleanup();
  }
}

await main();
