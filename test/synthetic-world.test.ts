import { describe, expect, it } from 'vitest';
import { fc, test as fcTest } from '@fast-check/vitest';
import { TimeMergeError } from '../src/params/errors.js';
import { ParamSet } from '../src/params/paramset.js';
import {
  accuracy,
  accumulateGradients,
  batchComposition,
  cosineWithWarmup,
  generateWorld,
  resolveSyntheticConfig,
  restrictRows,
  IMAGE,
  TEXT,
  type SynthTaskData,
} from '../src/synthetic/index.js';

const small = resolveSyntheticConfig({
  T: 6,
  datasets: 3,
  d: 8,
  k: 4,
  m: 3,
  classesPerTask: 3,
  trainPerClass: 4,
  testPerClass: 2,
  pretrainClasses: 6,
  pretrainDomains: 2,
  pretrainPerPair: 2,
  zeroshotTasks: 2,
  zeroshotClasses: 3,
});

describe('synthetic world', () => {
  it('is a pure function of the config: same seed, same bits; other seed, other data', () => {
    const a = generateWorld(small);
    const b = generateWorld(small);
    const c = generateWorld({ ...small, seed: 1 });
    expect(a.stream.adaptation.map((t) => t.id)).toEqual(b.stream.adaptation.map((t) => t.id));
    expect(
      Buffer.from(a.stream.adaptation[3].data.train.x.buffer).equals(
        Buffer.from(b.stream.adaptation[3].data.train.x.buffer),
      ),
    ).toBe(true);
    expect(
      Buffer.from(a.stream.adaptation[3].data.train.x.buffer).equals(
        Buffer.from(c.stream.adaptation[3].data.train.x.buffer),
      ),
    ).toBe(false);
  });

  it('has T adaptation tasks, the zero-shot tasks, and sample counts from the config', () => {
    const w = generateWorld(small);
    expect(w.stream.adaptation).toHaveLength(6);
    expect(w.stream.zeroshot).toHaveLength(2);
    const t = w.stream.adaptation[0].data;
    expect(t.train.n).toBe(3 * 4);
    expect(t.test.n).toBe(3 * 2);
    expect(t.train.x).toHaveLength(12 * 8);
    expect(w.pretrain.train.n).toBe(2 * 6 * 2);
    expect(new Set([...w.stream.adaptation, ...w.stream.zeroshot].map((x) => x.id)).size).toBe(8);
  });

  it('dataset-incremental keeps each dataset contiguous; reversed is similarity backwards; random is a permutation', () => {
    const di = generateWorld({ ...small, ordering: 'dataset-incremental' }).stream.adaptation.map(
      (t) => t.data.dataset,
    );
    expect(di).toEqual([0, 0, 1, 1, 2, 2]);
    const sim = generateWorld({ ...small, ordering: 'similarity' }).stream.adaptation.map((t) => t.id);
    const rev = generateWorld({ ...small, ordering: 'reversed' }).stream.adaptation.map((t) => t.id);
    expect(rev).toEqual([...sim].reverse());
    const rnd = generateWorld({ ...small, ordering: 'random' }).stream.adaptation.map((t) => t.id);
    expect([...rnd].sort()).toEqual(
      generateWorld(small)
        .stream.adaptation.map((t) => t.id)
        .sort(),
    );
  });

  it('rejects bad settings with a CONFIG error naming them', () => {
    expect(() => resolveSyntheticConfig({ d: 0 })).toThrow(/d must be a positive integer/);
    expect(() => resolveSyntheticConfig({ taskSimilarity: 2 })).toThrow(/taskSimilarity/);
    expect(() => resolveSyntheticConfig({ shiftRows: 0 })).toThrow(/shiftRows must lie in \(0, 1\], got 0/);
    expect(() => resolveSyntheticConfig({ shiftRows: 1.5 })).toThrow(/shiftRows/);
    expect(() => resolveSyntheticConfig({ ordering: 'sideways' as never })).toThrow(/ordering/);
    expect(() => resolveSyntheticConfig({ datasets: 9, T: 4 })).toThrow(/datasets/);
    expect(() => resolveSyntheticConfig({ colour: 1 } as never)).toThrow(TimeMergeError);
  });
});

