import { readFileSync } from 'node:fs';

/** The study this process is running now, for the message of an interruption. */
export interface LiveStudy {
  /** The results folder its finished runs are kept in (journaled as each finishes). */
  readonly dir: string;
  readonly total: number;
  /**
   * Runs of this study (or shard) a rerun would keep now: those kept from earlier runs and those in
   * the journal, read from disk (synchronously, for a signal handler), so the count is what is there.
   */
  finished(): number;
}

let current: LiveStudy | undefined;

/** Marks `study` as the one running (undefined: none). */
export function setLiveStudy(study: LiveStudy | undefined): void {
  current = study;
}

export function liveStudy(): LiveStudy | undefined {
  return current;
}

/** Run ids of the complete lines of a journal (a line cut short by an interruption is not a run). */
export function journaledRunIds(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const lines = text.split('\n').slice(0, -1);
  return lines.flatMap((line) => {
    try {
      const id = (JSON.parse(line) as { runId?: unknown }).runId;
      return typeof id === 'string' ? [id] : [];
    } catch {
      return [];
    }
  });
}
