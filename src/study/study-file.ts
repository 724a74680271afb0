import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { checkKeys, formatOf, isPlainObject, parseConfigMapping } from '../merge/config-syntax.js';
import { getTechnique } from '../merge/registry.js';
import { fail, TimeMergeError } from '../params/errors.js';
import { DEFAULT_SYNTHETIC, resolveSyntheticConfig, type SyntheticConfig } from '../synthetic/config.js';
import { BASELINES, type Baseline } from '../time/baselines.js';
import { parseMethod } from '../time/method.js';
import type { ReplayMix } from '../time/types.js';
import { FINDING_IDS } from './findings.js';
import { METHOD_GROUPS, TECHNIQUE_GROUPS } from './groups.js';
import type { FindingId, Study, StudySetting, TechniqueChoice } from './types.js';
import { hasOwnKey, own } from '../params/own.js';
import { checkSeedCount, seedRange } from './seeds.js';
import { isSafeId, SAFE_ID_RULE } from './ids.js';

/**
 * A study file (YAML or JSON): the grid `time-merge sim STUDY.yaml` runs.
 *
 *   name: my-study
 *   description: what it asks
 *   stream: { T: 20, datasets: 5 }          # world and stream settings (src/synthetic/config.ts)
 *   replay: { pretrain: 0.33, current: 0.34, buffer: 0.33 }   # default: the released configs' mix
 *   settings:                               # points of the stream grid (default: one, "default")
 *     - { label: no-replay, replay: { pretrain: 0, current: 1, buffer: 0 } }
 *   sweep: { stepsPerTask: [10, 20, 40] }   # or a product of stream values, one setting each
 *   methods: [finetune, ema_paint, '@double-merges', { init: [base, ema], deploy: [merge-all, ema] }]
 *   techniques:                             # registry names, groups, or one entry with params / a grid
 *     - '@official'
 *     - { name: ties, grid: { density: [0.2, 0.5] } }
 *   seeds: 0-4                              # or a list
 *   baselines: [zeroshot, continual, multitask]
 *   findings: [offline-vs-continual, best-in-time]
 *   quick: { seeds: [0], stream: { T: 6 } } # what --quick changes
 */
const TOP_KEYS = [
  'name',
  'description',
  'stream',
  'replay',
  'multitaskMix',
  'settings',
  'sweep',
  'methods',
  'techniques',
  'seeds',
  'seed',
  'baselines',
  'findings',
  'quick',
] as const;
const QUICK_KEYS = ['stream', 'settings', 'sweep', 'methods', 'techniques', 'seeds', 'baselines'] as const;

/** Runs `fn`; a CONFIG error it throws is re-thrown with `where` in front, so messages name the key. */
function at<T>(where: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof TimeMergeError) throw new TimeMergeError(e.code, `${where}: ${e.message}`, { cause: e });
    throw e;
  }
}

function list(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v)) fail('CONFIG', `${where}: expected a list`);
  return v;
}

function mapping(v: unknown, where: string): Record<string, unknown> {
  if (!isPlainObject(v)) fail('CONFIG', `${where}: expected a mapping`);
  return v;
}

function text(v: unknown, where: string): string {
  if (typeof v !== 'string' || v === '') fail('CONFIG', `${where}: expected a non-empty string`);
  return v;
}

function stream(v: unknown, where: string): Partial<SyntheticConfig> {
  const m = mapping(v, where);
  for (const key of Object.keys(m)) {
    if (!hasOwnKey(DEFAULT_SYNTHETIC, key))
      fail('CONFIG', `${where}.${key}: unknown stream setting (known: ${Object.keys(DEFAULT_SYNTHETIC).join(', ')})`);
  }
  return m as Partial<SyntheticConfig>;
}

function replay(v: unknown, where: string): ReplayMix {
  const m = mapping(v, where);
  checkKeys(m, ['pretrain', 'current', 'buffer'], `${where}: unknown key`);
  const out: Record<string, number> = {};
  for (const key of ['pretrain', 'current', 'buffer']) {
    const x = m[key];
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0)
      fail('CONFIG', `${where}.${key}: expected a number >= 0, got ${JSON.stringify(x)}`);
    out[key] = x;
  }
  if (out.pretrain + out.current + out.buffer <= 0) fail('CONFIG', `${where}: the proportions sum to zero`);
  return out as unknown as ReplayMix;
}

/** `0-4`, `3`, or a list of integers. */
function seeds(v: unknown, where: string): number[] {
  if (typeof v === 'string' && /^\d+-\d+$/.test(v.trim())) return seedRange(v, where);
  const xs = typeof v === 'number' ? [v] : list(v, where);
  if (xs.length === 0) fail('CONFIG', `${where}: needs at least one seed`);
  checkSeedCount(xs.length, where);
  return xs.map((x, i) => {
    if (typeof x !== 'number' || !Number.isSafeInteger(x))
      fail('CONFIG', `${where}[${i}]: expected an integer, got ${JSON.stringify(x)}`);
    return x;
  });
}

