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
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arg, layout, measure, TIME, writeCheckpoint } from './lib/merge-files.js';

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
