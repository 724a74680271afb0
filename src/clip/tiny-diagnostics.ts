import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fail } from '../params/errors.js';
import { expertDiagnostics, type StreamDiagnostics } from '../study/expert-diagnostics.js';
import type { Evaluator, Trainer } from '../time/types.js';
import { selectBackend } from './backend.js';
import { buildStream, FomoData, type ClipTaskData } from './data.js';
import { pythonExecutable, probeTorch, TORCH_INSTALL_HINT } from './engine.js';
import { ClipEvaluator } from './evaluator.js';
import { fomoLayout, loadDatasetRegistry } from './fomo.js';
import { initClipParams } from './init.js';
import { makeTinyFomo, TINY_CLIP } from './tiny.js';
import { ClipTokenizer } from './tokenizer.js';
import { TorchEngine } from './torch-engine.js';
import { TorchEvaluator } from './torch-evaluator.js';
import { TorchTrainer } from './torch-trainer.js';
import { ClipTrainer } from './trainer.js';

/** The tiny CLIP runs of the tests, with a few more samples so each expert's score means something. */
const TINY_DIAGNOSTICS_TRAINING = {
  steps: 12,
  batch: 12,
  lr: 1e-3,
  weightDecay: 0,
  warmupFraction: 0.1,
  maxGradNorm: 1,
} as const;

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
  const t = TINY_DIAGNOSTICS_TRAINING;
  const root = await mkdtemp(join(tmpdir(), 'clip-diagnostics-'));
  let engine: TorchEngine | undefined;
  try {
    await tinyTree(root, seed);
    const data = new FomoData(fomoLayout(root), loadDatasetRegistry(join(root, 'datasets.json')), false);
    const stream = buildStream(data, { stream: 'tiny_sequence', T: 3, zeroshot: ['HELDOUT'] }, () => true);
    const tokenizer = ClipTokenizer.fromBpeFile(o.bpeVocab);
    let trainer: Trainer<ClipTaskData>;
    let evaluator: Evaluator<ClipTaskData>;
    if (o.engine === 'tfjs') {
      await selectBackend('wasm');
      trainer = new ClipTrainer(data, TINY_CLIP, tokenizer, {
        batchSize: t.batch,
        optim: { lr: t.lr, weightDecay: t.weightDecay },
        warmupFraction: t.warmupFraction,
        maxGradNorm: t.maxGradNorm,
      });
      evaluator = new ClipEvaluator(data, TINY_CLIP, tokenizer, {});
    } else {
      const probe = await probeTorch(pythonExecutable());
      if (!probe.ok) fail('CONFIG', `torch engine: ${probe.reason}; ${TORCH_INSTALL_HINT}`);
      engine = await TorchEngine.start(data, stream, TINY_CLIP, [], {
        python: probe.python,
        device: 'cpu',
        loaderWorkers: 0,
        log: () => {},
      });
      trainer = new TorchTrainer(engine, tokenizer, { batchSize: t.batch, ...t });
      evaluator = new TorchEvaluator(engine, tokenizer, {});
    }
    return await expertDiagnostics({
      base: initClipParams(TINY_CLIP, seed + 1),
      trainer,
      evaluator,
      adaptation: stream.adaptation,
      zeroshot: stream.zeroshot,
      steps: t.steps,
      datasetOf: (task) => task.data.parts[0].dataset,
      seedOf: (i) => 7919 * (i + 1) + seed,
    });
  } finally {
    await engine?.close();
    await rm(root, { recursive: true, force: true });
  }
}
