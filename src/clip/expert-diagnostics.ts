import type { ParamSet } from '../params/paramset.js';
import { expertDiagnostics, type StreamDiagnostics } from '../study/expert-diagnostics.js';
import type { TaskStream } from '../time/types.js';
import type { ClipSlot } from './clip-run.js';
import type { ClipTaskData } from './data.js';

/**
 * The world diagnostics (src/study/expert-diagnostics.ts) of a CLIP stream's experts: one per adaptation
 * task, trained from `base` for `steps` by the slot's Trainer and scored by its Evaluator. `seed` picks
 * the experts' training seeds, so each seed of a study gives its own set of experts.
 */
export function clipExpertDiagnostics(
  slot: ClipSlot,
  base: ParamSet,
  stream: TaskStream<ClipTaskData>,
  steps: number,
  seed: number,
): Promise<StreamDiagnostics> {
  return expertDiagnostics({
    base,
    trainer: slot.trainer,
    evaluator: slot.evaluator,
    adaptation: stream.adaptation,
    zeroshot: stream.zeroshot,
    steps,
    datasetOf: (task) => task.data.parts[0].dataset,
    seedOf: (i) => 7919 * (i + 1) + seed,
  });
}
