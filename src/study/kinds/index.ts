import type { ExecutedGridRun, GridRun, RunExecutor } from '../driver.js';

/** How many runs of a study go at once: `count` slots, or with `gpus` one slot per GPU. */
export interface SlotPlan {
  readonly count: number;
  /** GPU ordinals, one per slot (count is their number): a run never shares its GPU. */
  readonly gpus?: readonly number[];
}

/**
 * A kind of run: given what its study set up (a world, a CLIP checkpoint and data, external commands),
 * it builds the Trainer and Evaluator of each slot and executes runs on them. The driver
 * (src/study/driver.ts) does the rest, the same for every kind.
 */
export interface RunKind<C, R extends GridRun, O extends ExecutedGridRun = ExecutedGridRun> {
  readonly name: string;
  open(context: C, slots: SlotPlan): Promise<RunExecutor<R, O>>;
}

/**
 * The run kinds of this layer, loaded when used. CLIP's kinds sit above it (src/clip/kinds): the study
 * layer knows Trainer and Evaluator interfaces, never CLIP.
 */
export const RUN_KINDS = {
  synthetic: async () => (await import('./synthetic.js')).syntheticKind,
  external: async () => (await import('./external.js')).externalKind,
} as const;

export type RunKindName = keyof typeof RUN_KINDS;

/** The environment of a slot's processes: its GPU as their only visible device. */
export function slotEnv(slots: SlotPlan, slot: number): Record<string, string> | undefined {
  return slots.gpus ? { CUDA_VISIBLE_DEVICES: String(slots.gpus[slot]) } : undefined;
}

/** Prefixes a slot's log lines with its GPU or worker when several runs go at once. */
export function slotLog(slots: SlotPlan, slot: number, log: (msg: string) => void): (msg: string) => void {
  if (slots.count <= 1) return log;
  const label = slots.gpus ? `gpu ${slots.gpus[slot]}` : `worker ${slot + 1}`;
  return (msg) => log(`[${label}] ${msg}`);
}
