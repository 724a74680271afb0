import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { runMergeConfig, VERSION, writeMergeDemo } from '../src/cli/commands/merge.js';
import { loadMergeConfig, parseMergeConfig } from '../src/merge/config.js';
import { TimeMergeError } from '../src/params/errors.js';
import { ParamSet } from '../src/params/paramset.js';
import { openSafetensors, readSafetensors, writeSafetensors } from '../src/params/safetensors/index.js';
import { buildSafetensors, concatBytes, leBytes, tempDir } from './fixtures/safetensors/build.js';

const tmp = tempDir('tm-merge-');
afterAll(() => tmp.cleanup());

const ps = (entries: Record<string, [number[], number[]]>, label?: string) =>
  ParamSet.fromEntries(
    Object.entries(entries).map(([k, [shape, v]]) => [k, { shape, data: new Float32Array(v) }]),
    label,
  );

/** base, two experts and their directory: small values whose merges are exact in float32. */
async function models(dir: string): Promise<void> {
  await writeSafetensors(
    join(dir, 'base.safetensors'),
    ps({
      w: [
        [2, 2],
        [1, 2, 3, 4],
      ],
      b: [[2], [0, 0]],
    }),
    { metadata: { format: 'pt' } },
  );
  await writeSafetensors(
    join(dir, 'a.safetensors'),
    ps({
      w: [
        [2, 2],
        [3, 2, 3, 0],
      ],
      b: [[2], [1, -1]],
    }),
  );
  await writeSafetensors(
    join(dir, 'b.safetensors'),
    ps({
      w: [
        [2, 2],
        [1, 6, 3, 8],
      ],
      b: [[2], [-2, 4]],
    }),
  );
}

function config(name: string, text: string): string {
  const path = tmp.file(name);
  writeFileSync(path, text);
  return path;
}

const TA = `merge_method: task-arithmetic
base_model: base.safetensors
models:
  - model: a.safetensors
    parameters: { weight: 0.5 }
  - b.safetensors
parameters: { lambda: 0.5 }
seed: 3
output: out.safetensors
`;

/** Files in the temp dir that look like a writer's leftovers. */
const leftovers = () => readdirSync(tmp.dir).filter((f) => f.endsWith('.tmp'));

