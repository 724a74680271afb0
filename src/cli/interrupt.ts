import { removeLiveTemporaries } from '../params/safetensors/writer.js';

/** Synchronous clean-ups to run if the process is interrupted (lock files to release, ...). */
const cleanups = new Set<() => void>();

/** Registers a clean-up for SIGINT/SIGTERM; returns the function that unregisters it. */
export function onInterrupt(cleanup: () => void): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/**
 * On SIGINT or SIGTERM: removes the temporary files of unfinished writes and runs the registered
 * clean-ups, then lets the signal end the process as it would have (so the exit status says which).
 */
export function installInterruptHandlers(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const cleanup of cleanups) {
        try {
          cleanup();
        } catch {
          // Keep going: the other clean-ups still matter.
        }
      }
      removeLiveTemporaries();
      process.kill(process.pid, signal);
    });
  }
}
