import { killLiveChildren } from '../params/live-children.js';
import { removeLiveTemporaries } from '../params/safetensors/writer.js';
import { liveStudy } from '../study/live-study.js';

/** Synchronous clean-ups to run if the process is interrupted (lock files to release, ...). */
const cleanups = new Set<() => void>();

/** Registers a clean-up for SIGINT/SIGTERM; returns the function that unregisters it. */
export function onInterrupt(cleanup: () => void): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/** The shell's status for a command ended by `signal`: 128 + its number (130 for Ctrl-C, 143 for SIGTERM). */
export function interruptedStatus(signal: 'SIGINT' | 'SIGTERM'): number {
  return signal === 'SIGINT' ? 130 : 143;
}

/** What an interrupted command says it kept, and how to go on. */
export function interruptMessage(removed: readonly string[]): string {
  const study = liveStudy();
  if (study)
    return `interrupted: ${study.finished()} of ${study.total} runs kept in ${study.dir}; rerun the same command to resume`;
  if (removed.length > 0)
    return `interrupted: removed the unfinished ${removed.join(', ')}; nothing else was written; rerun the same command`;
  return 'interrupted; rerun the same command';
}

/**
 * On the first SIGINT or SIGTERM: runs the registered clean-ups (locks), stops child processes (torch
 * workers, external trainers), removes the temporary files of unfinished writes, says what was kept, and
 * exits at once with 128 + the signal's number; process.exit ends the worker threads. Runs already
 * finished are in the study's journal, so a rerun resumes from them. A second signal while the first is
 * handled exits without another word.
 */
export function installInterruptHandlers(): void {
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      const status = interruptedStatus(signal);
      if (interrupted) process.exit(status);
      interrupted = true;
      for (const cleanup of cleanups) {
        try {
          cleanup();
        } catch {
          // Keep going: the other clean-ups still matter.
        }
      }
      killLiveChildren('SIGTERM');
      const removed = removeLiveTemporaries();
      // A progress bar hid the cursor and switched off line wrapping: give the terminal back first.
      const tty = process.stderr.isTTY === true;
      process.stderr.write(`${tty ? '\x1b[?25h\x1b[?7h\n' : ''}time-merge: ${interruptMessage(removed)}\n`);
      process.exit(status);
    });
  }
}
