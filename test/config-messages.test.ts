import { describe, expect, it } from 'vitest';
import { parseMergeConfig } from '../src/merge/config.js';
import { getTechnique } from '../src/merge/registry.js';
import { closest, didYouMean, editDistance } from '../src/params/did-you-mean.js';
import { showValue } from '../src/params/show-value.js';
import { parseMethod } from '../src/time/method.js';
import { parseRunConfig } from '../src/time/run-config.js';
import { getStudy } from '../sims/index.js';

const MERGE = 'merge_method: ties\nbase_model: base.safetensors\nmodels: [a.safetensors, b.safetensors]\n';
const RUN = (tasks: string) => `base: base.safetensors
tasks: ${tasks}
trainer: "python train.py --init {init} --task {task} --data {data} --out {out}"
evaluator: "python eval.py --weights {weights} --tasks {tasks}"
method: ema_paint
steps: 1
out: results/r
`;

describe('did you mean', () => {
  it('edit distance counts a missing, extra, wrong or swapped letter as one', () => {
    expect(editDistance('lambda', 'lambda')).toBe(0);
    expect(editDistance('lamda', 'lambda')).toBe(1);
    expect(editDistance('lambdaa', 'lambda')).toBe(1);
    expect(editDistance('lambdb', 'lambda')).toBe(1);
    expect(editDistance('lmabda', 'lambda')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('suggests only names that are close, ignoring case, _ and -', () => {
    expect(closest('task_arithmatic', ['task-arithmetic', 'ties'])).toEqual(['task-arithmetic']);
    expect(closest('TIES', ['ties', 'dare-ties'])).toEqual(['ties']);
    expect(closest('xyz', ['ties', 'slerp'])).toEqual([]);
    expect(didYouMean('seep', ['seed', 'step'])).toBe(' (did you mean "seed" or "step"?)');
    expect(closest('task_arithmatic', ['task-arithmetic', 'task_arithmetic'])).toEqual(['task-arithmetic']);
    expect(didYouMean('zzzzzz', ['seed'])).toBe('');
  });

  it('names the closest key, technique, parameter, protocol, preset and study', () => {
    expect(() => parseMergeConfig(`${MERGE}merge_methd: ties\n`)).toThrow(
      '<inline>: unknown key "merge_methd" (did you mean "merge_method"?) (known: merge_method,',
    );
    expect(() => getTechnique('task-arithmatic')).toThrow(
      'unknown merge technique "task-arithmatic" (did you mean "task-arithmetic"?) (known:',
    );
    expect(() => parseMergeConfig(`${MERGE}parameters: { densty: 0.2 }\n`)).toThrow(
      '"densty" is not a parameter of mergekit ties (did you mean "density"?)',
    );
    expect(() => parseMergeConfig(`${MERGE}toolkit: time-merge\nparameters: { densty: 0.2 }\n`)).toThrow(
      'ties: unknown parameter "densty" (did you mean "density"?)',
    );
    expect(() => parseMethod('ema_pain')).toThrow('method "ema_pain" (did you mean "ema_paint"?): expected a preset');
    expect(() => parseMethod('emma+last')).toThrow('unknown init protocol "emma" (did you mean "ema"?)');
    expect(() => parseMethod('ema+merge_al')).toThrow('unknown deploy protocol "merge_al" (did you mean "merge-all"?)');
    expect(() => getStudy('defualt')).toThrow('unknown study "defualt" (did you mean "default"?)');
    expect(() => parseMergeConfig(`${MERGE}dtype: bf61\n`)).toThrow(
      'dtype must be f32, f16 or bf16 (float32, float16, bfloat16), got "bf61" (did you mean "bf16"?)',
    );
  });
});

describe('config values in messages', () => {
  it('show numbers as read (Infinity, not null), strings quoted, and long values cut', () => {
    expect(showValue(Infinity)).toBe('Infinity');
    expect(showValue(-0)).toBe('-0');
    expect(showValue(['ties'])).toBe('["ties"]');
    expect(showValue({ a: [1, 'x'] })).toBe('{ a: [1, "x"] }');
    expect(showValue(undefined)).toBe('nothing');
    const long = showValue(Array.from({ length: 1e5 }, (_, i) => i));
    expect(long.length).toBeLessThanOrEqual(61);
    expect(long.endsWith('…')).toBe(true);
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    expect(showValue(cyclic)).toBe('[…]');
  });

  it('seed: 1e400 says Infinity; merge_method: [ties] says it must be one name', () => {
    expect(() => parseMergeConfig(`${MERGE}seed: 1e400\n`)).toThrow(
      '<inline>: seed must be a non-negative integer, got Infinity',
    );
    expect(() =>
      parseMergeConfig('{"merge_method": "ties", "base_model": "b", "models": ["a", "c"], "seed": 1e400}', {
        format: 'json',
      }),
    ).toThrow('seed must be a non-negative integer, got Infinity');
    expect(() => parseMergeConfig(MERGE.replace('merge_method: ties', 'merge_method: [ties]'))).toThrow(
      '<inline>: merge_method must be one technique name (a string; see `time-merge techniques`), got ["ties"]',
    );
    expect(() => parseMergeConfig(MERGE.replace('merge_method: ties\n', ''))).toThrow('merge_method is required');
    expect(() => parseMergeConfig(MERGE.replace('base_model: base.safetensors', 'base_model: { path: x }'))).toThrow(
      'base_model must be a checkpoint path (a string), got { path: "x" }',
    );
  });
});

describe('JSON configs', () => {
  it('refuse a key given twice, naming it and where, as YAML configs do', () => {
    const json = '{"merge_method": "ties", "base_model": "b", "models": ["a", "c"], "seed": 1, "seed": 2}';
    expect(() => parseMergeConfig(json, { format: 'json', source: 'm.json' })).toThrow(
      'm.json: key "seed" appears twice in the top-level mapping',
    );
    const nested =
      '{"merge_method": "ties", "base_model": "b", "models": [{"model": "a", "parameters": {"weight": 1, "weight": 2}}, "c"]}';
    expect(() => parseMergeConfig(nested, { format: 'json', source: 'm.json' })).toThrow(
      'm.json: key "weight" appears twice in models[0].parameters',
    );
    expect(() => parseMergeConfig('merge_method: ties\nmerge_method: dare\n', { source: 'm.yaml' })).toThrow(
      /m\.yaml: not valid YAML: Map keys must be unique/,
    );
    expect(() => parseMergeConfig('{"merge_method": "ties",}', { format: 'json', source: 'm.json' })).toThrow(
      /m\.json: not valid JSON: expected a string key at character 24/,
    );
    const ok = parseMergeConfig(
      '{"merge_method": "ties", "base_model": "b", "models": ["a", "c"], "parameters": {"density": 0.5}}',
      { format: 'json' },
    );
    expect([ok.technique, ok.params.density]).toEqual(['ties', 0.5]);
  });
});

describe('run config task ids', () => {
  it('a bare string id gets the same comma and space check as { id }', () => {
    expect(() => parseRunConfig(RUN('["a,b", c]'))).toThrow(
      'tasks[0]: id must be a non-empty string without commas or spaces (ids are passed comma-separated), got "a,b"',
    );
    expect(() => parseRunConfig(RUN('["task one"]'))).toThrow('got "task one"');
    expect(() => parseRunConfig(RUN('[{ id: "a b" }]'))).toThrow('got "a b"');
    const ok = parseRunConfig(RUN('[t1, { id: t2, data: d2 }]'));
    expect(ok.stream.adaptation.map((t) => [t.id, t.data])).toEqual([
      ['t1', 't1'],
      ['t2', 'd2'],
    ]);
  });
});
