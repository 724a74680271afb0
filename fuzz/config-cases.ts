/**
 * Merge configs and study files for the fuzz suite, from a grammar of their keys with values of every
 * type (infinite and out-of-range numbers, inherited names, long names, YAML tags, lists where mappings
 * go), written as YAML or JSON. An accepted merge config is also run on three small checkpoints, and its
 * output read back by the independent reader.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { runMerge } from '../src/cli/commands/merge.js';
import { type MergeConfig, parseMergeConfig } from '../src/merge/config.js';
import { getTechnique, listTechniques } from '../src/merge/registry.js';
import { ParamSet } from '../src/params/paramset.js';
import { writeSafetensors } from '../src/params/safetensors/index.js';
import { toolkitMethods } from '../src/merge/dialect-config.js';
import { isSafeId } from '../src/study/ids.js';
import { MAX_SEEDS } from '../src/study/seeds.js';
import { parseStudyFile } from '../src/study/study-file.js';
import { parseMethod } from '../src/time/method.js';
import { readFileSync } from 'node:fs';
import { accept, type CaseResult, defect, judgeError } from './outcome.js';
import { referenceRead } from './reference-reader.js';

const INHERITED = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];
const TECHNIQUES = listTechniques().flatMap((t) => [t.name, ...(t.aliases ?? [])]);
const MERGEKIT = toolkitMethods(listTechniques(), 'mergekit');
const PARAMS = [...new Set(listTechniques().flatMap((t) => t.params.map((p) => p.name)))];

const nameArb = (known: readonly string[]) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...known) },
    { weight: 1, arbitrary: fc.constantFrom(...INHERITED) },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
    { weight: 1, arbitrary: fc.integer({ min: 200, max: 5000 }).map((n) => 'q'.repeat(n)) },
  );

const numberArb = fc.oneof(
  fc.double({ min: -2, max: 2, noNaN: true }),
  fc.integer({ min: -3, max: 10 }),
  fc.constantFrom(
    0,
    1,
    0.5,
    1.5,
    -0.5,
    1e300,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    Number.NaN,
    2 ** 53 + 2,
  ),
);
const valueArb: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof(
    { weight: 8, arbitrary: numberArb },
    { weight: 2, arbitrary: fc.boolean() },
    { weight: 2, arbitrary: fc.string({ maxLength: 6 }) },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.array(numberArb, { maxLength: 3 }) },
    {
      weight: 1,
      arbitrary: fc.array(fc.record({ filter: fc.constantFrom('w', 'b', '*'), value: numberArb }), { maxLength: 2 }),
    },
    { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 4 }), tie('v'), { maxKeys: 2 }) },
  ),
})).v;

const MODELS = ['a.safetensors', 'b.safetensors', 'c.safetensors', 'missing.safetensors', 'sub/../a.safetensors'];
const modelArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...MODELS) },
  {
    weight: 4,
    arbitrary: fc.record(
      {
        model: fc.constantFrom(...MODELS),
        parameters: fc.dictionary(nameArb(['weight', ...PARAMS]), valueArb, { maxKeys: 2 }),
      },
      { requiredKeys: ['model'] },
    ),
  },
  { weight: 1, arbitrary: valueArb },
);

const mergeConfigArb = fc.record(
  {
    merge_method: fc.oneof(nameArb([...TECHNIQUES, ...MERGEKIT]), valueArb),
    base_model: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...MODELS) }, { weight: 1, arbitrary: valueArb }),
    models: fc.oneof(
      { weight: 6, arbitrary: fc.array(modelArb, { minLength: 1, maxLength: 3 }) },
      { weight: 1, arbitrary: valueArb },
    ),
    parameters: fc.oneof(
      { weight: 4, arbitrary: fc.dictionary(nameArb(PARAMS), valueArb, { maxKeys: 3 }) },
      { weight: 1, arbitrary: valueArb },
    ),
    dtype: fc.oneof(nameArb(['f32', 'f16', 'bf16', 'float32', 'bfloat16']), valueArb),
    seed: fc.oneof(fc.nat(), valueArb),
    toolkit: nameArb(['mergekit', 'fomo_in_flux', 'time-merge']),
    [INHERITED[0]]: valueArb,
  },
  { requiredKeys: [] },
);

/** A value a parameter's declaration allows (its default, an enum value, a number near its range). */
function paramValueArb(p: { type: string; default: unknown; values?: readonly string[] }): fc.Arbitrary<unknown> {
  if (p.type === 'enum' && p.values) return fc.constantFrom(...p.values);
  if (p.type === 'boolean') return fc.boolean();
  if (p.type === 'integer') return fc.oneof(fc.constant(p.default), fc.nat(4));
  if (p.type === 'number') return fc.oneof(fc.constant(p.default), fc.double({ min: 0, max: 1, noNaN: true }));
  return fc.constant(p.default);
}

