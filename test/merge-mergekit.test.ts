import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseMergeConfig } from '../src/merge/config.js';
import { tensorRng } from '../src/merge/engine.js';
import { getTechnique } from '../src/merge/registry.js';
import { keepCount } from '../src/merge/trim.js';
import { ParamSet } from '../src/params/paramset.js';
import { openSafetensors } from '../src/params/safetensors/index.js';
import { configRunner } from './merge-config-runner.js';

/** mergekit configs as mergekit's users write them, run unchanged, checked against hand-computed values. */
const { tmp, write, merge, values } = configRunner('tm-mergekit-');
afterAll(() => tmp.cleanup());

describe('mergekit configs run unchanged', () => {
  it('ties with a density per model (examples/ties.yml), normalize false, the base listed under models', async () => {
    await write('base.safetensors', { w: [0, 0, 0, 0] });
    await write('a.safetensors', { w: [4, -3, 2, 1] });
    await write('b.safetensors', { w: [-1, 2, 3, -4] });
    // τa keeps 2 (density 0.5): [4, -3, 0, 0]; τb keeps 1 (density 0.25): [0, 0, 0, -4]. Weighted deltas
    // [2, -1.5, 0, 0] and [0, 0, 0, -4] elect [+, -, + (zero vote), -]; normalize: false sums the agreeing
    // weighted values: [2, -1.5, 0, -4]. The base under models is skipped, as mergekit does.
    const yaml = `merge_method: ties
base_model: base.safetensors
models:
  - model: base.safetensors
  - model: a.safetensors
    parameters: { density: 0.5, weight: 0.5 }
  - model: b.safetensors
    parameters: { density: 0.25, weight: 1 }
parameters: { normalize: false, int8_mask: true }
dtype: float32`;
    expect(values(await merge(yaml, 'ties-pm'), 'w')).toEqual([2, -1.5, 0, -4]);
    // normalize: true (mergekit's default for ties) divides by the agreeing weights: [4, -3, 0, -4].
    expect(values(await merge(yaml.replace('normalize: false', 'normalize: true'), 'ties-pm-norm'), 'w')).toEqual([
      4, -3, 0, -4,
    ]);
    const c = parseMergeConfig(yaml, { baseDir: tmp.dir });
    expect(c.models.map((m) => m.path)).toEqual([join(tmp.dir, 'a.safetensors'), join(tmp.dir, 'b.safetensors')]);
    expect(c.expertParams).toEqual([{ density: 0.5 }, { density: 0.25 }]);
  });

  it("mergekit's defaults: ties keeps everything at density 1 (its default), task_arithmetic does not normalise", async () => {
    await write('base.safetensors', { w: [0, 0, 0, 0] });
    await write('a.safetensors', { w: [4, -3, 2, 1] });
    await write('b.safetensors', { w: [-1, 2, 3, -4] });
    // density 1: nothing trimmed; signs of [3, -1, 5, -3]; means of agreeing [4, -3, 2.5, -4].
    const ties = await merge(
      'merge_method: ties\nbase_model: base.safetensors\nmodels: [a.safetensors, b.safetensors]',
      'ties-default',
    );
    expect(values(ties, 'w')).toEqual([4, -3, 2.5, -4]);
    const ta = await merge(
      'merge_method: task_arithmetic\nbase_model: base.safetensors\nmodels:\n  - { model: a.safetensors, parameters: { weight: 0.5 } }\n  - { model: b.safetensors, parameters: { weight: 0.5 } }\nparameters: { lambda: 2 }',
      'ta',
    );
    expect(values(ta, 'w')).toEqual([3, -1, 5, -3]);
  });

  it('a gradient over layers and a name filter, evaluated per tensor as mergekit does', async () => {
    const layers = {
      'model.layers.0.mlp.w': [4, -3, 2, 1],
      'model.layers.1.mlp.w': [4, -3, 2, 1],
      'model.layers.1.attn.w': [4, -3, 2, 1],
      'model.embed.w': [4, -3, 2, 1],
    };
    const zero = Object.fromEntries(Object.keys(layers).map((k) => [k, [0, 0, 0, 0]]));
    await write('gbase.safetensors', zero);
    await write('ga.safetensors', layers);
    // One expert, weight 1: the merge is its trimmed task vector. density [1, 0.5]: layer 0 (t = 0) keeps
    // all 4, layer 1 (t = 1) keeps 2, the embedding (outside every layer: t = 0) keeps all.
    const gradient = await merge(
      'merge_method: ties\nbase_model: gbase.safetensors\nmodels:\n  - { model: ga.safetensors, parameters: { density: [1, 0.5] } }',
      'gradient',
    );
    expect(values(gradient, 'model.layers.0.mlp.w')).toEqual([4, -3, 2, 1]);
    expect(values(gradient, 'model.layers.1.mlp.w')).toEqual([4, -3, 0, 0]);
    expect(values(gradient, 'model.embed.w')).toEqual([4, -3, 2, 1]);
    // A filter list: "mlp" tensors keep 1 of 4, the rest (filter absent) keep 3 of 4.
    const filtered = await merge(
      'merge_method: ties\nbase_model: gbase.safetensors\nmodels: [ga.safetensors]\nparameters:\n  density:\n    - filter: mlp\n      value: 0.25\n    - value: 0.75',
      'filter',
    );
    expect(values(filtered, 'model.layers.0.mlp.w')).toEqual([4, 0, 0, 0]);
    expect(values(filtered, 'model.layers.1.attn.w')).toEqual([4, -3, 2, 0]);
    expect(values(filtered, 'model.embed.w')).toEqual([4, -3, 2, 0]);
  });

  it('breadcrumbs keeps int(density·n) after dropping int(gamma·n) from the top, on every tensor size', async () => {
    const ramp = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
    await write('cbase.safetensors', {
      s: new Array(32).fill(0),
      m: new Array(192).fill(0),
      e: new Array(8).fill(0),
      f: new Array(10).fill(0),
    });
    await write('ca.safetensors', { s: ramp(32), m: ramp(192), e: ramp(8), f: ramp(10) });
    const out = await merge(
      'merge_method: breadcrumbs\nbase_model: cbase.safetensors\nmodels:\n  - { model: ca.safetensors, parameters: { weight: 1, density: 0.8, gamma: 0.05 } }',
      'crumbs',
    );
    const kept = (name: string) => values(out, name).flatMap((v) => (v === 0 ? [] : [v]));
    // 32 values: keep int(25.6) = 25 after dropping int(1.6) = 1 from the top: 7..31.
    expect(kept('s')).toEqual(ramp(31).slice(6));
    // 192 values: keep 153 after dropping 9 from the top: 31..183.
    expect(kept('m')).toEqual(ramp(183).slice(30));
    // 8 values: int(0.4) = 0 from the top, where mergekit's indices[n_bot:-0] would drop everything; the band is kept: 3..8.
    expect(kept('e')).toEqual([3, 4, 5, 6, 7, 8]);
    // 10 values at density 0.9, gamma 0.2: keeping 9 leaves room to drop only 1 from the top.
    const tight = await merge(
      'merge_method: breadcrumbs\nbase_model: cbase.safetensors\nmodels: [ca.safetensors]\nparameters: { density: 0.9, gamma: 0.2 }',
      'crumbs-tight',
    );
    expect(values(tight, 'f').filter((v) => v !== 0)).toEqual(ramp(9));
  });

  it('dare_linear at density 1 is task arithmetic; slerp interpolates from base_model; dtype bfloat16 is written', async () => {
    await write('base.safetensors', { w: [0, 0, 0, 0] });
    await write('a.safetensors', { w: [4, -3, 2, 1] });
    await write('b.safetensors', { w: [-1, 2, 3, -4] });
    const dare = await merge(
      'merge_method: dare_linear\nbase_model: base.safetensors\nmodels: [a.safetensors, b.safetensors]\ndtype: bfloat16',
      'dare',
    );
    expect(values(dare, 'w')).toEqual([3, -1, 5, -3]);
    const header = await openSafetensors(join(tmp.dir, 'dare.safetensors'));
    expect(header.entries[0].dtype).toBe('BF16');
    await header.close();
    const slerp0 = await merge(
      'merge_method: slerp\nbase_model: a.safetensors\nmodels: [a.safetensors, b.safetensors]\nparameters: { t: 0 }',
      'slerp0',
    );
    expect(values(slerp0, 'w')).toEqual([4, -3, 2, 1]);
    // The base not listed is added, as mergekit does: [base, other].
    const slerp1 = await merge(
      'merge_method: slerp\nbase_model: a.safetensors\nmodels: [b.safetensors]\nparameters: { t: 1 }',
      'slerp1',
    );
    expect(values(slerp1, 'w')).toEqual([-1, 2, 3, -4]);
  });

  it('model directories, as mergekit configs name them', async () => {
    for (const [dir, w] of [
      ['base-dir', [0, 0]],
      ['a-dir', [2, 4]],
    ] as const) {
      mkdirSync(join(tmp.dir, dir), { recursive: true });
      await write(`${dir}/model.safetensors`, { w: [...w] });
    }
    const out = await merge(
      'merge_method: task_arithmetic\nbase_model: base-dir\nmodels:\n  - { model: a-dir, parameters: { weight: 0.5 } }',
      'dirs',
    );
    expect(values(out, 'w')).toEqual([1, 2]);
  });
});

