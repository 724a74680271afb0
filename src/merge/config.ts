import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { didYouMean } from '../params/did-you-mean.js';
import { fail, TimeMergeError } from '../params/errors.js';
import { showValue } from '../params/show-value.js';
import type { WriteDType } from '../params/safetensors/format.js';
import {
  checkKeys,
  formatOf,
  isPlainObject,
  parseConfigMapping,
  readConfigText,
  type ConfigFormat,
} from './config-syntax.js';
import { findToolkitForm, otherToolkitHint, readDialect, toolkitMethods, type DialectModel } from './dialect-config.js';
import { resolveMerge, type MergeSpec, type ResolvedMerge, type TensorSettings } from './engine.js';
import { checkWeightsUsable, liftModelParams, type ModelEntry } from './model-params.js';
import { parseSlicedConfig, type SliceConfig } from './config-slices.js';
import { listTechniques } from './registry.js';
import { DIALECTS, type Dialect } from './types.js';
import { hasOwnKey, own } from '../params/own.js';

/**
 * A merge config (YAML or JSON) in the spirit of mergekit's:
 *
 *   merge_method: task-arithmetic       # a technique name or alias from the registry
 *   base_model: base.safetensors        # paths resolve against the config file's directory
 *   models:
 *     - model: expert-a.safetensors
 *       parameters: { weight: 0.7 }     # also technique parameters, when every model agrees (density: 0.5)
 *     - expert-b.safetensors            # shorthand: weight 1
 *   parameters: { lambda: 0.5 }         # the technique's parameters
 *   dtype: bf16                         # output dtype; default: the base's
 *   seed: 0
 *   output: merged.safetensors
 */
export interface MergeConfig {
  /** Where the config came from (for messages); '<inline>' when parsed from text. */
  readonly source: string;
  /** Registry name of the technique (aliases resolved). */
  readonly technique: string;
  /** The technique's parameters with defaults filled in. */
  readonly params: Record<string, unknown>;
  /** Resolved path of the base model. */
  readonly base: string;
  /**
   * Resolved expert paths with their weights, in merge order; `entry` is the model's index in the
   * config's models list (the list's length: base_model, added as mergekit adds it).
   */
  readonly models: readonly { readonly path: string; readonly weight: number; readonly entry?: number }[];
  /** Index in the config's models list of the model that is base_model, when it is listed there. */
  readonly baseEntry?: number;
  /** Output dtype for every tensor; undefined keeps each base tensor's dtype. */
  readonly dtype?: WriteDType;
  readonly seed: number;
  /** Resolved output path, if the config names one. */
  readonly output?: string;
  /** The config as written, normalised (parameters with defaults), for the output's metadata. */
  readonly normalized: Record<string, unknown>;
  /** The toolkit whose config this is, when it is read as that toolkit's (see `toolkit`). */
  readonly dialect?: Dialect;
  /** Per expert, its own values of per-model parameters (mergekit's per-model density, ...). */
  readonly expertParams?: readonly Readonly<Record<string, number>>[];
  /** Settings that vary by tensor (gradients over layers, name filters). */
  readonly perTensor?: (names: readonly string[]) => (name: string) => TensorSettings | undefined;
  /** One line per config key that is accepted but changes nothing here, saying why (shown before merging). */
  readonly notes?: readonly string[];
  /** mergekit's tokenizer_source: 'base' or a resolved model path whose tokenizer the output gets. */
  readonly tokenizerSource?: string;
  /** mergekit slices: one merge per slice over its sources' layer ranges (config-slices.ts). */
  readonly slices?: readonly SliceConfig[];
}

const TOP_KEYS = [
  'merge_method',
  'base_model',
  'models',
  'parameters',
  'dtype',
  'out_dtype',
  'seed',
  'output',
  'toolkit',
  'tokenizer_source',
  'tokenizer',
  'slices',
] as const;

/** mergekit keys with no meaning for a tensor-by-tensor merge of one models list: an error naming each. */
const UNSUPPORTED_KEYS: Record<string, string> = {
  modules: 'per-module merges',
  chat_template: 'chat templates',
};

const TOOLKITS = [...DIALECTS, 'time-merge'] as const;
const MODEL_KEYS = ['model', 'parameters'] as const;

