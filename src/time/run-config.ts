import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import {
  checkKeys,
  formatOf,
  isPlainObject,
  parseConfigMapping,
  readConfigText,
  type ConfigFormat,
} from '../merge/config-syntax.js';
import { fail, TimeMergeError } from '../params/errors.js';
import { showValue } from '../params/show-value.js';
import { EVALUATOR_PLACEHOLDERS, fillTemplate, splitCommand, TRAINER_PLACEHOLDERS } from './external.js';
import { checkMergeSettings } from './check-methods.js';
import { BASELINES, isBaseline, type Baseline } from './baselines.js';
import type { ReplayMix, Task, TaskStream } from './types.js';

/**
 * A `time-merge run` config: the TIME pipeline driven by external programs (any trainer and evaluator
 * that exchange safetensors files), e.g.
 *
 *   study: my-run
 *   base: base.safetensors                 # θ0; paths resolve against this file's directory
 *   tasks:                                 # the adaptation stream, in order
 *     - { id: cars, data: data/cars }      # data: handed to the programs as {data} (string as is, else JSON)
 *   zeroshot: [{ id: imagenet, data: data/imagenet }]   # evaluation-only tasks (A_ZS); optional
 *   trainer: { command: "python train.py --init {init} --task {task} --out {out} --seed {seed}", timeout: 3600 }
 *   evaluator: { command: "python eval.py --weights {weights} --tasks {tasks}" }
 *   method: ema_paint                      # or methods: [...]; a preset or <init>+<deploy>
 *   technique: weighted-average
 *   parameters: {}                         # the technique's parameters
 *   baselines: [zeroshot]                  # optional: zeroshot, continual, multitask
 *   steps: 100                             # optimiser steps per task, handed over as {steps}
 *   replay: { pretrain: 0, current: 1, buffer: 0 }
 *   seed: 0                                # or seeds: [0, 1]
 *   out: results/my-run                    # results folder
 *   store: experts                         # where experts are kept (default: <out>/experts)
 *   resume: true                           # record finished steps; a rerun skips them (default true)
 */
export interface ExternalRunConfig {
  readonly source: string;
  readonly study: string;
  readonly base: string;
  readonly stream: TaskStream<unknown>;
  readonly trainer: ExternalCommand;
  readonly evaluator: ExternalCommand;
  readonly methods: readonly string[];
  readonly technique: string;
  readonly parameters: Record<string, unknown>;
  readonly baselines: readonly Baseline[];
  readonly steps: number;
  readonly replay: ReplayMix;
  readonly seeds: readonly number[];
  readonly out: string;
  readonly store: string;
  readonly resume: boolean;
  /** Working directory of both programs: the config file's directory. */
  readonly cwd: string;
}

export interface ExternalCommand {
  readonly command: string;
  /** Milliseconds; undefined waits as long as the program runs. */
  readonly timeoutMs?: number;
}

const TOP_KEYS = [
  'study',
  'base',
  'tasks',
  'zeroshot',
  'trainer',
  'evaluator',
  'method',
  'methods',
  'technique',
  'parameters',
  'baselines',
  'steps',
  'replay',
  'seed',
  'seeds',
  'out',
  'store',
  'resume',
] as const;
const TASK_KEYS = ['id', 'data'] as const;
const COMMAND_KEYS = ['command', 'timeout'] as const;
const REPLAY_KEYS = ['pretrain', 'current', 'buffer'] as const;

/** Reads and validates a run config; relative paths in it resolve against its directory. */
export async function loadRunConfig(path: string, overrides: { out?: string } = {}): Promise<ExternalRunConfig> {
  const text = await readConfigText(path, 'run config');
  const stem = basename(path, extname(path));
  return parseRunConfig(text, {
    source: path,
    format: formatOf(path),
    baseDir: dirname(resolve(path)),
    defaultStudy: stem,
    ...overrides,
  });
}

/**
 * Parses config text and checks everything that can be checked before any program runs: keys, types,
 * task ids, command templates and their placeholders, every method name, the technique and its
 * parameters, the replay mix and the seeds.
 */