/** One tensor through a technique, base 0, one expert per list. */
function direct(
  technique: string,
  params: Record<string, unknown>,
  experts: number[][],
  expertParams?: Record<string, number>[],
): number[] {
  const t = getTechnique(technique);
  const base = new Float32Array(experts[0].length);
  const input = {
    name: 'w',
    shape: [base.length],
    base,
    experts: experts.map((e) => Float32Array.from(e)),
    weights: experts.map(() => 1),
    rng: tensorRng(0, 'w'),
    expertParams,
  };
  return [...t.merge(input, t.parse(params))];
}

describe('selection counts', () => {
  it('mergekit truncates density·n (int(0.29*100) = 28); the guarded rule keeps 29', () => {
    expect(keepCount(100, 0.29, 'truncate')).toBe(28);
    expect(keepCount(100, 0.29)).toBe(29);
    const ramp = Array.from({ length: 100 }, (_, i) => i + 1);
    const nonzero = (xs: number[]) => xs.filter((v) => v !== 0).length;
    expect(nonzero(direct('ties', { density: 0.29, counts: 'truncate' }, [ramp]))).toBe(28);
    expect(nonzero(direct('ties', { density: 0.29 }, [ramp]))).toBe(29);
  });
  it('fomo_in_flux kthvalue: every |τ| >= the int(prune·n)-th smallest, so n - k + 1 values, and all ties at it', () => {
    // n = 10, prune 0.2: k = 2, the 2nd smallest |τ| is 2: keeps 9 of 10 (density 0.8 would keep 8).
    const ramp = Array.from({ length: 10 }, (_, i) => i + 1);
    expect(direct('ties', { selection: 'kthvalue', prune: 0.2 }, [ramp])).toEqual([0, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // three values tie at the threshold 2: all kept.
    expect(direct('ties', { selection: 'kthvalue', prune: 0.2 }, [[1, 2, 2, -2, 5, 6, 7, 8, 9, 10]])).toEqual([
      0, 2, 2, -2, 5, 6, 7, 8, 9, 10,
    ]);
    expect(() => direct('ties', { selection: 'kthvalue', prune: 0.2 }, [[1, 2, 3, 4]])).toThrow(/int\(prune·n\) >= 1/);
  });
  it('per-model values: each expert trimmed or dropped with its own', () => {
    // TIES, density 0.5 for the first expert and 0.25 for the second, disjoint sum.
    expect(
      direct(
        'ties',
        { disjoint: 'sum' },
        [
          [4, -3, 2, 1],
          [-1, 2, 3, -4],
        ],
        [{ density: 0.5 }, { density: 0.25 }],
      ),
    ).toEqual([4, -3, 0, -4]);
    // DARE: p = 0 for the first expert keeps it whole; p = 0.5 rescales the second's survivors by 2.
    const out = direct(
      'dare-linear',
      {},
      [
        [1, 1, 1, 1],
        [0, 0, 0, 0],
      ].map((e, k) => (k === 0 ? e : [8, 8, 8, 8])),
      [{ p: 0 }, { p: 0.5 }],
    );
    for (const v of out) expect([1, 17]).toContain(v);
  });
});

describe('fomo_in_flux configs (toolkit: fomo_in_flux)', () => {
  it('ties: kthvalue over the flattened model, majority signs, merge_function, as continual_lib/merge.py', async () => {
    await write('fbase.safetensors', { x: [0, 0, 0, 0, 0], y: [0, 0, 0, 0, 0] });
    await write('f1.safetensors', { x: [1, -2, 3, 4, 5], y: [6, -7, 8, 9, 10] });
    await write('f2.safetensors', { x: [-10, 1, 1, -1, 2], y: [3, 3, 3, 3, 3] });
    // n = 10, prune_percentile 0.2: k = 2. Expert 1's 2nd smallest |τ| is 2: the 1 goes. Expert 2's is 1,
    // and all four values of magnitude 1 tie at it: nothing goes (density 0.8 would drop two).
    // Signs of the sums: x [-10, -1, 4, 3, 7], y [9, -4, 11, 12, 13]; means of the agreeing values:
    const yaml =
      'toolkit: fomo_in_flux\nmerge_method: ties\nbase_model: fbase.safetensors\nmodels: [f1.safetensors, f2.safetensors]\nparameters: { prune_percentile: 0.2, merge_function: mean }';
    const out = await merge(yaml, 'fomo-ties');
    expect(values(out, 'x')).toEqual([-10, -2, 2, 4, 3.5]);
    expect(values(out, 'y')).toEqual([4.5, -7, 5.5, 6, 6.5]);
    const sum = await merge(
      yaml.replace('merge_function: mean', 'merge_function: sum, scaling_factor: 0.5'),
      'fomo-ties-sum',
    );
    expect(values(sum, 'x')).toEqual([-5, -1, 2, 2, 3.5]);
  });
  it('its other methods and checks: magmax takes the earlier expert, interpolation needs weights summing to 1, TIES takes none', () => {
    const c = parseMergeConfig(
      'toolkit: fomo_in_flux\nmerge_method: magmax\nbase_model: b.safetensors\nmodels: [x.safetensors, y.safetensors]\nparameters: { scaling_factor: 0.7 }',
    );
    expect(c.params).toMatchObject({ lambda: 0.7, ties: 'earlier' });
    expect(c.technique).toBe('magmax');
    expect(
      parseMergeConfig(
        'toolkit: fomo_in_flux\nmerge_method: tall_masks\nbase_model: b.safetensors\nmodels: [x.safetensors, y.safetensors]\nparameters: { tall_mask_lambda: 0.6 }',
      ).params,
    ).toMatchObject({ tallLambda: 0.6, pruningThreshold: 0 });
    expect(() =>
      parseMergeConfig(
        'toolkit: fomo_in_flux\nmerge_method: interpolation\nbase_model: b.safetensors\nmodels:\n  - { model: x.safetensors, parameters: { weight: 0.5 } }\n  - { model: y.safetensors, parameters: { weight: 0.6 } }',
        { source: 'f.yaml' },
      ),
    ).toThrow(/f\.yaml: fomo_in_flux interpolation needs weights that sum to 1/);
    expect(() =>
      parseMergeConfig(
        'toolkit: fomo_in_flux\nmerge_method: ties\nbase_model: b.safetensors\nmodels: [{ model: x.safetensors, parameters: { weight: 2 } }]',
      ),
    ).toThrow(/takes no per-model weights/);
    expect(() =>
      parseMergeConfig(
        'toolkit: fomo_in_flux\nmerge_method: ties\nbase_model: b.safetensors\nmodels: [x.safetensors]\nparameters: { prune: 0.2, density: 0.5 }',
      ),
    ).not.toThrow();
    expect(() =>
      parseMergeConfig(
        'toolkit: fomo_in_flux\nmerge_method: ties\nbase_model: b.safetensors\nmodels: [x.safetensors]\nparameters: { prune_percentile: 1.2 }',
      ),
    ).toThrow(/ties: prune must be in \(0, 1\), got 1\.2/);
    // slerp's factor is the first weight coefficient
    expect(
      parseMergeConfig(
        'toolkit: fomo_in_flux\nmerge_method: slerp\nbase_model: b.safetensors\nmodels:\n  - { model: x.safetensors, parameters: { weight: 0.3 } }\n  - { model: y.safetensors, parameters: { weight: 0.7 } }',
      ).params.t,
    ).toBe(0.3);
  });
});

describe("fomo_in_flux's model-wide DARE and Breadcrumbs", () => {
  const twoTensors = (x: number[], y: number[]) =>
    ParamSet.fromEntries([
      ['x', { shape: [x.length], data: Float32Array.from(x) }],
      ['y', { shape: [y.length], data: Float32Array.from(y) }],
    ]);
  it('dare: int(p·n) - 1 drops over the whole model, survivors times 1/(1 - p), seeded', async () => {
    const { mergeModels } = await import('../src/merge/engine.js');
    const base = twoTensors(new Array(8).fill(0), new Array(12).fill(0));
    const e = twoTensors(
      Array.from({ length: 8 }, (_, i) => i + 1),
      Array.from({ length: 12 }, (_, i) => i + 9),
    );
    const spec = (seed: number) => ({
      technique: 'dare-linear',
      params: { p: 0.2, mask: 'kthvalue', scope: 'model' },
      seed,
    });
    const counts = new Array<number>(20).fill(0);
    for (let seed = 0; seed < 400; seed++) {
      const out = await mergeModels(spec(seed), base, [e]);
      const all = [...out.data('x'), ...out.data('y')];
      // n = 20, k = int(0.2·20) = 4: exactly 3 dropped; survivors times 1.25
      expect(all.filter((v) => v === 0).length).toBe(3);
      all.forEach((v, i) => (v === 0 ? counts[i]++ : expect(v).toBeCloseTo((i + 1) * 1.25, 5)));
    }
    // each element is dropped with probability 3/20 (400 draws: 60 expected, sd 7)
    for (const c of counts) expect(Math.abs(c - 60)).toBeLessThan(35);
    const again = await mergeModels(spec(7), base, [e]);
    expect([...again.data('x')]).toEqual([...(await mergeModels(spec(7), base, [e])).data('x')]);
  });
  it('a fomo_in_flux dare_ties config runs with those rules', () => {
    const c = parseMergeConfig(
      'toolkit: fomo_in_flux\nmerge_method: dare_ties\nbase_model: b.safetensors\nmodels: [x.safetensors, y.safetensors]\nparameters: { prune_percentile: 0.3 }',
    );
    expect(c.params).toMatchObject({
      p: 0.3,
      mask: 'kthvalue',
      scope: 'model',
      rescale: 'inverse',
      tieRule: 'majority',
      weightsAt: 'after',
      disjoint: 'mean',
    });
    const crumbs = parseMergeConfig(
      'toolkit: fomo_in_flux\nmerge_method: breadcrumbs_ties\nbase_model: b.safetensors\nmodels: [x.safetensors]',
    );
    expect(crumbs.params).toMatchObject({
      granularity: 'model',
      p: 0.2,
      gamma: 0.2,
      disjoint: 'sum',
      counts: 'truncate',
    });
  });
  it('breadcrumbs over the model: every |τ| between the thresholds stays, ties included', async () => {
    const { mergeModels } = await import('../src/merge/engine.js');
    const base = twoTensors([0, 0, 0, 0, 0], [0, 0, 0, 0, 0]);
    // magnitudes 1..10 with 2 twice: bottom int(0.2·10) = 2 -> lower threshold the 3rd smallest (2);
    // top int(0.1·10) = 1 -> upper threshold the 2nd largest (9): keeps 2, 2, 3, ..., 9.
    const e = twoTensors([1, 2, -2, 4, 10], [5, 6, -7, 8, 9]);
    const out = await mergeModels(
      { technique: 'breadcrumbs', params: { granularity: 'model', p: 0.2, gamma: 0.1 } },
      base,
      [e],
    );
    expect([...out.data('x'), ...out.data('y')]).toEqual([0, 2, -2, 4, 0, 5, 6, -7, 8, 9]);
  });
});

describe('the worked configs of docs/merge-command.md', () => {
  const doc = readFileSync(new URL('../docs/merge-command.md', import.meta.url), 'utf8');
  const block = (section: string) => {
    const from = doc.indexOf(section);
    const start = doc.indexOf('```yaml\n', from) + '```yaml\n'.length;
    return doc.slice(start, doc.indexOf('```', start));
  };
  const names = [
    'model.embed.weight',
    'model.layers.0.mlp.weight',
    'model.layers.1.attn.weight',
    'model.layers.2.mlp.weight',
  ];
  const tensors = (f: (i: number) => number) =>
    Object.fromEntries(names.map((n, j) => [n, [f(4 * j), f(4 * j + 1), f(4 * j + 2), f(4 * j + 3)]]));
  it('coming from mergekit: runs unchanged, each tensor with its own density and weight', async () => {
    for (const [dir, f] of [
      ['llama-base', () => 0],
      ['expert-math', (i: number) => (i % 4) + 1],
      ['expert-code', (i: number) => -((i % 3) + 0.5)],
    ] as const) {
      mkdirSync(join(tmp.dir, dir), { recursive: true });
      await write(`${dir}/model.safetensors`, tensors(f));
    }
    const out = await merge(block('## Coming from mergekit'), 'doc-mergekit');
    const header = await openSafetensors(join(tmp.dir, 'doc-mergekit.safetensors'));
    expect(header.entries.every((e) => e.dtype === 'BF16')).toBe(true);
    await header.close();
    // layer 2 (t = 1, indices 12..15): math's density is 0.1, int(0.4) = 0 kept; code keeps 2 of
    // [-0.5, -1.5, -2.5, -0.5]; only code votes, and normalize divides its weighted values by its weight.
    expect(values(out, 'model.layers.2.mlp.weight')).toEqual([0, -1.5, -2.5, 0]);
    // layer 0 (t = 0): math keeps all of [1, 2, 3, 4]; code keeps [-1.5, -2.5, 0, 0] (weight 0.5, an mlp
    // tensor); the weighted sums [0.25, 0.75, 3, 4] elect + everywhere, where math alone agrees.
    expect(values(out, 'model.layers.0.mlp.weight')).toEqual([1, 2, 3, 4]);
  });
  it('coming from fomo_in_flux: runs', async () => {
    await write(
      'zero_shot.safetensors',
      tensors(() => 0),
    );
    for (let t = 1; t <= 3; t++)
      await write(
        `task-${t}.safetensors`,
        tensors((i) => ((i * 7 + t * 3) % 11) - 5),
      );
    const out = await merge(block('## Coming from fomo_in_flux'), 'doc-fomo');
    expect(values(out, 'model.embed.weight').every((v) => Number.isFinite(v))).toBe(true);
  });
});
