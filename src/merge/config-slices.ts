import { fail } from '../params/errors.js';
import { checkKeys, isPlainObject } from './config-syntax.js';
import type { MergeConfig } from './config.js';
import { modelPath } from './config.js';

/** One of mergekit's slices: a merge over its sources, each a model's layers [begin, end). */
export interface SliceConfig {
  /** The slice's merge; its models' `entry` and its `baseEntry` index `sources`. */
  readonly config: MergeConfig;
  readonly sources: readonly {
    readonly model: string;
    readonly path: string;
    readonly range: readonly [number, number];
  }[];
}

const SLICE_KEYS = ['sources', 'parameters', 'base_model'] as const;
const SOURCE_KEYS = ['model', 'layer_range', 'parameters'] as const;

/**
 * mergekit's `slices:` form. Each slice is read as a config of its own (models: its sources; parameters:
 * the top-level ones with the slice's over them, as mergekit looks a parameter up in the source, then
 * the slice, then the top level); the merge writes the slices' layers one after the other.
 */
export function parseSlicedConfig(
  raw: Record<string, unknown>,
  options: { source: string; baseDir: string },
  parseOne: (raw: Record<string, unknown>, options: { source: string; baseDir: string }) => MergeConfig,
): MergeConfig {
  const where = (what: string) => `${options.source}: ${what}`;
  if (raw.models !== undefined) fail('CONFIG', where('give models or slices, not both'));
  const { slices, ...rest } = raw;
  if (!Array.isArray(slices) || slices.length === 0)
    fail('CONFIG', where('slices must be a non-empty list of { sources: [{ model, layer_range }, ...] }'));
  const top = rest.parameters ?? {};
  if (!isPlainObject(top)) fail('CONFIG', where('parameters must be a mapping of technique parameters'));
  const parsed: SliceConfig[] = slices.map((slice, i) => {
    const at = where(`slices[${i}]`);
    if (!isPlainObject(slice)) fail('CONFIG', `${at}: must be a mapping with "sources"`);
    checkKeys(slice, SLICE_KEYS, `${at}: unknown key`);
    if (!Array.isArray(slice.sources) || slice.sources.length === 0)
      fail('CONFIG', `${at}: sources must be a non-empty list of { model, layer_range }`);
    const own = slice.parameters ?? {};
    if (!isPlainObject(own)) fail('CONFIG', `${at}.parameters: must be a mapping`);
    const sources = slice.sources.map((s, k) => {
      const w = `${at}.sources[${k}]`;
      if (!isPlainObject(s)) fail('CONFIG', `${w}: must be a mapping with "model" and "layer_range"`);
      checkKeys(s, SOURCE_KEYS, `${w}: unknown key`);
      if (typeof s.model !== 'string' || s.model === '') fail('CONFIG', `${w}: "model" must be the path of a model`);
      const r = s.layer_range;
      if (!Array.isArray(r) || r.length !== 2 || !r.every((x) => Number.isSafeInteger(x)))
        fail('CONFIG', `${w}.layer_range must be [begin, end], two integers (end not included)`);
      return { model: s.model, range: [r[0], r[1]] as const, parameters: s.parameters };
    });
    const config = parseOne(
      {
        ...rest,
        ...(slice.base_model !== undefined ? { base_model: slice.base_model } : {}),
        models: sources.map((s) =>
          s.parameters === undefined ? s.model : { model: s.model, parameters: s.parameters },
        ),
        parameters: { ...top, ...own },
      },
      { source: at, baseDir: options.baseDir },
    );
    return {
      config,
      sources: sources.map((s) => ({ model: s.model, path: modelPath(s.model, options.baseDir), range: s.range })),
    };
  });
  const first = parsed[0].config;
  const paths = [...new Set(parsed.flatMap((s) => s.sources.map((x) => x.path)))];
  // The output's config.json and tokenizer come from base_model, else the first source (mergekit's donor).
  const donor =
    typeof raw.base_model === 'string' ? modelPath(raw.base_model, options.baseDir) : parsed[0].sources[0].path;
  // Keys that change nothing are said once, whichever slices set them.
  const notes = [...new Set(parsed.flatMap((s) => s.config.notes ?? []))];
  return {
    source: options.source,
    technique: first.technique,
    params: first.params,
    base: donor,
    models: paths.map((path) => ({ path, weight: 1 })),
    dtype: first.dtype,
    seed: first.seed,
    output: first.output,
    ...(first.dialect ? { dialect: first.dialect } : {}),
    ...(first.tokenizerSource ? { tokenizerSource: first.tokenizerSource } : {}),
    slices: parsed,
    ...(notes.length ? { notes } : {}),
    normalized: {
      slices: parsed.map((s) => ({
        sources: s.sources.map((x) => ({ model: x.model, layer_range: [...x.range] })),
        merge: s.config.normalized,
      })),
      ...(first.dtype ? { dtype: first.dtype.toLowerCase() } : {}),
      seed: first.seed,
    },
  };
}
