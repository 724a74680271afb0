import { spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fail, TimeMergeError } from '../params/errors.js';
import type { ParamSet } from '../params/paramset.js';
import { readSafetensors, writeSafetensors } from '../params/safetensors/index.js';
import type { Evaluator, Task, Trainer, TrainRequest, TrainResult } from './types.js';
import { trackChild } from '../params/live-children.js';
import { hasOwnKey } from '../params/own.js';

/**
 * Command templates are split into words like a shell would (whitespace, '...' and "..." quoting) and
 * then each {placeholder} is replaced inside its word, so a value with spaces stays one argument and
 * nothing is ever interpreted by a shell.
 */
export function splitCommand(template: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (const ch of template) {
    if (quote) {
      if (ch === quote) quote = null;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quote) fail('CONFIG', `command template ${JSON.stringify(template)}: unclosed ${quote} quote`);
  if (inWord) words.push(cur);
  if (words.length === 0) fail('CONFIG', 'command template is empty');
  return words;
}

/** Replaces {name} in every word; an unknown placeholder is a CONFIG error naming it. */
export function fillTemplate(
  words: readonly string[],
  values: Readonly<Record<string, string>>,
  what: string,
): string[] {
  return words.map((w) =>
    w.replace(/\{([A-Za-z_]+)\}/g, (_, name: string) => {
      if (!hasOwnKey(values, name))
        fail(
          'CONFIG',
          `${what}: unknown placeholder {${name}} (known: ${Object.keys(values)
            .map((k) => `{${k}}`)
            .join(', ')})`,
        );
      return values[name];
    }),
  );
}

/** How a task is named on a command line: its data when that is a string (a path, a dataset name), else JSON. */
function taskData(t: Task): string {
  return typeof t.data === 'string' ? t.data : JSON.stringify(t.data ?? null);
}

export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
}

const TAIL = 2000;

/** Runs argv without a shell; a non-zero exit (or a signal, or a timeout) is a PIPELINE error with the stderr tail. */
export function runCommand(
  argv: readonly string[],
  what: string,
  options: { cwd?: string; timeoutMs?: number; env?: Readonly<Record<string, string>> } = {},
): Promise<CommandResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(argv[0], argv.slice(1), {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs,
    });
    trackChild(child); // stopped when the command is interrupted
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.length > 8 * TAIL) stderr = stderr.slice(-4 * TAIL);
    });
    child.on('error', (e) =>
      reject(new TimeMergeError('PIPELINE', `${what}: cannot start "${argv[0]}": ${e.message}`, { cause: e })),
    );
    child.on('close', (code, signal) => {
      if (code === 0) return resolvePromise({ stdout, stderr });
      const how = code !== null ? `exited with code ${code}` : `was stopped by ${signal}`;
      const tail = stderr.trim().slice(-TAIL);
      reject(
        new TimeMergeError(
          'PIPELINE',
          `${what}: \`${argv.join(' ')}\` ${how}${tail ? `; stderr:\n${tail}` : ' (no stderr)'}`,
        ),
      );
    });
  });
}

/** The placeholders a trainer command template may use (see ExternalTrainerOptions.command). */
export const TRAINER_PLACEHOLDERS = [
  'init',
  'out',
  'task',
  'data',
  'previous',
  'seed',
  'steps',
  'replay',
  'call',
] as const;
/** The placeholders an evaluator command template may use (see ExternalEvaluatorOptions.command). */
export const EVALUATOR_PLACEHOLDERS = ['weights', 'tasks', 'data', 'call'] as const;

/** Splits a template and checks its placeholders, so a typo fails when the run is set up, not mid-run. */
function checkedWords(template: string, names: readonly string[], what: string): string[] {
  const words = splitCommand(template);
  fillTemplate(words, Object.fromEntries(names.map((n) => [n, ''])), what);
  return words;
}

export interface ExternalTrainerOptions {
  /**
   * e.g. `python train.py --init {init} --task {task} --out {out} --seed {seed} --steps {steps}`.
   * Placeholders: {init} {out} (safetensors paths), {task} (task ids, comma-separated for multitask),
   * {data} (the task's data: a string as is, else JSON; several tasks: a JSON array), {previous}
   * (earlier task ids, comma-separated), {seed}, {steps}, {replay} (pretrain,current,buffer), {call}.
   */
  readonly command: string;
  /** Where init and expert files are exchanged; created if missing. */
  readonly workDir: string;
  readonly cwd?: string;
  readonly timeoutMs?: number;
  /** Added to the program's environment (e.g. CUDA_VISIBLE_DEVICES for the run's GPU). */
  readonly env?: Readonly<Record<string, string>>;
  /** Keep the exchanged files (default: removed once the expert is read). */
  readonly keepFiles?: boolean;
}

/**
 * A Trainer that runs any program: it writes the init weights to a safetensors file, runs the command,
 * and reads the expert the program wrote to {out} (same tensor names and shapes as the init). The
 * number of steps taken is the request's unless the program's last stdout line is JSON {"steps": n}.
 */
export class ExternalTrainer implements Trainer {
  private readonly words: string[];
  private calls = 0;

  constructor(private readonly options: ExternalTrainerOptions) {
    this.words = checkedWords(options.command, TRAINER_PLACEHOLDERS, 'external trainer');
  }

