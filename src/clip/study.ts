import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import YAML from 'yaml';
import { checkKeys, isPlainObject } from '../merge/config-syntax.js';
import { didYouMean } from '../params/did-you-mean.js';
import { fail } from '../params/errors.js';
import { type DiagnosticsRow, diagnosticsRows } from '../study/diagnostics-run.js';
import { driveRuns, fingerprintOf } from '../study/driver.js';
import { type FindingResult, findingsSummary } from '../study/findings.js';
import { expandSeedGrid, shardRuns, shardSuffix } from '../study/expand.js';
import type { SlotPlan } from '../study/kinds/index.js';
import { writeStudyFolder } from '../study/output.js';
import { toRows } from '../study/rows.js';
import { summaryTable } from '../study/summary.js';
import { checkMergeSettings } from '../time/check-methods.js';
import { BASELINES, isBaseline, writeResults, type Baseline, type ResultRun } from '../time/index.js';
import { resultFileName, toCsv, writeAtomic } from '../time/results.js';
import { paramsHash } from '../time/resume.js';
import type { ReplayMix, TaskStream } from '../time/types.js';
import { parseBackend, selectBackend, type BackendChoice } from './backend.js';
import {
  parseDevice,
  parseEngine,
  choosePython,
  PYTHON_SOURCES,
  type PythonSource,
  resolveDevice,
  TORCH_INSTALL_HINT,
  type DeviceChoice,
  type EngineChoice,
} from './engine.js';
import { fromHfJson, fromOpenClipJson, type ClipConfig } from './config.js';
import { buildStream, type ClipTaskData, FomoData, streamImages } from './data.js';
import { usePrepared } from './prepared.js';
import { defaultEvaluationDatasets, fomoLayout, loadDatasetRegistry, readStream } from './fomo.js';
import { RetrievalLog, retrievalFileName } from './retrieval-log.js';
import type { ClipRunSpec, ClipSetup } from './clip-run.js';
import { CLIP_RUN_KINDS } from './kinds/index.js';
import { clipStudyDiagnostics } from './study-diagnostics.js';
import { clipFindings } from './study-findings.js';
import { ClipTokenizer } from './tokenizer.js';
import { loadClipCheckpoint } from './weights.js';
import { isSafeId, SAFE_ID_RULE } from '../study/ids.js';

/** A `time-merge clip` study: one model, one FoMo-in-Flux stream, methods x seeds (+ baselines). */
export interface ClipStudy {
  readonly study: string;
  /** Where the settings came from (the study file), for error messages. */
  readonly source?: string;
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
    /** The cache of resized variants (`time-merge clip prepare`); runs then require it and read from it. */
    prepared?: string;
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
  /** The torch engine's interpreter, when TIME_MERGE_PYTHON is not set (see choosePython). */
  readonly python?: string;
  /** tfjs, torch, or auto: torch when Python with torch is found and no tfjs backend is named, else tfjs. */
  readonly engine: EngineChoice;
  /** The torch engine's device. */
  readonly device: DeviceChoice;
  /** The torch engine's micro-batch for gradient accumulation; 0 = whole batch (halved on CUDA out-of-memory). */
  readonly microBatch: number;
  /** The torch engine's image-decoding processes; default one per core (shared among slots). */
  readonly loaderWorkers?: number;
  readonly store: 'memory' | 'disk';
  /** Record each finished TIME step under <out>/resume/<run id>; a rerun skips finished steps. */
  readonly resume: boolean;
  /**
   * subset: the fraction of each test set evaluated (fomo_in_flux's validate_on_subset; its default
   * experiment uses 0.1), drawn once from seed, the same at every step; maxSamples caps it.
   */
  readonly eval: { batch: number; maxSamples?: number; subset: number; seed: number; k: number };
}

type Raw = Record<string, unknown>;

