import type { DiagnosticsRow } from '../study/diagnostics-run.js';
import type { ClipSetup, ClipSlot } from './clip-run.js';
import { tfjsClipSlot, torchClipSlot } from './clip-slot.js';
import { clipExpertDiagnostics } from './expert-diagnostics.js';
import type { TorchEngine } from './torch-engine.js';

/**
 * The world diagnostics of a clip study's own experts: for each of its seeds, one expert per adaptation
 * task trained from the checkpoint with the study's settings (steps, batch, lr, ...) on a slot of the
 * study's engine, one row per seed (setting: the study's name).
 */
export async function clipStudyDiagnostics(
  setup: ClipSetup,
  engine: { engine: 'tfjs' } | { engine: 'torch'; python: string },
): Promise<DiagnosticsRow[]> {
  const s = setup.study;
  const inputs = {
    data: setup.data,
    config: setup.ckpt.config,
    tokenizer: setup.tokenizer,
    settings: s,
    log: setup.log,
    logEvery: setup.logEvery,
  };
  let torch: TorchEngine | undefined;
  let slot: ClipSlot;
  if (engine.engine === 'torch') {
    ({ engine: torch, slot } = await torchClipSlot({
      ...inputs,
      stream: setup.stream,
      python: engine.python,
      device: s.device,
      loaderWorkers: s.loaderWorkers,
    }));
  } else slot = tfjsClipSlot(inputs);
  try {
    const rows: DiagnosticsRow[] = [];
    for (const seed of s.seeds) {
      setup.log(`diagnostics: ${setup.stream.adaptation.length} experts from θ0, seed ${seed}`);
      const d = await clipExpertDiagnostics(slot, setup.ckpt.params, setup.stream, s.steps, seed);
      setup.log(
        `diagnostics, seed ${seed}: ‖τ‖/‖θ0‖ ${d.tauRatio.toFixed(4)}, cross-dataset cos ${d.crossCosine.toFixed(4)}, ` +
          `top-20% energy ${d.top20Energy.toFixed(4)}, TIES-0.2 gain kept ${d.tiesKeep.toFixed(4)}, θ0 A_KA ${d.baseAKa.toFixed(4)}`,
      );
      rows.push({ setting: s.study, seed, ...d });
    }
    return rows;
  } finally {
    await torch?.close();
  }
}
