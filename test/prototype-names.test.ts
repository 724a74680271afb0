/**
 * Names every object inherits (constructor, __proto__, toString, ...) are names like any other: in every
 * place a config, study file or run setting names something, they are unknown names (a CONFIG error
 * naming them), never a lookup that reaches Object.prototype.
 */
import { describe, expect, it } from 'vitest';
import { parseMergeConfig } from '../src/merge/config.js';
import { TimeMergeError } from '../src/params/errors.js';
import { parseStudyFile } from '../src/study/study-file.js';
import { resolveSyntheticConfig } from '../src/synthetic/config.js';
import { fillTemplate } from '../src/time/external.js';
import { parseMethod } from '../src/time/method.js';

const INHERITED = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'];
const MERGE = 'base_model: c.safetensors\nmodels: [a.safetensors, b.safetensors]\n';
const STUDY = (over: string) => `name: x\nmethods: [finetune]\ntechniques: [weighted-average]\nseeds: 0\n${over}\n`;

function mergeConfigs(p: string): string[] {
  return [
    `merge_method: linear\n${MERGE}dtype: ${p}`,
    `merge_method: linear\n${MERGE}out_dtype: ${p}`,
    `merge_method: ${p}\n${MERGE}`,
    `merge_method: ${p}\ntoolkit: time-merge\n${MERGE}`,
    `merge_method: linear\ntoolkit: ${p}\n${MERGE}`,
    `merge_method: linear\n${MERGE}parameters: {${p}: 1}`,
    `merge_method: ties\ntoolkit: time-merge\n${MERGE}parameters: {${p}: 1}`,
    `merge_method: ties\ntoolkit: time-merge\nbase_model: c.safetensors\nmodels: [{model: a.safetensors, parameters: {${p}: 1}}, b.safetensors]`,
    `merge_method: linear\n${MERGE}${p}: 1`,
  ];
}

function studies(p: string): string[] {
  return [
    STUDY(`stream: {${p}: 1}`),
    STUDY(`quick: {stream: {${p}: 1}}`),
    STUDY(`${p}: 1`),
    STUDY(`findings: [${p}]`),
    STUDY(`baselines: [${p}]`),
    STUDY(`replay: {${p}: 1}`),
    `name: x\nmethods: ["@${p}"]\ntechniques: [weighted-average]\nseeds: 0\n`,
    `name: x\nmethods: ["${p}+last"]\ntechniques: [weighted-average]\nseeds: 0\n`,
    `name: x\nmethods: [finetune]\ntechniques: ["@${p}"]\nseeds: 0\n`,
    `name: x\nmethods: [finetune]\ntechniques: ["${p}"]\nseeds: 0\n`,
  ];
}

/** Runs f and returns the CONFIG error it must throw. */
function configError(f: () => unknown): TimeMergeError {
  try {
    f();
  } catch (err) {
    if (err instanceof TimeMergeError) return err;
    throw new Error(`not a clean error: ${String(err)}`);
  }
  throw new Error('accepted');
}

describe('inherited names', () => {
  for (const p of INHERITED) {
    it(`"${p}" is an unknown name wherever a merge config names something`, () => {
      for (const text of mergeConfigs(p)) {
        const err = configError(() => parseMergeConfig(text, { source: 'm.yaml' }));
        expect(err.code, text).toBe('CONFIG');
        expect(err.message, text).toContain(p);
      }
    });

    it(`"${p}" is an unknown name wherever a study file names something`, () => {
      for (const text of studies(p))
        expect(configError(() => parseStudyFile(text, 's.yaml')).code, text).toBe('CONFIG');
    });

    it(`"${p}" is an unknown method, stream setting and placeholder`, () => {
      expect(configError(() => parseMethod(p)).message).toContain(p);
      expect(configError(() => resolveSyntheticConfig(JSON.parse(`{"${p}": 1}`))).message).toContain(p);
      expect(configError(() => fillTemplate([`--x {${p}}`], { init: 'a' }, 'trainer')).message).toContain(p);
    });
  }
});
