import { dirname, resolve } from 'node:path';
import { fail, TimeMergeError } from '../params/errors.js';
import type { WriteDType } from '../params/safetensors/format.js';
import { checkKeys, formatOf, isPlainObject, parseConfigMapping, readConfigText, type ConfigFormat } from './config-syntax.js';
import { resolveMerge, type MergeSpec } from './engine.js';
import { checkWeightsUsable, liftModelParams, type ModelEntry } from './model-params.js';

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
  /** Resolved expert paths with their weights, in config order. */
  readonly models: readonly { readonly path: string; readonly weight: number }[];
  /** Output dtype for every tensor; undefined keeps each base tensor's dtype. */
  readonly dtype?: WriteDType;
  readonly seed: number;
  /** Resolved output path, if the config names one. */
  readonly output?: string;
  /** The config as written, normalised (parameters with defaults), for the output's metadata. */
  readonly normalized: Record<string, unknown>;
}

const TOP_KEYS = ['merge_method', 'base_model', 'models', 'parameters', 'dtype', 'seed', 'output'] as const;
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
export function parseMergeConfig(text: string, options: { source?: string; format?: ConfigFormat; baseDir?: string } = {}): MergeConfig {
  const source = options.source ?? '<inline>';
  const where = (what: string) => `${source}: ${what}`;
  const raw = parseConfigMapping(text, options.format, source, 'a merge config must be a mapping (merge_method, base_model, models, ...)');
  checkKeys(raw, TOP_KEYS, where('unknown key'));

  const method = raw.merge_method;
  if (typeof method !== 'string' || method === '') fail('CONFIG', where('merge_method is required: the name of a merge technique (see `time-merge techniques`)'));

  const baseRaw = raw.base_model;
  if (typeof baseRaw !== 'string' || baseRaw === '') fail('CONFIG', where('base_model is required: the path of the base (pre-trained) checkpoint'));

  if (!Array.isArray(raw.models) || raw.models.length === 0) fail('CONFIG', where('models must be a non-empty list of expert checkpoints'));
  const models = raw.models.map((m, i) => parseModel(m, `${source}: models[${i}]`));

  const params = raw.parameters ?? {};
  if (!isPlainObject(params)) fail('CONFIG', where('parameters must be a mapping of technique parameters'));

  let dtype: WriteDType | undefined;
  if (raw.dtype !== undefined && raw.dtype !== null) {
    dtype = typeof raw.dtype === 'string' ? DTYPE_NAMES[raw.dtype.toLowerCase()] : undefined;
    if (!dtype) fail('CONFIG', where(`dtype must be f32, f16 or bf16, got ${JSON.stringify(raw.dtype)}`));
  }

  const seed = raw.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) fail('CONFIG', where(`seed must be a non-negative integer, got ${JSON.stringify(raw.seed)}`));

  if (raw.output !== undefined && (typeof raw.output !== 'string' || raw.output === '')) fail('CONFIG', where('output must be a file path'));

  const weights = models.map((m) => m.weight);
  const modelWhere = (i: number) => `${source}: models[${i}] (${models[i].model})`;
  let resolved;
  try {
    resolved = resolveMerge({ technique: method, params, weights, seed }, models.length);
    if (models.some((m) => Object.keys(m.params).length > 0)) {
      const lifted = liftModelParams(resolved.technique, params, resolved.params as Record<string, unknown>, models, modelWhere);
      resolved = resolveMerge({ technique: method, params: lifted, weights, seed }, models.length);
    }
  } catch (err) {
    if (err instanceof TimeMergeError) throw new TimeMergeError(err.code, err.message.startsWith(source) ? err.message : where(err.message), { cause: err });
    throw err;
  }
  checkWeightsUsable(resolved.technique, resolved.params as Record<string, unknown>, weights, where('models'));

  const baseDir = options.baseDir ?? '.';
  const at = (p: string) => resolve(baseDir, p);
  const technique = resolved.technique.name;
  const parsedParams = { ...(resolved.params as Record<string, unknown>) };
  return {
    source,
    technique,
    params: parsedParams,
    base: at(baseRaw),
    models: models.map((m) => ({ path: at(m.model), weight: m.weight })),
    dtype,
    seed,
    output: typeof raw.output === 'string' ? at(raw.output) : undefined,
    normalized: {
      merge_method: technique,
      base_model: baseRaw,
      models: models.map((m) => ({ model: m.model, parameters: { weight: m.weight } })),
      parameters: parsedParams,
      ...(dtype ? { dtype: dtype.toLowerCase() } : {}),
      seed,
    },
  };
}

/** The engine's view of a config. */
export function mergeSpecOf(config: MergeConfig): MergeSpec {
  return { technique: config.technique, params: config.params, weights: config.models.map((m) => m.weight), seed: config.seed };
}

function parseModel(raw: unknown, where: string): ModelEntry {
  if (typeof raw === 'string' && raw !== '') return { model: raw, weight: 1, params: {} };
  if (!isPlainObject(raw)) fail('CONFIG', `${where}: must be a path or a mapping with "model" (and optional "parameters")`);
  checkKeys(raw, MODEL_KEYS, `${where}: unknown key`);
  if (typeof raw.model !== 'string' || raw.model === '') fail('CONFIG', `${where}: "model" must be the path of a checkpoint`);
  const given = raw.parameters ?? {};
  if (!isPlainObject(given)) fail('CONFIG', `${where}.parameters: must be a mapping`);
  const { weight = 1, ...params } = given;
  if (typeof weight !== 'number' || !Number.isFinite(weight)) fail('CONFIG', `${where}.parameters.weight must be a finite number, got ${JSON.stringify(weight)}`);
  return { model: raw.model, weight, params };
}