export function parseRunConfig(
  text: string,
  /** out: a results folder that replaces the config's (relative to the working directory). */
  options: { source?: string; format?: ConfigFormat; baseDir?: string; defaultStudy?: string; out?: string } = {},
): ExternalRunConfig {
  const source = options.source ?? '<inline>';
  const where = (what: string) => `${source}: ${what}`;
  const raw = parseConfigMapping(
    text,
    options.format,
    source,
    'a run config must be a mapping (base, tasks, trainer, evaluator, method, ...)',
  );
  checkKeys(raw, TOP_KEYS, where('unknown key'));
  const baseDir = options.baseDir ?? process.cwd();
  const path = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));

  const study = optionalString(raw, 'study', where) ?? options.defaultStudy ?? 'run';
  if (!/^[A-Za-z0-9_.-]+$/.test(study)) fail('CONFIG', where(`study "${study}" must be letters, digits, _ . or -`));
  const base = requiredString(raw, 'base', where, 'the path of the base (pre-trained) safetensors checkpoint');

  if (!Array.isArray(raw.tasks) || raw.tasks.length === 0)
    fail('CONFIG', where('tasks must be a non-empty list of adaptation tasks ({ id, data })'));
  if (raw.zeroshot !== undefined && !Array.isArray(raw.zeroshot))
    fail('CONFIG', where('zeroshot must be a list of evaluation-only tasks ({ id, data })'));
  const adaptation = raw.tasks.map((t, i) => parseTask(t, 'adaptation', where(`tasks[${i}]`)));
  const zeroshot = ((raw.zeroshot as unknown[] | undefined) ?? []).map((t, i) =>
    parseTask(t, 'zeroshot', where(`zeroshot[${i}]`)),
  );
  const ids = new Set<string>();
  for (const t of [...adaptation, ...zeroshot]) {
    if (ids.has(t.id)) fail('CONFIG', where(`task id "${t.id}" appears twice`));
    ids.add(t.id);
  }

  const trainer = parseCommand(raw.trainer, TRAINER_PLACEHOLDERS, where('trainer'));
  const evaluator = parseCommand(raw.evaluator, EVALUATOR_PLACEHOLDERS, where('evaluator'));

  if (raw.method !== undefined && raw.methods !== undefined)
    fail('CONFIG', where('give either method or methods, not both'));
  const methods = stringList(
    raw.methods ?? raw.method ?? 'ema_paint',
    where(raw.methods !== undefined ? 'methods' : 'method'),
  );
  const technique = optionalString(raw, 'technique', where) ?? 'weighted-average';
  const parameters = raw.parameters ?? {};
  if (!isPlainObject(parameters)) fail('CONFIG', where('parameters must be a mapping of technique parameters'));
  checkMergeSettings(
    source,
    { methods, technique, params: parameters, T: adaptation.length },
    { methods: raw.methods !== undefined ? 'methods' : 'method', technique: 'technique', params: 'parameters' },
  );
  const baselines = stringList(raw.baselines ?? [], where('baselines'), true);
  for (const b of baselines)
    if (!isBaseline(b)) fail('CONFIG', where(`unknown baseline "${b}" (known: ${BASELINES.join(', ')})`));

  const steps = raw.steps ?? 100;
  if (typeof steps !== 'number' || !Number.isSafeInteger(steps) || steps < 0)
    fail('CONFIG', where(`steps must be a non-negative integer, got ${showValue(raw.steps)}`));
  const replay = parseReplay(raw.replay, where('replay'));

  if (raw.seed !== undefined && raw.seeds !== undefined) fail('CONFIG', where('give either seed or seeds, not both'));
  const seedsRaw = raw.seeds ?? [raw.seed ?? 0];
  if (!Array.isArray(seedsRaw) || seedsRaw.length === 0)
    fail('CONFIG', where('seeds must be a non-empty list of non-negative integers'));
  for (const s of seedsRaw) {
    if (typeof s !== 'number' || !Number.isSafeInteger(s) || s < 0)
      fail('CONFIG', where(`seed must be a non-negative integer, got ${showValue(s)}`));
  }
  if (new Set(seedsRaw).size !== seedsRaw.length) fail('CONFIG', where('seeds lists a seed twice'));

  const out =
    options.out !== undefined
      ? resolve(options.out)
      : path(optionalString(raw, 'out', where) ?? join('results', study));
  const store = path(optionalString(raw, 'store', where) ?? join(out, 'experts'));
  const resume = raw.resume ?? true;
  if (typeof resume !== 'boolean') fail('CONFIG', where(`resume must be true or false, got ${showValue(raw.resume)}`));

  return {
    source,
    study,
    base: path(base),
    stream: { name: study, adaptation, zeroshot },
    trainer,
    evaluator,
    methods,
    technique,
    parameters,
    baselines: baselines as Baseline[],
    steps,
    replay,
    seeds: seedsRaw as number[],
    out,
    store,
    resume,
    cwd: baseDir,
  };
}

