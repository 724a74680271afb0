import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { loadMergeConfig, mergeSpecOf, type MergeConfig } from '../../merge/config.js';
import { mergeInto } from '../../merge/engine.js';
import { fail, TimeMergeError } from '../../params/errors.js';
import { checkReplaceable } from '../../params/replace-target.js';
import { assertSameStructure, ParamSet, totalNumel } from '../../params/paramset.js';
import {
  createSafetensorsWriter,
  openCheckpoint,
  removeStaleTemporaries,
  writeSafetensors,
  type Checkpoint,
} from '../../params/safetensors/index.js';
import { VERSION } from '../../version.js';

export interface MergeRunOptions {
  /** Output path; overrides the config's `output`. Relative to the working directory. */
  readonly output?: string;
  /** Draw a progress bar (default: when the progress stream is a terminal). */
  readonly progress?: boolean;
  /** Where the bar goes (default stderr). Not a terminal: one plain line per update, no cursor codes. */
  readonly progressStream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Read inputs through memory mappings where the native addon allows (default true); false copies them. */
  readonly map?: boolean;
}

export interface MergeRunSummary {
  readonly output: string;
  readonly technique: string;
  readonly models: number;
  readonly tensors: number;
  readonly parameters: number;
  readonly bytes: number;
  readonly seconds: number;
  /** Temporary files of this output left by runs that were killed, removed before writing. */
  readonly staleTemporaries: readonly string[];
}

export { VERSION };

/** Loads a config file and runs it. */
export async function runMergeConfig(configPath: string, options: MergeRunOptions = {}): Promise<MergeRunSummary> {
  return runMerge(await loadMergeConfig(configPath), options);
}

/**
 * Runs a validated config: opens every checkpoint's header and checks their structure before reading
 * any tensor data, then streams tensor by tensor into the output through a temporary file. On any
 * failure the temporary file is removed and an existing output is left as it was.
 */
export async function runMerge(config: MergeConfig, options: MergeRunOptions = {}): Promise<MergeRunSummary> {
  const started = performance.now();
  const output = options.output !== undefined ? resolve(options.output) : config.output;
  if (!output) fail('CONFIG', `${config.source}: no output file: set "output" in the config or pass --output`);
  if (existsSync(config.source) && sameFile(config.source, output))
    fail('CONFIG', `${config.source}: output ${output} is the config file itself; choose another output path`);

  const opened: Checkpoint[] = [];
  try {
    // Each tensor is used once, so reads reuse one buffer per file, or read the mapped file in place; a
    // NaN or Infinity in an input is an error naming its file and tensor (a technique that trims it away
    // would otherwise hide it), checked by the engine, in the merge's own pass where the technique allows.
    for (const path of [config.base, ...config.models.map((m) => m.path)])
      opened.push(
        await openCheckpoint(path, {
          reuseBuffers: true,
          requireFinite: 'deferred',
          map: options.map ?? true,
        }),
      );
    // Every file read counts, the shards behind an index included, and the same file under another
    // name (a symlink or hard link): writing over one would destroy an input.
    for (const ck of opened) {
      for (const file of ck.files) {
        if (sameFile(file, output))
          fail(
            'CONFIG',
            `${config.source}: output ${output} is also an input (${file === ck.path ? file : `${file}, a shard of ${ck.path}`}); choose another output path`,
          );
      }
    }
    // Not a device, FIFO, symlink or directory: the output is renamed over its path (replace-target.ts).
    checkReplaceable(output);
    const [base, ...experts] = opened;
    for (const ck of opened) {
      const floats = new Set(ck.tensorInfos().map((t) => t.name));
      const other = ck.entries.find((e) => !floats.has(e.name));
      if (other)
        fail(
          'MISMATCH',
          `${ck.path}: tensor "${other.name}" has dtype ${other.dtype}; merge combines floating-point tensors only (F32, F16, BF16, F64)`,
        );
    }
    assertSameStructure(base, experts);

    const infos = base.tensorInfos();
    const metadata = {
      ...base.metadata,
      time_merge_version: VERSION,
      time_merge_technique: config.technique,
      time_merge_seed: String(config.seed),
      time_merge_config: JSON.stringify(config.normalized),
    };
    // Temporaries of this output left by killed runs (SIGKILL, a crash) would otherwise pile up unseen.
    const staleTemporaries = removeStaleTemporaries(output);
    const writer = createSafetensorsWriter(output, infos, { dtype: config.dtype, metadata, refuseOverflow: true });
    const stream = options.progressStream ?? process.stderr;
    const bar =
      (options.progress ?? stream.isTTY === true)
        ? progressBar((await import('cli-progress')).default.SingleBar, infos.length, stream)
        : undefined;
    try {
      await mergeInto(mergeSpecOf(config), base, experts, writer, {
        onTensor: (name, i) => bar?.update(i, { name }),
        output: (info) => writer.outputFor(info),
      });
      await writer.finish();
      bar?.update(infos.length, { name: 'done' });
    } catch (err) {
      await writer.abort();
      // A merge that cannot be computed (MERGE: a ratio, a count) names the config it came from, unless
      // the message names a file already (the output a value overflows, an input).
      const named = [config.source, output, ...opened.flatMap((ck) => ck.files)];
      if (err instanceof TimeMergeError && err.code === 'MERGE' && !named.some((p) => err.message.includes(p)))
        throw new TimeMergeError('MERGE', `${config.source}: ${err.message}`, { cause: err });
      throw err;
    } finally {
      bar?.stop();
    }
    return {
      output,
      technique: config.technique,
      models: experts.length,
      tensors: infos.length,
      parameters: totalNumel(base),
      bytes: writer.byteSize,
      seconds: (performance.now() - started) / 1000,
      staleTemporaries,
    };
  } finally {
    await Promise.all(opened.map((c) => c.close().catch(() => undefined)));
  }
}

