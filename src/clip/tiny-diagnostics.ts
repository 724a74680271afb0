import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fail } from '../params/errors.js';
import type { StreamDiagnostics } from '../study/expert-diagnostics.js';
import { selectBackend } from './backend.js';
import type { ClipSlot } from './clip-run.js';
import { type ClipSlotSettings, tfjsClipSlot, torchClipSlot } from './clip-slot.js';
import { buildStream, FomoData } from './data.js';
import { choosePython, TORCH_INSTALL_HINT } from './engine.js';
import { clipExpertDiagnostics } from './expert-diagnostics.js';
import { fomoLayout, loadDatasetRegistry } from './fomo.js';
import { initClipParams } from './init.js';
import { makeTinyFomo, TINY_CLIP } from './tiny.js';
import { ClipTokenizer } from './tokenizer.js';
import type { TorchEngine } from './torch-engine.js';

/** The tiny CLIP runs of the tests, with a few more samples so each expert's score means something. */
const TINY_DIAGNOSTICS_STEPS = 12;
const TINY_DIAGNOSTICS_SETTINGS: ClipSlotSettings = {
  batch: 12,
  lr: 1e-3,
  weightDecay: 0,
  warmup: 0.1,
  maxGradNorm: 1,
  microBatch: 0,
  eval: { batch: 64, k: 5, subset: 1, seed: 0 },
};

async function tinyTree(root: string, seed: number): Promise<void> {
  await makeTinyFomo(root, {
    trainPerClass: 6,
    testPerClass: 4,
    imageSize: 32,
    seed,
    datasets: [
      { folder: 'COLOURS', classes: ['red', 'green', 'blue'], style: 'solid' },
      { folder: 'STRIPES', classes: ['purple', 'orange', 'black'], style: 'stripes' },
      { folder: 'CHECKS', classes: ['white', 'yellow', 'pink'], style: 'checks' },
      { folder: 'HELDOUT', classes: ['green', 'yellow', 'white'], style: 'checks', evalOnly: true },
    ],
  });
}

/**
 * The world diagnostics (src/study/expert-diagnostics.ts) of CLIP experts: the tiny CLIP (TINY_CLIP,
 * randomly initialised from `seed`) on a generated FoMo-in-Flux tree of three adaptation datasets and one
 * evaluation-only, one expert per task trained from θ0 by the engine's Trainer and scored by its Evaluator.
 */
export async function tinyClipDiagnostics(o: {
  engine: 'tfjs' | 'torch';
  bpeVocab: string;
  seed?: number;
}): Promise<StreamDiagnostics> {
  const seed = o.seed ?? 0;
  const root = await mkdtemp(join(tmpdir(), 'clip-diagnostics-'));
  let engine: TorchEngine | undefined;
  try {
    await tinyTree(root, seed);
    const data = new FomoData(fomoLayout(root), loadDatasetRegistry(join(root, 'datasets.json')), false);
    const stream = buildStream(data, { stream: 'tiny_sequence', T: 3, zeroshot: ['HELDOUT'] }, () => true);
    const inputs = {
      data,
      config: TINY_CLIP,
      tokenizer: ClipTokenizer.fromBpeFile(o.bpeVocab),
      settings: TINY_DIAGNOSTICS_SETTINGS,
      log: () => {},
    };
    let slot: ClipSlot;
    if (o.engine === 'tfjs') {
      await selectBackend('wasm');
      slot = tfjsClipSlot(inputs);
    } else {
      const { probe } = await choosePython();
      if (!probe.ok) fail('CONFIG', `torch engine: ${probe.reason}; ${TORCH_INSTALL_HINT}`);
      ({ engine, slot } = await torchClipSlot({
        ...inputs,
        stream,
        python: probe.python,
        device: 'cpu',
        loaderWorkers: 0,
      }));
    }
    return await clipExpertDiagnostics(slot, initClipParams(TINY_CLIP, seed + 1), stream, TINY_DIAGNOSTICS_STEPS, seed);
  } finally {
    await engine?.close();
    await rm(root, { recursive: true, force: true });
  }
}
