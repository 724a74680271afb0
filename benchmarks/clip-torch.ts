/**
 * The torch engine's throughput, in one run (`npm run bench:clip -- --engine torch`):
 *   - training images/s of the worker (through TorchTrainer: a plan of real decoded images) and of a plain
 *     PyTorch loop of the same model and batch on device tensors (time_merge_torch.bench), and their ratio;
 *   - evaluation images/s (cold: decoding; warm: cached views);
 *   - the pipeline's overhead per TIME step at ViT-B/16 size: store + merge + deploy (runTime with a trainer
 *     that returns its input at once) plus the weights' round trip through the worker's scratch folder, as
 *     a fraction of one task's training time at 1420 steps (the worker's step time measured here, and with
 *     --gpu-step-seconds the projection at a step time measured on a GPU).
 *
 *   npm run bench:clip -- --engine torch [--model tiny|vit-b-16] [--batch 16] [--steps 10] [--device auto]
 *     [--overhead-batch 2] [--skip-overhead] [--gpu-step-seconds S] [--out results/bench/clip-torch.csv]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { VIT_B_16, type ClipConfig } from '../src/clip/config.js';
import { buildStream, FomoData } from '../src/clip/data.js';
import { parseDevice, choosePython, TORCH_ENGINE_DIR, TORCH_INSTALL_HINT } from '../src/clip/engine.js';
import { fomoLayout, loadDatasetRegistry } from '../src/clip/fomo.js';
import { initClipParams } from '../src/clip/init.js';
import { makeTinyFomo, TINY_CLIP } from '../src/clip/tiny.js';
import { ClipTokenizer } from '../src/clip/tokenizer.js';
import { TorchEngine } from '../src/clip/torch-engine.js';
import { TorchEvaluator } from '../src/clip/torch-evaluator.js';
import { TorchTrainer } from '../src/clip/torch-trainer.js';
import { ParamSet } from '../src/params/paramset.js';
import { parseMethod, runTime } from '../src/time/index.js';
import type { Evaluator, Trainer } from '../src/time/types.js';

export interface TorchBenchArgs {
  model: string;
  batch: number;
  steps: number;
  device: string;
  overheadBatch: number;
  skipOverhead: boolean;
  gpuStepSeconds?: number;
  out: string;
}

const BPE = join(import.meta.dirname, '..', 'test', 'fixtures', 'open_clip', 'bpe_simple_vocab_16e6.txt.gz');
const MODELS: Record<string, ClipConfig> = { tiny: TINY_CLIP, 'vit-b-16': VIT_B_16 };
const now = () => performance.now() / 1000;

interface Row {
  measure: string;
  model: string;
  batch: number;
  device: string;
  value: number;
  unit: string;
}

/** The plain PyTorch loop of time_merge_torch.bench at one batch, in a process of its own. */
function plainLoop(
  python: string,
  size: string,
  batch: number,
  steps: number,
  device: string,
): Promise<{ images_per_s: number; step_s: number }> {
  return new Promise((resolve, reject) => {
    const args = [
      '-m',
      'time_merge_torch.bench',
      '--size',
      size,
      '--batches',
      String(batch),
      '--steps',
      String(steps),
      '--warmup',
      '2',
      '--device',
      device,
      '--skip-worker',
    ];
    const child = spawn(python, args, { env: { ...process.env, PYTHONPATH: TORCH_ENGINE_DIR } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      if (code !== 0)
        return reject(new Error(`plain loop failed (exit ${code}): ${err.trim().split('\n').slice(-3).join(' | ')}`));
      const r = JSON.parse(out)[`plain_${batch}`];
      if (!r || r.error) return reject(new Error(`plain loop at batch ${batch}: ${r?.error ?? 'no result'}`));
      resolve(r);
    });
  });
}