describe('dataset shifts on a share of the input coordinates', () => {
  const d = 8;
  const m = 3;
  const shift = Float32Array.from({ length: d * m }, (_, i) => i + 1);

  it('keeps round(share·d) whole rows, scaled by sqrt(d / rows), and zeroes the rest', () => {
    const out = restrictRows(shift, d, m, 0.25, 'seed-a');
    const kept = Array.from({ length: d }, (_, r) => r).filter((r) => out[r * m] !== 0);
    expect(kept).toHaveLength(2);
    for (let r = 0; r < d; r++) {
      for (let j = 0; j < m; j++) {
        expect(out[r * m + j]).toBeCloseTo(kept.includes(r) ? 2 * shift[r * m + j] : 0, 5);
      }
    }
  });

  it('is the identity at share 1 and a pure function of its seed', () => {
    expect(restrictRows(shift, d, m, 1, 'x')).toBe(shift);
    expect([...restrictRows(shift, d, m, 0.5, 's')]).toEqual([...restrictRows(shift, d, m, 0.5, 's')]);
  });

  fcTest.prop([
    fc.integer({ min: 1, max: 12 }),
    fc.integer({ min: 1, max: 4 }),
    fc.double({ min: 0.01, max: 1, noNaN: true }),
  ])('keeps between one row and all of them, and each kept row is a scaled copy', (rows, cols, share) => {
    const v = Float32Array.from({ length: rows * cols }, (_, i) => i + 1);
    const out = restrictRows(v, rows, cols, share, 'p');
    const kept = Array.from({ length: rows }, (_, r) => r).filter((r) => out[r * cols] !== 0);
    expect(kept.length).toBe(share >= 1 ? rows : Math.max(1, Math.round(share * rows)));
    const scale = Math.sqrt(rows / kept.length);
    for (const r of kept)
      for (let j = 0; j < cols; j++) expect(out[r * cols + j]).toBeCloseTo(scale * v[r * cols + j], 4);
  });
});

describe('schedule and batches', () => {
  it('warms up linearly then follows a cosine to zero', () => {
    expect(cosineWithWarmup(1, 0, 10, 0.2)).toBeCloseTo(0.5, 12);
    expect(cosineWithWarmup(1, 1, 10, 0.2)).toBeCloseTo(1, 12);
    expect(cosineWithWarmup(1, 2, 10, 0.2)).toBeCloseTo(1, 12);
    expect(cosineWithWarmup(1, 6, 10, 0.2)).toBeCloseTo(0.5, 12);
    expect(cosineWithWarmup(2, 5, 10, 0)).toBeCloseTo(1, 12);
  });

  it('splits a batch by the replay mix; the buffer share goes to the current task at step 1', () => {
    expect(batchComposition(100, { pretrain: 0.33, current: 0.34, buffer: 0.33 }, true)).toEqual({
      pretrain: 33,
      current: 34,
      buffer: 33,
    });
    expect(batchComposition(100, { pretrain: 0.33, current: 0.34, buffer: 0.33 }, false)).toEqual({
      pretrain: 49,
      current: 51,
      buffer: 0,
    });
    expect(batchComposition(32, { pretrain: 0, current: 1, buffer: 0 }, true)).toEqual({
      pretrain: 0,
      current: 32,
      buffer: 0,
    });
    expect(() => batchComposition(8, { pretrain: 0, current: 0, buffer: 0 }, false)).toThrow(/no data/);
  });

  fcTest.prop([
    fc.integer({ min: 1, max: 512 }),
    fc.double({ min: 0, max: 1, noNaN: true }),
    fc.double({ min: 0.01, max: 1, noNaN: true }),
    fc.double({ min: 0, max: 1, noNaN: true }),
    fc.boolean(),
  ])('batch parts are non-negative and sum to the batch size', (b, p, c, buf, prev) => {
    const x = batchComposition(b, { pretrain: p, current: c, buffer: buf }, prev);
    expect(x.pretrain + x.current + x.buffer).toBe(b);
    expect(Math.min(x.pretrain, x.current, x.buffer)).toBeGreaterThanOrEqual(0);
    if (!prev) expect(x.buffer).toBe(0);
  });
});