/** Whether two paths name one file: the same inode when both exist, else the same resolved path. */
function sameFile(a: string, b: string): boolean {
  try {
    const [x, y] = [statSync(a), statSync(b)];
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return resolve(a) === resolve(b);
  }
}

function progressBar(
  Bar: typeof SingleBar,
  total: number,
  stream: NodeJS.WritableStream & { isTTY?: boolean },
): SingleBar {
  const bar = new Bar({
    stream,
    // Logs and pipes get plain lines instead of nothing (cli-progress's default off a terminal).
    noTTYOutput: stream.isTTY !== true,
    format: 'merging [{bar}] {value}/{total} tensors  {name}',
    hideCursor: true,
    clearOnComplete: true,
  });
  bar.start(total, 0, { name: '' });
  return bar;
}

const DEMO_CONFIG = `# A demo merge: task arithmetic of two experts fine-tuned from one base.
# Run it with:  time-merge merge merge.yaml
merge_method: task-arithmetic      # any technique from \`time-merge techniques\`
base_model: base.safetensors        # paths are relative to this file
models:
  - model: expert-a.safetensors
    parameters: { weight: 0.7 }
  - model: expert-b.safetensors    # weight 1 by default
parameters: { lambda: 0.5 }
dtype: f32                          # f32 | f16 | bf16 (default: the base's)
seed: 0
output: merged.safetensors
`;

/**
 * Writes a small demo into `dir`: base.safetensors, expert-a/b.safetensors (the base plus seeded
 * task vectors) and merge.yaml. Returns the config's path.
 */
export async function writeMergeDemo(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  // Loaded here: only the demo draws, and a merge's start-up should not pay for the module.
  const { default: seedrandom } = await import('seedrandom');
  const rng = seedrandom('time-merge demo');
  const values = (n: number, scale: number) =>
    Float32Array.from({ length: n }, () => Math.round((rng() * 2 - 1) * scale * 1000) / 1000);
  const base = ParamSet.fromEntries(
    [
      ['encoder.weight', { shape: [4, 3], data: values(12, 1) }],
      ['encoder.bias', { shape: [4], data: values(4, 0.1) }],
      ['head.weight', { shape: [2, 4], data: values(8, 1) }],
    ],
    'base',
  );
  const expert = (label: string) => base.map((d) => d.map((v) => v + Math.round((rng() * 2 - 1) * 100) / 1000), label);
  await writeSafetensors(join(dir, 'base.safetensors'), base);
  await writeSafetensors(join(dir, 'expert-a.safetensors'), expert('expert-a'));
  await writeSafetensors(join(dir, 'expert-b.safetensors'), expert('expert-b'));
  const configPath = join(dir, 'merge.yaml');
  await writeFile(configPath, DEMO_CONFIG);
  return configPath;
}

function describe(s: MergeRunSummary): string {
  const size = s.bytes >= 1 << 20 ? `${(s.bytes / (1 << 20)).toFixed(1)} MiB` : `${s.bytes} bytes`;
  return `merged ${s.models} model(s) with ${s.technique}: ${s.tensors} tensors, ${s.parameters} parameters -> ${s.output} (${size}) in ${s.seconds.toFixed(2)} s`;
}

export function registerMerge(program: Command): void {
  program
    .command('merge')
    .argument('[config]', 'merge config, YAML or JSON (see below)')
    .description(
      'Merge safetensors checkpoints with a technique, as a YAML/JSON config says. Without a config, runs a small demo.',
    )
    .option('-o, --output <path>', "output file (overrides the config's output)")
    .option('-q, --quiet', 'no progress bar and no summary line')
    .option('--demo <dir>', 'write a demo (base, two experts, merge.yaml) into DIR and merge it')
    .addHelpText(
      'after',
      `
Config (mergekit style; relative paths resolve against the config's directory):
${DEMO_CONFIG.trimEnd()
  .split('\n')
  .slice(2)
  .map((l) => `  ${l}`)
  .join('\n')}

Checkpoints are .safetensors files or sharded *.safetensors.index.json. Every file's header is
checked before any tensor is read; tensors are merged one at a time, so memory stays far below the
model size. The output is written to a temporary file and renamed when complete; its __metadata__
records the config, seed, technique and time-merge version.

Try it:
  time-merge merge --demo ./merge-demo     # writes ./merge-demo/{base,expert-a,expert-b}.safetensors
                                           # and merge.yaml, then merges into merged.safetensors
  time-merge merge ./merge-demo/merge.yaml --output other.safetensors
  time-merge merge                         # the same demo in a temporary directory`,
    )
    .action(async (configArg: string | undefined, opts: { output?: string; quiet?: boolean; demo?: string }) => {
      if (configArg && opts.demo) fail('CONFIG', 'give either a config or --demo DIR, not both');
      let configPath = configArg;
      if (!configPath) {
        const dir = opts.demo ?? (await mkdtemp(join(tmpdir(), 'time-merge-demo-')));
        configPath = await writeMergeDemo(dir);
        if (!opts.quiet)
          console.log(
            `demo written to ${dir} (base, expert-a, expert-b, merge.yaml); re-run with: time-merge merge ${configPath}`,
          );
      }
      const summary = await runMergeConfig(configPath, {
        output: opts.output,
        progress: !opts.quiet && process.stderr.isTTY,
      });
      for (const t of summary.staleTemporaries)
        console.error(`time-merge: removed ${t}, a temporary left by a merge that was killed`);
      if (!opts.quiet) console.log(describe(summary));
    });
}
