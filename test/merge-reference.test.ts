import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeSpecOf, parseMergeConfig } from '../src/merge/config.js';
import { mergeModels } from '../src/merge/engine.js';
import { ParamSet } from '../src/params/paramset.js';

/**
 * Configs of mergekit, fomo_in_flux and FusionBench run unchanged against merges that PyTorch computed
 * with those toolkits' own code where it runs alone, else their formulas
 * (test/fixtures/reference/generate.py writes merges.json; no Python is needed here).
 */
interface Listed {
  [name: string]: { shape: number[]; data: number[] };
}
interface Fixture {
  models: Record<string, Listed>;
  cases: { toolkit: string; config: Record<string, unknown>; expected: Listed }[];
}

const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/reference/merges.json', import.meta.url), 'utf8'),
) as Fixture;
const paramSet = (m: Listed, label: string) =>
  ParamSet.fromEntries(
    Object.entries(m).map(([k, t]) => [k, { shape: t.shape, data: Float32Array.from(t.data) }]),
    label,
  );
const models = Object.fromEntries(
  Object.entries(fixture.models).map(([name, m]) => [`${name}.safetensors`, paramSet(m, name)]),
);

/** The config as the toolkit's user writes it, with local file names. */
function configText(toolkit: string, config: Record<string, unknown>): string {
  const file = (m: unknown) =>
    typeof m === 'string'
      ? `${m}.safetensors`
      : { ...(m as object), model: `${(m as { model: string }).model}.safetensors` };
  const c: Record<string, unknown> = { ...config, models: (config.models as unknown[]).map(file) };
  if (typeof config.base_model === 'string') c.base_model = `${config.base_model}.safetensors`;
  if (toolkit !== 'mergekit') c.toolkit = toolkit;
  return JSON.stringify(c);
}

describe("reference merges computed by the toolkits' code and formulas", () => {
  for (const { toolkit, config, expected } of fixture.cases) {
    it(`${toolkit} ${config.merge_method} ${JSON.stringify(config.parameters ?? {})}`, async () => {
      const c = parseMergeConfig(configText(toolkit, config), {
        format: 'json',
        source: 'reference.json',
        baseDir: '/reference',
      });
      const base = models[basename(c.base)];
      const experts = c.models.map((m) => models[basename(m.path)]);
      const merged = await mergeModels(mergeSpecOf(c), base, experts);
      for (const [name, t] of Object.entries(expected)) {
        const got = merged.data(name);
        expect(got.length).toBe(t.data.length);
        t.data.forEach((e, i) => {
          if (!(Math.abs(got[i] - e) <= 2e-6 * (1 + Math.abs(e))))
            expect.fail(`${name}[${i}]: got ${got[i]}, the toolkit gives ${e}`);
        });
      }
    });
  }
});
