import { existsSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { loadMergeConfig, type MergeConfig } from '../../merge/config.js';
import { mergeInto } from '../../merge/engine.js';
import {
  architecturesOf,
  checkSameVocabulary,
  copyTokenizer,
  DEFAULT_SHARD_SIZE,
  modelCard,
  modelDir,
  outputConfigJson,
  outputKind,
  parseShardSize,
  type OutputKind,
} from '../../merge/model-folder.js';
import { planMerge } from '../../merge/parts.js';
import { fail, TimeMergeError } from '../../params/errors.js';
import { checkReplaceable } from '../../params/replace-target.js';
import { assertSameStructure, ParamSet } from '../../params/paramset.js';
import {
  createSafetensorsWriter,
  openCheckpoint,
  processAlive,
  removeStaleTemporaries,
  SHARD_INDEX_NAME,
  ShardedWriter,
  writeSafetensors,
  type Checkpoint,
} from '../../params/safetensors/index.js';
import { numel, type TensorInfo } from '../../params/tensor.js';
import { partialFolder, replaceFolder } from '../../study/replace-folder.js';
import { onInterrupt } from '../interrupt.js';
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
  /** Folder output: bytes of tensor data per shard at most (default mergekit's 5B; 0: one shard). */
  readonly shardBytes?: number;
  /** Folder output: copy the base model's tokenizer files (default true). */
  readonly copyTokenizer?: boolean;
  /** Folder output: write a README.md model card with the config (default true). */
  readonly writeModelCard?: boolean;
  /** Merge models whose config.json names different architectures (mergekit's --allow-crimes). */
  readonly allowCrimes?: boolean;
  /** Overrides the config's seed (mergekit's --random-seed). */
  readonly seed?: number;
  /** The config's text, for the model card (default: the normalised config as YAML-compatible JSON). */
  readonly configText?: string;
  /** Called with a line for each step of the output (shards, config.json, tokenizer): -v. */
  readonly verbose?: (line: string) => void;
}

export interface MergeRunSummary {
  readonly output: string;
  /** A .safetensors file, or a model folder. */
  readonly kind: OutputKind;
  readonly technique: string;
  readonly models: number;
  readonly tensors: number;
  readonly parameters: number;
  readonly bytes: number;
  /** Folder output: the files written, in the folder. */
  readonly files: readonly string[];
  readonly seconds: number;
  /** Temporary files of this output left by runs that were killed, removed before writing. */
  readonly staleTemporaries: readonly string[];
  /** Things the user should know: a donor without config.json, a tokenizer not found, ... */
  readonly notes: readonly string[];
}

export { VERSION };

/** Loads a config file and runs it. */
export async function runMergeConfig(configPath: string, options: MergeRunOptions = {}): Promise<MergeRunSummary> {
  const config = await loadMergeConfig(configPath);
  const configText = options.configText ?? (await readFile(configPath, 'utf8'));
  return runMerge(config, { ...options, configText });
}

/** Where the output's tensors go: one safetensors file, or the shards of a model folder. */
interface OutputWriter {
  outputFor(info: TensorInfo): Float32Array;
  write(info: TensorInfo, data: Float32Array): Promise<void>;
  finish(): Promise<void>;
  abort(): Promise<void>;
  readonly byteSize: number;
}

/**
 * Runs a validated config: opens every checkpoint's header and checks their structure before reading
 * any tensor data, then streams tensor by tensor into the output through a temporary file (a file
 * output) or a temporary folder beside it (a model folder). On any failure the temporary is removed
 * and an existing output is left as it was.
 */