const DTYPE_NAMES: Record<string, WriteDType> = {
  f32: 'F32',
  fp32: 'F32',
  float32: 'F32',
  f16: 'F16',
  fp16: 'F16',
  float16: 'F16',
  half: 'F16',
  bf16: 'BF16',
  bfloat16: 'BF16',
};

/** Reads and validates a config file; relative paths in it resolve against its directory. */
export async function loadMergeConfig(path: string): Promise<MergeConfig> {
  const text = await readConfigText(path, 'merge config');
  return parseMergeConfig(text, { source: path, format: formatOf(path), baseDir: dirname(path) });
}

/**
 * Parses config text and checks everything that can be checked without touching the model files:
 * unknown keys, types, the technique name, its parameter values (top-level and per model), weights
 * (including a zero sum the technique would have to normalise) and the expert count.
 */
export function parseMergeConfig(
  text: string,
  options: { source?: string; format?: ConfigFormat; baseDir?: string } = {},
): MergeConfig {
  const source = options.source ?? '<inline>';
  const raw = parseConfigMapping(
    text,
    options.format,
    source,
    'a merge config must be a mapping (merge_method, base_model, models, ...)',
  );
  return parseMergeMapping(raw, { source, baseDir: options.baseDir ?? '.' });
}

/** A parsed config mapping, checked as parseMergeConfig says; `slices` are read by config-slices.ts. */
export function parseMergeMapping(
  raw: Record<string, unknown>,
  options: { source: string; baseDir: string },
): MergeConfig {
  const { source } = options;
  const where = (what: string) => `${source}: ${what}`;
  for (const key of Object.keys(raw)) {
    if (hasOwnKey(UNSUPPORTED_KEYS, key))
      fail(
        'CONFIG',
        where(
          `"${key}" (mergekit: ${UNSUPPORTED_KEYS[key]}) is not supported; time-merge merges one list of models tensor by tensor`,
        ),
      );
  }
  checkKeys(raw, TOP_KEYS, where('unknown key'));
  if (raw.slices !== undefined) return parseSlicedConfig(raw, options, parseMergeMapping);

  const method = raw.merge_method;
  if (method === undefined || method === null || method === '')
    fail('CONFIG', where('merge_method is required: the name of a merge technique (see `time-merge techniques`)'));
  if (typeof method !== 'string')
    fail(
      'CONFIG',
      where(
        `merge_method must be one technique name (a string; see \`time-merge techniques\`), got ${showValue(method)}`,
      ),
    );

  const toolkit = raw.toolkit;
  if (toolkit !== undefined && !TOOLKITS.includes(toolkit as (typeof TOOLKITS)[number])) {
    fail('CONFIG', where(`toolkit must be one of ${TOOLKITS.join(', ')}, got ${JSON.stringify(toolkit)}`));
  }
  const dialect: Dialect | undefined =
    toolkit === 'time-merge'
      ? undefined
      : ((toolkit as Dialect | undefined) ??
        (findToolkitForm(listTechniques(), 'mergekit', method) ? 'mergekit' : undefined));

  const baseRaw = raw.base_model;
  if (baseRaw !== undefined && baseRaw !== null && (typeof baseRaw !== 'string' || baseRaw === '')) {
    fail('CONFIG', where(`base_model must be a checkpoint path (a string), got ${showValue(baseRaw)}`));
  }
  if (!dialect && typeof baseRaw !== 'string')
    fail('CONFIG', where('base_model is required: the path of the base (pre-trained) checkpoint'));

  if (!Array.isArray(raw.models) || raw.models.length === 0)
    fail('CONFIG', where('models must be a non-empty list of expert checkpoints'));

  const params = raw.parameters ?? {};
  if (!isPlainObject(params)) fail('CONFIG', where('parameters must be a mapping of technique parameters'));

  // mergekit's dtype is the dtype it computes in and writes; out_dtype, when given, the one it writes.
  // time-merge computes in float32 and writes out_dtype, else dtype.
  const dtypeRaw = raw.out_dtype ?? raw.dtype;
  let dtype: WriteDType | undefined;
  if (dtypeRaw !== undefined && dtypeRaw !== null) {
    dtype = typeof dtypeRaw === 'string' ? own(DTYPE_NAMES, dtypeRaw.toLowerCase()) : undefined;
    if (!dtype) {
      const key = raw.out_dtype !== undefined ? 'out_dtype' : 'dtype';
      fail(
        'CONFIG',
        where(
          `${key} must be f32, f16 or bf16 (float32, float16, bfloat16), got ${showValue(dtypeRaw)}${typeof dtypeRaw === 'string' ? didYouMean(dtypeRaw, Object.keys(DTYPE_NAMES)) : ''}`,
        ),
      );
    }
  }

  const seed = raw.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0)
    fail('CONFIG', where(`seed must be a non-negative integer, got ${showValue(raw.seed)}`));

  if (raw.output !== undefined && (typeof raw.output !== 'string' || raw.output === ''))
    fail('CONFIG', where('output must be a file path'));

  const baseDir = options.baseDir;
  const at = (p: string) => modelPath(p, baseDir);
  const output = typeof raw.output === 'string' ? resolve(baseDir, raw.output) : undefined;
  const tokenizerSource = readTokenizerSource(raw, typeof baseRaw === 'string' ? baseRaw : undefined, at, where);
  if (dialect) {
    const config = parseDialectConfig(
      dialect,
      method,
      raw.models,
      params,
      typeof baseRaw === 'string' ? baseRaw : undefined,
      { source, at, dtype, seed, output },
    );
    return tokenizerSource ? { ...config, tokenizerSource } : config;
  }
  const base = baseRaw as string;
  checkOtherToolkitKeys(method, params, where);
  const models = raw.models.map((m, i) => parseModel(m, `${source}: models[${i}]`));

  const weights = models.map((m) => m.weight);
  const modelWhere = (i: number) => `${source}: models[${i}] (${models[i].model})`;
  let resolved: ResolvedMerge;
  try {
    resolved = resolveMerge({ technique: method, params, weights, seed }, models.length);
    if (models.some((m) => Object.keys(m.params).length > 0)) {
      const lifted = liftModelParams(
        resolved.technique,
        params,
        resolved.params as Record<string, unknown>,
        models,
        modelWhere,
      );
      resolved = resolveMerge(
        { technique: method, params: lifted.params, weights, seed, expertParams: lifted.expertParams },
        models.length,
      );
    }
  } catch (err) {
    if (err instanceof TimeMergeError)
      throw new TimeMergeError(err.code, err.message.startsWith(source) ? err.message : where(err.message), {
        cause: err,
      });
    throw err;
  }
  checkWeightsUsable(resolved.technique, resolved.params as Record<string, unknown>, weights, where('models'));

  const technique = resolved.technique.name;
  const parsedParams = { ...(resolved.params as Record<string, unknown>) };
  return {
    source,
    technique,
    params: parsedParams,
    base: at(base),
    models: models.map((m, i) => ({ path: at(m.model), weight: m.weight, entry: i })),
    dtype,
    seed,
    output,
    ...(tokenizerSource ? { tokenizerSource } : {}),
    expertParams: resolved.expertParams,
    normalized: {
      merge_method: technique,
      base_model: base,
      models: models.map((m, i) => ({
        model: m.model,
        parameters: { weight: m.weight, ...(resolved.expertParams?.[i] ?? {}) },
      })),
      parameters: parsedParams,
      ...(dtype ? { dtype: dtype.toLowerCase() } : {}),
      seed,
    },
  };
}

