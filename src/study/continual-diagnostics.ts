import { runBaseline, type RunConfig } from '../time/pipeline.js';
import { NO_REPLAY, type ReplayMix } from '../time/types.js';
import type { RunRecord } from '../time/record.js';

/**
 * Function-space diagnostics of a world: how much continual fine-tuning (init last, deploy last) forgets
 * and how much zero-shot accuracy it loses, without replay and with the study's replay mix. These are the
 * phenomena merging is meant to fix (DESIGN.md section 5); a world without them cannot show its benefit.
 */
export interface ContinualDiagnostics {
  /** Forgetting over the accuracy matrix (Avalanche: mean of R[j][j] - R[T][j] over j < T), no replay. */
  readonly ftForgetting: number;
  /** θ0's A_ZS minus the final model's, no replay. */
  readonly ftZsDrop: number;
  /** Final A_KA, no replay. */
  readonly ftAKa: number;
  readonly replayForgetting: number;
  readonly replayZsDrop: number;
  readonly replayAKa: number;
}

/** What a continual run needs (the pipeline's RunConfig), with the mix of the replay run. */
export type ContinualDiagnosticsInput<D> = Pick<
  RunConfig<D>,
  'stream' | 'trainer' | 'evaluator' | 'base' | 'stepsPerTask' | 'seed'
> & {
  /** The mix of the replay run (the study's default, 0.33 / 0.34 / 0.33). */
  readonly replay: ReplayMix;
};

function summary(r: RunRecord): { forgetting: number; zsDrop: number; aKa: number } {
  const first = r.steps[0];
  const last = r.steps[r.steps.length - 1];
  return {
    forgetting: r.final.forgetting ?? NaN,
    zsDrop: (first.aZs ?? NaN) - (last.aZs ?? NaN),
    aKa: last.aKa ?? NaN,
  };
}

/** Runs continual fine-tuning twice (no replay, then with `replay`) and reads forgetting and A_ZS drop. */
export async function continualDiagnostics<D>(input: ContinualDiagnosticsInput<D>): Promise<ContinualDiagnostics> {
  const { replay, ...rest } = input;
  // Studies run diagnostics on the main thread beside the worker pool: give the event loop a turn before
  // each training call, so finished workers get their next run instead of waiting for a whole stream.
  const trainer = {
    train: async (r: Parameters<typeof rest.trainer.train>[0]) => {
      await new Promise((resolve) => setImmediate(resolve));
      return rest.trainer.train(r);
    },
  };
  const config = { ...rest, trainer };
  const plain = summary(await runBaseline('continual', { ...config, replay: NO_REPLAY }));
  const mixed = summary(await runBaseline('continual', { ...config, replay }));
  return {
    ftForgetting: plain.forgetting,
    ftZsDrop: plain.zsDrop,
    ftAKa: plain.aKa,
    replayForgetting: mixed.forgetting,
    replayZsDrop: mixed.zsDrop,
    replayAKa: mixed.aKa,
  };
}
