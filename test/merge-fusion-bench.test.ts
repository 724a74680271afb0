import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { mergeModels } from '../src/merge/engine.js';
import { ParamSet } from '../src/params/paramset.js';
import { parseMergeConfig } from '../src/merge/config.js';
import { configRunner } from './merge-config-runner.js';

/** FusionBench method configs (`toolkit: fusion_bench`) run as FusionBench computes them, on hand-computed cases. */
const { tmp, write, merge, run, values } = configRunner('tm-fusion-bench-');
afterAll(() => tmp.cleanup());
const fb = (method: string, models: string, parameters = '{}', base = 'base.safetensors') =>
  `toolkit: fusion_bench\nmerge_method: ${method}\nbase_model: ${base}\nmodels: [${models}]\nparameters: ${parameters}`;
const parse = (yaml: string) => parseMergeConfig(yaml, { baseDir: tmp.dir, source: 'fb.yaml' });

describe('toolkit: fusion_bench', () => {
  it('ties_merging keeps int(d·K)+1 values per model over the flattened model, as kthvalue(d − int(d·K))', async () => {
    await write('base.safetensors', { x: [0, 0, 0, 0, 0], y: [0, 0, 0, 0, 0] });
    await write('a.safetensors', { x: [1, -2, 3, -4, 5], y: [6, -7, 8, -9, 10] });
    await write('b.safetensors', { x: [-10, 9, -1, 2, 3], y: [4, 5, -6, 7, -8] });
    // d = 10, threshold 20 -> K = 0.2, int(2) = 2, kthvalue(8): three values per model (not two).
    // a keeps 8, -9, 10 (y); b keeps -10, 9 (x) and -8 (y). Signs of the sums: x [-, +, 0, 0, 0],
    // y [0, 0, +, -, +]; the zeros take the sign of the model's sign total (+1). merge_func sum: x
    // [-10, 9, 0, 0, 0], y [0, 0, 8, -9, 10] (b's -8 disagrees); times scaling_factor 0.5.
    const out = await merge(fb('ties_merging', 'a.safetensors, b.safetensors', '{ scaling_factor: 0.5 }'), 'ties');
    expect(values(out, 'x')).toEqual([-5, 4.5, 0, 0, 0]);
    expect(values(out, 'y')).toEqual([0, 0, 4, -4.5, 5]);
    // threshold 0.2 is the same fraction (FusionBench divides by 100 only above 1).
    const frac = await merge(
      fb('ties_merging', 'a.safetensors, b.safetensors', '{ scaling_factor: 0.5, threshold: 0.2 }'),
      'ties-frac',
    );
    expect(values(frac, 'y')).toEqual([0, 0, 4, -4.5, 5]);
    const c = parse(fb('ties_merging', 'a.safetensors, b.safetensors'));
    expect(c.technique).toBe('ties');
    expect(c.params).toMatchObject({
      lambda: 0.3,
      density: 0.2,
      selection: 'kthvalue-keep',
      scope: 'model',
      disjoint: 'sum',
      tieRule: 'majority',
    });
  });

  it('ties_merging threshold 29 on 100 values keeps 29 (int(100·0.29) = 28, plus one)', async () => {
    const ramp = Array.from({ length: 100 }, (_, i) => (i % 2 ? -(i + 1) : i + 1));
    await write('zero100.safetensors', { w: new Array(100).fill(0) });
    await write('ramp100.safetensors', { w: ramp });
    const out = await merge(
      fb('ties_merging', 'ramp100.safetensors', '{ threshold: 29, scaling_factor: 1 }', 'zero100.safetensors'),
      'ties-29',
    );
    const kept = values(out, 'w').flatMap((v) => (v === 0 ? [] : [Math.abs(v)]));
    expect(kept).toEqual(Array.from({ length: 29 }, (_, i) => 72 + i));
    // merge_func mean and max take FusionBench's names as they are.
    const mean = parse(fb('ties_merging', 'ramp100.safetensors', '{ merge_func: mean }', 'zero100.safetensors'));
    expect(mean.params.disjoint).toBe('mean');
  });

  it('task_arithmetic, simple_average, weighted_average, magmax: FusionBench names and defaults', async () => {
    await write('base.safetensors', { w: [0, 0] });
    await write('a.safetensors', { w: [2, -3] });
    await write('b.safetensors', { w: [-2, 1] });
    // scaling_factor 0.3 (its yaml default): 0.3·(τa + τb) = 0.3·[0, -2].
    const ta = await merge(fb('task_arithmetic', 'a.safetensors, b.safetensors'), 'ta');
    expect(values(ta, 'w')).toEqual([0, Math.fround(-0.6)]);
    // the pool's models averaged; base_model (its _pretrained_) is not one of them.
    const avg = await merge(fb('simple_average', 'a.safetensors, b.safetensors'), 'avg');
    expect(values(avg, 'w')).toEqual([0, -1]);
    // weights as one list, normalised (normalize: true) or as given.
    const wa = await merge(
      fb('linear/weighted_average', 'a.safetensors, b.safetensors', '{ weights: [1, 3], normalize: true }'),
      'wa',
    );
    expect(values(wa, 'w')).toEqual([-1, 0]);
    const raw = await merge(
      fb('weighted_average', 'a.safetensors, b.safetensors', '{ weights: [1, 3], normalize: false }'),
      'wa-raw',
    );
    expect(values(raw, 'w')).toEqual([-4, 0]);
    // magmax: |2| = |-2| goes to the later model (FusionBench's >=), then scaling_factor 0.5.
    const mm = await merge(fb('magmax/magmax', 'a.safetensors, b.safetensors'), 'magmax');
    expect(values(mm, 'w')).toEqual([-1, -1.5]);
  });

  it('dare/task_arithmetic and dare/simple_average: sparsity_ratio, rescale 1/(1 − p), scaling_factor', async () => {
    await write('base.safetensors', { w: [1, 1, 1, 1, 1, 1, 1, 1] });
    await write('a.safetensors', { w: [2, 3, 4, 5, 6, 7, 8, 9] });
    await write('b.safetensors', { w: [0, 1, 2, 3, 4, 5, 6, 7] });
    // sparsity_ratio 0: nothing dropped; simple_average takes scaling_factor 1/N: 1 + (τa + τb)/2.
    const avg = await merge(fb('dare/simple_average', 'a.safetensors, b.safetensors', '{ sparsity_ratio: 0 }'), 'ds');
    expect(values(avg, 'w')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // One model, p = 0.5, scaling_factor 1: each element is θ0 (dropped) or θ0 + 2τ (kept, times 1/(1 − p)).
    const dta = await merge(
      fb('dare/task_arithmetic', 'a.safetensors', '{ sparsity_ratio: 0.5, scaling_factor: 1 }'),
      'dta',
    );
    const got = values(dta, 'w');
    got.forEach((v, i) => expect([1, 1 + 2 * (i + 1)]).toContain(v));
    expect(parse(fb('dare/task_arithmetic', 'a.safetensors', '{ rescale: false }')).params).toMatchObject({
      p: 0.5,
      rescale: 'none',
      lambda: 0.3,
      mask: 'bernoulli',
    });
  });

  it('model_stock/model_stock and slerp/slerp', async () => {
    await write('base.safetensors', { w: [0, 0] });
    await write('a.safetensors', { w: [1, 1] });
    await write('b.safetensors', { w: [1, 0] });
    // cos = 1/√2 (one pair: its angle), r = 2·cos/(cos + 1 + 1e-8); merged r·mean(θ) + (1 − r)·θ0.
    const cos = 1 / (Math.SQRT2 + 1e-8);
    const r = (2 * cos) / (cos + 1 + 1e-8);
    const ms = await merge(fb('model_stock/model_stock', 'a.safetensors, b.safetensors'), 'ms');
    expect(values(ms, 'w')[0]).toBeCloseTo(r, 6);
    expect(values(ms, 'w')[1]).toBeCloseTo(r / 2, 6);
    // A tensor named in ignore_keys takes the plain mean of the models.
    const plain = await merge(fb('model_stock', 'a.safetensors, b.safetensors', '{ ignore_keys: [w] }'), 'ms-plain');
    expect(values(plain, 'w')).toEqual([1, 0.5]);
    // slerp from the first model (t = 0) to the second; t 0.5 (its yaml default) between [1, 0] and [0, 1].
    await write('e0.safetensors', { w: [1, 0] });
    await write('e1.safetensors', { w: [0, 1] });
    const sl = await merge(
      'toolkit: fusion_bench\nmerge_method: slerp/slerp\nmodels: [e0.safetensors, e1.safetensors]',
      'slerp',
    );
    values(sl, 'w').forEach((v) => expect(v).toBeCloseTo(Math.SQRT1_2, 6));
  });

  it('keys that change nothing are noted; lists that would change something unsupported are errors', async () => {
    await write('base.safetensors', { w: [0, 0] });
    await write('a.safetensors', { w: [2, -3] });
    const { notes } = await run(fb('task_arithmetic', 'a.safetensors', '{ inplace: false }'), 'inert');
    expect(notes).toEqual([
      `fb.yaml: parameters.inplace: FusionBench updates its loaded model in place or a copy; the merged values are the same`.replace(
        'fb.yaml',
        join(tmp.dir, 'inert.yaml'),
      ),
    ]);
    expect(() => parse(fb('ties_merging', 'a.safetensors', '{ remove_keys: [w] }'))).toThrow(
      /fb\.yaml: fusion_bench ties_merging: parameters\.remove_keys: only an empty list is supported/,
    );
    expect(() => parse(fb('dare/task_arithmetic', 'a.safetensors', '{ only_on_linear_weights: true }'))).toThrow(
      /only_on_linear_weights: true is not supported/,
    );
    expect(() => parse(fb('weighted_average', 'a.safetensors', '{ weights: [1, 2] }'))).toThrow(
      /parameters\.weights must be one number per model \(1\), got \[1,2\]/,
    );
    expect(() =>
      parse(
        'toolkit: fusion_bench\nmerge_method: task_arithmetic\nbase_model: base.safetensors\nmodels:\n  - { model: a.safetensors, parameters: { weight: 2 } }',
      ),
    ).toThrow(/fusion_bench task_arithmetic takes no per-model weights/);
    expect(() => parse(fb('tall_mask/task_arithmetic', 'a.safetensors'))).toThrow(
      /"tall_mask\/task_arithmetic" is not a fusion_bench method time-merge implements \(fusion_bench: simple_average, linear\/simple_average_for_causallm, linear\/weighted_average, weighted_average, task_arithmetic, linear\/task_arithmetic_for_causallm, ties_merging/,
    );
    // The *_for_causallm configs are the same merges; merge_backbone: true (decoder layers only) is refused.
    expect(parse(fb('linear/ties_merging_for_causallm', 'a.safetensors', '{ model_save_path: out }')).params).toEqual(
      parse(fb('ties_merging', 'a.safetensors')).params,
    );
    expect(() => parse(fb('linear/task_arithmetic_for_causallm', 'a.safetensors', '{ merge_backbone: true }'))).toThrow(
      /fusion_bench linear\/task_arithmetic_for_causallm: parameters\.merge_backbone: true is not supported/,
    );
    expect(() => parse(fb('ties_merging', 'a.safetensors', '{ threshold: 100 }'))).toThrow(
      /selection kthvalue-keep needs density < 1/,
    );
  });

  it("scaling_factor without the toolkit: an error that names FusionBench's toolkit", () => {
    // `ties` is a mergekit method, read as mergekit's config; `ties_merging` is a registry alias.
    expect(() =>
      parse(
        'merge_method: ties\nbase_model: base.safetensors\nmodels: [a.safetensors]\nparameters: { scaling_factor: 0.3 }',
      ),
    ).toThrow(
      /"scaling_factor" is not a parameter of mergekit ties .*"scaling_factor" is another toolkit's name: add "toolkit: fomo_in_flux" \(fomo_in_flux ties\) or "toolkit: fusion_bench" \(fusion_bench ties_merging\) to read the config as that toolkit does/,
    );
    expect(() =>
      parse(
        'merge_method: ties_merging\nbase_model: base.safetensors\nmodels: [a.safetensors]\nparameters: { scaling_factor: 0.3, threshold: 20 }',
      ),
    ).toThrow(/fb\.yaml: parameters: "scaling_factor" is not a parameter of ties .*add .*"toolkit: fusion_bench"/);
    expect(() =>
      parse(
        'merge_method: magmax\nbase_model: base.safetensors\nmodels: [a.safetensors]\nparameters: { inplace: true }',
      ),
    ).toThrow(
      /"inplace" is another toolkit's name: add "toolkit: fusion_bench" \(fusion_bench magmax\/magmax\) to read/,
    );
  });
});

describe('the worked config of docs/merge-command.md', () => {
  const doc = readFileSync(new URL('../docs/merge-command.md', import.meta.url), 'utf8');
  const from = doc.indexOf('## Coming from FusionBench');
  const start = doc.indexOf('```yaml\n', from) + '```yaml\n'.length;
  const yaml = doc.slice(start, doc.indexOf('```', start));
  const names = ['model.embed.weight', 'model.layers.0.mlp.weight', 'model.layers.1.attn.weight', 'lm_head.weight'];
  const tensors = (f: (i: number) => number) =>
    Object.fromEntries(names.map((n, j) => [n, [0, 1, 2, 3].map((c) => f(4 * j + c))]));
  const task = (t: number) => (i: number) => ((((i * 7 + t * 5) % 17) - 8) * (t + 1)) / 4;

  it('coming from FusionBench: runs as printed, and gives TIES as ties_merging_utils.py computes it', async () => {
    await write(
      'pretrained.safetensors',
      tensors((i) => i / 10),
    );
    for (let t = 1; t <= 3; t++)
      await write(
        `task-${t}.safetensors`,
        tensors((i) => i / 10 + task(t)(i)),
      );
    const out = await merge(yaml, 'doc-fusion-bench');
    // FusionBench's steps on the flattened task vectors (d = 16, K = 0.2: every |τ| >= the
    // (16 − int(3.2))-th smallest), an unweighted sign election with zeros to the total's sign, the
    // agreeing values summed, times 0.3.
    const d = 16;
    const taus = [1, 2, 3].map((t) =>
      Array.from({ length: d }, (_, i) => Math.fround(Math.fround(i / 10 + task(t)(i)) - Math.fround(i / 10))),
    );
    const trimmed = taus.map((tv) => {
      const kth = [...tv].map(Math.abs).sort((a, b) => a - b)[d - Math.trunc(d * 0.2) - 1];
      return tv.map((v) => (Math.abs(v) >= kth ? v : 0));
    });
    const signs = Array.from({ length: d }, (_, i) => Math.sign(trimmed.reduce((a, tv) => a + tv[i], 0)));
    const total = Math.sign(signs.reduce((a, b) => a + b, 0));
    const expected = signs.map((sg, i) => {
      const s = sg === 0 ? total : sg;
      const agree = trimmed.reduce((a, tv) => a + (Math.sign(tv[i]) === s ? tv[i] : 0), 0);
      return i / 10 + 0.3 * agree;
    });
    const got = names.flatMap((n) => values(out, n));
    got.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    // int(3.2) + 1 = 4 values per model survive; task-1 has two values tied at its threshold, and both stay.
    expect(trimmed.map((tv) => tv.filter((v) => v !== 0).length)).toEqual([5, 4, 4]);
  });
});

describe('toolkit: fusion_bench from the command line (bin/time-merge.js)', () => {
  const exec = promisify(execFile);
  const bin = join(import.meta.dirname, '..', 'bin', 'time-merge.js');
  it("merges, saying in a note which key changes nothing; another toolkit's key is a one-line error, status 2", async () => {
    await write('base.safetensors', { w: [0, 0] });
    await write('a.safetensors', { w: [2, -3] });
    const ok = join(tmp.dir, 'cli-fb.yaml');
    writeFileSync(
      ok,
      `${fb('magmax', 'a.safetensors', '{ scaling_factor: 1, inplace: true }')}\noutput: cli-fb.safetensors\n`,
    );
    const { stdout, stderr } = await exec(process.execPath, [bin, 'merge', ok]);
    expect(stdout).toMatch(/merged 1 model\(s\) with magmax/);
    // Off a terminal a merge also prints plain progress lines ("merging [...]"); the note is the rest.
    const notes = stderr
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('merging '));
    expect(notes.join('\n')).toBe(
      `time-merge: ${ok}: parameters.inplace: FusionBench updates its loaded model in place or a copy; the merged values are the same`,
    );
    const bad = join(tmp.dir, 'cli-bad.yaml');
    writeFileSync(
      bad,
      'merge_method: task_arithmetic\nbase_model: base.safetensors\nmodels: [a.safetensors]\nparameters: { scaling_factor: 0.3 }\noutput: x.safetensors\n',
    );
    const err = await exec(process.execPath, [bin, 'merge', bad]).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(2);
    expect(err?.stderr.trim().split('\n')).toHaveLength(1);
    expect(err?.stderr).toMatch(
      /"scaling_factor" is another toolkit's name: add "toolkit: fomo_in_flux" \(fomo_in_flux task_arithmetic\) or "toolkit: fusion_bench" \(fusion_bench task_arithmetic\)/,
    );
  });
});

describe('selection kthvalue-keep (FusionBench TIES) over the model', () => {
  it('keeps exactly the values with |τ| >= the (n − int(n·K))-th smallest magnitude, ties included', async () => {
    // Magnitudes from a small set, so ties at the threshold are common; two tensors split anywhere.
    const tau = fc.array(
      fc.integer({ min: -6, max: 6 }).filter((v) => v !== 0),
      { minLength: 2, maxLength: 40 },
    );
    await fc.assert(
      fc.asyncProperty(tau, fc.double({ min: 0.01, max: 0.99, noNaN: true }), fc.nat(), async (t, K, cut) => {
        const at = 1 + (cut % (t.length - 1));
        const split = (v: number[]) =>
          ParamSet.fromEntries([
            ['x', { shape: [at], data: Float32Array.from(v.slice(0, at)) }],
            ['y', { shape: [v.length - at], data: Float32Array.from(v.slice(at)) }],
          ]);
        const out = await mergeModels(
          {
            technique: 'ties',
            params: {
              scope: 'model',
              selection: 'kthvalue-keep',
              density: K,
              tieRule: 'majority',
              weightsAt: 'after',
              disjoint: 'sum',
            },
          },
          split(t.map(() => 0)),
          [split(t)],
        );
        const sorted = t.map(Math.abs).sort((a, b) => a - b);
        const kth = sorted[t.length - Math.trunc(t.length * K) - 1];
        const expected = t.map((v) => (Math.abs(v) >= kth ? v : 0));
        return sameArray([...out.data('x'), ...out.data('y')], expected);
      }),
      { numRuns: 80 },
    );
  });
});

function sameArray(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
