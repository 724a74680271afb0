import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/**
 * Runs the CLI as a person does: `node bin/time-merge.js ARGS` from the bundle in dist/ (built by the
 * test setup, test/build-dist.ts), either piped (stdout and stderr apart, neither a terminal) or under a
 * pseudo-terminal made by util-linux `script`, where stdin, stdout and stderr are one terminal and a
 * written Ctrl-C (\x03) reaches the command as the terminal's SIGINT.
 */

export const ROOT = join(import.meta.dirname, '..');
export const BIN = join(ROOT, 'bin', 'time-merge.js');

/** util-linux `script` (`script -qec CMD FILE`); BSD's takes other options, so only util-linux counts. */
export const HAVE_PTY = (() => {
  const r = spawnSync('script', ['--version'], { encoding: 'utf8' });
  return r.status === 0 && /util-linux/.test(r.stdout);
})();

export interface CliResult {
  /** Exit status (128 + signal number when a signal ended it, as the shell reports it). */
  readonly code: number;
  readonly stdout: string;
  /** Piped: stderr. Under a terminal, stdout and stderr are one stream: `stdout` holds both, this is ''. */
  readonly stderr: string;
}

export interface CliOptions {
  /** Under a pseudo-terminal (default: piped). */
  readonly tty?: boolean;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** A running CLI: its output so far, a way to wait for text, to type into it or signal it, and its end. */
export interface CliProcess {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves when the output so far matches `re` (rejects if the process ends first). */
  waitFor(re: RegExp): Promise<void>;
  /** Under a terminal: types Ctrl-C (the terminal sends SIGINT to the command). Piped: sends SIGINT. */
  interrupt(): void;
  readonly done: Promise<CliResult>;
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

export function startCli(args: readonly string[], options: CliOptions = {}): CliProcess {
  const env = { ...process.env, ...options.env };
  // The test runner's own settings would change what the command prints.
  for (const k of ['FORCE_COLOR', 'NO_COLOR', 'CI', 'VITEST', 'VITEST_WORKER_ID', 'NODE_OPTIONS']) delete env[k];
  const cwd = options.cwd ?? ROOT;
  const child = options.tty
    ? // A terminal of 100 x 30 (a pty made without one has no size); exec, so Ctrl-C reaches node directly.
      spawn(
        'script',
        ['-qec', `stty cols 100 rows 30; exec ${[process.execPath, BIN, ...args].map(quote).join(' ')}`, '/dev/null'],
        { cwd, env: { ...env, TERM: 'xterm' }, stdio: ['pipe', 'pipe', 'pipe'] },
      )
    : spawn(process.execPath, [BIN, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString('utf8');
    for (const l of listeners) l();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
    for (const l of listeners) l();
  });
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      for (const l of listeners) l();
      resolve({ code: code ?? 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 9), stdout, stderr });
    });
  });
  let ended = false;
  void done.then(() => {
    ended = true;
  });
  return {
    child,
    output: () => stdout + stderr,
    waitFor(re) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (re.test(stdout + stderr)) {
            listeners.delete(check);
            resolve();
          } else if (ended) {
            listeners.delete(check);
            reject(new Error(`ended before printing ${re}:\n${stdout}${stderr}`));
          }
        };
        listeners.add(check);
        void done.then(check);
        check();
      });
    },
    interrupt() {
      if (options.tty) child.stdin?.write('\x03');
      else child.kill('SIGINT');
    },
    done,
  };
}

/** Runs the CLI to its end. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return startCli(args, options).done;
}

/** Terminal control sequences (cursor moves, line erases): what a progress bar draws with. */
export const CONTROL = /\x1b\[[0-9;?]*[A-Za-z]/;

/** Text without terminal control sequences and carriage returns. */
export function plain(text: string): string {
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]/g, '').replaceAll('\r', '');
}

/** What a crash prints: a JavaScript stack frame or an uncaught error's name. */
export const STACK = /^\s+at .+[(:]\d+|\b(TypeError|ReferenceError|RangeError|SyntaxError)\b|node:internal/m;

/** A study small enough to run in about a second on 2 threads. */
export const TINY_STUDY = `name: tiny
description: A tiny study for the CLI tests.
methods: [finetune, offline_merge]
techniques: [weighted-average]
seeds: [0, 1]
stream: { T: 4, datasets: 2, stepsPerTask: 10, pretrainSteps: 100, zeroshotTasks: 1, d: 16, k: 8 }
`;