function requiredString(raw: Record<string, unknown>, key: string, where: (w: string) => string, what: string): string {
  const v = raw[key];
  if (typeof v !== 'string' || v === '') fail('CONFIG', where(`${key} is required: ${what}`));
  return v;
}

function optionalString(raw: Record<string, unknown>, key: string, where: (w: string) => string): string | undefined {
  const v = raw[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '')
    fail('CONFIG', where(`${key} must be a non-empty string, got ${showValue(v)}`));
  return v;
}

function stringList(v: unknown, where: string, allowEmpty = false): string[] {
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || !list.every((x) => typeof x === 'string' && x !== ''))
    fail('CONFIG', `${where} must be a name or a list of names`);
  if (!allowEmpty && list.length === 0) fail('CONFIG', `${where} must name at least one`);
  if (new Set(list).size !== list.length) fail('CONFIG', `${where} lists a name twice`);
  return list as string[];
}

function parseTask(raw: unknown, role: Task['role'], where: string): Task<unknown> {
  const task = typeof raw === 'string' ? { id: raw } : raw;
  if (!isPlainObject(task)) fail('CONFIG', `${where}: must be a task id or a mapping { id, data }`);
  checkKeys(task, TASK_KEYS, `${where}: unknown key`);
  // A bare id passes the same check as { id }: ids reach the evaluator comma-separated.
  if (typeof task.id !== 'string' || !/^[^,\s]+$/.test(task.id)) {
    fail(
      'CONFIG',
      `${where}: id must be a non-empty string without commas or spaces (ids are passed comma-separated), got ${showValue(task.id)}`,
    );
  }
  return { id: task.id, role, data: task.data ?? task.id };
}

function parseCommand(raw: unknown, placeholders: readonly string[], where: string): ExternalCommand {
  const spec = typeof raw === 'string' ? { command: raw } : raw;
  if (!isPlainObject(spec)) fail('CONFIG', `${where} is required: a command template (or { command, timeout })`);
  checkKeys(spec, COMMAND_KEYS, `${where}: unknown key`);
  if (typeof spec.command !== 'string' || spec.command.trim() === '')
    fail('CONFIG', `${where}.command must be a command template`);
  try {
    fillTemplate(splitCommand(spec.command), Object.fromEntries(placeholders.map((p) => [p, ''])), `${where}.command`);
  } catch (err) {
    if (err instanceof TimeMergeError)
      throw new TimeMergeError(
        err.code,
        err.message.startsWith(where) ? err.message : `${where}.command: ${err.message}`,
        { cause: err },
      );
    throw err;
  }
  const timeout = spec.timeout;
  if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout > 0) || !Number.isFinite(timeout))) {
    fail('CONFIG', `${where}.timeout must be a positive number of seconds, got ${showValue(timeout)}`);
  }
  return { command: spec.command, timeoutMs: timeout === undefined ? undefined : timeout * 1000 };
}

function parseReplay(raw: unknown, where: string): ReplayMix {
  if (raw === undefined) return { pretrain: 0, current: 1, buffer: 0 };
  if (!isPlainObject(raw)) fail('CONFIG', `${where} must be a mapping { pretrain, current, buffer }`);
  checkKeys(raw, REPLAY_KEYS, `${where}: unknown key`);
  const mix = { pretrain: raw.pretrain ?? 0, current: raw.current ?? 0, buffer: raw.buffer ?? 0 };
  for (const [k, v] of Object.entries(mix)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      fail('CONFIG', `${where}.${k} must be a non-negative number, got ${showValue(v)}`);
  }
  const m = mix as ReplayMix;
  if (m.pretrain + m.current + m.buffer <= 0) fail('CONFIG', `${where}: proportions sum to zero`);
  return m;
}