/** The engine's view of a config. */
export function mergeSpecOf(config: MergeConfig): MergeSpec {
  return {
    technique: config.technique,
    params: config.params,
    weights: config.models.map((m) => m.weight),
    seed: config.seed,
    ...(config.expertParams ? { expertParams: config.expertParams } : {}),
    ...(config.perTensor ? { perTensor: config.perTensor } : {}),
  };
}

/**
 * A checkpoint path: a .safetensors file or a sharded index as given, or a model directory as mergekit
 * configs name them (its model.safetensors.index.json, else its model.safetensors).
 */
export function checkpointPath(path: string): string {
  if (!existsSync(path) || !statSync(path).isDirectory()) return path;
  for (const name of ['model.safetensors.index.json', 'model.safetensors']) {
    if (existsSync(join(path, name))) return join(path, name);
  }
  fail('IO', `${path}: a directory without model.safetensors or model.safetensors.index.json`);
}

/**
 * A model as a config names it, resolved against the config's directory. A name that is no local file
 * or folder is an IO error saying that models are read from local folders (a Hugging Face id such as
 * mistralai/Mistral-7B-v0.1 is not downloaded).
 */
export function modelPath(name: string, baseDir: string): string {
  const path = resolve(baseDir, name);
  // A missing plain path is reported when it is opened; one shaped like owner/name gets the reason here.
  if (!existsSync(path) && /^[\w.-]+\/[\w.-]+([@+].*)?$/.test(name) && !/\.(safetensors|json)$/.test(name)) {
    const id = name.replace(/[@+].*$/, '');
    fail(
      'IO',
      `${name}: no such local folder (${path}); models are read from local folders and files, and a Hugging Face id is not downloaded: fetch it first (huggingface-cli download ${id} --local-dir DIR) and name DIR`,
    );
  }
  return checkpointPath(path);
}