async function tinyTree(root: string, imageSize: number) {
  const colours = ['red', 'green', 'blue', 'yellow', 'purple', 'orange', 'black', 'white'];
  await makeTinyFomo(root, {
    trainPerClass: 8,
    testPerClass: 8,
    imageSize,
    datasets: [
      { folder: 'COLOURS', classes: colours.slice(0, 4), style: 'solid' },
      { folder: 'STRIPES', classes: colours.slice(4), style: 'stripes' },
      { folder: 'HELDOUT', classes: colours.slice(2, 6), style: 'checks', evalOnly: true },
    ],
  });
  const layout = fomoLayout(root);
  const data = new FomoData(layout, loadDatasetRegistry(join(root, 'datasets.json')));
  return { data, stream: buildStream(data, { stream: 'tiny_sequence', T: 2 }, () => true) };
}

/** Worker vs plain loop, evaluation, and the weights' round trip, for one model and batch. */
async function measureWorker(
  python: string,
  name: string,
  batch: number,
  steps: number,
  device: string,
  rows: Row[],
  evaluate = true,
): Promise<{ stepSeconds: number; exchangeSeconds: number; deviceName: string }> {
  const config = MODELS[name];
  const root = mkdtempSync(join(tmpdir(), 'bench-torch-'));
  try {
    const { data, stream } = await tinyTree(root, Math.min(config.vision.imageSize + 16, 64));
    const engine = await TorchEngine.start(data, stream, config, [], {
      python,
      device: parseDevice(device),
      log: (m) => process.env.BENCH_VERBOSE && console.log(m),
    });
    try {
      const dev = engine.description;
      const tokenizer = ClipTokenizer.fromBpeFile(BPE);
      let trained: Record<string, unknown> = {};
      const trainer = new TorchTrainer(engine, tokenizer, {
        batchSize: batch,
        lr: 1e-5,
        weightDecay: 0.2,
        warmupFraction: 0.1,
        maxGradNorm: 1,
        onTrained: (r) => (trained = r),
      });
      const init = initClipParams(config, 0);
      const t0 = now();
      const expert = await trainer.train({
        init,
        tasks: [stream.adaptation[0]],
        previous: [],
        replay: { pretrain: 0, current: 1, buffer: 0 },
        steps,
        seed: 0,
      });
      const wall = now() - t0;
      const workerRate = (trained.steadyImagesPerSecond as number | null) ?? (trained.imagesPerSecond as number);
      const trainSeconds = trained.seconds as number;
      const stepSeconds = batch / workerRate;
      rows.push({
        measure: 'worker training (after the first step)',
        model: name,
        batch,
        device: dev,
        value: workerRate,
        unit: 'images/s',
      });
      rows.push({ measure: 'worker training step', model: name, batch, device: dev, value: stepSeconds, unit: 's' });
      const plain = await plainLoop(python, name, batch, steps, device);
      rows.push({
        measure: 'plain PyTorch loop',
        model: name,
        batch,
        device: dev,
        value: plain.images_per_s,
        unit: 'images/s',
      });
      rows.push({
        measure: 'worker / plain loop',
        model: name,
        batch,
        device: dev,
        value: workerRate / plain.images_per_s,
        unit: 'ratio',
      });
      const exchangeSeconds = wall - trainSeconds;
      rows.push({
        measure: 'train command overhead (plan + weights to and from the worker)',
        model: name,
        batch,
        device: dev,
        value: exchangeSeconds,
        unit: 's',
      });
      for (const label of evaluate ? ['evaluation, cold (decoding)', 'evaluation, warm (cached views)'] : []) {
        let r: Record<string, unknown> = {};
        await new TorchEvaluator(engine, tokenizer, { batchSize: 256, onEvaluated: (x) => (r = x) }).evaluate(
          expert.weights,
          [...stream.adaptation, ...stream.zeroshot],
        );
        rows.push({
          measure: label,
          model: name,
          batch: r.images as number,
          device: dev,
          value: (r.images as number) / (r.seconds as number),
          unit: 'images/s',
        });
      }
      return { stepSeconds, exchangeSeconds, deviceName: dev };
    } finally {
      await engine.close();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Seconds per TIME step of store + merge + deploy (ema_paint) with ViT-B/16-sized weights, training excluded. */
export async function pipelineStepSeconds(T: number): Promise<number> {
  const base = initClipParams(VIT_B_16, 0);
  let trainSeconds = 0;
  const trainer: Trainer = {
    async train(req) {
      const t0 = now();
      const out = new ParamSet('expert');
      for (const n of req.init.names()) {
        const d = req.init.data(n).slice();
        d[0] += 1e-3;
        out.set(n, req.init.get(n).shape, d);
      }
      trainSeconds += now() - t0;
      return { weights: out, steps: req.steps };
    },
  };
  const evaluator: Evaluator = { evaluate: async (_w, tasks) => tasks.map(() => 0) };
  const adaptation = Array.from({ length: T }, (_, i) => ({
    id: `t${i + 1}`,
    role: 'adaptation' as const,
    data: null,
  }));
  const t0 = now();
  await runTime({
    stream: { name: 'bench', adaptation, zeroshot: [] },
    trainer,
    evaluator,
    base,
    stepsPerTask: 1420,
    seed: 0,
    replay: { pretrain: 0, current: 1, buffer: 0 },
    store: { kind: 'memory' },
    method: parseMethod('ema_paint'),
  });
  return (now() - t0 - trainSeconds) / T;
}

export async function runTorchBench(a: TorchBenchArgs): Promise<void> {
  const { probe } = await choosePython();
  if (!probe.ok) throw new Error(`--engine torch: ${probe.reason}; ${TORCH_INSTALL_HINT}`);
  const rows: Row[] = [];
  console.log(`torch ${probe.torch} (${probe.python}), cuda: ${probe.cuda}`);
  await measureWorker(probe.python, a.model, a.batch, a.steps, a.device, rows);
  if (!a.skipOverhead) {
    // Evaluation is left out here: at ViT-B/16 size on a CPU it would take minutes and is not overhead.
    const vit = await measureWorker(probe.python, 'vit-b-16', a.overheadBatch, 3, a.device, rows, false);
    const step = await pipelineStepSeconds(3);
    const overhead = step + vit.exchangeSeconds;
    rows.push({
      measure: 'pipeline per TIME step: store + merge + deploy (ema_paint)',
      model: 'vit-b-16',
      batch: 0,
      device: 'node',
      value: step,
      unit: 's',
    });
    rows.push({
      measure: 'pipeline overhead per TIME step (+ weights round trip)',
      model: 'vit-b-16',
      batch: 0,
      device: vit.deviceName,
      value: overhead,
      unit: 's',
    });
    rows.push({
      measure: 'overhead / training at 1420 steps (step measured here)',
      model: 'vit-b-16',
      batch: a.overheadBatch,
      device: vit.deviceName,
      value: overhead / (1420 * vit.stepSeconds),
      unit: 'fraction',
    });
    if (a.gpuStepSeconds)
      rows.push({
        measure: 'overhead / training at 1420 steps (given GPU step time)',
        model: 'vit-b-16',
        batch: 512,
        device: `step ${a.gpuStepSeconds} s`,
        value: overhead / (1420 * a.gpuStepSeconds),
        unit: 'fraction',
      });
  }
  for (const r of rows)
    console.log(
      `${r.measure.padEnd(66)} ${r.model.padEnd(9)} batch ${String(r.batch).padStart(4)}  ${r.value.toPrecision(4).padStart(10)} ${r.unit}  (${r.device})`,
    );
  const csv =
    [
      'measure,model,batch,device,value,unit',
      ...rows.map((r) =>
        [JSON.stringify(r.measure), r.model, r.batch, JSON.stringify(r.device), r.value.toPrecision(6), r.unit].join(
          ',',
        ),
      ),
    ].join('\n') + '\n';
  await mkdir(dirname(a.out), { recursive: true });
  await writeFile(`${a.out}.tmp`, csv);
  await rename(`${a.out}.tmp`, a.out);
  console.log(`wrote ${a.out}`);
}