export async function runMerge(config: MergeConfig, options: MergeRunOptions = {}): Promise<MergeRunSummary> {
  const started = performance.now();
  const output = options.output !== undefined ? resolve(options.output) : config.output;
  if (!output)
    fail('CONFIG', `${config.source}: no output given: set "output" in the config or pass OUT (or --output)`);
  if (existsSync(config.source) && sameFile(config.source, output))
    fail('CONFIG', `${config.source}: output ${output} is the config file itself; choose another output path`);
  const kind = outputKind(output);
  const seed = options.seed ?? config.seed;
  // Keys a toolkit takes that change nothing here are said (with the other notes), never dropped silently.
  const notes: string[] = [...(config.notes ?? [])];
  const log = options.verbose ?? (() => undefined);

  const opened = new Map<string, Checkpoint>();
  // Each tensor is used once, so reads reuse one buffer per file, or read the mapped file in place; a
  // NaN or Infinity in an input is an error naming its file and tensor (a technique that trims it away
  // would otherwise hide it), checked by the engine, in the merge's own pass where the technique allows.
  const open = async (path: string, role: number): Promise<Checkpoint> => {
    const key = `${role}\0${path}`;
    let ck = opened.get(key);
    if (!ck) {
      ck = await openCheckpoint(path, { reuseBuffers: true, requireFinite: 'deferred', map: options.map ?? true });
      opened.set(key, ck);
    }
    return ck;
  };
  try {
    const plan = await planMerge(config, open);
    const inputs = [...opened.values()];
    // Every file read counts, the shards behind an index included, and the same file under another
    // name (a symlink or hard link): writing over one would destroy an input.
    for (const ck of inputs) {
      for (const file of ck.files) {
        if (kind === 'file' ? sameFile(file, output) : inside(file, output))
          fail(
            'CONFIG',
            `${config.source}: output ${output} ${kind === 'file' ? 'is' : 'holds'} also an input (${file === ck.path ? file : `${file}, a shard of ${ck.path}`}); choose another output path`,
          );
      }
    }
    // A folder output replaces OUT as a whole: the config itself must not be in it either.
    if (kind === 'folder' && existsSync(config.source) && inside(config.source, output))
      fail(
        'CONFIG',
        `${config.source}: output folder ${output} holds this config, and would replace it; choose another output`,
      );
    // Not a device, FIFO, symlink or directory: a file output is renamed over its path (replace-target.ts).
    if (kind === 'file') checkReplaceable(output);
    for (const ck of inputs) {
      const floats = new Set(ck.tensorInfos().map((t) => t.name));
      const other = ck.entries.find((e) => !floats.has(e.name));
      if (other)
        fail(
          'MISMATCH',
          `${ck.path}: tensor "${other.name}" has dtype ${other.dtype}; merge combines floating-point tensors only (F32, F16, BF16, F64)`,
        );
    }
    for (const part of plan.parts) assertSameStructure(part.base, part.experts);
    const dirs = [...new Set([config.base, ...config.models.map((m) => m.path)].map(modelDir))];
    if (!options.allowCrimes) checkArchitectures(dirs);

    const infos = plan.infos;
    const base = await open(config.base, 0);
    // The base's own metadata (format: pt, ...), less what described the base's files (their total_size).
    const { total_size: _size, ...inherited } = base.metadata;
    const normalized = config.slices ? config.normalized : { ...config.normalized, seed };
    const metadata = {
      ...inherited,
      time_merge_version: VERSION,
      time_merge_technique: config.technique,
      time_merge_seed: String(seed),
      time_merge_config: JSON.stringify({ ...normalized, seed }),
    };
    let staleTemporaries: string[];
    let writer: OutputWriter;
    let folder: string | undefined;
    let dropCleanup: () => void = () => undefined;
    if (kind === 'file') {
      await mkdir(dirname(output), { recursive: true });
      // Temporaries of this output left by killed runs (SIGKILL, a crash) would otherwise pile up unseen.
      staleTemporaries = removeStaleTemporaries(output);
      writer = createSafetensorsWriter(output, infos, { dtype: config.dtype, metadata, refuseOverflow: true });
    } else {
      await mkdir(dirname(output), { recursive: true });
      staleTemporaries = await removeStalePartials(output);
      folder = partialFolder(output);
      await rm(folder, { recursive: true, force: true });
      await mkdir(folder);
      const partial = folder;
      // Ctrl-C removes the partial folder too (its shards' temporaries go with the writers').
      dropCleanup = onInterrupt(() => rmSync(partial, { recursive: true, force: true }));
      writer = new ShardedWriter(folder, infos, {
        dtype: config.dtype,
        metadata,
        refuseOverflow: true,
        maxShardBytes: options.shardBytes ?? parseShardSize(DEFAULT_SHARD_SIZE),
        indexMetadata: { time_merge_version: VERSION, time_merge_technique: config.technique },
      });
    }
    const stream = options.progressStream ?? process.stderr;
    const bar =
      (options.progress ?? stream.isTTY === true)
        ? progressBar((await import('cli-progress')).default.SingleBar, infos.length, stream)
        : undefined;
    const files: string[] = [];
    try {
      let done = 0;
      for (const part of plan.parts) {
        const before = done;
        await mergeInto({ ...part.spec, seed }, part.base, part.experts, writer, {
          onTensor: (name, i) => bar?.update(before + i, { name }),
          output: (info) => writer.outputFor(info),
        });
        done += part.base.tensorInfos().length;
      }
      await writer.finish();
      if (folder) {
        const shards = (writer as ShardedWriter).shards.map((s) => s.file);
        files.push(...shards, ...(shards.length > 1 ? [SHARD_INDEX_NAME] : []));
        log(
          `wrote ${shards.length} shard(s) of at most ${options.shardBytes ?? DEFAULT_SHARD_SIZE} bytes of tensor data`,
        );
        files.push(
          ...(await writeFolderFiles(folder, config, { ...options, output, seed, layers: plan.layers }, notes, log)),
        );
        await replaceFolder(folder, output);
        folder = undefined;
      } else if (config.tokenizerSource) {
        notes.push(
          `tokenizer_source has no effect on a .safetensors file output (tensors only); write a folder to get the tokenizer`,
        );
      }
      bar?.update(infos.length, { name: 'done' });
    } catch (err) {
      await writer.abort();
      if (folder) await rm(folder, { recursive: true, force: true });
      // A merge that cannot be computed (MERGE: a ratio, a count) names the config it came from, unless
      // the message names a file already (the output a value overflows, an input).
      const named = [config.source, output, ...[...opened.values()].flatMap((ck) => ck.files)];
      if (err instanceof TimeMergeError && err.code === 'MERGE' && !named.some((p) => err.message.includes(p)))
        throw new TimeMergeError('MERGE', `${config.source}: ${err.message}`, { cause: err });
      throw err;
    } finally {
      dropCleanup();
      bar?.stop();
    }
    return {
      output,
      kind,
      technique: config.technique,
      models: config.models.length,
      tensors: infos.length,
      parameters: infos.reduce((n, t) => n + numel(t.shape), 0),
      bytes: writer.byteSize,
      files,
      seconds: (performance.now() - started) / 1000,
      staleTemporaries,
      notes,
    };
  } finally {
    await Promise.all([...opened.values()].map((c) => c.close().catch(() => undefined)));
  }
}