/** A config that should merge: a technique, some of its parameters with allowed values, 2 or 3 models. */
const plausibleConfigArb = fc.constantFrom(...listTechniques()).chain((t) =>
  fc.record(
    {
      merge_method: fc.constantFrom(t.name, ...(t.aliases ?? [])),
      toolkit: fc.constant('time-merge'),
      base_model: fc.constant('c.safetensors'),
      models: fc.constantFrom(['a.safetensors', 'b.safetensors'], ['a.safetensors', 'b.safetensors', 'c.safetensors']),
      parameters: fc
        .subarray([...t.params])
        .chain((ps) => fc.tuple(...ps.map((p) => paramValueArb(p).map((v) => [p.name, v] as const))))
        .map((kv) => Object.fromEntries(kv)),
      seed: fc.nat(100),
      dtype: fc.constantFrom('f32', 'f16', 'bf16'),
    },
    { requiredKeys: ['merge_method', 'toolkit', 'base_model', 'models'] },
  ),
);

/** A plausible mapping with at most one of `keys` set to anything at all. */
function damaged<T extends object>(arb: fc.Arbitrary<T>, keys: readonly string[]): fc.Arbitrary<object> {
  return fc
    .tuple(arb, fc.option(fc.tuple(fc.constantFrom(...keys, ...INHERITED), valueArb), { freq: 2 }))
    .map(([c, d]) => (d ? { ...c, [d[0]]: d[1] } : c));
}

const damagedConfigArb = damaged(plausibleConfigArb, [
  'merge_method',
  'models',
  'parameters',
  'seed',
  'dtype',
  'toolkit',
]);

/** Text edits YAML or JSON allows: tags, specials, a cut. */
const textEditArb = fc.oneof(
  fc.constant((t: string) => t),
  fc.constant((t: string) => t.replace(/^(parameters|models|seed): /m, '$1: !!set ')),
  fc.constant((t: string) => t.replace(/^(parameters|models): /m, '$1: !!omap ')),
  fc.constant((t: string) => t.replace(/: (-?[0-9.]+)$/m, ': .inf')),
  fc.constant((t: string) => `${t}\nmerge_method: ties\n`),
  fc.double({ min: 0, max: 1, noNaN: true }).map((f) => (t: string) => t.slice(0, Math.floor(f * t.length))),
);

export const mergeConfigCaseArb = fc.record({
  config: fc.oneof({ weight: 1, arbitrary: mergeConfigArb }, { weight: 3, arbitrary: damagedConfigArb }),
  json: fc.boolean(),
  edit: fc.oneof({ weight: 4, arbitrary: fc.constant((t: string) => t) }, { weight: 1, arbitrary: textEditArb }),
  run: fc.boolean(),
});
export type MergeConfigCase = typeof mergeConfigCaseArb extends fc.Arbitrary<infer T> ? T : never;

/** The three small checkpoints accepted configs merge (written once per directory). */
export async function writeConfigModels(dir: string): Promise<void> {
  const model = (s: number) =>
    ParamSet.fromEntries([
      ['w', { shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => Math.sin(i + s)) }],
      ['b', { shape: [4], data: Float32Array.from({ length: 4 }, (_, i) => Math.cos(i * s)) }],
    ]);
  await Promise.all(['a', 'b', 'c'].map((n, i) => writeSafetensors(join(dir, `${n}.safetensors`), model(i + 1))));
}

/** What must hold for any accepted config, whatever it said. */
function configInvariants(c: MergeConfig): string | undefined {
  const t = getTechnique(c.technique);
  if (c.models.length < (t.experts?.min ?? 1)) return `${c.models.length} models for ${t.name}`;
  if (!Number.isSafeInteger(c.seed) || c.seed < 0) return `seed ${c.seed}`;
  for (const [k, v] of Object.entries(c.params))
    if (typeof v === 'number' && !Number.isFinite(v)) return `parameter ${k} = ${v}`;
  for (const m of c.models) if (!Number.isFinite(m.weight)) return `weight ${m.weight}`;
  return undefined;
}

