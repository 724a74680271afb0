import type { FinalMetrics } from './metrics.js';

/** One evaluated step of a run: t = 0 is θ0 before any training, then 1..T. */
export interface StepRecord {
  readonly step: number;
  readonly aKa: number | null;
  readonly aZs: number | null;
  readonly gm: number | null;
  /** The accuracy-matrix row: scores on every adaptation task, then every zero-shot task (RunRecord.tasks order). */
  readonly scores: readonly number[];
  readonly trainSteps: number;
  readonly trainSeconds: number;
  /** Init and deploy merges of this step. */
  readonly mergeSeconds: number;
  readonly evalSeconds: number;
  /** Bytes read back from the checkpoint store during this step. */
  readonly bytesRead: number;
  /** Bytes written to the checkpoint store during this step. */
  readonly bytesStored: number;
}

export interface RunTotals {
  readonly trainSteps: number;
  readonly mergeSeconds: number;
  readonly bytesRead: number;
  readonly bytesStored: number;
  readonly wallSeconds: number;
}

/** Everything a run produced; results.ts turns it into CSV rows. */
export interface RunRecord {
  /** A preset name, `<init>+<deploy>`, or a baseline name (zeroshot, continual, multitask). */
  readonly method: string;
  /** Protocol labels with options (`merge-all:linear`, `ema:0.5`); '-' for baselines without one. */
  readonly init: string;
  readonly deploy: string;
  /** Registry name of the merge technique, '-' when the run merges nothing. */
  readonly technique: string;
  readonly seed: number;
  readonly T: number;
  readonly stream: string;
  readonly tasks: readonly { readonly id: string; readonly role: 'adaptation' | 'zeroshot' }[];
  readonly steps: readonly StepRecord[];
  readonly final: FinalMetrics & RunTotals;
}
