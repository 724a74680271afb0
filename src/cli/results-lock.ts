import { readdirSync, readFileSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fail } from '../params/errors.js';
import { onInterrupt } from './interrupt.js';

interface Holder {
  pid: number;
  host: string;
  command: string;
  started: string;
}

/**
 * The lock file of a results folder: a hidden sibling (`results/.default.lock`), so replacing the
 * folder by a finished copy leaves it in place. Shards of one study lock separately: job arrays run
 * them into one folder at once, and each writes its own files.
 */
export function lockPathOf(folder: string, shard?: string): string {
  const dir = resolve(folder);
  return join(dirname(dir), `.${basename(dir)}${shard ? `.${shard}` : ''}.lock`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(path: string): Holder | undefined {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as Holder;
    return typeof h.pid === 'number' ? h : undefined;
  } catch {
    return undefined;
  }
}

function existsDir(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/** `dir` and its parents up to and including `top` (what mkdir -p created), deepest first. */
function ancestorsUpTo(dir: string, top: string): string[] {
  const out: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    out.push(d);
    if (d === resolve(top) || dirname(d) === d) return out;
  }
}

/** Removes each folder of `dirs` (deepest first) that is empty; keeps the rest. */
function removeEmpty(dirs: readonly string[]): void {
  for (const d of dirs) {
    try {
      if (readdirSync(d).length === 0) rmdirSync(d);
    } catch {
      // Not there, or not empty: keep it.
    }
  }
}

/**
 * Runs `fn` holding the lock of a results folder, so two runs into one folder do not both do all the
 * work: a second run stops at once, naming the holder (pid, host, command, start time). A lock left by
 * a run that no longer exists on this host is taken over, and `onStale` says so. Released when `fn`
 * ends, and on SIGINT/SIGTERM.
 */
export async function withResultsLock<T>(
  folder: string,
  fn: () => Promise<T>,
  options: { shard?: string; onStale?: (message: string) => void } = {},
): Promise<T> {
  const path = lockPathOf(folder, options.shard);
  // The folders this run creates (its results folder's parents, and the folder itself, which the run
  // makes): removed again if the run ends with nothing in them (an error, an interruption before a run).
  const created = await mkdir(dirname(path), { recursive: true });
  const made = [
    ...(existsDir(folder) ? [] : [resolve(folder)]),
    ...(created ? ancestorsUpTo(dirname(path), created) : []),
  ];
  const me: Holder = {
    pid: process.pid,
    host: hostname(),
    command: `time-merge ${process.argv.slice(2).join(' ')}`.trim(),
    started: new Date().toISOString(),
  };
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(path, `${JSON.stringify(me)}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
    }
    const holder = readHolder(path);
    // An unreadable lock younger than a few seconds is most likely being written by a run starting now.
    if (!holder && Date.now() - statSync(path).mtimeMs < 5000)
      fail('CONFIG', `results folder ${folder} is in use by a run that is starting now (${path})`);
    if (holder && (holder.host !== me.host || alive(holder.pid))) {
      fail(
        'CONFIG',
        `results folder ${folder} is in use by another run: pid ${holder.pid} on ${holder.host} (${holder.command}, since ${holder.started}) holds ${path}. ` +
          `Wait for it, choose another --out, or delete ${path} if that run is gone`,
      );
    }
    options.onStale?.(
      `taking over ${path}, left by ${holder ? `pid ${holder.pid} (${holder.command}), which is no longer running` : 'a run that did not finish writing it'}`,
    );
    unlinkSync(path);
  }
  const release = () => {
    // Only our own lock: never one a later run took over.
    if (readHolder(path)?.pid === me.pid) unlinkSync(path);
    removeEmpty(made);
  };
  const unregister = onInterrupt(release);
  try {
    return await fn();
  } finally {
    unregister();
    try {
      release();
    } catch {
      // Already removed.
    }
  }
}