/** The Cartesian product of a mapping of lists, in key order (last key fastest). */
function product(grid: Record<string, unknown>, where: string): Record<string, unknown>[] {
  let out: Record<string, unknown>[] = [{}];
  for (const [key, values] of Object.entries(grid)) {
    const xs = list(values, `${where}.${key}`);
    if (xs.length === 0) fail('CONFIG', `${where}.${key}: needs at least one value`);
    out = out.flatMap((o) => xs.map((x) => ({ ...o, [key]: x })));
  }
  return out;
}

const valueLabel = (x: unknown): string => String(x).replace(/[^A-Za-z0-9_.+-]/g, '_');

function settings(raw: Record<string, unknown>, where: string): StudySetting[] | undefined {
  const out: StudySetting[] = [];
  if (raw.settings !== undefined) {
    list(raw.settings, `${where}settings`).forEach((s, i) => {
      const w = `${where}settings[${i}]`;
      const m = mapping(s, w);
      checkKeys(m, ['label', 'stream', 'replay'], `${w}: unknown key`);
      const label = text(m.label, `${w}.label`);
      if (!isSafeId(label)) fail('CONFIG', `${w}.label: "${label}" ${SAFE_ID_RULE}`);
      out.push({
        label,
        stream: m.stream === undefined ? undefined : stream(m.stream, `${w}.stream`),
        replay: m.replay === undefined ? undefined : replay(m.replay, `${w}.replay`),
      });
    });
  }
  if (raw.sweep !== undefined) {
    const w = `${where}sweep`;
    const grid = stream(raw.sweep, w);
    for (const point of product(grid as Record<string, unknown>, w)) {
      out.push({
        label: Object.entries(point)
          .map(([k, v]) => `${k}${valueLabel(v)}`)
          .join('-'),
        stream: point as Partial<SyntheticConfig>,
      });
    }
  }
  return out.length > 0 ? out : undefined;
}

function methods(v: unknown, where: string): string[] {
  const out: string[] = [];
  list(v, where).forEach((m, i) => {
    const w = `${where}[${i}]`;
    if (typeof m === 'string' && m.startsWith('@')) {
      const group = own(METHOD_GROUPS, m.slice(1));
      if (!group)
        fail(
          'CONFIG',
          `${w}: unknown method group "${m}" (known: ${Object.keys(METHOD_GROUPS)
            .map((g) => `@${g}`)
            .join(', ')})`,
        );
      out.push(...group());
    } else if (typeof m === 'string') {
      at(w, () => parseMethod(m));
      out.push(m);
    } else {
      const g = mapping(m, w);
      checkKeys(g, ['init', 'deploy'], `${w}: unknown key`);
      const inits = list(g.init, `${w}.init`).map((x, j) => text(x, `${w}.init[${j}]`));
      const deploys = list(g.deploy, `${w}.deploy`).map((x, j) => text(x, `${w}.deploy[${j}]`));
      for (const a of inits) {
        for (const b of deploys) {
          at(w, () => parseMethod(`${a}+${b}`));
          out.push(`${a}+${b}`);
        }
      }
    }
  });
  if (out.length === 0) fail('CONFIG', `${where}: needs at least one method`);
  return out;
}

function techniques(v: unknown, where: string): TechniqueChoice[] {
  const out: TechniqueChoice[] = [];
  list(v, where).forEach((t, i) => {
    const w = `${where}[${i}]`;
    if (typeof t === 'string' && t.startsWith('@')) {
      const group = own(TECHNIQUE_GROUPS, t.slice(1));
      if (!group)
        fail(
          'CONFIG',
          `${w}: unknown technique group "${t}" (known: ${Object.keys(TECHNIQUE_GROUPS)
            .map((g) => `@${g}`)
            .join(', ')})`,
        );
      out.push(...group);
      return;
    }
    if (typeof t === 'string') {
      out.push({ name: at(w, () => getTechnique(t)).name });
      return;
    }
    const m = mapping(t, w);
    checkKeys(m, ['name', 'label', 'params', 'grid'], `${w}: unknown key`);
    const tech = at(`${w}.name`, () => getTechnique(text(m.name, `${w}.name`)));
    const params = m.params === undefined ? {} : mapping(m.params, `${w}.params`);
    const points = m.grid === undefined ? [{}] : product(mapping(m.grid, `${w}.grid`), `${w}.grid`);
    for (const point of points) {
      const merged = { ...params, ...point };
      at(m.grid === undefined ? `${w}.params` : `${w}.grid`, () => tech.parse(merged));
      const suffix = Object.entries(point)
        .map(([k, x]) => `${k}:${valueLabel(x)}`)
        .join(':');
      const base = m.label === undefined ? tech.name : text(m.label, `${w}.label`);
      const label = suffix ? `${base}:${suffix}` : base;
      if (!isSafeId(label)) fail('CONFIG', `${w}.label: "${label}" ${SAFE_ID_RULE}`);
      out.push({
        name: tech.name,
        ...(label !== tech.name ? { label } : {}),
        ...(Object.keys(merged).length ? { params: merged } : {}),
      });
    }
  });
  if (out.length === 0) fail('CONFIG', `${where}: needs at least one technique`);
  const labels = out.map((t) => t.label ?? t.name);
  const dup = labels.find((l, i) => labels.indexOf(l) !== i);
  if (dup) fail('CONFIG', `${where}: technique "${dup}" appears twice (give one a label)`);
  return out;
}

