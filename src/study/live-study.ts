/** The study this process is running now, for the message of an interruption. */
export interface LiveStudy {
  /** The results folder its finished runs are kept in (journaled as each finishes). */
  readonly dir: string;
  /** Runs of this study (or shard) finished so far, those kept from earlier runs included. */
  finished: number;
  readonly total: number;
}

let current: LiveStudy | undefined;

/** Marks `study` as the one running (undefined: none). */
export function setLiveStudy(study: LiveStudy | undefined): void {
  current = study;
}

export function liveStudy(): LiveStudy | undefined {
  return current;
}
