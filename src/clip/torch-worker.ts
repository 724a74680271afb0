import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fail } from '../params/errors.js';
import { TORCH_ENGINE_DIR } from './engine.js';
import { trackChild } from '../params/live-children.js';

/** A progress line the worker sends while it trains. */
export interface WorkerProgress {
  readonly step: number;
  readonly steps: number;
  readonly loss: number;
  readonly lr: number;
  readonly imagesPerSecond: number;
}

interface Pending {
  readonly cmd: string;
  readonly resolve: (v: Record<string, unknown>) => void;
  readonly reject: (e: Error) => void;
  readonly onProgress?: (p: WorkerProgress) => void;
}

const TAIL_LINES = 20;

/**
 * The torch engine's process (engines/torch, `python -m time_merge_torch.worker`): one per run, commands
 * as JSON lines on stdin, replies on stdout, its stderr to the run's log. A command that fails, or a
 * worker that exits, is an error naming the command, with the worker's last stderr lines.
 */
export class TorchWorker {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly tail: string[] = [];
  private exited: string | null = null;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly python: string,
    log: (msg: string) => void,
  ) {
    createInterface({ input: child.stdout }).on('line', (line) => this.onLine(line));
    createInterface({ input: child.stderr }).on('line', (line) => {
      this.tail.push(line);
      if (this.tail.length > TAIL_LINES) this.tail.shift();
      log(`  torch: ${line}`);
    });
    // Writing to a worker that has stopped reading fails with EPIPE; its 'close' event then fails what is
    // pending with the worker's exit and last lines, so the write error itself says nothing more.
    child.stdin.on('error', () => {});
    child.on('error', (e) => this.onExit(`could not be started (${(e as NodeJS.ErrnoException).code ?? e.message})`));
    child.on('close', (code, signal) => this.onExit(signal ? `was killed by ${signal}` : `exited with code ${code}`));
  }

  /** `env` is added to the worker's environment (CUDA_VISIBLE_DEVICES for the GPU of its run slot). */
  static start(
    python: string,
    log: (msg: string) => void = () => {},
    extraEnv: Readonly<Record<string, string>> = {},
  ): TorchWorker {
    const env = {
      ...process.env,
      ...extraEnv,
      PYTHONPATH: [TORCH_ENGINE_DIR, process.env.PYTHONPATH].filter(Boolean).join(':'),
      PYTHONUNBUFFERED: '1',
    };
    const child = spawn(python, ['-m', 'time_merge_torch.worker'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    trackChild(child); // stopped when the command is interrupted
    return new TorchWorker(child, python, log);
  }

  /** Sends one command and waits for its reply (the fields besides id and ok). */
  request(
    cmd: string,
    body: Record<string, unknown> = {},
    onProgress?: (p: WorkerProgress) => void,
  ): Promise<Record<string, unknown>> {
    if (this.exited !== null) return Promise.reject(this.error(cmd, `the worker ${this.exited}`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { cmd, resolve, reject, onProgress });
      this.child.stdin.write(`${JSON.stringify({ ...body, cmd, id })}\n`);
    });
  }

  /** Asks the worker to quit and waits for it to exit. */
  async close(): Promise<void> {
    if (this.exited !== null) return;
    const done = new Promise<void>((resolve) => this.child.once('close', () => resolve()));
    await this.request('quit').catch(() => {});
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await done;
    clearTimeout(timer);
  }

  private error(cmd: string, what: string): Error {
    const tail = this.tail.length ? `; its last lines:\n${this.tail.map((l) => `  ${l}`).join('\n')}` : '';
    try {
      fail('PIPELINE', `torch worker (${this.python}): "${cmd}" failed: ${what}${tail}`);
    } catch (e) {
      return e as Error;
    }
  }

  private onLine(line: string): void {
    let msg: { id?: number; ok?: boolean; error?: string; event?: string } & Record<string, unknown>;
    try {
      msg = JSON.parse(line);
    } catch {
      this.tail.push(`(stdout) ${line}`);
      return;
    }
    const p = msg.id === undefined ? undefined : this.pending.get(msg.id);
    if (!p) return;
    if (msg.event === 'progress') {
      p.onProgress?.(msg as unknown as WorkerProgress);
      return;
    }
    this.pending.delete(msg.id as number);
    if (msg.ok) p.resolve(msg);
    else p.reject(this.error(p.cmd, msg.error ?? 'no reason given'));
  }

  private onExit(what: string): void {
    if (this.exited !== null) return;
    this.exited = what;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      if (p.cmd === 'quit') p.resolve({});
      else p.reject(this.error(p.cmd, `the worker ${what}`));
    }
  }
}
