import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseMergeConfig } from '../src/merge/config.js';
import { writeSafetensors } from '../src/params/safetensors/index.js';
import { ParamSet } from '../src/params/paramset.js';
import { configRunner } from './merge-config-runner.js';

/**
 * mergekit's arcee_fusion, nearswap, ram and ramplus_tl, karcher with a base model and sce's count, as
 * mergekit configs, on hand-computed cases.
 */
const { tmp, write, merge, run, values } = configRunner('tm-mergekit-methods-');
afterAll(() => tmp.cleanup());

const cfg = (method: string, models: string, parameters = '{}', base = 'base.safetensors') =>
  `merge_method: ${method}\nbase_model: ${base}\nmodels: [${models}]\nparameters: ${parameters}`;

/** The notes a merge's summary carries (the command prints them on stderr). */
const notesOf = async (yaml: string, name: string) => (await run(yaml, name)).notes.join('\n');

describe('nearswap', () => {
  it('takes each value of the expert by w = clamp(t/|θ0 − x|, 0, 1)', async () => {
    await write('base.safetensors', { w: [0, 0, 0, 0] });
    await write('x.safetensors', { w: [0.5, 2, -4, 0] });
    // t = 1: |d| = 0.5, 2, 4 and 0 (clamped to 1e-6): w = 1, 0.5, 0.25, 1 -> [0.5, 1, -1, 0].
    const out = await merge(cfg('nearswap', 'base.safetensors, x.safetensors', '{ t: 1 }'), 'nearswap');
    expect(values(out, 'w')).toEqual([0.5, 1, -1, 0]);
    expect(() => parseMergeConfig(cfg('nearswap', 'x.safetensors'), { baseDir: tmp.dir })).toThrow(
      /mergekit nearswap needs parameters\.t/,
    );
    expect(() =>
      parseMergeConfig(cfg('nearswap', 'x.safetensors, base.safetensors, y.safetensors', '{ t: 1 }'), {
        baseDir: tmp.dir,
      }),
    ).toThrow(/nearswap/);
  });
});

describe('ram and ramplus_tl', () => {
  // τ over 4 elements (base 0): a [3, 2, 0, 3e-6], b [3, 0, 7, 0], c [6, 4, 0, 0]; |τ| > 1e-5 counts.
  const models = 'a.safetensors, b.safetensors, c.safetensors';
  const setup = async () => {
    await write('base.safetensors', { w: [0, 0, 0, 0] });
    await write('a.safetensors', { w: [3, 2, 0, 3e-6] });
    await write('b.safetensors', { w: [3, 0, 7, 0] });
    await write('c.safetensors', { w: [6, 4, 0, 0] });
  };
  it('ram: one contributor whole, several averaged, none (a: 3e-6 < epsilon) leaves θ0', async () => {
    await setup();
    // element 0: (3 + 3 + 6)/3 = 4; element 1: (2 + 4)/2 = 3; element 2: b alone, 7; element 3: 0.
    expect(values(await merge(cfg('ram', models), 'ram'), 'w')).toEqual([4, 3, 7, 0]);
    // epsilon 1e-6: a's 3e-6 now counts, alone.
    expect(values(await merge(cfg('ram', models, '{ epsilon: 1e-6 }'), 'ram-eps'), 'w')).toEqual([
      4,
      3,
      7,
      Math.fround(3e-6),
    ]);
  });
  it("ramplus_tl: an expert's unique values times 1 + r·min(alpha, shared/unique)", async () => {
    await setup();
    // b shares element 0 and alone gives element 2: ρ = 1/1; r 0.5, alpha 1: λ = 1.5, so 7 -> 10.5.
    const out = await merge(cfg('ramplus_tl', models, '{ r: 0.5, alpha: 1 }'), 'ramplus');
    expect(values(out, 'w')).toEqual([4, 3, 10.5, 0]);
    // mergekit's defaults r 0.1, alpha 0.2: ρ = 1 capped at 0.2, λ = 1.02.
    const defaults = await merge(cfg('ramplus_tl', models), 'ramplus-default');
    expect(values(defaults, 'w')[2]).toBe(Math.fround(7 * Math.fround(1.02)));
  });
});