/** The keys of the settings that are mappings. */
const NESTED_KEYS: Record<string, readonly string[]> = {
  data: ['root', 'dataDir', 'infoDir', 'streamDir', 'registry', 'resized', 'prepared'],
  replay: ['pretrain', 'current', 'buffer'],
  eval: ['batch', 'maxSamples', 'subset', 'seed', 'k'],
};

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
    fail('CONFIG', `${where}: not valid YAML/JSON (${(err as Error).message.split('\n')[0].replace(/:$/, '')})`);
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
    'python',
    'device',
    'microBatch',
    'loaderWorkers',
    'store',
    'resume',
    'eval',
  ]);
  const unknown = Object.keys(raw).filter((k) => !known.has(k));
  if (unknown.length)
    fail(
      'CONFIG',
      `${where}: unknown setting(s) ${unknown.map((k) => `${k}${didYouMean(k, [...known])}`).join(', ')} (known: ${[...known].join(', ')})`,
    );
  // Nested mappings are checked too: a misspelt eval.maxSamples would otherwise be silently ignored.
  for (const [key, keys] of Object.entries(NESTED_KEYS))
    if (isPlainObject(raw[key])) checkKeys(raw[key], keys, `${where}: ${key}: unknown key`);
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
    if (!isBaseline(b))
      fail(
        'CONFIG',
        `${where}: baselines: unknown baseline "${b}"${didYouMean(b, BASELINES)} (${BASELINES.join(', ')})`,
      );
  const seedsRaw = raw.seeds ?? [raw.seed ?? 0];
  if (!Array.isArray(seedsRaw) || !seedsRaw.every((s) => Number.isInteger(s)))
    fail('CONFIG', `${where}: "seeds" must be a list of integers`);
  const evalRaw = (raw.eval ?? {}) as Raw;
  const store = str(raw, 'store', 'memory');
  if (store !== 'memory' && store !== 'disk') fail('CONFIG', `${where}: store must be memory or disk`);
  const study = str(raw, 'study', 'clip');
  if (!isSafeId(study)) fail('CONFIG', `${where}: study "${study}" ${SAFE_ID_RULE}`);
  const technique = str(raw, 'technique', 'weighted-average');
  const techniqueParams = raw.techniqueParams ?? {};
  if (!isPlainObject(techniqueParams))
    fail('CONFIG', `${where}: techniqueParams must be a mapping of the technique's parameters`);
  // Every method with the technique as the runs will use them, before the zero-shot baseline runs.
  checkMergeSettings(
    where,
    { methods, technique, params: techniqueParams, T: typeof T === 'number' ? T : undefined },
    { methods: raw.methods !== undefined ? 'methods' : 'method', technique: 'technique', params: 'techniqueParams' },
  );
  return {
    study,
    source: where,
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
      prepared:
        data.prepared === undefined || data.prepared === false
          ? undefined
          : data.prepared === true
            ? join(path(str(data, 'root')), 'time-merge-224')
            : path(str(data, 'prepared')),
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
    technique,
    techniqueParams,
    baselines,
    seeds: seedsRaw as number[],
    out: path(str(raw, 'out', join('results', study))),
    backend: parseBackend(str(raw, 'backend', 'auto')),
    engine: parseEngine(str(raw, 'engine', 'auto')),
    // A path is taken from the config's folder; a bare name (python3.11) is looked up on PATH.
    python: raw.python === undefined ? undefined : ((p) => (p.includes('/') ? path(p) : p))(str(raw, 'python')),
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
      subset: num(evalRaw, 'subset', 1, (v) => v > 0 && v <= 1),
      seed: num(evalRaw, 'seed', 0, (v) => Number.isInteger(v) && v >= 0),
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
  /** Runs executed now, and finished runs kept from the results folder (with resume). */
  readonly executed: number;
  readonly kept: number;
  /** The paper's claims judged on the runs (none for a shard of several). */
  readonly findings: readonly FindingResult[];
  /** With the diagnostics option: one row per seed. */
  readonly diagnostics?: readonly DiagnosticsRow[];
}

/** How a clip study is split and spread: a shard of its runs, and runs at once (workers or GPUs). */
export interface ClipRunOptions {
  readonly shard?: { index: number; count: number };
  /** Default one slot; with gpus one per GPU (torch engine only). */
  readonly slots?: SlotPlan;
  /** Also train one expert per task per seed and write their world diagnostics to diagnostics.csv. */
  readonly diagnostics?: boolean;
}

/** Above this many images, a run on the originals suggests `clip prepare`. */
const LARGE_TREE = 20_000;

