/**
 * A model folder output against a single-file output of the same merge.
 *
 *   npx tsx benchmarks/merge-folder.ts [--models 8] [--mib 128] [--shard 32M] [--repeats 3]
 *
 * Writes --models checkpoints of about --mib MiB each (F32, ViT-like layout) into a temporary
 * directory, then merges them with the CLI (task arithmetic: the first is the base) into
 * merged.safetensors and into a folder of --shard shards, alternating the two --repeats times, each
 * under `/usr/bin/time -v`. Prints each run, then the medians and their ratio (folder / file) for wall
 * time and peak RSS. Everything is removed afterwards.
 */
import { readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arg, layout, measure, TIME, writeCheckpoint } from './lib/merge-files.js';

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const models = Number(arg('models', '8'));
  const size = Number(arg('mib', '128')) * 2 ** 20;
  const shard = arg('shard', '32M');
  const repeats = Number(arg('repeats', '3'));
  const dir = await mkdtemp(join(tmpdir(), 'time-merge-folder-bench-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    const infos = layout(size, 1024);
    const names = Array.from({ length: models }, (_, i) => `m${i}.safetensors`);
    for (const [i, n] of names.entries()) await writeCheckpoint(join(dir, n), infos, `bench-${i}`);
    const one = statSync(join(dir, names[0])).size;
    console.log(`${models} checkpoints of ${mib(one)} (${infos.length} tensors each)`);
    const config = join(dir, 'merge.yaml');
    await writeFile(
      config,
      `merge_method: task-arithmetic\nbase_model: ${names[0]}\nmodels: [${names.slice(1).join(', ')}]\nparameters: { lambda: 0.3 }\n`,
    );
    const runs = { file: [] as { rss: number; seconds: number }[], folder: [] as { rss: number; seconds: number }[] };
    for (let r = 0; r < repeats; r++) {
      for (const kind of ['file', 'folder'] as const) {
        const out = join(dir, kind === 'file' ? 'merged.safetensors' : 'merged');
        const m = await measure(['merge', config, out, '--out-shard-size', shard, '--quiet']);
        runs[kind].push(m);
        const shards = kind === 'folder' ? readdirSync(out).filter((f) => f.endsWith('.safetensors')).length : 1;
        console.log(
          `${kind.padEnd(6)} run ${r + 1}: ${m.seconds.toFixed(2)} s, peak RSS ${mib(m.rss)}, ${shards} shard(s)`,
        );
      }
    }
    const [tf, tF] = [median(runs.file.map((m) => m.seconds)), median(runs.folder.map((m) => m.seconds))];
    const [rf, rF] = [median(runs.file.map((m) => m.rss)), median(runs.folder.map((m) => m.rss))];
    console.log(`median file: ${tf.toFixed(2)} s, ${mib(rf)}; folder: ${tF.toFixed(2)} s, ${mib(rF)}`);
    console.log(`folder / file: time ${(tF / tf).toFixed(3)}, peak RSS ${(rF / rf).toFixed(3)}`);
    console.log(`measured with ${TIME} -v; ${models} x ${mib(one)} read per run`);
  } finally {
    await cleanup();
  }
}

await main();
