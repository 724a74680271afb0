import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/clip/backend.js';
import type { ClipSlot } from '../src/clip/clip-run.js';
import { type ClipSlotInputs, type ClipSlotSettings, tfjsClipSlot, torchClipSlot } from '../src/clip/clip-slot.js';
import { buildStream, type ClipTaskData, FomoData } from '../src/clip/data.js';
import type { RetrievalPart } from '../src/clip/evaluator.js';
import { fomoLayout, loadDatasetRegistry } from '../src/clip/fomo.js';
import { initClipParams } from '../src/clip/init.js';
import { TINY_CLIP } from '../src/clip/tiny.js';
import { ClipTokenizer } from '../src/clip/tokenizer.js';
import type { TorchEngine } from '../src/clip/torch-engine.js';
import type { TaskStream } from '../src/time/types.js';
import { BPE_VOCAB } from './shared-fixtures.js';
import { makeTinyClipTree } from './tiny-clip-tree.js';
import { TORCH } from './torch-available.js';

const SETTINGS: ClipSlotSettings = {
  batch: 4,
  lr: 1e-3,
  weightDecay: 0,
  warmup: 0.1,
  maxGradNorm: 1,
  microBatch: 0,
  eval: { batch: 2, maxSamples: 3, subset: 1, seed: 0, k: 1 },
};

let root: string;
let data: FomoData;
let stream: TaskStream<ClipTaskData>;
const engines: TorchEngine[] = [];
beforeAll(async () => {
  // SKETCHES: 2 classes x 2 test images, so 4 retrieval pairs before maxSamples.
  root = await makeTinyClipTree('clip-slot-');
  data = new FomoData(fomoLayout(root), loadDatasetRegistry(join(root, 'datasets.json')), false);
  stream = buildStream(data, { stream: 'tiny_sequence', T: 2, zeroshot: ['HELDOUT'] }, () => true);
  await selectBackend('wasm');
}, 30_000);
afterAll(async () => {
  for (const e of engines) await e.close();
  await rm(root, { recursive: true, force: true });
});

const builders: Record<string, (i: ClipSlotInputs) => Promise<ClipSlot>> = {
  tfjs: async (i) => tfjsClipSlot(i),
  torch: async (i) => {
    if (!TORCH.ok) throw new Error('no torch');
    const { engine, slot } = await torchClipSlot({
      ...i,
      stream,
      python: TORCH.python,
      device: 'cpu',
      loaderWorkers: 0,
    });
    engines.push(engine);
    return slot;
  },
};

describe.each(Object.keys(builders))('the %s slot built from a clip study’s settings', (name) => {
  const run = name === 'torch' && !TORCH.ok ? it.skip : it;
  const inputs = (settings: ClipSlotSettings, onRetrieval?: (p: RetrievalPart) => void): ClipSlotInputs => ({
    data,
    config: TINY_CLIP,
    tokenizer: ClipTokenizer.fromBpeFile(BPE_VOCAB),
    settings,
    log: () => {},
    onRetrieval,
  });

  run(
    'scores with the eval settings: maxSamples pairs per retrieval part, R@k with the configured k',
    async () => {
      const parts: RetrievalPart[] = [];
      const slot = await builders[name](inputs(SETTINGS, (p) => parts.push(p)));
      const scores = await slot.evaluator.evaluate(initClipParams(TINY_CLIP, 2), stream.adaptation);
      const sketches = parts.filter((p) => p.dataset === 'SKETCHES');
      expect(sketches).toHaveLength(1);
      expect(sketches[0].pairs).toBe(3);
      // k = 1: the task's score is R@1 averaged over both directions, not R@5 (which 3 pairs would make 1).
      expect(sketches[0].score).toBeCloseTo((sketches[0].imageToTextR1 + sketches[0].textToImageR1) / 2, 12);
      expect(scores[sketches[0].taskIndex]).toBeCloseTo(sketches[0].score, 12);
    },
    60_000,
  );

  run(
    'trains with the study batch: a batch of 1 is refused by the trainer',
    async () => {
      await expect(builders[name](inputs({ ...SETTINGS, batch: 1 }))).rejects.toThrow(
        'batch size must be an integer >= 2 (the contrastive loss needs negatives), got 1',
      );
    },
    60_000,
  );
});