/**
 * mergekit's tokenizer_source (or tokenizer.source): `base`, or a model whose tokenizer the output
 * folder gets. Building a new vocabulary (`union`, added tokens) is refused: the embeddings would have
 * to be permuted, which this merge does not do.
 */
function readTokenizerSource(
  raw: Record<string, unknown>,
  baseRaw: string | undefined,
  at: (p: string) => string,
  where: (what: string) => string,
): string | undefined {
  let value = raw.tokenizer_source;
  let key = 'tokenizer_source';
  if (raw.tokenizer !== undefined) {
    if (value !== undefined) fail('CONFIG', where('give tokenizer_source or tokenizer, not both'));
    if (!isPlainObject(raw.tokenizer)) fail('CONFIG', where('tokenizer must be a mapping with "source"'));
    for (const k of Object.keys(raw.tokenizer))
      if (k !== 'source')
        fail(
          'CONFIG',
          where(
            `tokenizer.${k} is not supported: time-merge copies one model's tokenizer and never edits a vocabulary`,
          ),
        );
    value = raw.tokenizer.source;
    key = 'tokenizer.source';
  }
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value === '')
    fail('CONFIG', where(`${key} must be "base" or a model, got ${showValue(value)}`));
  if (value === 'base') {
    if (baseRaw === undefined) fail('CONFIG', where(`${key}: base needs base_model`));
    return at(baseRaw);
  }
  if (value === 'union')
    fail(
      'CONFIG',
      where(
        `${key}: ${value} (a vocabulary built from several models, with permuted embeddings) is not supported; use base or one model's name, whose tokenizer is copied`,
      ),
    );
  return at(value);
}