function checkDataRoot(s: ClipStudy): void {
  if (!existsSync(s.data.root))
    fail(
      'IO',
      `${s.data.root}: data root not found (set "data.root" to the FoMo-in-Flux folder holding data/, data_lib/00_info/ and stream_construction/)`,
    );
}

/** The study's FoMo-in-Flux tree and its stream (the evaluation-only sets as configured or found). */
export function openClipData(
  s: ClipStudy,
  log: (msg: string) => void,
): { data: FomoData; stream: TaskStream<ClipTaskData> } {
  checkDataRoot(s);
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
  return { data, stream };
}

/** The torch engine's interpreter and device, as printed at start and recorded in config.json. */
export interface TorchChoice {
  readonly engine: 'torch';
  readonly python: string;
  readonly source: PythonSource;
  readonly torch: string;
  readonly cuda: boolean;
  readonly device: 'cuda' | 'cpu';
  readonly gpu: string | null;
}

export type EngineDecision = { engine: 'tfjs' } | TorchChoice;

/**
 * The engine a study runs on: torch when asked, or under auto when found and no tfjs backend is named.
 * For torch, the interpreter (choosePython) and the device (resolveDevice: never a silent CPU) are
 * decided and printed here, before anything is loaded.
 */
export async function chooseEngine(
  s: ClipStudy,
  log: (msg: string) => void,
  gpus?: readonly number[],
): Promise<EngineDecision> {
  if (s.engine === 'tfjs' || (s.engine === 'auto' && s.backend !== 'auto')) return { engine: 'tfjs' };
  const { source, probe } = await choosePython(s.python);
  if (!probe.ok) {
    if (s.engine === 'torch') fail('CONFIG', `engine "torch": ${probe.reason}; ${TORCH_INSTALL_HINT}`);
    log(`engine: tfjs (auto: ${probe.reason}; for the torch engine, ${TORCH_INSTALL_HINT})`);
    return { engine: 'tfjs' };
  }
  if (gpus && s.device === 'cpu')
    fail(
      'CONFIG',
      `--gpus ${gpus.join(',')} runs each run on its own GPU, but device is cpu; for runs at once on the CPU use --workers`,
    );
  const { device, why } = resolveDevice(s.device, probe, gpus?.join(','));
  log(`python: ${probe.python} (${PYTHON_SOURCES[source]}), torch ${probe.torch}; device: ${device} (${why})`);
  return {
    engine: 'torch',
    python: probe.python,
    source,
    torch: probe.torch,
    cuda: probe.cuda,
    device,
    gpu: probe.gpu,
  };
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
  const adaptation = new Set(readStream(data.layout, s.stream).map((e) => e.dataset));
  const evalOnly = defaultEvaluationDatasets(data.registry, adaptation);
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

/**
 * Where --gpus can take a study: the torch engine on cuda. Asking for GPUs on a machine whose torch
 * sees none is an error, not a silent run on the CPU that would take days longer than planned.
 */
function checkGpus(s: ClipStudy, choice: EngineDecision, gpus: readonly number[]): void {
  if (choice.engine === 'tfjs')
    fail(
      'CONFIG',
      `--gpus ${gpus.join(',')} needs the torch engine (engine: torch): the tfjs engine trains in this process${s.engine === 'auto' ? ', and auto chose tfjs' : ''}`,
    );
}

/** A file's identity for fingerprints: its content, so a moved copy is the same and an edited one is not. */
function contentHash(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16);
}

/**
 * The settings besides the method, seed, steps, replay and θ0 that decide a run's scores: the trainer's
 * and evaluator's settings, the model config in effect, the tokenizer's and registry's content, and each
 * task's datasets and classes (a stream file or annotation change that keeps the task ids). Recorded in
 * every step log (resume/<run id>/run.json), which refuses to resume under other values, naming them.
 */
