import { fail } from '../../params/errors.js';
import type { ExecutedRun } from '../execute.js';
import { ThreadPool } from '../pool.js';
import type { RunSpec } from '../types.js';
import type { RunKind } from './index.js';

export interface SyntheticContext {
  onStart?(spec: RunSpec, slot: number): void;
  onStep?(spec: RunSpec, slot: number, step: number, T: number): void;
}

/** Synthetic linear-model runs (src/synthetic): world, θ0 and the TIME loop, one worker thread per slot. */
export const syntheticKind: RunKind<SyntheticContext, RunSpec, ExecutedRun> = {
  name: 'synthetic',
  async open(context, slots) {
    if (slots.gpus)
      fail(
        'CONFIG',
        '--gpus: synthetic runs use no GPU (--gpus is for the torch engine and external runs); use --workers',
      );
    const pool = new ThreadPool(slots.count);
    return {
      slots: slots.count,
      run: (spec, slot) => {
        context.onStart?.(spec, slot);
        return pool.run(spec, slot, (step, T) => context.onStep?.(spec, slot, step, T));
      },
      close: () => pool.close(),
    };
  },
};