describe('hand-written gradients', () => {
  // One 2-class task in d = 2, k = 2, m = 2, one sample: small enough to check by hand and numerically.
  const task: SynthTaskData = {
    dataset: 0,
    classes: 2,
    classLatents: new Float32Array([1, 0, 0, 1]),
    domain: new Float32Array(4),
    train: { x: new Float32Array([0.6, -0.3]), y: new Int32Array([0]), n: 1 },
    test: { x: new Float32Array([0.6, -0.3, -0.2, 0.9]), y: new Int32Array([0, 1]), n: 2 },
  };
  const dims = { d: 2, k: 2, m: 2 };

  it('classifies by cosine to the class embeddings (identity encoders: the larger coordinate wins)', () => {
    const ps = new ParamSet()
      .set(IMAGE, [2, 2], new Float32Array([1, 0, 0, 1]))
      .set(TEXT, [2, 2], new Float32Array([1, 0, 0, 1]));
    expect(accuracy(ps, task, dims)).toBe(1);
    const swapped = new ParamSet()
      .set(IMAGE, [2, 2], new Float32Array([0, 1, 1, 0]))
      .set(TEXT, [2, 2], new Float32Array([1, 0, 0, 1]));
    expect(accuracy(swapped, task, dims)).toBe(0);
  });

  it('scores class-incrementally over every class of the dataset when the task carries them', () => {
    // The dataset has classes (1, 0), (0, 1) from an earlier task and this task's (-1, 0), (0, -1) at
    // offset 2. Sample (0.6, -0.3) is class 0 of this task = dataset class 2: its best match is (1, 0)
    // (class 0), wrong; sample (-0.2, 0.9) labelled 1 = class 3 is nearest (0, 1) (class 1), wrong too.
    const ps = new ParamSet()
      .set(IMAGE, [2, 2], new Float32Array([1, 0, 0, 1]))
      .set(TEXT, [2, 2], new Float32Array([1, 0, 0, 1]));
    const own = { ...task, classLatents: new Float32Array([-1, 0, 0, -1]) };
    expect(accuracy(ps, own, dims)).toBe(0);
    const scoped = {
      ...own,
      evalClasses: { latents: new Float32Array([1, 0, 0, 1, -1, 0, 0, -1]), classes: 4, offset: 2 },
    };
    expect(accuracy(ps, scoped, dims)).toBe(0);
    const flipped = {
      ...scoped,
      test: { x: new Float32Array([-0.6, 0.3, 0.2, -0.9]), y: new Int32Array([0, 1]), n: 2 },
    };
    expect(accuracy(ps, flipped, dims)).toBe(1);
    // Against the earlier task's classes only (offset 0) the flipped samples are wrong.
    expect(accuracy(ps, { ...flipped, evalClasses: { ...flipped.evalClasses, offset: 0 } }, dims)).toBe(0);
  });

  it('gives every task of a dataset the same class list, its own classes at its offset', () => {
    const w = generateWorld(resolveSyntheticConfig({ T: 6, datasets: 2, classesPerTask: 3, pretrainSteps: 0 }));
    for (const t of w.stream.adaptation) {
      const sc = t.data.evalClasses!;
      expect(sc.classes).toBe(9);
      expect([...sc.latents.subarray(sc.offset * 12, (sc.offset + 3) * 12)]).toEqual([...t.data.classLatents]);
      for (const u of w.stream.adaptation)
        if (u.data.dataset === t.data.dataset) expect(u.data.evalClasses!.latents).toBe(sc.latents);
    }
  });

  it('match central finite differences of the loss for both encoders', () => {
    const w = new Float32Array([0.7, -0.2, 0.1, 0.5]);
    const v = new Float32Array([0.9, 0.3, -0.4, 0.8]);
    const lossAt = (ww: Float32Array, vv: Float32Array) => {
      const g = { gW: new Float32Array(4), gV: new Float32Array(4) };
      return accumulateGradients(ww, vv, task, [0], 1, dims, 5, g, new Float64Array(2), new Float64Array(2));
    };
    const g = { gW: new Float32Array(4), gV: new Float32Array(4) };
    accumulateGradients(w, v, task, [0], 1, dims, 5, g, new Float64Array(2), new Float64Array(2));
    const h = 1e-3;
    for (const [which, arr, grad] of [
      ['W', w, g.gW],
      ['V', v, g.gV],
    ] as const) {
      for (let i = 0; i < 4; i++) {
        const plus = arr.slice();
        const minus = arr.slice();
        plus[i] += h;
        minus[i] -= h;
        const num =
          which === 'W'
            ? (lossAt(plus, v) - lossAt(minus, v)) / (2 * h)
            : (lossAt(w, plus) - lossAt(w, minus)) / (2 * h);
        expect(grad[i], `${which}[${i}]`).toBeCloseTo(num, 2);
      }
    }
  });
});
