import type { ChildProcess } from 'node:child_process';

/** Child processes this process started that are still running (torch workers, external trainers). */
const live = new Set<ChildProcess>();

/**
 * Follows a child process until it exits, so that an interrupted command can stop it
 * (killLiveChildren) instead of leaving it running, orphaned, after the command has exited.
 */
export function trackChild(child: ChildProcess): ChildProcess {
  if (child.exitCode !== null || child.signalCode !== null) return child;
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.once('error', () => live.delete(child));
  return child;
}

/** Sends `signal` to every live child process (synchronously; for a signal handler); returns how many. */
export function killLiveChildren(signal: NodeJS.Signals = 'SIGTERM'): number {
  let n = 0;
  for (const child of live) {
    try {
      if (child.kill(signal)) n++;
    } catch {
      // Gone already.
    }
  }
  live.clear();
  return n;
}
