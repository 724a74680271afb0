import { describe, expect, it } from 'vitest';
import type { ParamSet } from '../src/params/paramset.js';
import {
  accuracy,
  cosineWithWarmup,
  dimsOf,
  generateWorld,
  initialModel,
  ParamOptimiser,
  resolveSyntheticConfig,
  trainingFlops,
  trainModel,
  trainSettings,
} from '../src/synthetic/index.js';

const p0 = [1, -2];
const g1 = [0.5, -0.25];
const g2 = [0.1, 0.3];

function twoSteps(kind: 'sgd' | 'adamw', weightDecay: number): number[][] {
  const p = new Float32Array(p0);
  const opt = new ParamOptimiser(p, { kind, weightDecay, momentum: 0.9 });
  opt.step(new Float32Array(g1), 0.1);
  const first = [...p];
  opt.step(new Float32Array(g2), 0.1);
  return [first, [...p]];
}

describe('ParamOptimiser against hand-computed updates (lr 0.1, weight decay 0.2)', () => {
  it('SGD with heavy-ball momentum 0.9 and L2 weight decay in the gradient (PyTorch SGD)', () => {
    const [first, second] = twoSteps('sgd', 0.2);
    // buf = g + wd p = [0.7, -0.65]; p = p - 0.1 buf
    expect(first[0]).toBeCloseTo(0.93, 6);
    expect(first[1]).toBeCloseTo(-1.935, 6);
    // buf = 0.9 buf + g + wd p = [0.63 + 0.1 + 0.186, -0.585 + 0.3 - 0.387] = [0.916, -0.672]
    expect(second[0]).toBeCloseTo(0.8384, 6);
    expect(second[1]).toBeCloseTo(-1.8678, 6);
  });

  it('AdamW: bias-corrected moments, decoupled weight decay on the pre-step weights', () => {
    const [first, second] = twoSteps('adamw', 0.2);
    // Step 1: m̂ = g, v̂ = g², so the Adam term is g / (|g| + 1e-8) ≈ sign(g).
    expect(first[0]).toBeCloseTo(1 - 0.1 * (0.5 / (0.5 + 1e-8) + 0.2 * 1), 6); // 0.88
    expect(first[1]).toBeCloseTo(-2 - 0.1 * (-1 + 0.2 * -2), 6); // -1.86
    // Step 2, element 0: m = 0.9·0.05 + 0.1·0.1 = 0.055, v = 0.999·0.00025 + 0.001·0.01 = 0.00025975,
    // m̂ = m / 0.19, v̂ = v / 0.001999: Adam term 0.8030410, decay 0.2·0.88.
    expect(second[0]).toBeCloseTo(0.88 - 0.1 * (0.803041 + 0.176), 6);
    // Element 1: m = -0.0225 + 0.03 = 0.0075, v = 0.0000624375 + 0.00009: Adam term 0.1429447.
    expect(second[1]).toBeCloseTo(-1.86 - 0.1 * (0.1429447 - 0.372), 6);
  });

  it('without weight decay AdamW steps by lr·sign(g) at first, whatever the gradient scale', () => {
    const p = new Float32Array([0, 0, 0]);
    new ParamOptimiser(p, { kind: 'adamw', weightDecay: 0, momentum: 0 }).step(new Float32Array([1e-3, -50, 2]), 0.01);
    expect([...p].map((x) => Number(x.toFixed(6)))).toEqual([-0.01, 0.01, -0.01]);
  });

  it('cosine schedule with warm-up: linear ramp to the base rate, then half a cosine to 0', () => {
    const lr = Array.from({ length: 10 }, (_, s) => cosineWithWarmup(0.4, s, 10, 0.3));
    [0.4 / 3, 0.8 / 3, 0.4].forEach((x, s) => expect(lr[s]).toBeCloseTo(x, 12));
    // After warm-up, 7 steps span the cosine: step 3 + j has 0.2 (1 + cos(π j / 7)).
    for (let j = 0; j < 7; j++) expect(lr[3 + j]).toBeCloseTo(0.2 * (1 + Math.cos((Math.PI * j) / 7)), 12);
  });
});

describe('training FLOPs', () => {
  it('counts 2 per multiply-add of the products, by hand for d 3, k 2, m 4, 5 classes, 7 samples', () => {
    const dims = { d: 3, k: 2, m: 4 };
    // Per sample: W x and dz xᵀ (2·k·d = 12) + logits and dz (2·c·k = 20) = 32 multiply-adds; per call V μ (c·k·m = 40).
    expect(trainingFlops(dims, 5, 7, false)).toBe(2 * (7 * 32 + 40));
    // A trained text encoder adds gE (c·k = 10 per sample) and gV (c·k·m = 40 per call).
    expect(trainingFlops(dims, 5, 7, true)).toBe(2 * (7 * 42 + 80));
  });

  it('trainModel reports the formula summed over its steps', () => {
    const cfg = resolveSyntheticConfig({
      T: 2,
      datasets: 2,
      d: 8,
      k: 4,
      m: 3,
      classesPerTask: 3,
      trainPerClass: 4,
      testPerClass: 4,
      pretrainClasses: 6,
      pretrainDomains: 2,
      pretrainPerPair: 2,
      zeroshotTasks: 1,
      zeroshotClasses: 3,
    });
    const task = generateWorld(cfg).stream.adaptation[0].data;
    const { flops } = trainModel(
      initialModel(dimsOf(cfg), 0),
      [{ tasks: [task], perBatch: 5 }],
      3,
      trainSettings(cfg),
      dimsOf(cfg),
      'flops',
    );
    expect(flops).toBe(3 * trainingFlops(dimsOf(cfg), task.classes, 5, cfg.trainText));
  });
});

describe('training with SGD', () => {
  it('fits an adaptation task the initial model does not know', () => {
    const cfg = resolveSyntheticConfig({
      T: 2,
      datasets: 2,
      d: 12,
      k: 6,
      m: 4,
      classesPerTask: 4,
      trainPerClass: 24,
      testPerClass: 24,
      pretrainClasses: 6,
      pretrainDomains: 2,
      pretrainPerPair: 2,
      zeroshotTasks: 1,
      zeroshotClasses: 3,
    });
    const task = generateWorld(cfg).stream.adaptation[0].data;
    const init: ParamSet = initialModel(dimsOf(cfg), 0);
    const before = accuracy(init, task, dimsOf(cfg));
    const train = (optimiser: 'sgd' | 'adamw', lr: number) =>
      accuracy(
        trainModel(
          init,
          [{ tasks: [task], perBatch: 16 }],
          200,
          trainSettings({ ...cfg, optimiser, lr }),
          dimsOf(cfg),
          'sgd-test',
        ).weights,
        task,
        dimsOf(cfg),
      );
    const sgd = train('sgd', 0.5);
    // From a random (unpretrained) model: 0.57 before, 0.72 after 200 steps.
    expect(sgd).toBeGreaterThan(before + 0.1);
    // A zero learning rate leaves the weights exactly as they were.
    expect(
      trainModel(
        init,
        [{ tasks: [task], perBatch: 16 }],
        5,
        trainSettings({ ...cfg, optimiser: 'sgd', lr: 0 }),
        dimsOf(cfg),
        'x',
      ).weights.data('image.weight'),
    ).toEqual(init.data('image.weight'));
  });
});
