/** Large synthetic checkpoints and a measured CLI run, for the merge memory and output benchmarks. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import seedrandom from 'seedrandom';
import { createSafetensorsWriter } from '../../src/params/safetensors/index.js';
import type { TensorInfo } from '../../src/params/tensor.js';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'time-merge.js');
export const TIME = '/usr/bin/time';

export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** Blocks of a ViT-like model: [width, width] matrices with their biases and norms, until `bytes`. */
export function layout(bytes: number, width = 2048): TensorInfo[] {
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
export async function writeCheckpoint(path: string, infos: TensorInfo[], seed: string): Promise<void> {
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
export async function measure(args: string[]): Promise<{ rss: number; seconds: number }> {
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