/** config.json, tokenizer files and README.md of a folder output; returns the names written. */
async function writeFolderFiles(
  folder: string,
  config: MergeConfig,
  o: MergeRunOptions & { seed: number; layers?: number },
  notes: string[],
  log: (line: string) => void,
): Promise<string[]> {
  const written: string[] = [];
  const donor = modelDir(config.base);
  const cfg = outputConfigJson(donor, config.dtype, o.layers);
  if (cfg) {
    await writeFile(join(folder, 'config.json'), cfg.text);
    written.push('config.json');
    notes.push(...cfg.notes);
    log(
      `config.json from ${donor}${config.dtype ? ` with torch_dtype ${config.dtype.toLowerCase()}` : ''}${o.layers !== undefined ? `, ${o.layers} layers` : ''}`,
    );
  } else {
    notes.push(
      `no config.json in ${donor} (the base model's folder): the output folder has none, and transformers needs one to load it`,
    );
  }
  if (config.tokenizerSource) {
    const from = modelDir(config.tokenizerSource);
    checkSameVocabulary(from, [...new Set([config.base, ...config.models.map((m) => m.path)].map(modelDir))]);
    const copied = await copyTokenizer(from, folder);
    written.push(...copied);
    log(`tokenizer (tokenizer_source) from ${from}: ${copied.join(', ')}`);
  } else if (o.copyTokenizer ?? true) {
    const copied = await copyTokenizer(donor, folder);
    written.push(...copied);
    if (copied.length > 0) log(`tokenizer from ${donor}: ${copied.join(', ')}`);
    else notes.push(`no tokenizer files in ${donor}: none copied`);
  }
  if (o.writeModelCard ?? true) {
    const text = o.configText ?? JSON.stringify(config.normalized, null, 2);
    const models = config.slices
      ? [...new Set(config.slices.flatMap((s) => s.sources.map((x) => x.model)))]
      : (config.normalized.models as { model: string }[]).map((m) => m.model);
    await writeFile(
      join(folder, 'README.md'),
      modelCard({
        name: basename(o.output ?? config.output ?? folder),
        version: VERSION,
        technique: config.technique,
        models,
        configText: text,
      }),
    );
    written.push('README.md');
  }
  return written;
}

