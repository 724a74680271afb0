/**
 * Configs that parse but mean nothing are refused with a CONFIG error naming the file and the place:
 * YAML tags that make sets, ordered maps, timestamps or binaries; infinite or out-of-range toolkit
 * settings; a study whose name would put its results outside results/; a merge whose output is its config.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runMergeConfig } from '../src/cli/commands/merge.js';
import { parseMergeConfig } from '../src/merge/config.js';
import { ParamSet } from '../src/params/paramset.js';
import { writeSafetensors } from '../src/params/safetensors/index.js';
import { parseStudyFile } from '../src/study/study-file.js';
import { tempDir } from './fixtures/safetensors/build.js';

const tmp = tempDir('tm-nonsense-');
afterAll(() => tmp.cleanup());

const MERGE = 'base_model: c.safetensors\nmodels: [a.safetensors, b.safetensors]\n';
const STUDY = 'methods: [finetune]\ntechniques: [weighted-average]\nseeds: 0\n';

describe('nonsense configs', () => {
  it('YAML tags that make anything but plain data', () => {
    const cases: [string, RegExp][] = [
      [`merge_method: ties\n${MERGE}parameters: !!set {a, b}`, /m\.yaml: parameters: a YAML set \(!!set\)/],
      [`merge_method: ties\n${MERGE}parameters: !!omap [lambda: 1]`, /parameters: a YAML ordered map \(!!omap\)/],
      [`merge_method: ties\n${MERGE}seed: !!timestamp 2001-12-14`, /seed: a YAML timestamp/],
      [`merge_method: ties\n${MERGE}output: !!binary aGVsbG8=`, /output: a YAML binary value/],
      [`merge_method: ties\n${MERGE}seed: !custom 3`, /m\.yaml: Unresolved tag: !custom/],
    ];
    for (const [text, error] of cases)
      expect(() => parseMergeConfig(text, { source: 'm.yaml' }), text).toThrowError(error);
    for (const key of ['stream', 'quick'])
      expect(() => parseStudyFile(`name: x\n${STUDY}${key}: !!set {T, d}\n`, 's.yaml'), key).toThrowError(
        `s.yaml: ${key}: a YAML set (!!set) is not a config value`,
      );
  });

  it('mergekit densities outside [0, 1] and infinite settings, as the native names refuse them', () => {
    for (const d of ['1.5', '.inf', '-0.5']) {
      const top = `merge_method: dare_ties\n${MERGE}parameters: {density: ${d}}\n`;
      const perModel = `merge_method: dare_ties\nbase_model: c.safetensors\nmodels:\n  - {model: a.safetensors, parameters: {density: ${d}}}\n  - b.safetensors\n`;
      for (const text of [top, perModel])
        expect(() => parseMergeConfig(text, { source: 'm.yaml' }), text).toThrowError(
          d === '.inf'
            ? /m\.yaml: .*density: must be a finite number, got Infinity/
            : /m\.yaml: mergekit dare_ties.*density must be in \[0, 1\]/,
        );
    }
    expect(() => parseMergeConfig(`merge_method: ties\n${MERGE}parameters: {density: .nan}\n`)).toThrowError(
      /density: must be a finite number, got NaN/,
    );
    // density 1 keeps every value, as mergekit's does
    expect(parseMergeConfig(`merge_method: dare_ties\n${MERGE}parameters: {density: 1}\n`).params).toMatchObject({
      p: 0,
    });
  });

  it('study names that are not one plain folder name', () => {
    for (const name of ['..', '.', '...', 'a/b'])
      expect(() => parseStudyFile(`name: "${name}"\n${STUDY}`, 's.yaml'), name).toThrowError(
        /s\.yaml: name: .* must be letters/,
      );
    expect(parseStudyFile(`name: a.b\n${STUDY}`, 's.yaml').name).toBe('a.b');
  });

  it('a merge whose output is its own config', async () => {
    const model = ParamSet.fromEntries([['w', { shape: [2], data: new Float32Array([1, 2]) }]]);
    for (const f of ['a', 'b']) await writeSafetensors(join(tmp.dir, `${f}.safetensors`), model);
    const config = join(tmp.dir, 'm.yaml');
    const text = 'merge_method: linear\nmodels: [a.safetensors, b.safetensors]\noutput: m.yaml\n';
    writeFileSync(config, text);
    await expect(runMergeConfig(config)).rejects.toThrowError(`${config}: output ${config} is the config file itself`);
    await expect(runMergeConfig(config, { output: config })).rejects.toThrowError(/is the config file itself/);
    expect(readFileSync(config, 'utf8')).toBe(text);
  });
});

describe('errors a merge finds while computing', () => {
  it('name the config and the tensor', async () => {
    const dir = join(tmp.dir, 'computing');
    const model = (s: number) => ParamSet.fromEntries([['w', { shape: [16], data: new Float32Array(16).fill(s) }]]);
    mkdirSync(dir);
    for (const [f, s] of [
      ['base', 0],
      ['a', 1],
      ['b', 2],
    ] as const)
      await writeSafetensors(join(dir, `${f}.safetensors`), model(s));
    const config = join(dir, 'm.yaml');
    writeFileSync(
      config,
      'merge_method: dare-linear\ntoolkit: time-merge\nbase_model: base.safetensors\nmodels: [a.safetensors, b.safetensors]\nparameters: {mask: kthvalue, p: 0.001}\noutput: out.safetensors\n',
    );
    await expect(runMergeConfig(config)).rejects.toThrowError(
      new RegExp(`^${config.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: tensor "w": dare.*kthvalue`),
    );
  });
});
