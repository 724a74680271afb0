import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import YAML from 'yaml';
import { fail } from '../params/errors.js';
import {
  BASELINES,
  isBaseline,
  parseMethod,
  runBaseline,
  runTime,
  writeResults,
  type Baseline,
  type ResultRun,
  type RunConfig,
  type StoreSpec,
  type TimeEvent,
} from '../time/index.js';
import type { Evaluator, ReplayMix, Trainer } from '../time/types.js';
import { parseBackend, selectBackend, type BackendChoice } from './backend.js';
import {
  parseDevice,
  parseEngine,
  probeTorch,
  pythonExecutable,
  TORCH_INSTALL_HINT,
  type DeviceChoice,
  type EngineChoice,
} from './engine.js';
import { TorchEngine } from './torch-engine.js';
import { TorchEvaluator } from './torch-evaluator.js';
import { TorchTrainer } from './torch-trainer.js';
import { formatDuration } from './train-log.js';
import { fromHfJson, fromOpenClipJson, type ClipConfig } from './config.js';
import { buildStream, FomoData, type ClipTaskData } from './data.js';
import { ClipEvaluator } from './evaluator.js';
import { fomoLayout, loadDatasetRegistry } from './fomo.js';
import { RETRIEVAL_FILE, RetrievalLog } from './retrieval-log.js';
import { ClipTokenizer } from './tokenizer.js';
import { ClipTrainer } from './trainer.js';
import { loadClipCheckpoint } from './weights.js';

/** A `time-merge clip` study: one model, one FoMo-in-Flux stream, methods x seeds (+ baselines). */
export interface ClipStudy {
  readonly study: string;
  readonly model: string;
  /** open_clip_config.json or a transformers config.json; default: from the checkpoint. */
  readonly modelConfig?: string;
  /** bpe_simple_vocab_16e6.txt.gz or tokenizer.json; default: tokenizer.json beside the model. */
  readonly tokenizer: string;
  readonly data: {
    root: string;
    dataDir?: string;
    infoDir?: string;
    streamDir?: string;
    registry?: string;
    resized: boolean;
  };
  readonly stream: string;
  readonly T: number | 'per-dataset';
  readonly zeroshot?: string[];
  readonly pretrain?: string[];
  readonly steps: number;
  readonly batch: number;
  readonly lr: number;
  readonly weightDecay: number;
  readonly warmup: number;
  readonly maxGradNorm: number;
  readonly replay: ReplayMix;
  readonly methods: string[];
  readonly technique: string;
  readonly techniqueParams: Record<string, unknown>;
  readonly baselines: Baseline[];
  readonly seeds: number[];
  readonly out: string;
  readonly backend: BackendChoice;
  /** tfjs, torch, or auto: torch when Python with torch is found and no tfjs backend is named, else tfjs. */
  readonly engine: EngineChoice;
  /** The torch engine's device. */
  readonly device: DeviceChoice;
  /** The torch engine's micro-batch for gradient accumulation; 0 = whole batch (halved on CUDA out-of-memory). */
  readonly microBatch: number;
  /** The torch engine's image-decoding processes; default one per core but one, at most 8. */
  readonly loaderWorkers?: number;
  readonly store: 'memory' | 'disk';
  /** Record each finished TIME step under <out>/resume/<run id>; a rerun skips finished steps. */
  readonly resume: boolean;
  readonly eval: { batch: number; maxSamples?: number; k: number };
}

type Raw = Record<string, unknown>;

function num(raw: Raw, key: string, dflt: number, check: (v: number) => boolean = (v) => v >= 0): number {
  const v = raw[key] ?? dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || !check(v))
    fail('CONFIG', `clip config: "${key}" must be a valid number, got ${JSON.stringify(raw[key])}`);
  return v;
}

function str(raw: Raw, key: string, dflt?: string): string {
  const v = raw[key] ?? dflt;
  if (typeof v !== 'string' || v === '')
    fail('CONFIG', `clip config: "${key}" must be a non-empty string${dflt === undefined ? ' (required)' : ''}`);
  return v;
}