describe('merge config parsing', () => {
  it('normalises a config: resolved paths, default weight 1, parameters with defaults, alias resolved', () => {
    // toolkit: time-merge reads a mergekit spelling as the registry alias, with time-merge's parameters.
    const c = parseMergeConfig(TA.replace('task-arithmetic', 'task_arithmetic') + 'toolkit: time-merge\n', {
      source: 'x.yaml',
      baseDir: '/models',
    });
    expect(c.technique).toBe('task-arithmetic');
    expect(c.base).toBe('/models/base.safetensors');
    expect(c.models).toEqual([
      { path: '/models/a.safetensors', weight: 0.5 },
      { path: '/models/b.safetensors', weight: 1 },
    ]);
    expect(c.params).toEqual({ lambda: 0.5, normalize: false, weighted: true });
    expect(c.dtype).toBeUndefined();
    expect(c.seed).toBe(3);
    expect(c.output).toBe('/models/out.safetensors');
    expect(c.normalized).toEqual({
      merge_method: 'task-arithmetic',
      base_model: 'base.safetensors',
      models: [
        { model: 'a.safetensors', parameters: { weight: 0.5 } },
        { model: 'b.safetensors', parameters: { weight: 1 } },
      ],
      parameters: { lambda: 0.5, normalize: false, weighted: true },
      seed: 3,
    });
  });

  it('reads JSON configs and dtype spellings', async () => {
    const path = config(
      'c.json',
      JSON.stringify({
        merge_method: 'linear',
        base_model: 'base.safetensors',
        models: ['a.safetensors'],
        dtype: 'bfloat16',
      }),
    );
    const c = await loadMergeConfig(path);
    expect(c.technique).toBe('weighted-average');
    expect(c.dtype).toBe('BF16');
    expect(c.base).toBe(join(tmp.dir, 'base.safetensors'));
    expect(c.output).toBeUndefined();
    expect(parseMergeConfig(TA + 'dtype: F16\n').dtype).toBe('F16');
  });

  const bad: [string, string, RegExp][] = [
    ['not YAML', 'merge_method: [task', /not valid YAML/],
    ['a list', '- a\n- b\n', /must be a mapping/],
    ['duplicate key', TA + 'seed: 4\n', /not valid YAML: Map keys must be unique/],
    ['unknown key', TA + 'tokenizr: base\n', /unknown key "tokenizr" \(known: merge_method, base_model/],
    [
      'a mergekit key it does not support',
      TA + 'tokenizer_source: base\n',
      /"tokenizer_source" \(mergekit: building a merged tokenizer\) is not supported/,
    ],
    [
      'mergekit slices',
      TA.replace(/models:[\s\S]*parameters: \{ lambda/, 'slices: []\nparameters: { lambda'),
      /"slices" \(mergekit: layer slices/,
    ],
    [
      'an unknown toolkit',
      TA + 'toolkit: peft\n',
      /toolkit must be one of mergekit, fomo_in_flux, fusion_bench, time-merge, got "peft"/,
    ],
    [
      'a method the toolkit does not have',
      TA.replace('task-arithmetic', 'magmax') + 'toolkit: mergekit\n',
      /merge_method "magmax" is not a mergekit method time-merge implements/,
    ],
    ['no merge_method', TA.replace('merge_method: task-arithmetic\n', ''), /merge_method is required/],
    ['unknown technique', TA.replace('task-arithmetic', 'frankenmerge'), /unknown merge technique "frankenmerge"/],
    ['no base_model', TA.replace('base_model: base.safetensors\n', ''), /base_model is required/],
    [
      'empty models',
      TA.replace(/models:[\s\S]*parameters: \{ lambda/, 'models: []\nparameters: { lambda'),
      /models must be a non-empty list/,
    ],
    [
      'model entry with unknown key',
      TA.replace('- b.safetensors', '- { model: b.safetensors, weigth: 2 }'),
      /models\[1\]: unknown key "weigth"/,
    ],
    [
      'a per-model key the technique does not have',
      TA.replace('weight: 0.5', 'weight: 0.5, density: 0.2'),
      /models\[0\] \(a\.safetensors\)\.parameters: "density" is not a parameter of task-arithmetic \(per-model: weight; technique parameters: lambda, normalize, weighted\)/,
    ],
    [
      'per-model values of a parameter set once for the merge that disagree with the default',
      TA.replace('lambda: 0.5', 'lambda: 1').replace('weight: 0.5', 'weight: 0.5, normalize: true'),
      /models\[1\] \(b\.safetensors\): normalize is false \(the default\) but true for .*models\[0\] \(a\.safetensors\); task-arithmetic applies one normalize to every model/,
    ],
    [
      'per-model values of a parameter set once for the merge that disagree with each other',
      TA.replace('task-arithmetic', 'dare-ties')
        .replace('lambda: 0.5', 'p: 0.3')
        .replace('weight: 0.5', 'weight: 0.5, lambda: 0.3')
        .replace('- b.safetensors', '- { model: b.safetensors, parameters: { lambda: 0.4 } }'),
      /models\[1\] \(b\.safetensors\): lambda is 0\.4 but 0\.3 for .*models\[0\]/,
    ],
    [
      'a per-model mergekit value out of range',
      TA.replace('task-arithmetic', 'dare_ties')
        .replace('lambda: 0.5', 'lambda: 1')
        .replace('weight: 0.5', 'weight: 0.5, density: 0'),
      /mergekit dare_ties: model 1: dare-ties: p must be in \[0, 1\), got 1/,
    ],
    [
      'a global mergekit parameter under a model',
      TA.replace('task-arithmetic', 'ties').replace('weight: 0.5', 'weight: 0.5, normalize: false'),
      /models\[0\] \(a\.safetensors\)\.parameters: "normalize" is not a per-model parameter of mergekit ties .*set once for the merge/,
    ],
    [
      'a mergekit parameter of the wrong type',
      TA.replace('task-arithmetic', 'ties').replace('lambda: 0.5', 'normalize: "yes"'),
      /parameters\.normalize must be a boolean, got "yes"/,
    ],
    [
      'a gradient entry out of range',
      TA.replace('task-arithmetic', 'ties').replace('weight: 0.5', 'weight: 0.5, density: [1, 0.5, 1.5]'),
      /with 1\.5 from \[1,0\.5,1\.5\].*ties: density must be in \(0, 1\], got 1\.5/,
    ],
    [
      'a malformed filter list',
      TA.replace('task-arithmetic', 'ties').replace('lambda: 0.5', 'density: [{ filter: mlp, value: 0.5 }, 0.3]'),
      /parameters\.density\[1\]: a list mixing values and conditions/,
    ],
    [
      'mergekit slerp without t',
      TA.replace('task-arithmetic', 'slerp').replace('lambda: 0.5', ''),
      /mergekit slerp needs parameters\.t/,
    ],
    [
      'a per-model value out of range',
      TA.replace('task-arithmetic', 'ties')
        .replace('lambda: 0.5', 'density: 1.5')
        .replace('weight: 0.5', 'weight: 0.5, density: 1.5'),
      /ties: density must be in \(0, 1\], got 1\.5/,
    ],
    [
      'weights summing to zero for a normalising technique',
      TA.replace('task-arithmetic', 'weighted-average')
        .replace('lambda: 0.5', 'normalize: true')
        .replace('weight: 0.5', 'weight: -1'),
      /models: weights \[-1, 1\] sum to zero and weighted-average normalises them \(normalize: true\)/,
    ],
    [
      'negative draw probabilities for random-selection',
      TA.replace('task-arithmetic', 'random-selection')
        .replace('lambda: 0.5', 'lambda: 1')
        .replace('weight: 0.5', 'weight: -0.5'),
      /random-selection draws experts with probabilities ∝ weights, which must be >= 0; got \[-0.5, 1\]/,
    ],
    [
      'weight not a number',
      TA.replace('weight: 0.5', 'weight: heavy'),
      /models\[0\]\.parameters\.weight must be a finite number, got "heavy"/,
    ],
    [
      'unknown technique parameter',
      TA.replace('lambda: 0.5', 'lamda: 0.5'),
      /task-arithmetic: unknown parameter "lamda" \(did you mean "lambda"\?\) \(known: lambda, normalize, weighted\)/,
    ],
    [
      'technique parameter of the wrong type',
      TA.replace('lambda: 0.5', 'lambda: big'),
      /task-arithmetic: lambda must be a finite number, got "big"/,
    ],
    [
      'parameter out of range',
      TA.replace('task-arithmetic', 'ties').replace('lambda: 0.5', 'density: 1.5'),
      /ties: density/,
    ],
    [
      'too many experts for slerp',
      TA.replace('task-arithmetic', 'slerp')
        .replace('lambda: 0.5', 't: 0.5')
        .replace('- b.safetensors', '- b.safetensors\n  - c.safetensors') + 'toolkit: time-merge\n',
      /slerp takes at most 2 expert models, got 3/,
    ],
    [
      'too many models for mergekit slerp',
      TA.replace('task-arithmetic', 'slerp')
        .replace('lambda: 0.5', 't: 0.5')
        .replace('- b.safetensors', '- b.safetensors\n  - c.safetensors'),
      /mergekit slerp interpolates base_model and one other model; got 3 other models/,
    ],
    ['bad dtype', TA + 'dtype: int8\n', /dtype must be f32, f16 or bf16 \(float32, float16, bfloat16\), got "int8"/],
    ['negative seed', TA.replace('seed: 3', 'seed: -1'), /seed must be a non-negative integer, got -1/],
    ['fractional seed', TA.replace('seed: 3', 'seed: 1.5'), /seed must be a non-negative integer, got 1.5/],
    ['output not a path', TA.replace('output: out.safetensors', 'output: 3'), /output must be a file path/],
  ];
  for (const [what, text, message] of bad) {
    it(`rejects ${what} with a CONFIG error naming the file`, () => {
      let err: unknown;
      try {
        parseMergeConfig(text, { source: 'bad.yaml' });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TimeMergeError);
      expect((err as TimeMergeError).code).toBe('CONFIG');
      expect((err as TimeMergeError).message).toMatch(/^bad\.yaml: /);
      expect((err as TimeMergeError).message).toMatch(message);
    });
  }

  it('per-model technique parameters that every model repeats (mergekit style) become the technique parameter', () => {
    const perModel = `merge_method: ties
base_model: base.safetensors
models:
  - { model: a.safetensors, parameters: { weight: 0.5, density: 0.5 } }
  - { model: b.safetensors, parameters: { density: 0.5 } }
parameters: { lambda: 1 }
`;
    const c = parseMergeConfig(perModel, { source: 'pm.yaml', baseDir: '/m' });
    const topLevel = parseMergeConfig(
      perModel
        .replace(/, density: 0\.5/g, '')
        .replace('{ density: 0.5 }', '{}')
        .replace('lambda: 1', 'lambda: 1, density: 0.5'),
      { baseDir: '/m' },
    );
    expect(c.params.density).toBe(0.5);
    expect(c.params).toEqual(topLevel.params);
    expect(c.models).toEqual(topLevel.models);
    expect(c.expertParams).toBeUndefined();
    expect(c.normalized.resolved).toMatchObject({ parameters: { density: 0.5, lambda: 1 }, weights: [0.5, 1] });
    // A per-model value equal to the top-level one agrees too.
    expect(parseMergeConfig(perModel.replace('lambda: 1', 'lambda: 1, density: 0.5')).params.density).toBe(0.5);
    // A model without the key takes the top-level value (mergekit's fallback); values that differ stay per model.
    const mixed = parseMergeConfig(
      perModel.replace('{ density: 0.5 }', '{}').replace('lambda: 1', 'lambda: 1, density: 0.3'),
      { source: 'pm.yaml' },
    );
    expect(mixed.expertParams).toEqual([{ density: 0.5 }, { density: 0.3 }]);
    // Natively (toolkit: time-merge) the same: the registry technique with each model's own density.
    const native = parseMergeConfig(perModel.replace('{ density: 0.5 }', '{ density: 0.3 }') + 'toolkit: time-merge\n');
    expect(native.expertParams).toEqual([{ density: 0.5 }, { density: 0.3 }]);
    expect(native.params.density).toBe(0.2);
  });

  it('reports a missing config file as an IO error', async () => {
    await expect(loadMergeConfig(tmp.file('none.yaml'))).rejects.toMatchObject({
      code: 'IO',
      message: expect.stringMatching(/none\.yaml: cannot read merge config: no such file/),
    });
  });
});

describe('merge command end to end', () => {
  it('task arithmetic: exact values, base dtype and metadata recording config, seed, technique, version', async () => {
    await models(tmp.dir);
    const summary = await runMergeConfig(config('ta.yaml', TA), { progress: false });
    expect(summary).toMatchObject({
      output: join(tmp.dir, 'out.safetensors'),
      technique: 'task-arithmetic',
      models: 2,
      tensors: 2,
      parameters: 6,
    });
    const f = await openSafetensors(summary.output);
    // θ0 + 0.5 (0.5 (a - θ0) + (b - θ0)), element by element.
    expect([...(await f.read('w'))]).toEqual([1.5, 4, 3, 5]);
    expect([...(await f.read('b'))]).toEqual([-0.75, 1.75]);
    expect(f.entries.map((e) => e.dtype)).toEqual(['F32', 'F32']);
    expect(f.metadata).toMatchObject({
      format: 'pt',
      time_merge_technique: 'task-arithmetic',
      time_merge_seed: '3',
      time_merge_version: VERSION,
    });
    expect(JSON.parse(f.metadata.time_merge_config)).toEqual(
      (await loadMergeConfig(join(tmp.dir, 'ta.yaml'))).normalized,
    );
    await f.close();
    expect(leftovers()).toEqual([]);
  });

  it('weighted average into bf16 with --output overriding the config', async () => {
    await models(tmp.dir);
    const path = config(
      'wa.yaml',
      'merge_method: weighted-average\nbase_model: base.safetensors\nmodels: [a.safetensors, { model: b.safetensors, parameters: { weight: 3 } }]\ndtype: bf16\n',
    );
    const out = join(tmp.dir, 'wa-out.safetensors');
    await runMergeConfig(path, { output: out, progress: false });
    const f = await openSafetensors(out);
    expect(f.entries.map((e) => e.dtype)).toEqual(['BF16', 'BF16']);
    // (a + 3b) / 4; every value is exact in bfloat16.
    expect([...(await f.read('w'))]).toEqual([1.5, 5, 3, 6]);
    expect([...(await f.read('b'))]).toEqual([-1.25, 2.75]);
    await f.close();
  });

  it('merges sharded checkpoints', async () => {
    await models(tmp.dir);
    await writeSafetensors(
      join(tmp.dir, 'a-w.safetensors'),
      ps({
        w: [
          [2, 2],
          [3, 2, 3, 0],
        ],
      }),
    );
    await writeSafetensors(join(tmp.dir, 'a-b.safetensors'), ps({ b: [[2], [1, -1]] }));
    writeFileSync(
      join(tmp.dir, 'a.safetensors.index.json'),
      JSON.stringify({ weight_map: { w: 'a-w.safetensors', b: 'a-b.safetensors' } }),
    );
    const path = config(
      'sharded.yaml',
      TA.replace('- model: a.safetensors', '- model: a.safetensors.index.json').replace(
        'out.safetensors',
        'sharded-out.safetensors',
      ),
    );
    await runMergeConfig(path, { progress: false });
    expect((await readSafetensors(join(tmp.dir, 'sharded-out.safetensors'))).flatten()).toEqual(
      new Float32Array([1.5, 4, 3, 5, -0.75, 1.75]),
    );
  });

  it('stops on a bad header, a missing file or a structure mismatch, and writes nothing', async () => {
    await models(tmp.dir);
    await writeSafetensors(join(tmp.dir, 'c.safetensors'), ps({ w: [[4], [1, 2, 3, 4]], b: [[2], [0, 0]] }));
    const mismatch = config(
      'mismatch.yaml',
      TA.replace('- b.safetensors', '- c.safetensors').replace('out.safetensors', 'mismatch-out.safetensors'),
    );
    await expect(runMergeConfig(mismatch, { progress: false })).rejects.toMatchObject({
      code: 'MISMATCH',
      message: expect.stringMatching(
        /c\.safetensors does not match .*base\.safetensors .*"w" has shape \[2,2\] .* but \[4\]/,
      ),
    });
    writeFileSync(join(tmp.dir, 'broken.safetensors'), buildSafetensors('{"w":', new Uint8Array(0)));
    const broken = config(
      'broken.yaml',
      TA.replace('- b.safetensors', '- broken.safetensors').replace('out.safetensors', 'broken-out.safetensors'),
    );
    await expect(runMergeConfig(broken, { progress: false })).rejects.toMatchObject({
      code: 'SAFETENSORS',
      message: expect.stringMatching(/broken\.safetensors: header is not valid JSON/),
    });
    const missing = config(
      'missing.yaml',
      TA.replace('- b.safetensors', '- gone.safetensors').replace('out.safetensors', 'missing-out.safetensors'),
    );
    await expect(runMergeConfig(missing, { progress: false })).rejects.toMatchObject({
      code: 'IO',
      message: expect.stringMatching(/gone\.safetensors: cannot open: no such file/),
    });
    for (const f of ['mismatch-out', 'broken-out', 'missing-out'])
      expect(existsSync(join(tmp.dir, `${f}.safetensors`))).toBe(false);
    expect(leftovers()).toEqual([]);
  });

  it('a failure mid-way leaves no partial output and keeps an existing output file', async () => {
    await models(tmp.dir);
    // The second tensor of this expert holds NaN: the first tensor is merged and written before reading it fails.
    await writeSafetensors(
      join(tmp.dir, 'nan.safetensors'),
      ps({
        w: [
          [2, 2],
          [1, 1, 1, 1],
        ],
        b: [[2], [Number.NaN, 0]],
      }),
    );
    const out = join(tmp.dir, 'keep.safetensors');
    writeFileSync(out, 'previous result');
    const path = config(
      'nan.yaml',
      TA.replace('- b.safetensors', '- nan.safetensors').replace('out.safetensors', 'keep.safetensors'),
    );
    await expect(runMergeConfig(path, { progress: false })).rejects.toMatchObject({
      code: 'SAFETENSORS',
      message: expect.stringMatching(/nan\.safetensors: tensor "b" holds NaN at index 0/),
    });
    expect(readFileSync(out, 'utf8')).toBe('previous result');
    expect(leftovers()).toEqual([]);
  });

  it('weights summing to zero for a normalising technique fail in config validation: no file is opened or written', async () => {
    await models(tmp.dir);
    const out = join(tmp.dir, 'zero-out.safetensors');
    const zero =
      'merge_method: weighted-average\nbase_model: base.safetensors\nmodels: [a.safetensors, { model: b.safetensors, parameters: { weight: -1 } }]\noutput: zero-out.safetensors\n';
    const message = /models: weights \[1, -1\] sum to zero and weighted-average normalises them/;
    await expect(runMergeConfig(config('zero.yaml', zero), { progress: false })).rejects.toMatchObject({
      code: 'CONFIG',
      message: expect.stringMatching(message),
    });
    // The same config naming files that do not exist gives the same error: it is found before any file is opened.
    const ghost = config('zero-ghost.yaml', zero.replace(/\b(base|a|b)\.safetensors/g, 'ghost-$1.safetensors'));
    await expect(runMergeConfig(ghost, { progress: false })).rejects.toMatchObject({
      code: 'CONFIG',
      message: expect.stringMatching(message),
    });
    expect(existsSync(out)).toBe(false);
    expect(leftovers()).toEqual([]);
    // task-arithmetic does not normalise by default: the same weights are a valid merge (θ0 + λ(τa - τb)).
    await runMergeConfig(config('zero-ta.yaml', zero.replace('weighted-average', 'task-arithmetic')), {
      progress: false,
    });
    expect(existsSync(out)).toBe(true);
  });

  it('a per-model density repeated under every model merges byte for byte like the top-level density', async () => {
    await models(tmp.dir);
    const ties = (models: string, params: string, out: string) =>
      `merge_method: ties\nbase_model: base.safetensors\nmodels:\n${models}parameters: { lambda: 1${params} }\noutput: ${out}\n`;
    const perModel = config(
      'ties-pm.yaml',
      ties(
        '  - { model: a.safetensors, parameters: { density: 0.5 } }\n  - { model: b.safetensors, parameters: { density: 0.5, weight: 2 } }\n',
        '',
        'ties-pm.safetensors',
      ),
    );
    const topLevel = config(
      'ties-top.yaml',
      ties(
        '  - a.safetensors\n  - { model: b.safetensors, parameters: { weight: 2 } }\n',
        ', density: 0.5',
        'ties-top.safetensors',
      ),
    );
    await runMergeConfig(perModel, { progress: false });
    await runMergeConfig(topLevel, { progress: false });
    const [a, b] = await Promise.all(
      ['ties-pm', 'ties-top'].map((n) => readSafetensors(join(tmp.dir, `${n}.safetensors`))),
    );
    expect(a.flatten()).toEqual(b.flatten());
    // density 0.5 keeps 2 of 4 in w: τa = [2, 0, 0, -4] keeps both; τb = [0, 4, 0, 4] keeps both (weight 2).
    // Weighted sign sums [2, 8, 0, -4 + 8 = 4] elect [+, +, (tie), +]; weighted means of the agreeing values
    // [2, 4, 0, 4 (τb alone)] added to θ0 = [1, 2, 3, 4] give:
    expect([...a.data('w')]).toEqual([3, 6, 3, 8]);
  });

  it('with the progress bar on a non-terminal stream: plain lines with the tensor count, output unchanged', async () => {
    await models(tmp.dir);
    const lines: string[] = [];
    const stream = Object.assign(new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }), {
      isTTY: false,
    });
    const withBar = config('bar.yaml', TA.replace('out.safetensors', 'bar.safetensors'));
    const summary = await runMergeConfig(withBar, { progress: true, progressStream: stream });
    await runMergeConfig(config('nobar.yaml', TA.replace('out.safetensors', 'nobar.safetensors')), {
      progress: false,
      progressStream: stream,
    });
    const text = lines.join('');
    expect(text).toMatch(/merging \[[^\]]*\] 2\/2 tensors/);
    expect(text).not.toMatch(/\x1B/); // no cursor or erase codes in a log
    expect(summary.tensors).toBe(2);
    expect(readFileSync(join(tmp.dir, 'bar.safetensors'))).toEqual(readFileSync(join(tmp.dir, 'nobar.safetensors')));
  });

  it('refuses an output that is one of the inputs, a missing output, and non-float tensors', async () => {
    await models(tmp.dir);
    await expect(
      runMergeConfig(config('self.yaml', TA.replace('output: out.safetensors', 'output: a.safetensors')), {
        progress: false,
      }),
    ).rejects.toThrow(/output .*a\.safetensors is also an input/);
    await expect(
      runMergeConfig(config('noout.yaml', TA.replace('output: out.safetensors\n', '')), { progress: false }),
    ).rejects.toThrow(/no output file: set "output" in the config or pass --output/);
    const header = {
      w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] },
      b: { dtype: 'F32', shape: [2], data_offsets: [16, 24] },
      ids: { dtype: 'I64', shape: [1], data_offsets: [24, 32] },
    };
    writeFileSync(
      join(tmp.dir, 'ints.safetensors'),
      buildSafetensors(header, concatBytes(leBytes([1, 2, 3, 4, 0, 0], 'f32'), new Uint8Array(8))),
    );
    await expect(
      runMergeConfig(config('ints.yaml', TA.replace('- b.safetensors', '- ints.safetensors')), { progress: false }),
    ).rejects.toThrow(/ints\.safetensors: tensor "ids" has dtype I64; merge combines floating-point tensors only/);
  });

  it('the demo merges to base + 0.5 (0.7 τa + τb)', async () => {
    const dir = join(tmp.dir, 'demo');
    const configPath = await writeMergeDemo(dir);
    const summary = await runMergeConfig(configPath, { progress: false });
    const [base, a, b, merged] = await Promise.all(
      ['base', 'expert-a', 'expert-b', 'merged'].map((n) => readSafetensors(join(dir, `${n}.safetensors`))),
    );
    expect(summary.output).toBe(join(dir, 'merged.safetensors'));
    for (const name of base.names()) {
      const expected = base
        .data(name)
        .map((t0, i) => t0 + 0.5 * (0.7 * (a.data(name)[i] - t0) + (b.data(name)[i] - t0)));
      // float32 accumulation order is the technique's business: allow a few ulps.
      merged.data(name).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    }
    expect(a.flatten()).not.toEqual(base.flatten());
  });
});