/** Models whose config.json names different architectures are mergekit's "crimes": refused unless allowed. */
function checkArchitectures(dirs: readonly string[]): void {
  const seen = new Map<string, string>();
  for (const d of dirs) {
    const a = architecturesOf(d);
    if (a !== undefined && !seen.has(a)) seen.set(a, d);
  }
  if (seen.size > 1) {
    const [[a1, d1], [a2, d2]] = [...seen.entries()];
    fail(
      'CONFIG',
      `models of different architectures: ${a1} (${d1}) and ${a2} (${d2}); pass --allow-crimes to merge them anyway (their tensors must still match)`,
    );
  }
}

/** Whether `file` lies in the folder `dir` (both resolved through symlinks where they exist). */
function inside(file: string, dir: string): boolean {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  const d = real(dir);
  const f = real(file);
  return f === d || f.startsWith(d.endsWith(sep) ? d : d + sep);
}

/** Partial folders of this output left by runs that were killed (their pid no longer runs). */
async function removeStalePartials(output: string): Promise<string[]> {
  const dir = dirname(output);
  const prefix = `.${basename(output)}.partial-`;
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (!Number.isInteger(pid) || pid === process.pid || processAlive(pid)) continue;
    await rm(join(dir, name), { recursive: true, force: true });
    removed.push(join(dir, name));
  }
  return removed;
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
    // Logs and pipes get a plain line every 10 s and one at the end instead of nothing (cli-progress's
    // default off a terminal).
    noTTYOutput: stream.isTTY !== true,
    notTTYSchedule: 10_000,
    format: 'merging [{bar}] {value}/{total} tensors, {duration_formatted} elapsed, {eta_formatted} left  {name}',
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

/**
 * mergekit options that mean nothing for this merge: accepted, so a mergekit-yaml command line runs,
 * with one note each saying why.
 */
const IGNORED_OPTIONS: readonly { readonly flag: string; readonly key: string; readonly why: string }[] = [
  { flag: '--cuda', key: 'cuda', why: 'merges run on the CPU, one tensor at a time' },
  { flag: '--lazy-unpickle', key: 'lazyUnpickle', why: 'inputs are safetensors, read lazily (mapped) already' },
  { flag: '--low-cpu-memory', key: 'lowCpuMemory', why: 'memory is a few tensors at a time already' },
  { flag: '--trust-remote-code', key: 'trustRemoteCode', why: 'no model code is run; only tensors are read' },
  { flag: '--clone-tensors', key: 'cloneTensors', why: 'every written tensor is its own copy already' },
  {
    flag: '--transformers-cache <dir>',
    key: 'transformersCache',
    why: 'models are read from local folders, never downloaded',
  },
];

interface MergeCliOptions {
  output?: string;
  quiet?: boolean;
  demo?: string;
  outShardSize?: string;
  copyTokenizer?: boolean;
  writeModelCard?: boolean;
  randomSeed?: string;
  allowCrimes?: boolean;
  verbose?: number;
  [ignored: string]: unknown;
}

function describe(s: MergeRunSummary): string {
  const size = s.bytes >= 1 << 20 ? `${(s.bytes / (1 << 20)).toFixed(1)} MiB` : `${s.bytes} bytes`;
  const where = s.kind === 'folder' ? `${s.output}/ (${s.files.length} files)` : s.output;
  return `merged ${s.models} model(s) with ${s.technique}: ${s.tensors} tensors, ${s.parameters} parameters -> ${where} (${size}) in ${s.seconds.toFixed(2)} s`;
}