function scoreSettings(
  s: ClipStudy,
  config: ClipConfig,
  stream: TaskStream<ClipTaskData>,
  backend: string,
): Record<string, unknown> {
  return {
    modelConfig: config,
    tokenizer: contentHash(s.tokenizer),
    data: { ...s.data, registry: s.data.registry ? contentHash(s.data.registry) : null },
    taskParts: [...stream.adaptation, ...stream.zeroshot].map((t) => t.data.parts),
    pretrain: s.pretrain ?? null,
    batch: s.batch,
    lr: s.lr,
    weightDecay: s.weightDecay,
    warmup: s.warmup,
    maxGradNorm: s.maxGradNorm,
    microBatch: s.microBatch,
    eval: s.eval,
    backend,
  };
}

/**
 * Everything that decides a run's results besides its params (GridRun.fingerprint): the score settings,
 * θ0 by content, the tasks, and for methods the technique. A finished run is kept only when it matches.
 */
function runFingerprint(
  s: ClipStudy,
  kind: 'method' | 'baseline',
  scoring: Record<string, unknown>,
  base: string,
  stream: TaskStream<ClipTaskData>,
): string {
  return fingerprintOf({
    ...scoring,
    base,
    T: s.T,
    tasks: [...stream.adaptation, ...stream.zeroshot].map((t) => `${t.role}:${t.id}`),
    ...(kind === 'method' ? { technique: s.technique, techniqueParams: s.techniqueParams } : {}),
  });
}

/**
 * Runs every method x seed (and the baselines), or one shard of them, through the study driver on the
 * chosen engine's run kind, and writes the results folder after each run; returns the runs. With
 * resume, finished runs in the folder are kept and finished TIME steps are not trained again.
 */