describe('arcee_fusion', () => {
  it('keeps τ where |τ|·KL(row softmax) >= median + 1.5·IQR of the tensor, θ0 elsewhere', async () => {
    const base = ParamSet.fromEntries([['w', { shape: [2, 5], data: new Float32Array(10) }]], 'base');
    // Row 0 has KL k > 0 against the zero row: importances k·[1, 2, 3, 4, 100]. Row 1 is constant, so its
    // softmax equals the base's: KL 0, importances 0. Sorted: five 0s, k, 2k, 3k, 4k, 100k; mergekit's
    // indices int(q·9): median [4] = 0, q1 [2] = 0, q3 [6] = 2k; threshold 0 + 1.5·2k = 3k.
    const x = ParamSet.fromEntries(
      [['w', { shape: [2, 5], data: Float32Array.from([1, -2, 3, -4, 100, 1, 1, 1, 1, 1]) }]],
      'x',
    );
    await writeSafetensors(join(tmp.dir, 'fbase.safetensors'), base);
    await writeSafetensors(join(tmp.dir, 'fx.safetensors'), x);
    const out = await merge(cfg('arcee_fusion', 'fbase.safetensors, fx.safetensors', '{}', 'fbase.safetensors'), 'af');
    expect(values(out, 'w')).toEqual([0, 0, 3, -4, 100, 0, 0, 0, 0, 0]);
  });
});

describe('karcher with base_model, as mergekit gathers it', () => {
  it('the base is one more point of the mean (added after the models when not listed)', async () => {
    await write('kbase.safetensors', { w: [0, 2] });
    await write('ka.safetensors', { w: [3, 0] });
    // Directions [0, 1] and [1, 0] meet at [1, 1]/√2 (the tangent terms cancel); norms 2 and 3 average 2.5.
    const out = await merge(cfg('karcher', 'ka.safetensors', '{}', 'kbase.safetensors'), 'karcher-base');
    const v = 2.5 * Math.SQRT1_2;
    values(out, 'w').forEach((x) => expect(x).toBeCloseTo(v, 6));
    // Listed under models as well, it is still one point.
    const listed = await merge(cfg('karcher', 'kbase.safetensors, ka.safetensors', '{}', 'kbase.safetensors'), 'kl');
    expect(values(listed, 'w')).toEqual(values(out, 'w'));
    // Without a base model the one model is the mean.
    const alone = await merge('merge_method: karcher\nmodels: [ka.safetensors]', 'karcher-alone');
    expect(values(alone, 'w')).toEqual([3, 0]);
  });
  it('a weight karcher does not read is noted, not dropped silently', async () => {
    await write('kbase.safetensors', { w: [0, 2] });
    await write('ka.safetensors', { w: [3, 0] });
    const notes = await notesOf(
      'merge_method: karcher\nbase_model: kbase.safetensors\nmodels:\n  - { model: ka.safetensors, parameters: { weight: 0.3 } }',
      'karcher-weight',
    );
    expect(notes).toMatch(/models\[0\]: weight: mergekit karcher reads no per-model weights; they change nothing/);
  });
});

describe('sce select_topk in float32, as mergekit counts', () => {
  it('100 values at select_topk 0.29 keep 29 (int of the float32 product 29.0)', async () => {
    const ramp = Array.from({ length: 100 }, (_, i) => i + 1);
    await write('s0.safetensors', { w: new Array(100).fill(0) });
    await write('sa.safetensors', { w: ramp });
    await write('sz.safetensors', { w: new Array(100).fill(0) });
    // Variances (a_i)²/4 are distinct and non-zero; the zero model's weight is 0 and its zeros are erased,
    // so the merge is a's value on the 29 most variable elements.
    const out = await merge(
      cfg('sce', 'sa.safetensors, sz.safetensors', '{ select_topk: 0.29 }', 's0.safetensors'),
      'sce',
    );
    expect(values(out, 'w').filter((v) => v !== 0)).toEqual(ramp.slice(71));
  });
  it('a slices config says the notes of its slices', () => {
    const c = parseMergeConfig(
      'merge_method: ties\nbase_model: sa.safetensors\nslices:\n  - sources:\n      - { model: sa.safetensors, layer_range: [0, 1] }\n      - { model: sz.safetensors, layer_range: [0, 1] }\nparameters: { int8_mask: true }',
      { baseDir: tmp.dir, source: 'sliced.yaml' },
    );
    expect(c.notes).toEqual([
      expect.stringMatching(/parameters\.int8_mask: mergekit stores its masks as int8 to save memory/),
    ]);
  });
  it('int8_mask is noted: it changes nothing in the values', async () => {
    const notes = await notesOf(cfg('sce', 'sa.safetensors', '{ int8_mask: true }', 's0.safetensors'), 'sce-int8');
    expect(notes).toMatch(/parameters\.int8_mask: mergekit stores its masks as int8 to save memory/);
  });
});