function strList(raw: Raw, key: string): string[] | undefined {
  const v = raw[key];
  if (v === undefined) return undefined;
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || !list.every((x) => typeof x === 'string'))
    fail('CONFIG', `clip config: "${key}" must be a string or a list of strings`);
  return list;
}

function batchSize(raw: Raw): number {
  const b = num(raw, 'batch', 512, (v) => Number.isInteger(v) && v >= 1);
  if (b < 2)
    fail(
      'CONFIG',
      `clip config: "batch" must be at least 2 (the contrastive loss contrasts each image with the other captions of its batch), got ${b}`,
    );
  return b;
}

/** Parses a study definition (YAML or JSON text); relative paths are relative to `baseDir`. */
export function parseClipStudy(text: string, baseDir: string, where = 'clip config'): ClipStudy {
  let raw: Raw;
  try {
    raw = YAML.parse(text) as Raw;
  } catch (err) {
    fail('CONFIG', `${where}: not valid YAML/JSON (${(err as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    fail('CONFIG', `${where}: expected a mapping of settings`);
  const known = new Set([
    'study',
    'model',
    'modelConfig',
    'tokenizer',
    'data',
    'stream',
    'T',
    'zeroshot',
    'pretrain',
    'steps',
    'batch',
    'lr',
    'weightDecay',
    'warmup',
    'maxGradNorm',
    'replay',
    'method',
    'methods',
    'technique',
    'techniqueParams',
    'baselines',
    'seed',
    'seeds',
    'out',
    'backend',
    'engine',
    'device',
    'microBatch',
    'loaderWorkers',
    'store',
    'resume',
    'eval',
  ]);
  const unknown = Object.keys(raw).filter((k) => !known.has(k));
  if (unknown.length)
    fail('CONFIG', `${where}: unknown setting(s) ${unknown.join(', ')} (known: ${[...known].join(', ')})`);
  const path = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const model = path(str(raw, 'model'));
  const tokDefault = join(dirname(model), 'tokenizer.json');
  const data = (raw.data ?? {}) as Raw;
  if (typeof data !== 'object') fail('CONFIG', `${where}: "data" must be a mapping with a root`);
  const T = raw.T === 'per-dataset' ? 'per-dataset' : num(raw, 'T', 20, (v) => Number.isInteger(v) && v >= 1);
  const replayRaw = (raw.replay ?? { pretrain: 0, current: 1, buffer: 0 }) as Raw;
  const methods = strList(raw, 'methods') ?? strList(raw, 'method') ?? ['ema_paint'];
  const baselines = (strList(raw, 'baselines') ?? []) as Baseline[];
  for (const b of baselines)
    if (!isBaseline(b)) fail('CONFIG', `${where}: unknown baseline "${b}" (${BASELINES.join(', ')})`);
  const seedsRaw = raw.seeds ?? [raw.seed ?? 0];
  if (!Array.isArray(seedsRaw) || !seedsRaw.every((s) => Number.isInteger(s)))
    fail('CONFIG', `${where}: "seeds" must be a list of integers`);
  const evalRaw = (raw.eval ?? {}) as Raw;
  const store = str(raw, 'store', 'memory');
  if (store !== 'memory' && store !== 'disk') fail('CONFIG', `${where}: store must be memory or disk`);
  const study = str(raw, 'study', 'clip');
  return {
    study,
    model,
    modelConfig: raw.modelConfig === undefined ? undefined : path(str(raw, 'modelConfig')),
    tokenizer: path(str(raw, 'tokenizer', tokDefault)),
    data: {
      root: path(str(data, 'root')),
      dataDir: data.dataDir ? path(str(data, 'dataDir')) : undefined,
      infoDir: data.infoDir ? path(str(data, 'infoDir')) : undefined,
      streamDir: data.streamDir ? path(str(data, 'streamDir')) : undefined,
      registry: data.registry ? path(str(data, 'registry')) : undefined,
      resized: data.resized !== false,
    },
    stream: str(raw, 'stream'),
    T,
    zeroshot: strList(raw, 'zeroshot'),
    pretrain: strList(raw, 'pretrain'),
    steps: num(raw, 'steps', 1420, (v) => Number.isInteger(v) && v >= 0),
    batch: batchSize(raw),
    lr: num(raw, 'lr', 1e-5),
    weightDecay: num(raw, 'weightDecay', 0.2),
    warmup: num(raw, 'warmup', 0.1, (v) => v >= 0 && v < 1),
    maxGradNorm: num(raw, 'maxGradNorm', 1),
    replay: {
      pretrain: num(replayRaw, 'pretrain', 0),
      current: num(replayRaw, 'current', 1),
      buffer: num(replayRaw, 'buffer', 0),
    },
    methods,
    technique: str(raw, 'technique', 'weighted-average'),
    techniqueParams: (raw.techniqueParams ?? {}) as Record<string, unknown>,
    baselines,
    seeds: seedsRaw as number[],
    out: path(str(raw, 'out', join('results', study))),
    backend: parseBackend(str(raw, 'backend', 'auto')),
    engine: parseEngine(str(raw, 'engine', 'auto')),
    device: parseDevice(str(raw, 'device', 'auto')),
    microBatch: num(raw, 'microBatch', 0, (v) => Number.isInteger(v) && v >= 0),
    loaderWorkers:
      raw.loaderWorkers === undefined ? undefined : num(raw, 'loaderWorkers', 0, (v) => Number.isInteger(v) && v >= 0),
    store,
    resume: raw.resume === true,
    eval: {
      batch: num(evalRaw, 'batch', 64, (v) => Number.isInteger(v) && v >= 1),
      maxSamples:
        evalRaw.maxSamples === undefined
          ? undefined
          : num(evalRaw, 'maxSamples', 0, (v) => Number.isInteger(v) && v >= 1),
      k: num(evalRaw, 'k', 5, (v) => Number.isInteger(v) && v >= 1),
    },
  };
}

export function readClipStudy(file: string): ClipStudy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    fail(
      'IO',
      `${file}: cannot read the clip config (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  return parseClipStudy(text, dirname(resolve(file)), file);
}

function loadTokenizer(path: string): ClipTokenizer {
  if (!existsSync(path))
    fail('IO', `${path}: tokenizer not found (set "tokenizer" to a tokenizer.json or bpe_simple_vocab_16e6.txt.gz)`);
  return path.endsWith('.json') ? ClipTokenizer.fromTokenizerJson(path) : ClipTokenizer.fromBpeFile(path);
}

function loadModelConfig(path: string): ClipConfig {
  const json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  return 'vision_config' in json ? fromHfJson(json, path) : fromOpenClipJson(json, path);
}

export interface ClipStudyResult {
  readonly runs: ResultRun[];
  readonly files: string[];
  readonly backend: string;
}

/** The engine a study runs on: torch when asked, or under auto when found and no tfjs backend is named. */
export async function chooseEngine(
  s: ClipStudy,
  log: (msg: string) => void,
): Promise<{ engine: 'tfjs' } | { engine: 'torch'; python: string }> {
  if (s.engine === 'tfjs' || (s.engine === 'auto' && s.backend !== 'auto')) return { engine: 'tfjs' };
  const probe = await probeTorch(pythonExecutable());
  if (probe.ok) return { engine: 'torch', python: probe.python };
  if (s.engine === 'torch') fail('CONFIG', `engine "torch": ${probe.reason}; ${TORCH_INSTALL_HINT}`);
  log(`engine: tfjs (auto: ${probe.reason}; for the torch engine, ${TORCH_INSTALL_HINT})`);
  return { engine: 'tfjs' };
}

/** The evaluation-only datasets: as configured (each must have test annotations), else every one found. */
function zeroshotDatasets(s: ClipStudy, data: FomoData, infoDir: string, log: (msg: string) => void): string[] {
  const has = (f: string) =>
    existsSync(join(infoDir, `${f}_test.json`)) || existsSync(join(infoDir, `${f}_test_224.json`));
  if (s.zeroshot) {
    const missing = s.zeroshot.filter((f) => (data.info(f), !has(f)));
    if (missing.length)
      fail(
        'DATA',
        `zeroshot: no test annotations for ${missing.join(', ')} in ${infoDir} (expected ${missing[0]}_test.json or ${missing[0]}_test_224.json)`,
      );
    return s.zeroshot;
  }
  const evalOnly = [...data.registry.values()].filter((d) => d.evalOnly).map((d) => d.folder);
  const found = evalOnly.filter(has);
  if (evalOnly.length > 0 && found.length === 0) {
    fail(
      'DATA',
      `no evaluation-only dataset has test annotations in ${infoDir} (looked for ${evalOnly
        .slice(0, 3)
        .map((f) => `${f}_test.json`)
        .join(
          ', ',
        )}${evalOnly.length > 3 ? `, ... ${evalOnly.length} in all` : ''}); A_ZS needs them, or set "zeroshot: []" to run without`,
    );
  }
  const skipped = evalOnly.filter((f) => !has(f));
  if (skipped.length) log(`evaluation-only datasets without test annotations, left out of A_ZS: ${skipped.join(', ')}`);
  return found;
}

/** Runs every method x seed (and the baselines) and writes the results folder; returns the runs. */
export async function runClipStudy(s: ClipStudy, log: (msg: string) => void = console.log): Promise<ClipStudyResult> {
  const started = new Date().toISOString();
  // Checked before the backend starts, so a wrong path fails at once and says which setting it is.
  if (!existsSync(s.model))
    fail('IO', `${s.model}: model checkpoint not found (set "model" to an open_clip or transformers safetensors file)`);
  if (s.modelConfig && !existsSync(s.modelConfig))
    fail(
      'IO',
      `${s.modelConfig}: model config not found (set "modelConfig" to an open_clip_config.json or config.json, or leave it out)`,
    );
  if (!existsSync(s.data.root))
    fail(
      'IO',
      `${s.data.root}: data root not found (set "data.root" to the FoMo-in-Flux folder holding data/, data_lib/00_info/ and stream_construction/)`,
    );
  const choice = await chooseEngine(s, log);
  const layout = fomoLayout(s.data.root, {
    dataDir: s.data.dataDir,
    infoDir: s.data.infoDir,
    streamDir: s.data.streamDir,
  });
  const data = new FomoData(layout, loadDatasetRegistry(s.data.registry), s.data.resized);
  const stream = buildStream(
    data,
    { stream: s.stream, T: s.T, zeroshot: zeroshotDatasets(s, data, layout.infoDir, log) },
    () => true,
  );
  let backend = choice.engine === 'tfjs' ? await selectBackend(s.backend, log) : 'torch';
  const ckpt = await loadClipCheckpoint(s.model, {
    config: s.modelConfig ? loadModelConfig(s.modelConfig) : undefined,
  });
  log(`model: ${s.model} (${ckpt.naming} naming, ${ckpt.params.numel()} parameters; config ${ckpt.configSource})`);
  const tokenizer = loadTokenizer(s.tokenizer);
  if (tokenizer.vocabSize > ckpt.config.text.vocabSize)
    fail(
      'CONFIG',
      `tokenizer ${s.tokenizer} has ${tokenizer.vocabSize} ids but the model's vocabulary is ${ckpt.config.text.vocabSize}`,
    );
  log(
    `stream ${stream.name}: ${stream.adaptation.length} adaptation tasks, ${stream.zeroshot.length} evaluation-only datasets`,
  );
  const logEvery = Math.max(1, Math.floor(s.steps / 4));
  // R@1/R@5 per direction go to retrieval.csv; the results files keep one score per task.
  const retrieval = new RetrievalLog(s.eval.k, s.resume ? join(s.out, RETRIEVAL_FILE) : undefined);
  const evalOptions = {
    batchSize: s.eval.batch,
    maxSamples: s.eval.maxSamples,
    retrievalK: s.eval.k,
    onRetrieval: retrieval.collect,
  };
  let torch: TorchEngine | undefined;
  let trainer: Trainer<ClipTaskData>;
  let evaluator: Evaluator<ClipTaskData>;
  if (choice.engine === 'torch') {
    torch = await TorchEngine.start(data, stream, ckpt.config, s.pretrain ?? [], {
      python: choice.python,
      device: s.device,
      microBatch: s.microBatch,
      loaderWorkers: s.loaderWorkers,
      log,
    });
    backend = `torch:${torch.device}`;
    log(`engine: ${torch.description} (${choice.python})`);
    trainer = new TorchTrainer(torch, tokenizer, {
      batchSize: s.batch,
      lr: s.lr,
      weightDecay: s.weightDecay,
      warmupFraction: s.warmup,
      maxGradNorm: s.maxGradNorm,
      pretrainDatasets: s.pretrain,
      log,
      logEvery,
    });
    evaluator = new TorchEvaluator(torch, tokenizer, { ...evalOptions, log });
  } else {
    trainer = new ClipTrainer(data, ckpt.config, tokenizer, {
      batchSize: s.batch,
      optim: { lr: s.lr, weightDecay: s.weightDecay },
      warmupFraction: s.warmup,
      maxGradNorm: s.maxGradNorm,
      pretrainDatasets: s.pretrain,
      log,
      logEvery,
    });
    evaluator = new ClipEvaluator(data, ckpt.config, tokenizer, evalOptions);
  }
  const params = {
    model: s.model.replace(/^.*\//, ''),
    stream: stream.name,
    steps: s.steps,
    batch: s.batch,
    lr: s.lr,
    weight_decay: s.weightDecay,
    backend,
    replay: `${s.replay.pretrain}/${s.replay.current}/${s.replay.buffer}`,
  };
  const runs: ResultRun[] = [];
  const files: string[] = [];
  const onEvent = (runId: string) => {
    let firstStepAt = 0;
    return (e: TimeEvent) => {
      if (e.type === 'step') {
        retrieval.stepDone(runId, e.step);
        // The time left extrapolates the TIME steps trained so far in this run (step 0 only evaluates).
        if (e.step === 0) firstStepAt = performance.now();
        const left =
          e.step > 0 && firstStepAt > 0
            ? `, ${formatDuration((((performance.now() - firstStepAt) / 1000) * (e.T - e.step)) / e.step)} left in this run`
            : '';
        log(
          `  step ${e.step}/${e.T}: A_KA ${fmt(e.record.aKa)} A_ZS ${fmt(e.record.aZs)} GM ${fmt(e.record.gm)}${left}`,
        );
      }
      if (e.type === 'resumed') retrieval.stepResumed(runId, e.step);
    };
  };
  const write = async () => {
    const config = { study: s, started, backend, version: packageVersion(), modelConfig: ckpt.config };
    files.splice(0, files.length, ...(await writeResults(s.out, { study: s.study, runs, config })));
    const extra = await retrieval.write(s.out);
    if (extra) files.push(extra);
  };
  try {
    for (const seed of s.seeds) {
      // Each run keeps its experts apart (on disk: experts/<run id>/).
      const config = (runId: string, resumable: boolean): RunConfig<ClipTaskData> => {
        const onDisk = s.store === 'disk' || (s.resume && resumable);
        const store: StoreSpec = onDisk ? { kind: 'disk', dir: join(s.out, 'experts', runId) } : { kind: 'memory' };
        const resumeDir = s.resume && resumable ? join(s.out, 'resume', runId) : undefined;
        return {
          stream,
          trainer,
          evaluator,
          base: ckpt.params,
          stepsPerTask: s.steps,
          seed,
          replay: s.replay,
          store,
          resumeDir,
          onEvent: onEvent(runId),
        };
      };
      for (const b of s.baselines) {
        const runId = `${b}-s${seed}`;
        log(`baseline ${b}, seed ${seed}`);
        runs.push({ runId, record: await runBaseline(b, config(runId, b === 'continual')), params });
        await write();
      }
      for (const name of s.methods) {
        const runId = `${name}-s${seed}`;
        log(`method ${name} (${s.technique}), seed ${seed}`);
        const method = parseMethod(name, { technique: s.technique, params: s.techniqueParams, seed });
        runs.push({ runId, record: await runTime({ ...config(runId, true), method }), params });
        await write();
      }
    }
  } finally {
    await torch?.close();
  }
  log(`results: ${s.out}`);
  return { runs, files, backend };
}

function fmt(v: number | null): string {
  return v === null ? '-' : v.toFixed(4);
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
}
