import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { mergeSpecOf, parseMergeConfig } from '../src/merge/config.js';
import { mergeModels } from '../src/merge/engine.js';
import { ParamSet } from '../src/params/paramset.js';
import { readSafetensors, writeSafetensors } from '../src/params/safetensors/index.js';
import { tempDir } from './fixtures/safetensors/build.js';

/**
 * FusionBench's own OPCM, DoP, TSV-M, Iso-C and Iso-CTS code, run on a small model with open_clip's
 * tensor names (test/fixtures/reference/fusion_bench.py writes fusion_bench.json; no Python is needed
 * here), against time-merge's techniques fed the same experts in the same order, from the configs a
 * FusionBench user writes (`toolkit: fusion_bench`).
 */
interface Listed {
  [name: string]: { shape: number[]; data: number[] };
}
interface Case {
  method: string;
  parameters: Record<string, number | boolean | string>;
  models: string[];
  expected: Listed;
}
const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/reference/fusion_bench.json', import.meta.url), 'utf8'),
) as { models: Record<string, Listed>; cases: Case[] };
const paramSet = (m: Listed, label: string) =>
  ParamSet.fromEntries(
    Object.entries(m).map(([k, t]) => [k, { shape: t.shape, data: Float32Array.from(t.data) }]),
    label,
  );
const models = Object.fromEntries(Object.entries(fixture.models).map(([n, m]) => [n, paramSet(m, n)]));

/** The case as a FusionBench user writes it: `toolkit: fusion_bench`, its method and parameter names. */
function configOf(c: Case): string {
  const continual = c.method === 'opcm' || c.method === 'dop';
  return JSON.stringify({
    toolkit: 'fusion_bench',
    merge_method: c.method,
    base_model: 'base.safetensors',
    models: c.models.map((m) => `${m}.safetensors`),
    parameters: { ...c.parameters, ...(continual ? { shuffle_order: false } : {}) },
  });
}

/** The largest difference from a case's expected tensors, relative to each tensor's largest value. */
function worstRelative(merged: ParamSet, expected: Listed): number {
  let worst = 0;
  for (const [name, t] of Object.entries(expected)) {
    const got = merged.data(name);
    expect(got.length).toBe(t.data.length);
    let scale = 0;
    for (const e of t.data) scale = Math.max(scale, Math.abs(e));
    t.data.forEach((e, i) => (worst = Math.max(worst, Math.abs(got[i] - e) / scale)));
  }
  return worst;
}

describe("FusionBench's continual and SVD merges", () => {
  for (const c of fixture.cases) {
    it(`${c.method} ${JSON.stringify(c.parameters)} over ${c.models.join(', ')}`, async () => {
      const config = parseMergeConfig(configOf(c), { format: 'json', source: 'fb.json', baseDir: '/reference' });
      const merged = await mergeModels(
        mergeSpecOf(config),
        models.base,
        config.models.map((m) => models[basename(m.path, '.safetensors')]),
      );
      // Relative to each tensor's largest value: 1e-5 (the inputs are float32, FusionBench ran in float64).
      expect(worstRelative(merged, c.expected)).toBeLessThan(1e-5);
    });
  }
});

describe('time-merge merge with merge_method: opcm (the bundle) gives the final running merge', () => {
  const tmp = tempDir('tm-fusion-bench-');
  afterAll(() => tmp.cleanup());
  it('over the models in the order listed', async () => {
    for (const [name, m] of Object.entries(models)) await writeSafetensors(join(tmp.dir, `${name}.safetensors`), m);
    const c = fixture.cases.find((x) => x.method === 'opcm' && x.models.join() === 'c,a,b')!;
    const config = join(tmp.dir, 'opcm.yaml');
    writeFileSync(
      config,
      [
        'merge_method: opcm',
        'base_model: base.safetensors',
        'models: [c.safetensors, a.safetensors, b.safetensors]',
        `parameters: { alpha: ${c.parameters.alpha} }`,
        'output: merged.safetensors',
      ].join('\n'),
    );
    const bin = join(import.meta.dirname, '..', 'bin', 'time-merge.js');
    await promisify(execFile)(process.execPath, [bin, 'merge', config, '--quiet'], { cwd: tmp.dir });
    expect(worstRelative(await readSafetensors(join(tmp.dir, 'merged.safetensors')), c.expected)).toBeLessThan(1e-5);
  });
});

describe('toolkit: fusion_bench for the continual methods', () => {
  it('refuses the default shuffle_order: true, naming the key (time-merge merges in the order listed)', () => {
    const c = fixture.cases.find((x) => x.method === 'opcm')!;
    const text = configOf(c).replace('"shuffle_order":false', '"shuffle_order":true');
    expect(() => parseMergeConfig(text, { format: 'json', source: 'fb.json', baseDir: '/reference' })).toThrow(
      /parameters\.shuffle_order: time-merge merges the models in the order listed/,
    );
  });
});