/** A config in a toolkit's own terms (mergekit, fomo_in_flux), read as that toolkit reads it. */
function parseDialectConfig(
  dialect: Dialect,
  method: string,
  rawModels: unknown[],
  params: Record<string, unknown>,
  baseRaw: string | undefined,
  o: { source: string; at: (p: string) => string; dtype?: WriteDType; seed: number; output?: string },
): MergeConfig {
  const where = (what: string) => `${o.source}: ${what}`;
  const found = findToolkitForm(listTechniques(), dialect, method);
  if (!found) {
    const known = toolkitMethods(listTechniques(), dialect);
    fail(
      'CONFIG',
      where(
        `merge_method "${method}" is not a ${dialect} method time-merge implements (${dialect}: ${known.join(', ')}); or use a technique name with toolkit: time-merge`,
      ),
    );
  }
  const { technique, form } = found;
  const models: DialectModel[] = rawModels.map((m, i) => {
    const at = `${o.source}: models[${i}]`;
    if (typeof m === 'string' && m !== '') return { model: m, parameters: {} };
    if (!isPlainObject(m))
      fail('CONFIG', `${at}: must be a path or a mapping with "model" (and optional "parameters")`);
    checkKeys(m, MODEL_KEYS, `${at}: unknown key`);
    if (typeof m.model !== 'string' || m.model === '')
      fail('CONFIG', `${at}: "model" must be the path of a checkpoint`);
    const given = m.parameters ?? {};
    if (!isPlainObject(given)) fail('CONFIG', `${at}.parameters: must be a mapping`);
    return { model: m.model, parameters: given };
  });
  const basePath = baseRaw === undefined ? undefined : o.at(baseRaw);
  const sameAsBase = (i: number) => models[i].model === baseRaw || o.at(models[i].model) === basePath;
  const read = readDialect(dialect, technique, form, params, models, baseRaw, sameAsBase, o.source);
  const pathOf = (i: number) => (i >= models.length ? (basePath as string) : o.at(models[i].model));
  const experts = read.experts.map((i, k) => ({ path: pathOf(i), weight: read.weights[k], entry: i }));
  const baseEntry = baseRaw === undefined ? -1 : models.findIndex((_, i) => sameAsBase(i));
  let resolved: ResolvedMerge;
  try {
    resolved = resolveMerge(
      {
        technique: technique.name,
        params: read.params,
        weights: read.weights,
        seed: o.seed,
        expertParams: read.expertParams,
      },
      experts.length,
    );
  } catch (err) {
    if (err instanceof TimeMergeError)
      throw new TimeMergeError(err.code, where(`${dialect} ${method}: ${err.message}`), { cause: err });
    throw err;
  }
  checkWeightsUsable(resolved.technique, resolved.params as Record<string, unknown>, read.weights, where('models'));
  const parsedParams = { ...(resolved.params as Record<string, unknown>) };
  return {
    source: o.source,
    technique: resolved.technique.name,
    params: parsedParams,
    base: read.usesBase ? (basePath as string) : experts[0].path,
    models: experts,
    ...(baseEntry >= 0 ? { baseEntry } : {}),
    dtype: o.dtype,
    seed: o.seed,
    output: o.output,
    dialect,
    expertParams: read.expertParams,
    perTensor: read.perTensor,
    ...(read.notes.length ? { notes: read.notes } : {}),
    normalized: {
      toolkit: dialect,
      merge_method: method,
      technique: resolved.technique.name,
      ...(baseRaw !== undefined ? { base_model: baseRaw } : {}),
      models: read.experts.map((i) =>
        i >= models.length ? { model: baseRaw } : { model: models[i].model, parameters: models[i].parameters },
      ),
      parameters: params,
      resolved: {
        parameters: parsedParams,
        weights: read.weights,
        ...(read.expertParams ? { per_model: read.expertParams } : {}),
      },
      ...(o.dtype ? { dtype: o.dtype.toLowerCase() } : {}),
      seed: o.seed,
    },
  };
}

/**
 * A parameter that is not the technique's but another toolkit's name for one (FusionBench's
 * `scaling_factor` where time-merge says `lambda`): a CONFIG error saying which `toolkit` reads it.
 */
function checkOtherToolkitKeys(method: string, params: Record<string, unknown>, where: (what: string) => string): void {
  const technique = listTechniques().find((t) => t.name === method || t.aliases?.includes(method));
  if (!technique) return;
  const own = technique.params.map((d) => d.name);
  for (const key of Object.keys(params)) {
    if (key === 'lines' || own.includes(key)) continue;
    const hint = otherToolkitHint(technique, key, undefined);
    if (hint)
      fail(
        'CONFIG',
        where(`parameters: "${key}" is not a parameter of ${technique.name} (its own: ${own.join(', ')})${hint}`),
      );
  }
}

function parseModel(raw: unknown, where: string): ModelEntry {
  if (typeof raw === 'string' && raw !== '') return { model: raw, weight: 1, params: {} };
  if (!isPlainObject(raw))
    fail('CONFIG', `${where}: must be a path or a mapping with "model" (and optional "parameters")`);
  checkKeys(raw, MODEL_KEYS, `${where}: unknown key`);
  if (typeof raw.model !== 'string' || raw.model === '')
    fail('CONFIG', `${where}: "model" must be the path of a checkpoint`);
  const given = raw.parameters ?? {};
  if (!isPlainObject(given)) fail('CONFIG', `${where}.parameters: must be a mapping`);
  const { weight = 1, ...params } = given;
  if (typeof weight !== 'number' || !Number.isFinite(weight))
    fail('CONFIG', `${where}.parameters.weight must be a finite number, got ${showValue(weight)}`);
  return { model: raw.model, weight, params };
}