export async function checkMergeConfigCase(c: MergeConfigCase, dir: string): Promise<CaseResult> {
  const source = c.json ? 'fuzz-config.json' : 'fuzz-config.yaml';
  const text = c.edit(c.json ? JSON.stringify(c.config) : stringify(c.config));
  let config: MergeConfig;
  try {
    config = parseMergeConfig(text, { source, format: c.json ? 'json' : 'yaml', baseDir: dir });
  } catch (err) {
    return judgeError(err, [source]);
  }
  const broken = configInvariants(config);
  if (broken) return defect(`accepted a config breaking an invariant: ${broken}`);
  if (!c.run) return accept();
  const output = join(dir, 'out.safetensors');
  try {
    await runMerge(config, { output, progress: false });
  } catch (err) {
    return judgeError(err, [source, dir]);
  }
  const ref = referenceRead(readFileSync(output));
  if (typeof ref === 'string') return defect(`the output is not a valid file: ${ref}`);
  if ([...ref.keys()].sort().join() !== 'b,w') return defect(`the output holds ${[...ref.keys()].join(', ')}`);
  for (const [name, t] of ref)
    if (!t.values.every((v) => Number.isFinite(v))) return defect(`the output's "${name}" holds a non-finite value`);
  return accept();
}

const studyArb = fc.record(
  {
    name: fc.oneof(fc.constantFrom('s', 'a.b', '..', '.', 'a/b', 'x:y'), valueArb),
    methods: fc.oneof(
      fc.array(
        nameArb(['finetune', 'offline_merge', 'ema_paint', '@named', 'last+ema:0.3', 'base+merge-all', 'ema+last']),
        { minLength: 0, maxLength: 3 },
      ),
      valueArb,
    ),
    techniques: fc.oneof(fc.array(nameArb(['weighted-average', 'ties', '@official']), { maxLength: 2 }), valueArb),
    seeds: fc.oneof(
      fc.constantFrom('0-4', '0-99999999999', '5-2', '0-9999999999999999999', 3, -1, 2.5),
      fc.array(numberArb, { maxLength: 3 }),
      valueArb,
    ),
    stream: fc.oneof(
      fc.dictionary(nameArb(['T', 'd', 'k', 'datasets', 'stepsPerTask']), valueArb, { maxKeys: 2 }),
      valueArb,
    ),
    quick: fc.oneof(fc.record({ stream: fc.dictionary(nameArb(['T', 'd']), valueArb, { maxKeys: 2 }) }), valueArb),
    replay: fc.oneof(fc.record({ pretrain: numberArb, current: numberArb, buffer: numberArb }), valueArb),
    baselines: fc.oneof(fc.array(nameArb(['zeroshot', 'continual', 'multitask']), { maxLength: 2 }), valueArb),
    findings: fc.oneof(fc.array(nameArb(['offline-vs-continual', 'best-in-time']), { maxLength: 2 }), valueArb),
  },
  { requiredKeys: [] },
);

const plausibleStudyArb = fc.record(
  {
    name: fc.constantFrom('s', 'a.b', 'x:y'),
    methods: fc.subarray(['finetune', 'offline_merge', 'ema_paint', 'last+ema:0.3', 'base+merge-all'], {
      minLength: 1,
    }),
    techniques: fc.subarray(['weighted-average', 'ties', 'magmax'], { minLength: 1 }),
    seeds: fc.constantFrom('0-4', 3, [0, 1]),
    stream: fc.record({ T: fc.integer({ min: 2, max: 6 }), d: fc.constantFrom(16, 32) }, { requiredKeys: [] }),
    baselines: fc.subarray(['zeroshot', 'continual', 'multitask']),
  },
  { requiredKeys: ['name', 'methods', 'techniques', 'seeds'] },
);
const damagedStudyArb = damaged(plausibleStudyArb, [
  'name',
  'methods',
  'techniques',
  'seeds',
  'stream',
  'quick',
  'replay',
]);

export const studyCaseArb = fc.record({
  study: fc.oneof({ weight: 1, arbitrary: studyArb }, { weight: 3, arbitrary: damagedStudyArb }),
  json: fc.boolean(),
  edit: fc.oneof({ weight: 4, arbitrary: fc.constant((t: string) => t) }, { weight: 1, arbitrary: textEditArb }),
});
export type StudyCase = typeof studyCaseArb extends fc.Arbitrary<infer T> ? T : never;

export function checkStudyCase(c: StudyCase): CaseResult {
  const source = c.json ? 'fuzz-study.json' : 'fuzz-study.yaml';
  const text = c.edit(c.json ? JSON.stringify(c.study) : stringify(c.study));
  try {
    const s = parseStudyFile(text, source);
    if (!isSafeId(s.name)) return defect(`accepted the study name ${JSON.stringify(s.name)}`);
    if (s.seeds.length > MAX_SEEDS || !s.seeds.every(Number.isSafeInteger)) return defect('accepted unusable seeds');
    for (const m of s.methods) parseMethod(m);
    return accept();
  } catch (err) {
    return judgeError(err, [source]);
  }
}
