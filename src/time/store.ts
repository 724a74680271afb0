import { fail } from '../params/errors.js';
import type { ParamSet } from '../params/paramset.js';
import type { TensorSource } from '../params/source.js';

/** An expert opened for reading; close() releases file handles (a no-op in memory). */
export interface OpenedExpert {
  readonly source: TensorSource;
  close(): Promise<void> | void;
}

/**
 * The checkpoint store of the TIME loop: experts θs_1..θs_t by step. θ0 is not stored here (the
 * pipeline always holds it). Reads through open()/load() are counted in bytesRead (4 bytes per value
 * handed out), writes in bytesStored (bytes as stored).
 */
export interface CheckpointStore {
  readonly kind: 'memory' | 'disk';
  /** Steps held, ascending. */
  steps(): number[];
  put(step: number, expert: ParamSet): Promise<void>;
  open(step: number): Promise<OpenedExpert>;
  load(step: number): Promise<ParamSet>;
  readonly bytesRead: number;
  readonly bytesStored: number;
}

/** Counts the float32 bytes a source hands out. */
export function countingSource(src: TensorSource, count: (bytes: number) => void): TensorSource {
  return {
    label: src.label,
    tensorInfos: () => src.tensorInfos(),
    async read(name) {
      const data = await src.read(name);
      count(data.byteLength);
      return data;
    },
  };
}

export function checkStep(step: number): void {
  if (!Number.isInteger(step) || step < 1) fail('PIPELINE', `checkpoint store: step ${step} is not a positive integer`);
}

/** Experts kept as ParamSets; put() keeps a private copy, so later changes by the caller do not leak in. */
export class MemoryStore implements CheckpointStore {
  readonly kind = 'memory' as const;
  private readonly experts = new Map<number, ParamSet>();
  private read = 0;
  private stored = 0;

  get bytesRead(): number {
    return this.read;
  }

  get bytesStored(): number {
    return this.stored;
  }

  steps(): number[] {
    return [...this.experts.keys()].sort((a, b) => a - b);
  }

  async put(step: number, expert: ParamSet): Promise<void> {
    checkStep(step);
    const copy = expert.clone(`expert ${step}`);
    this.experts.set(step, copy);
    this.stored += copy.numel() * 4;
  }

  private get(step: number): ParamSet {
    const e = this.experts.get(step);
    if (!e)
      fail(
        'PIPELINE',
        `checkpoint store (memory): no expert for step ${step} (held: ${this.steps().join(', ') || 'none'})`,
      );
    return e;
  }

  async open(step: number): Promise<OpenedExpert> {
    const e = this.get(step);
    return { source: countingSource(e, (b) => (this.read += b)), close: () => undefined };
  }

  async load(step: number): Promise<ParamSet> {
    const e = this.get(step);
    this.read += e.numel() * 4;
    return e.clone();
  }
}