  async train(req: TrainRequest): Promise<TrainResult> {
    const call = ++this.calls;
    const dir = resolve(this.options.workDir);
    await mkdir(dir, { recursive: true });
    const init = join(dir, `init-${call}.safetensors`);
    const out = join(dir, `expert-${call}.safetensors`);
    await rm(out, { force: true });
    await writeSafetensors(init, req.init, { dtype: 'F32' });
    const ids = req.tasks.map((t) => t.id).join(',');
    const values: Record<string, string> = {
      init,
      out,
      task: ids,
      data: req.tasks.length === 1 ? taskData(req.tasks[0]) : JSON.stringify(req.tasks.map((t) => t.data ?? null)),
      previous: req.previous.map((t) => t.id).join(','),
      seed: String(req.seed),
      steps: String(req.steps),
      replay: `${req.replay.pretrain},${req.replay.current},${req.replay.buffer}`,
      call: String(call),
    };
    const what = `external trainer (task ${ids})`;
    const argv = fillTemplate(this.words, values, 'external trainer');
    try {
      const { stdout } = await runCommand(argv, what, {
        cwd: this.options.cwd,
        timeoutMs: this.options.timeoutMs,
        env: this.options.env,
      });
      let weights: ParamSet;
      try {
        weights = await readSafetensors(out);
      } catch (e) {
        throw new TimeMergeError(
          'PIPELINE',
          `${what}: the command succeeded but its output ${out} cannot be read: ${(e as Error).message}`,
          { cause: e },
        );
      }
      return { weights, steps: reportedSteps(stdout) ?? req.steps };
    } finally {
      if (!this.options.keepFiles) {
        await rm(init, { force: true });
        await rm(out, { force: true });
      }
    }
  }
}

function lastLine(text: string): string | undefined {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines[lines.length - 1];
}

function reportedSteps(stdout: string): number | undefined {
  const line = lastLine(stdout);
  if (!line?.startsWith('{')) return undefined;
  try {
    const v = JSON.parse(line) as { steps?: unknown };
    return typeof v.steps === 'number' && Number.isInteger(v.steps) && v.steps >= 0 ? v.steps : undefined;
  } catch {
    return undefined;
  }
}

export interface ExternalEvaluatorOptions {
  /**
   * e.g. `python eval.py --weights {weights} --tasks {tasks}`. Placeholders: {weights} (safetensors
   * path), {tasks} (task ids, comma-separated), {data} (JSON array of the tasks' data), {call}.
   * The program prints JSON on stdout (the whole output, or its last line): an array of scores in task
   * order, or an object mapping task id -> score.
   */
  readonly command: string;
  readonly workDir: string;
  readonly cwd?: string;
  readonly timeoutMs?: number;
  /** Added to the program's environment (e.g. CUDA_VISIBLE_DEVICES for the run's GPU). */
  readonly env?: Readonly<Record<string, string>>;
  readonly keepFiles?: boolean;
}

export class ExternalEvaluator implements Evaluator {
  private readonly words: string[];
  private calls = 0;

  constructor(private readonly options: ExternalEvaluatorOptions) {
    this.words = checkedWords(options.command, EVALUATOR_PLACEHOLDERS, 'external evaluator');
  }

  async evaluate(weights: ParamSet, tasks: readonly Task[]): Promise<number[]> {
    const call = ++this.calls;
    const dir = resolve(this.options.workDir);
    await mkdir(dir, { recursive: true });
    const path = join(dir, `eval-${call}.safetensors`);
    await writeSafetensors(path, weights, { dtype: 'F32' });
    const values = {
      weights: path,
      tasks: tasks.map((t) => t.id).join(','),
      data: JSON.stringify(tasks.map((t) => t.data ?? null)),
      call: String(call),
    };
    try {
      const { stdout } = await runCommand(
        fillTemplate(this.words, values, 'external evaluator'),
        'external evaluator',
        { cwd: this.options.cwd, timeoutMs: this.options.timeoutMs, env: this.options.env },
      );
      return parseScores(stdout, tasks);
    } finally {
      if (!this.options.keepFiles) await rm(path, { force: true });
    }
  }
}

/** Scores from an evaluator's stdout: a JSON array in task order or an object keyed by task id. */
export function parseScores(stdout: string, tasks: readonly Task[]): number[] {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    try {
      doc = JSON.parse(lastLine(stdout) ?? '');
    } catch {
      fail('PIPELINE', `external evaluator: stdout is not JSON scores: ${JSON.stringify(stdout.slice(-200))}`);
    }
  }
  let scores: unknown[];
  if (Array.isArray(doc)) scores = doc;
  else if (doc && typeof doc === 'object') {
    const byId = doc as Record<string, unknown>;
    scores = tasks.map((t) => {
      if (!hasOwnKey(byId, t.id)) fail('PIPELINE', `external evaluator: no score for task "${t.id}"`);
      return byId[t.id];
    });
  } else
    return fail(
      'PIPELINE',
      `external evaluator: expected a JSON array or object of scores, got ${JSON.stringify(doc)}`,
    );
  if (scores.length !== tasks.length)
    fail('PIPELINE', `external evaluator: ${scores.length} scores for ${tasks.length} tasks`);
  return scores.map((s, i) => {
    if (typeof s !== 'number' || !Number.isFinite(s))
      fail('PIPELINE', `external evaluator: score for task "${tasks[i].id}" is ${JSON.stringify(s)}, not a number`);
    return s;
  });
}
