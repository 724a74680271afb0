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
  const { replay, ...config } = input;
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