function baselines(v: unknown, where: string): Baseline[] {
  return list(v, where).map((b, i) => {
    if (!(BASELINES as readonly unknown[]).includes(b))
      fail('CONFIG', `${where}[${i}]: unknown baseline ${JSON.stringify(b)} (known: ${BASELINES.join(', ')})`);
    return b as Baseline;
  });
}

/** The grid parts a study and its `quick` block share. */
function gridParts(raw: Record<string, unknown>, where: string): Partial<Study> {
  const out: Record<string, unknown> = {};
  if (raw.stream !== undefined) out.stream = stream(raw.stream, `${where}stream`);
  const s = settings(raw, where);
  if (s) out.settings = s;
  if (raw.methods !== undefined) out.methods = methods(raw.methods, `${where}methods`);
  if (raw.techniques !== undefined) out.techniques = techniques(raw.techniques, `${where}techniques`);
  if (raw.seeds !== undefined) out.seeds = seeds(raw.seeds, `${where}seeds`);
  if (raw.baselines !== undefined) out.baselines = baselines(raw.baselines, `${where}baselines`);
  return out as Partial<Study>;
}

/** Every setting's stream resolves (the world can be built): errors name the setting. */
function checkStreams(study: Study, source: string): void {
  const points = study.settings?.length ? study.settings : [{ label: 'default' }];
  points.forEach((s, i) =>
    at(`${source}: ${study.settings?.length ? `settings[${i}] (${s.label})` : 'stream'}`, () =>
      resolveSyntheticConfig({ ...study.stream, ...(s.stream ?? {}) }),
    ),
  );
}

/** Parses and validates study-file text; `source` names the file in every message. */
export function parseStudyFile(content: string, source: string): Study {
  const raw = parseConfigMapping(
    content,
    formatOf(source),
    source,
    'a study file must be a mapping (name, methods, techniques, seeds, ...)',
  );
  checkKeys(raw, TOP_KEYS, `${source}: unknown key`);
  const where = `${source}: `;
  const name =
    raw.name === undefined ? basename(source).replace(/\.(ya?ml|json)$/i, '') : text(raw.name, `${where}name`);
  if (!isSafeId(name)) fail('CONFIG', `${where}name: "${name}" ${SAFE_ID_RULE}`);
  if (raw.methods === undefined)
    fail('CONFIG', `${where}methods: missing (a list of methods, e.g. [finetune, ema_paint])`);
  const parts = gridParts(raw, where);
  let quick: Study['quick'];
  if (raw.quick !== undefined) {
    const q = mapping(raw.quick, `${where}quick`);
    checkKeys(q, QUICK_KEYS, `${where}quick: unknown key`);
    quick = gridParts(q, `${where}quick.`);
  }
  const findings =
    raw.findings === undefined
      ? []
      : list(raw.findings, `${where}findings`).map((f, i) => {
          if (!(FINDING_IDS as readonly unknown[]).includes(f))
            fail(
              'CONFIG',
              `${where}findings[${i}]: unknown finding ${JSON.stringify(f)} (known: ${FINDING_IDS.join(', ')})`,
            );
          return f as FindingId;
        });
  const study: Study = {
    name,
    description: raw.description === undefined ? '' : text(raw.description, `${where}description`),
    stream: parts.stream ?? {},
    ...(parts.settings ? { settings: parts.settings } : {}),
    methods: parts.methods!,
    techniques: parts.techniques ?? [{ name: 'weighted-average' }],
    seeds: parts.seeds ?? [0],
    baselines: parts.baselines ?? [],
    ...(raw.replay !== undefined ? { replay: replay(raw.replay, `${where}replay`) } : {}),
    ...(raw.multitaskMix !== undefined ? { multitaskMix: replay(raw.multitaskMix, `${where}multitaskMix`) } : {}),
    ...(raw.seed !== undefined ? { seed: seeds(raw.seed, `${where}seed`)[0] } : {}),
    findings,
    ...(quick ? { quick } : {}),
  };
  checkStreams(study, source);
  if (quick)
    checkStreams({ ...study, ...quick, stream: { ...study.stream, ...(quick.stream ?? {}) } }, `${source} (quick)`);
  return study;
}

/** Reads a study file; an unreadable file is an IO error naming it. */
export function loadStudyFile(path: string): Study {
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    throw new TimeMergeError('IO', `${path}: cannot read study file: ${reason}`, { cause: e });
  }
  return parseStudyFile(content, path);
}