export function registerMerge(program: Command): void {
  const command = program
    .command('merge')
    .argument('[config]', 'merge config, YAML or JSON (see below)')
    .argument('[out]', 'output: a .safetensors file, or any other name for a model folder (as mergekit-yaml OUT)')
    .description(
      'Merge safetensors checkpoints with a technique, as a YAML/JSON config says. Without a config, runs a small demo.',
    )
    .option('-o, --output <path>', "output, as OUT (overrides the config's output)")
    .option('-q, --quiet', 'no progress bar, notes or summary line')
    .option('-v, --verbose', 'say what is written where (shards, config.json, tokenizer)', (_v, n: number) => n + 1, 0)
    .option('--demo <dir>', 'write a demo (base, two experts, merge.yaml) into DIR and merge it')
    .option(
      '--out-shard-size <size>',
      `folder output: bytes of tensor data per shard at most; mergekit's syntax: 500M, 2B, 1000K (default ${DEFAULT_SHARD_SIZE}; 0: one shard)`,
    )
    .option('--copy-tokenizer', "folder output: copy the base model's tokenizer files (default)")
    .option('--no-copy-tokenizer', 'folder output: no tokenizer files')
    .option('--write-model-card', 'folder output: write README.md with the config (default)')
    .option('--no-write-model-card', 'folder output: no README.md')
    .option('--random-seed <n>', "seed of every random choice (DARE drops, ...); overrides the config's seed")
    .option('--allow-crimes', 'merge models whose config.json names different architectures');
  for (const o of IGNORED_OPTIONS) command.option(o.flag, `accepted for mergekit; no effect: ${o.why}`);
  command
    .addHelpText(
      'after',
      `
Config (mergekit style; relative paths resolve against the config's directory):
${DEMO_CONFIG.trimEnd()
  .split('\n')
  .slice(2)
  .map((l) => `  ${l}`)
  .join('\n')}

Models are local .safetensors files, sharded *.safetensors.index.json, or model folders (config.json
with model.safetensors or shards); a Hugging Face id is not downloaded. Every file's header is checked
before any tensor is read; tensors are merged one at a time, so memory stays far below the model size.

OUT ending in .safetensors is one file. Any other OUT is a model folder as mergekit writes it: shards
of at most --out-shard-size (model.safetensors, or model-00001-of-0000N.safetensors with
model.safetensors.index.json), config.json from the base model with torch_dtype set, its tokenizer
files and README.md. Both are written under a temporary name beside OUT and renamed when complete; an
existing OUT folder is replaced as a whole only then (and only when it holds model files alone).

Try it:
  time-merge merge --demo ./merge-demo     # writes ./merge-demo/{base,expert-a,expert-b}.safetensors
                                           # and merge.yaml, then merges into merged.safetensors
  time-merge merge ./merge-demo/merge.yaml other.safetensors
  time-merge merge ./merge-demo/merge.yaml ./merged-folder --out-shard-size 100
  time-merge merge                         # the same demo in a temporary directory`,
    )
    .action(async (configArg: string | undefined, outArg: string | undefined, opts: MergeCliOptions) => {
      if (configArg && opts.demo) fail('CONFIG', 'give either a config or --demo DIR, not both');
      if (outArg !== undefined && opts.output !== undefined && resolve(outArg) !== resolve(opts.output))
        fail('CONFIG', `two outputs given: OUT ${outArg} and --output ${opts.output}; give one`);
      const note = (line: string) => {
        if (!opts.quiet) console.error(`time-merge: ${line}`);
      };
      for (const o of IGNORED_OPTIONS)
        if (opts[o.key] !== undefined) note(`${o.flag.split(' ')[0]} has no effect here: ${o.why}`);
      const shardBytes = opts.outShardSize === undefined ? undefined : parseShardSize(opts.outShardSize);
      let seed: number | undefined;
      if (opts.randomSeed !== undefined) {
        seed = Number(opts.randomSeed);
        if (!/^\d+$/.test(opts.randomSeed) || !Number.isSafeInteger(seed))
          fail('CONFIG', `--random-seed must be a non-negative integer, got "${opts.randomSeed}"`);
      }
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
        output: outArg ?? opts.output,
        progress: !opts.quiet,
        shardBytes,
        copyTokenizer: opts.copyTokenizer,
        writeModelCard: opts.writeModelCard,
        allowCrimes: opts.allowCrimes,
        seed,
        verbose: opts.verbose ? note : undefined,
      });
      for (const t of summary.staleTemporaries)
        console.error(`time-merge: removed ${t}, a temporary left by a merge that was killed`);
      for (const n of summary.notes) note(n);
      if (!opts.quiet) console.log(describe(summary));
    });
}
