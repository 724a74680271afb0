import { execFile } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../src/params/safetensors/index.js';
import type { ParamSet } from '../src/params/paramset.js';
import { tempDir } from './fixtures/safetensors/build.js';
import { llamaShapes, modelValues, writeHfFolder } from './hf-folders.js';

/**
 * mergekit's example configs (its examples/ at a6e4028, comments left out) that use safetensors models
 * and methods time-merge has, run unchanged on small synthetic folders named as the configs name the
 * models: the relative name psmathur/orca_mini_v3_13b is a folder beside the config.
 */
const EXAMPLES = join(import.meta.dirname, 'fixtures', 'mergekit-examples');
const tmp = tempDir('tm-mergekit-examples-');
afterAll(() => tmp.cleanup());
const run = promisify(execFile);
const bin = join(import.meta.dirname, '..', 'bin', 'time-merge.js');

/** Each model of the examples: its layer count (13B Llama 40, Mistral 7B 32) and its values' index. */
const MODELS: Record<string, [layers: number, m: number]> = {
  'TheBloke/Llama-2-13B-fp16': [40, 0],
  'psmathur/orca_mini_v3_13b': [40, 1],
  'garage-bAInd/Platypus2-13B': [40, 2],
  'WizardLM/WizardLM-13B-V1.2': [40, 3],
  'WizardLM/WizardMath-13B-V1.0': [40, 4],
  'mistralai/Mistral-7B-v0.1': [32, 5],
  'mistralai/Mistral-7B-Instruct-v0.2': [32, 6],
  'BioMistral/BioMistral-7B': [32, 7],
};
const values = (name: string) => modelValues(llamaShapes(MODELS[name][0]), MODELS[name][1]);

beforeAll(async () => {
  for (const [name, [layers]] of Object.entries(MODELS))
    await writeHfFolder(join(tmp.dir, name), values(name), { layers, shards: 2 });
});

/** Runs an example through the bundle into a folder with a few shards; returns the merged tensors. */
async function merge(example: string): Promise<{ out: string; merged: ParamSet }> {
  copyFileSync(join(EXAMPLES, `${example}.yml`), join(tmp.dir, `${example}.yml`));
  const out = join(tmp.dir, `out-${example}`);
  const { stderr } = await run(
    process.execPath,
    [bin, 'merge', `${example}.yml`, out, '--out-shard-size', '2K', '-q'],
    {
      cwd: tmp.dir,
    },
  );
  expect(stderr).toBe('');
  const files = readdirSync(out);
  for (const f of [
    'config.json',
    'tokenizer.json',
    'tokenizer_config.json',
    'README.md',
    'model.safetensors.index.json',
  ])
    expect(files).toContain(f);
  expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).torch_dtype).toBe('float16');
  return { out, merged: await readSafetensors(join(out, 'model.safetensors.index.json')) };
}

/** float16's spacing below 16 is at most 2^-7: a merged value rounds to within half of it. */
const F16_HALF_STEP = 2 ** -8;

describe("mergekit's example configs, unchanged", () => {
  it('linear.yml: weights 1, 0.3, 0.5 normalised by their sum', async () => {
    const { merged } = await merge('linear');
    const [o, w, p] = ['psmathur/orca_mini_v3_13b', 'WizardLM/WizardLM-13B-V1.2', 'garage-bAInd/Platypus2-13B'].map(
      values,
    );
    for (const name of ['model.norm.weight', 'model.layers.17.mlp.up_proj.weight']) {
      const want = Array.from(o.data(name), (v, i) => (1 * v + 0.3 * w.data(name)[i] + 0.5 * p.data(name)[i]) / 1.8);
      merged.data(name).forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThanOrEqual(F16_HALF_STEP));
    }
  });

  it('gradient-slerp.yml: one slice over 40 layers; t runs 0 → 1 over self_attn and 1 → 0 over mlp', async () => {
    const { merged } = await merge('gradient-slerp');
    const [orca, platy] = ['psmathur/orca_mini_v3_13b', 'garage-bAInd/Platypus2-13B'].map(values);
    const q = (l: number) => `model.layers.${l}.self_attn.q_proj.weight`;
    const up = (l: number) => `model.layers.${l}.mlp.up_proj.weight`;
    // t = 0 is the base (orca), t = 1 the other model: exact in f16.
    expect(merged.data(q(0))).toEqual(orca.data(q(0)));
    expect(merged.data(q(39))).toEqual(platy.data(q(39)));
    expect(merged.data(up(0))).toEqual(platy.data(up(0)));
    expect(merged.data(up(39))).toEqual(orca.data(up(39)));
    expect(merged.names().filter((n) => n.includes('.layers.') && n.endsWith('q_proj.weight'))).toHaveLength(40);
  });

  it('orcamini-platy-44layer.yml: a 44-layer frankenmerge, config.json counting 44 layers', async () => {
    const { out, merged } = await merge('orcamini-platy-44layer');
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).num_hidden_layers).toBe(44);
    const [orca, platy] = ['psmathur/orca_mini_v3_13b', 'garage-bAInd/Platypus2-13B'].map(values);
    const q = (l: number) => `model.layers.${l}.self_attn.q_proj.weight`;
    expect(merged.data(q(23))).toEqual(orca.data(q(23)));
    expect(merged.data(q(24))).toEqual(platy.data(q(20)));
    expect(merged.data(q(43))).toEqual(platy.data(q(39)));
    expect(merged.has(q(44))).toBe(false);
  });

  it('ties.yml (gradients and filters per model) and bio-merge.yml run and write finite models', async () => {
    for (const example of ['ties', 'bio-merge']) {
      const { merged } = await merge(example);
      expect(merged.names()).toContain('lm_head.weight');
      for (const name of merged.names()) expect(merged.data(name).every(Number.isFinite)).toBe(true);
    }
  });
});