export async function runClipStudy(
  s: ClipStudy,
  log: (msg: string) => void = console.log,
  options: ClipRunOptions = {},
): Promise<ClipStudyResult> {
  const started = new Date().toISOString();
  const slots = options.slots ?? { count: 1 };
  if (options.diagnostics && options.shard && options.shard.count > 1)
    fail(
      'CONFIG',
      `--diagnostics with --shard ${options.shard.index}/${options.shard.count}: the diagnostics cover the whole stream; compute them in a run without --shard`,
    );
  // Checked before the backend starts, so a wrong path fails at once and says which setting it is.
  if (!existsSync(s.model))
    fail('IO', `${s.model}: model checkpoint not found (set "model" to an open_clip or transformers safetensors file)`);
  if (s.modelConfig && !existsSync(s.modelConfig))
    fail(
      'IO',
      `${s.modelConfig}: model config not found (set "modelConfig" to an open_clip_config.json or config.json, or leave it out)`,
    );
  checkDataRoot(s);
  const choice = await chooseEngine(s, log, slots.gpus);
  if (slots.gpus) checkGpus(s, choice, slots.gpus);
  if (choice.engine === 'tfjs' && slots.count > 1)
    fail(
      'CONFIG',
      `--workers ${slots.count}: the tfjs engine trains in this process, one run at a time; use engine: torch, or --shard i/n in separate processes`,
    );
  const { data, stream } = openClipData(s, log);
  // T: per-dataset is known only now: merge-all's model count is checked before the first run starts.
  checkMergeSettings(
    s.source ?? 'clip config',
    { methods: s.methods, technique: s.technique, params: s.techniqueParams, T: stream.adaptation.length },
    { methods: 'methods', technique: 'technique', params: 'techniqueParams' },
  );
  const images = streamImages(data, stream, s.pretrain ?? []);
  if (s.data.prepared) usePrepared(s.data.prepared, data, images, log, choice.engine === 'torch');
  else if (choice.engine === 'torch' && images.length > LARGE_TREE)
    log(
      `data: ${images.length} images decoded from the originals; "time-merge clip prepare" with data.prepared writes 224px variants once, which decode several times faster`,
    );
  const backend = choice.engine === 'tfjs' ? await selectBackend(s.backend, log) : `torch:${choice.device}`;
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
  const suffix = shardSuffix(options.shard);
  // R@1/R@5 per direction go to retrieval.csv; the results files keep one score per task.
  const retrieval = new RetrievalLog(s.eval.k, s.resume ? join(s.out, retrievalFileName(suffix)) : undefined);
  const scoring = scoreSettings(s, ckpt.config, stream, backend);
  const base = paramsHash(ckpt.params);
  const setup: ClipSetup = {
    study: s,
    scoreSettings: scoring,
    data,
    stream,
    ckpt,
    tokenizer,
    retrieval,
    logEvery: Math.max(1, Math.floor(s.steps / 4)),
    log,
  };
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
  const specs: ClipRunSpec[] = expandSeedGrid(
    { seeds: s.seeds, baselines: s.baselines, methods: s.methods },
    (_kind, method, seed) => `${method}-s${seed}`,
    'clip config',
  ).map((r) => ({ ...r, params, fingerprint: runFingerprint(s, r.kind, scoring, base, stream) }));
  const config = (fingerprints?: Readonly<Record<string, string>>) => ({
    study: s,
    started,
    backend,
    version: packageVersion(),
    modelConfig: ckpt.config,
    ...(choice.engine === 'torch'
      ? {
          python: {
            executable: choice.python,
            source: choice.source,
            torch: choice.torch,
            cuda: choice.cuda,
            device: choice.device,
            gpu: choice.gpu,
          },
        }
      : {}),
    shard: options.shard ?? null,
    ...(slots.gpus ? { gpus: slots.gpus } : {}),
    ...(fingerprints ? { run_fingerprints: fingerprints } : {}),
  });
  const byId = new Map(specs.map((r) => [r.runId, r]));
  const fingerprints = (runs: readonly ResultRun[]) =>
    Object.fromEntries(runs.map((r) => [r.runId, byId.get(r.runId)!.fingerprint!]));
  const writeRetrieval = async (runs: readonly ResultRun[]) =>
    retrieval.write(
      s.out,
      runs.map((r) => r.runId),
      suffix,
    );
  const open = async () =>
    choice.engine === 'torch'
      ? (await CLIP_RUN_KINDS['clip-torch']()).open({ ...setup, python: choice.python, device: choice.device }, slots)
      : (await CLIP_RUN_KINDS['clip-tfjs']()).open(setup, slots);
  const driven = await driveRuns(specs, open, {
    out: s.out,
    shard: options.shard,
    resume: s.resume,
    // Plain lines with elapsed time and time left between the run's own lines (a bar would garble them).
    progress: { slots: slots.count, lines: true, bar: false },
    onPlan: (todo) => {
      const runIds = new Set(todo.map((r) => r.runId));
      const kept = (options.shard ? shardRuns(specs, options.shard) : specs).filter((r) => !runIds.has(r.runId));
      for (const r of kept) retrieval.runKept(r.runId);
      if (kept.length > 0)
        log(`${kept.length} finished run(s) kept from ${s.out}: ${kept.map((r) => r.runId).join(', ')}`);
    },
    onDone: async (_spec, _out, finished) => {
      await writeResults(s.out, { study: s.study, runs: finished, config: config(fingerprints(finished)) }, { suffix });
      await writeRetrieval(finished);
    },
  });
  let diagnostics: DiagnosticsRow[] | undefined;
  if (options.diagnostics) diagnostics = await clipStudyDiagnostics(setup, choice);
  // A shard judges no claims: its runs are part of the grid (as time-merge sim does).
  const sharded = options.shard !== undefined && options.shard.count > 1;
  const judged = sharded ? undefined : clipFindings(s, { stream: stream.name, backend }, driven.results, diagnostics);
  const files = await writeStudyFolder(s.out, s.study, driven.results, {
    config: config(driven.fingerprints),
    findings: judged?.markdown,
    suffix,
    journal: driven.journal,
  });
  const extra = await writeRetrieval(driven.results);
  if (extra) files.push(extra);
  if (diagnostics) {
    const path = join(s.out, resultFileName('diagnostics', 'csv'));
    await writeAtomic(path, toCsv(diagnosticsRows(diagnostics)));
    files.push(path);
  }
  // The same per-method table as time-merge sim prints (mean over seeds, best GM first).
  log(`\n${summaryTable(toRows(driven.results))}\n`);
  if (judged) log(`findings (${join(s.out, 'findings.md')}):\n${findingsSummary(judged.findings)}\n`);
  log(`results: ${s.out}`);
  return {
    runs: [...driven.results],
    files,
    backend,
    executed: driven.executed,
    kept: driven.kept,
    findings: judged?.findings ?? [],
    ...(diagnostics ? { diagnostics } : {}),
  };
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
}
