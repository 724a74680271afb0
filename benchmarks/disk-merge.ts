/**
 * Merging 8 checkpoints of 1 GB each from disk, streamed tensor by tensor into a safetensors file, in a
 * child process so that its peak RSS is the merge's alone. Prints one JSON line:
 * { experts, paramsPerModel, bytesPerModel, seconds, peakRssMb, technique }.
 *
 *   tsx benchmarks/disk-merge.ts [--experts 8] [--gb 1] [--dir DIR]
 *
 * The files go to a fresh folder under DIR (default the OS temp folder) and are deleted afterwards.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeInto } from '../src/merge/engine.js';
import { createSafetensorsWriter, openSafetensors } from '../src/params/safetensors/index.js';
import type { TensorInfo } from '../src/params/tensor.js';
import { fillNear } from './lib/models.js';

const COLS = 1024;
const ROWS = 1024;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

function peakRssMb(): number {
  const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
}

/** [1024, 1024] tensors (4 MiB each) up to the byte size, the last one shorter. */
function layout(bytes: number): TensorInfo[] {
  const params = Math.floor(bytes / 4);
  const infos: TensorInfo[] = [];
  for (let left = params, i = 0; left > 0; i++) {
    const n = Math.min(left, ROWS * COLS);
    infos.push({ name: `layers.${i}.weight`, shape: n === ROWS * COLS ? [ROWS, COLS] : [n], dtype: 'F32' });
    left -= n;
  }
  return infos;
}

async function writeModel(path: string, infos: TensorInfo[], seed: string): Promise<void> {
  const w = createSafetensorsWriter(path, infos);
  const buf = new Float32Array(ROWS * COLS);
  for (const info of infos) {
    const n = info.shape.reduce((a, b) => a * b, 1);
    const data = buf.subarray(0, n);
    fillNear(data, `${seed}/${info.name}`, 0.05);
    await w.write(info, data);
  }
  await w.finish();
}

async function mergeChild(dir: string, experts: number): Promise<void> {
  const base = await openSafetensors(join(dir, 'base.safetensors'));
  const sources = [];
  for (let i = 0; i < experts; i++) sources.push(await openSafetensors(join(dir, `expert${i}.safetensors`)));
  const out = createSafetensorsWriter(join(dir, 'merged.safetensors'), base.tensorInfos());
  const t0 = performance.now();
  await mergeInto({ technique: 'weighted-average' }, base, sources, out);
  await out.finish();
  const seconds = (performance.now() - t0) / 1000;
  for (const s of [base, ...sources]) await s.close();
  process.stdout.write(`${JSON.stringify({ seconds, peakRssMb: peakRssMb() })}\n`);
}

async function main(): Promise<void> {
  const experts = Number(arg('experts', '8'));
  const gb = Number(arg('gb', '1'));
  if (process.argv.includes('--child')) return mergeChild(arg('dir', ''), experts);
  const dir = mkdtempSync(join(arg('dir', tmpdir()), 'time-merge-disk-'));
  try {
    const infos = layout(gb * 1e9);
    const params = infos.reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
    process.stderr.write(
      `disk merge: writing base + ${experts} experts of ${((params * 4) / 1e9).toFixed(2)} GB to ${dir}\n`,
    );
    await writeModel(join(dir, 'base.safetensors'), infos, 'base');
    for (let i = 0; i < experts; i++) await writeModel(join(dir, `expert${i}.safetensors`), infos, `expert${i}`);
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', import.meta.filename, '--child', '--dir', dir, '--experts', String(experts)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        encoding: 'utf8',
      },
    );
    if (r.status !== 0) throw new Error(`merge child exited with ${r.status}`);
    const res = JSON.parse(r.stdout.trim()) as { seconds: number; peakRssMb: number };
    process.stdout.write(
      `${JSON.stringify({ experts, paramsPerModel: params, bytesPerModel: params * 4, technique: 'weighted-average', ...res })}\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
