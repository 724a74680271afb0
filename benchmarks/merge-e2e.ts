/**
 * `time-merge merge` end to end against `cat` and against PyTorch, on the same files from the page cache:
 * a base and two experts of 5e7 F32 parameters each (200 MB per file). Every figure is the wall time of
 * a whole process (start, read, merge, write, fsync, rename), the three of a round run back to back and
 * the rounds repeated, so ratios come from one run on one machine state. Prints a table and one JSON
 * line with the medians and the ratios the README quotes.
 *
 *   npm run bench:merge-e2e [-- --params 5e7 --rounds 5 --dir DIR --python /usr/bin/python3 --keep --csv PATH]
 *
 * The medians and ratios also go to results/bench/merge-e2e.csv (or --csv PATH), one row per process.
 *
 * Floors measured in the same rounds: an empty Node start, `merge --help`, cat over the experts alone and
 * dd writing the output's size with fsync. cat reads the three inputs once; the PyTorch merges are
 * benchmarks/merge_e2e_torch.py (mergekit's linear and TIES with argsort top-k), run when the Python
 * has torch, skipped otherwise.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSafetensorsWriter } from '../src/params/safetensors/index.js';
import { numel, type TensorInfo } from '../src/params/tensor.js';
import { fillNear, sizedShape } from './lib/models.js';

const ROOT = join(import.meta.dirname, '..');
// The compiled CLI, built afresh at the start so the figures are of the current sources (bin/ would run
// the sources through tsx if one were edited during the run).
const MAIN = join(ROOT, 'dist', 'cli', 'main.js');
const TORCH = join(import.meta.dirname, 'merge_e2e_torch.py');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

async function writeModel(
  path: string,
  infos: TensorInfo[],
  seed: string,
  base?: (name: string) => Float32Array,
): Promise<void> {
  const w = createSafetensorsWriter(path, infos);
  for (const info of infos) {
    const data = new Float32Array(numel(info.shape));
    fillNear(data, `${seed}/${info.name}`, base ? 0.004 : 0.05, base?.(info.name));
    await w.write(info, data);
  }
  await w.finish();
}

/** Wall seconds of one process; throws with its stderr when it fails. */
function timed(cmd: string, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 1 << 24 });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}: ${r.stderr}`);
  return s;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const params = Number(arg('params', '5e7'));
  const rounds = Number(arg('rounds', '5'));
  const python = arg('python', '/usr/bin/python3');
  if (spawnSync(process.execPath, [join(ROOT, 'src', 'cli', 'build.mjs')], { stdio: 'inherit' }).status !== 0)
    throw new Error('build of dist/ failed');
  const dir = mkdtempSync(join(arg('dir', tmpdir()), 'time-merge-e2e-'));
  try {
    const infos: TensorInfo[] = sizedShape(params).tensors.map((t) => ({ name: t.name, shape: t.shape, dtype: 'F32' }));
    const files = ['base', 'expert-a', 'expert-b'].map((n) => join(dir, `${n}.safetensors`));
    process.stderr.write(
      `merge-e2e: writing a base and 2 experts of ${params} F32 parameters (${infos.length} tensors) to ${dir}\n`,
    );
    // Experts near the base: each reads the base's tensor back from a fresh fill of the same seed.
    await writeModel(files[0], infos, 'base');
    const baseOf = (name: string) => {
      const d = new Float32Array(numel(infos.find((i) => i.name === name)!.shape));
      fillNear(d, `base/${name}`, 0.05);
      return d;
    };
    await writeModel(files[1], infos, 'expert-a', baseOf);
    await writeModel(files[2], infos, 'expert-b', baseOf);
    const config = (method: string, params: string) => {
      const path = join(dir, `${method}.yaml`);
      writeFileSync(
        path,
        `merge_method: ${method}\nbase_model: base.safetensors\nmodels: [expert-a.safetensors, expert-b.safetensors]\n${params}output: merged-${method}.safetensors\n`,
      );
      return path;
    };
    const avg = config('weighted-average', '');
    const ties = config('ties', 'parameters: { density: 0.2, lambda: 1 }\n');
    const haveTorch = existsSync(python) && spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
    if (!haveTorch) process.stderr.write(`merge-e2e: ${python} has no torch; the PyTorch rows are skipped\n`);

    // Besides the merges, the floors any Node merge stands on: an empty Node process, the CLI answering
    // `merge --help` (start-up and the merge command's code), cat over the experts alone (the bytes a
    // weighted average reads: it never reads the base), and dd writing the output's size durably.
    const rows: Record<string, () => number> = {
      cat: () => timed('sh', ['-c', `cat ${files.join(' ')} > /dev/null`]),
      'cat (experts only)': () => timed('sh', ['-c', `cat ${files.slice(1).join(' ')} > /dev/null`]),
      'node (empty start)': () => timed(process.execPath, ['-e', '0']),
      'time-merge merge --help': () => timed(process.execPath, [MAIN, 'merge', '--help']),
      // The output's bytes written and made durable, as the merge does before its rename.
      'dd of the output size + fsync': () =>
        timed('dd', [
          'if=/dev/zero',
          `of=${join(dir, 'dd.out')}`,
          'bs=1M',
          `count=${Math.ceil((params * 4) / 2 ** 20)}`,
          'conv=fsync',
          'status=none',
        ]),
      'time-merge weighted-average': () => timed(process.execPath, [MAIN, 'merge', avg, '--quiet']),
      'time-merge ties': () => timed(process.execPath, [MAIN, 'merge', ties, '--quiet']),
    };
    if (haveTorch) {
      rows['pytorch linear (mergekit-style)'] = () =>
        timed(python, [TORCH, 'linear', join(dir, 'torch-linear.safetensors'), ...files]);
      rows['pytorch ties (mergekit-style, argsort top-k)'] = () =>
        timed(python, [TORCH, 'ties', join(dir, 'torch-ties.safetensors'), ...files, '--density', '0.2']);
    }
    for (const f of files) timed('sh', ['-c', `cat ${f} > /dev/null`]); // into the page cache
    const times: Record<string, number[]> = Object.fromEntries(Object.keys(rows).map((k) => [k, []]));
    for (let r = 0; r < rounds; r++) {
      for (const [name, run] of Object.entries(rows)) {
        times[name].push(run());
        // Outputs are removed between runs, so every write allocates afresh as a first merge would.
        for (const out of ['merged-weighted-average', 'merged-ties', 'torch-linear', 'torch-ties'])
          rmSync(join(dir, `${out}.safetensors`), { force: true });
        rmSync(join(dir, 'dd.out'), { force: true });
      }
      process.stderr.write(`merge-e2e: round ${r + 1}/${rounds} done\n`);
    }
    const med = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
    const inputBytes = 3 * params * 4;
    console.log(`\n${'run'.padEnd(46)} ${'median s'.padStart(9)} ${'GB/s of input'.padStart(14)}`);
    for (const [k, s] of Object.entries(med))
      console.log(`${k.padEnd(46)} ${s.toFixed(3).padStart(9)} ${(inputBytes / s / 1e9).toFixed(2).padStart(14)}`);
    const ratios = {
      avgVsCatThroughput: med.cat / med['time-merge weighted-average'],
      // The most a Node merge could reach doing its three parts one after another: cat's time over an
      // empty Node start, the experts' cat and the durable write of the output.
      floorsVsCat:
        med.cat / (med['node (empty start)'] + med['cat (experts only)'] + med['dd of the output size + fsync']),
      avgSpeedupVsTorch: haveTorch ? med['pytorch linear (mergekit-style)'] / med['time-merge weighted-average'] : null,
      tiesSpeedupVsTorch: haveTorch
        ? med['pytorch ties (mergekit-style, argsort top-k)'] / med['time-merge ties']
        : null,
    };
    console.log(
      `\nweighted average at ${ratios.avgVsCatThroughput.toFixed(2)} of cat's throughput` +
        ` (an empty Node start, cat of the experts and dd of the output, one after another: ${ratios.floorsVsCat.toFixed(2)})` +
        (haveTorch
          ? `; ${ratios.avgSpeedupVsTorch!.toFixed(1)}x PyTorch linear; TIES ${ratios.tiesSpeedupVsTorch!.toFixed(1)}x PyTorch TIES`
          : ''),
    );
    console.log(JSON.stringify({ params, rounds, medians: med, ratios }));
    const csv = arg('csv', join(ROOT, 'results', 'bench', 'merge-e2e.csv'));
    const lines = ['run,params,rounds,median_seconds,input_gbps,cat_seconds,ratio'];
    for (const [k, v] of Object.entries(med)) {
      const ratio = k.startsWith('pytorch')
        ? v / med[k.includes('ties') ? 'time-merge ties' : 'time-merge weighted-average']
        : med.cat / v;
      lines.push(`${k},${params},${rounds},${v},${inputBytes / v / 1e9},${med.cat},${ratio}`);
    }
    // ratio: cat's time over the run's (cat, floors and time-merge rows), or the run's time over time-merge's
    // (PyTorch rows).
    writeFileSync(`${csv}.tmp`, `${lines.join('\n')}\n`);
    renameSync(`${csv}.tmp`, csv);
  } finally {
    if (process.argv.includes('--keep')) process.stderr.write(`merge-e2e: files kept in ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