describe('time-merge merge (CLI)', () => {
  const run = promisify(execFile);
  const bin = join(import.meta.dirname, '..', 'bin', 'time-merge.js');

  it('with no config writes and merges the demo in a temporary directory', async () => {
    const { stdout } = await run(process.execPath, [bin, 'merge'], { env: { ...process.env, TMPDIR: tmp.dir } });
    expect(stdout).toMatch(/demo written to .*time-merge-demo-/);
    expect(stdout).toMatch(
      /merged 2 model\(s\) with task-arithmetic: 3 tensors, 24 parameters -> .*merged\.safetensors/,
    );
    const demo = readdirSync(tmp.dir).find((d) => d.startsWith('time-merge-demo-'))!;
    expect(readdirSync(join(tmp.dir, demo)).sort()).toEqual([
      'base.safetensors',
      'expert-a.safetensors',
      'expert-b.safetensors',
      'merge.yaml',
      'merged.safetensors',
    ]);
  });

  it('prints a bad config error plainly and exits with status 2', async () => {
    const path = config('cli-bad.yaml', TA.replace('lambda', 'lamda'));
    const err = await run(process.execPath, [bin, 'merge', path, '--quiet']).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(2);
    expect(err?.stderr.trim()).toBe(
      `time-merge: ${path}: task-arithmetic: unknown parameter "lamda" (did you mean "lambda"?) (known: lambda, normalize, weighted)`,
    );
  });
});
