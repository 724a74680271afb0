import { describe, expect, it } from 'vitest';
import { mergeModels, resolveMerge } from '../src/merge/engine.js';
import { DEFAULT_LAYER_PATTERN, layerCount, linesScale, parseLines } from '../src/merge/lines.js';
import { getTechnique } from '../src/merge/registry.js';
import { TimeMergeError } from '../src/params/errors.js';
import { ParamSet } from '../src/params/paramset.js';

function model(label: string, tensors: Record<string, number[]>): ParamSet {
  return ParamSet.fromEntries(
    Object.entries(tensors).map(([name, v]) => [name, { shape: [v.length], data: Float32Array.from(v) }]),
    label,
  );
}

const values = (p: ParamSet) => Object.fromEntries(p.names().map((n) => [n, [...p.data(n)]]));

async function rejects(p: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(TimeMergeError);
  expect((e as TimeMergeError).code).toBe(code);
  expect((e as Error).message).toMatch(pattern);
}

describe('TIES over the whole model (scope: model)', () => {
  // Two tensors a (4 values) and b (5 values); total 9, density 0.5 keeps K = 4 per expert over the model.
  // τ1 = a [1,-2,3,0.5] b [1,-1,0,0.5,1]: 3, -2, then |1| ties in model order: a[0], b[0] -> kept
  // τ2 = a [2,1,-1,0.5] b [-1,1,0,0,-1]:  2, then |1| ties: a[1], a[2], b[0] -> kept
  // trimmed τ1 = a [1,-2,3,0] b [1,0,0,0,0]; τ2 = a [2,1,-1,0] b [-1,0,0,0,0]
  // votes a [3,-1,2,0] b [0,0,0,0,0]; mean: a [1.5,-2,3,0]; b[0] ties -> positive -> 1
  const base = model('base', { a: [0, 0, 0, 0], b: [0, 0, 0, 0, 0] });
  const e1 = model('e1', { a: [1, -2, 3, 0.5], b: [1, -1, 0, 0.5, 1] });
  const e2 = model('e2', { a: [2, 1, -1, 0.5], b: [-1, 1, 0, 0, -1] });
  it('keeps exactly K per expert across tensors, ties in model order', async () => {
    const m = await mergeModels({ technique: 'ties', params: { density: 0.5, scope: 'model' } }, base, [e1, e2]);
    expect(values(m)).toEqual({ a: [1.5, -2, 3, 0], b: [1, 0, 0, 0, 0] });
    const neg = await mergeModels(
      { technique: 'ties', params: { density: 0.5, scope: 'model', tieRule: 'negative' } },
      base,
      [e1, e2],
    );
    expect(values(neg)).toEqual({ a: [1.5, -2, 3, 0], b: [-1, 0, 0, 0, 0] });
  });
  it('majority tie rule uses the model-wide sum of elected signs', async () => {
    // elected signs a [+,-,+,0] b [0,...]: total +1 -> ties become +
    const m = await mergeModels(
      { technique: 'ties', params: { density: 0.5, scope: 'model', tieRule: 'majority' } },
      base,
      [e1, e2],
    );
    expect(values(m)).toEqual({ a: [1.5, -2, 3, 0], b: [1, 0, 0, 0, 0] });
  });
  it('per-tensor scope ranks inside each tensor instead', async () => {
    // a: k = 2: τ1 -> [0,-2,3,0], τ2 -> [2,1,0,0] (|1| tie: index 1 first) ; b: k = 2: τ1 -> [1,-1,0,0,0], τ2 -> [-1,1,0,0,0]
    // a votes [2,-1,3,0] -> mean [2,-2,3,0]; b votes [0,0,..] -> + -> [1,1,0,0,0]
    const m = await mergeModels({ technique: 'ties', params: { density: 0.5 } }, base, [e1, e2]);
    expect(values(m)).toEqual({ a: [2, -2, 3, 0], b: [1, 1, 0, 0, 0] });
  });
});

describe('LiNeS', () => {
  const o = parseLines({});
  it('scales by alpha + beta·l/(L-1) from open_clip and Hugging Face names', () => {
    expect(linesScale('visual.transformer.resblocks.0.attn.in_proj_weight', 12, o)).toBe(0.5);
    expect(linesScale('visual.transformer.resblocks.11.mlp.c_fc.weight', 12, o)).toBe(1);
    expect(linesScale('transformer.resblocks.5.ln_1.weight', 11, o)).toBe(0.75);
    expect(linesScale('model.layers.3.self_attn.q_proj.weight', 4, o)).toBe(1);
    expect(linesScale('encoder.layer.1.output.dense.weight', 3, parseLines({ alpha: 0, beta: 1 }))).toBe(0.5);
    expect(layerCount(['a.resblocks.0.w', 'a.resblocks.11.w', 'b.resblocks.3.w', 'token_embedding.weight'], o)).toBe(
      12,
    );
  });
  it('gives tensors outside every layer the documented scale', () => {
    expect(linesScale('token_embedding.weight', 12, o)).toBe(0.5);
    expect(linesScale('ln_final.weight', 12, parseLines({ outside: 'deepest', alpha: 0.2, beta: 0.3 }))).toBe(0.5);
    expect(linesScale('ln_final.weight', 12, parseLines({ outside: 'one' }))).toBe(1);
    // "resblocks" without an index, or an index not followed by a dot, is no layer
    expect(linesScale('resblocks_scale', 12, o)).toBe(0.5);
  });
  it('takes a custom pattern; a single layer gets alpha', () => {
    const c = parseLines({ pattern: 'block_(\\d+)', alpha: 0.1, beta: 0.9 });
    expect(linesScale('net.block_2.w', 3, c)).toBe(1);
    expect(linesScale('net.block_0.w', 1, c)).toBe(0.1);
    expect(DEFAULT_LAYER_PATTERN).toContain('resblocks');
  });
  it('bad settings are CONFIG errors naming the problem', () => {
    expect(() => parseLines({ pattern: '(' })).toThrowError(/not a valid regular expression/);
    expect(() => parseLines({ layers: -1 })).toThrowError(/layers must be >= 0/);
    expect(() => parseLines({ gamma: 1 })).toThrowError(/unknown parameter "gamma"/);
    expect(() => linesScale('x.layers.5.w', 4, o)).toThrowError(/layer 5 but layers = 4/);
  });
  it('applies through the engine (spec.lines or params.lines) to any technique, batch and incremental alike', async () => {
    // L = 2: layer 0 scale 0.5, layer 1 scale 1, "head" outside -> 0.5. Task arithmetic τ sum: [2], [4], [6]
    const base = model('base', { 'layers.0.w': [1], 'layers.1.w': [1], head: [1] });
    const e1 = model('e1', { 'layers.0.w': [2], 'layers.1.w': [3], head: [4] });
    const e2 = model('e2', { 'layers.0.w': [2], 'layers.1.w': [3], head: [4] });
    const expected = { 'layers.0.w': [2], 'layers.1.w': [5], head: [4] };
    const a = await mergeModels({ technique: 'task-arithmetic', lines: { alpha: 0.5, beta: 0.5 } }, base, [e1, e2]);
    expect(values(a)).toEqual(expected);
    const b = await mergeModels({ technique: 'task-arithmetic', params: { lines: { alpha: 0.5, beta: 0.5 } } }, base, [
      e1,
      e2,
    ]);
    expect(values(b)).toEqual(expected);
    const { technique, params } = resolveMerge({ technique: 'task-arithmetic', lines: {} }, 2);
    const inc = technique.incremental!(params, base);
    inc.add(e1);
    inc.add(e2);
    expect(values(inc.result())).toEqual(expected);
    await rejects(
      mergeModels({ technique: 'ties', lines: 3 as unknown as Record<string, unknown> }, base, [e1]),
      'CONFIG',
      /lines must be an object/,
    );
  });
});

describe('engine', () => {
  const base = model('base', { w: [0, 0, 0, 0, 0, 0, 0, 0], v: [1, 1] });
  const e1 = model('e1', { w: [1, 2, 3, 4, 5, 6, 7, 8], v: [2, 0] });
  const e2 = model('e2', { w: [8, -7, 6, -5, 4, -3, 2, -1], v: [0, 3] });
  it('the same seed gives bit-identical DARE merges; another seed another mask; tensor order does not matter', async () => {
    const spec = { technique: 'dare-ties', params: { p: 0.5 }, seed: 7 };
    const a = await mergeModels(spec, base, [e1, e2]);
    const b = await mergeModels(spec, base, [e1, e2]);
    expect(values(a)).toEqual(values(b));
    const reordered = (p: ParamSet) => model(p.label, { v: [...p.data('v')], w: [...p.data('w')] });
    const c = await mergeModels(spec, reordered(base), [reordered(e1), reordered(e2)]);
    expect(values(c)).toEqual(values(a));
    const d = await mergeModels({ ...spec, seed: 8 }, base, [e1, e2]);
    expect(values(d)).not.toEqual(values(a));
  });
  it('rejects mismatched names and shapes, an empty model list, and wrong expert counts', async () => {
    await rejects(
      mergeModels({ technique: 'ties' }, base, [model('odd', { w: [1], v: [1, 1] })]),
      'MISMATCH',
      /"w" has shape \[8\] in base but \[1\] in odd/,
    );
    await rejects(
      mergeModels({ technique: 'ties' }, base, [model('odd', { w: [0, 0, 0, 0, 0, 0, 0, 0], u: [1, 1] })]),
      'MISMATCH',
      /"v" is in base but not in odd/,
    );
    await rejects(mergeModels({ technique: 'weighted-average' }, base, []), 'CONFIG', /needs at least 1 expert/);
    await rejects(
      mergeModels({ technique: 'model-stock' }, base, [e1]),
      'CONFIG',
      /model-stock needs at least 2 expert/,
    );
    await rejects(mergeModels({ technique: 'slerp' }, base, [e1, e2, e1]), 'CONFIG', /slerp takes at most 2 expert/);
    await rejects(
      mergeModels({ technique: 'ties', params: { densty: 0.5 } }, base, [e1]),
      'CONFIG',
      /unknown parameter "densty"/,
    );
  });
  it('weighted-average incremental (running weighted mean) equals the batch merge', async () => {
    const inc = getTechnique('weighted-average').incremental!({ normalize: true }, base);
    inc.add(e1, 1);
    inc.add(e2, 3);
    const batch = await mergeModels({ technique: 'weighted-average', weights: [1, 3] }, base, [e1, e2]);
    // 0.25·e1 + 0.75·e2: w = [6.25,-4.75,5.25,-2.75,4.25,-0.75,3.25,1.25], v = [0.5,2.25]
    expect(values(batch)).toEqual({ w: [6.25, -4.75, 5.25, -2.75, 4.25, -0.75, 3.25, 1.25], v: [0.5, 2.25] });
    expect(values(inc.result())).toEqual(values(batch));
    expect(inc.count).toBe(2);
  });
  it('incremental forms of zero-sum weights fail like the batch form; no experts gives the base', () => {
    const inc = getTechnique('weighted-average').incremental!({ normalize: true }, base);
    expect(values(inc.result())).toEqual(values(base));
    inc.add(e1, 1);
    inc.add(e2, -1);
    expect(() => inc.result()).toThrowError(/sum to zero/);
  });
  it('magmax incremental (running max) equals the batch merge', async () => {
    const p = getTechnique('magmax').parse({ lambda: 0.5 });
    const inc = getTechnique('magmax').incremental!(p, base);
    inc.add(e1);
    inc.add(e2);
    const batch = await mergeModels({ technique: 'magmax', params: { lambda: 0.5 } }, base, [e1, e2]);
    // τ_max w = [8,-7,6,-5,5,6,7,8] -> ×0.5; v: τ1 [1,-1], τ2 [-1,2] -> |1| tie goes to later: [-1,2] -> 1 + 0.5·
    expect(values(batch)).toEqual({ w: [4, -3.5, 3, -2.5, 2.5, 3, 3.5, 4], v: [0.5, 2] });
    expect(values(inc.result())).toEqual(values(batch));
  });
});

describe('resolveMerge keeps LiNeS settings in the resolved params', () => {
  it('so a spec rebuilt from them applies the same modifier', async () => {
    const first = resolveMerge({ technique: 'magmax', params: { lambda: 2, lines: { alpha: 0.1 } } }, 1);
    expect(first.params).toEqual({ lambda: 2, ties: 'later', lines: { ...parseLines({}), alpha: 0.1 } });
    const again = resolveMerge({ technique: 'magmax', params: first.params as Record<string, unknown> }, 1);
    expect(again.params).toEqual(first.params);
    const base = model('base', { 'layers.0.w': [0], 'layers.1.w': [0] });
    const e = model('e', { 'layers.0.w': [1], 'layers.1.w': [1] });
    const m = await mergeModels({ technique: 'magmax', params: first.params as Record<string, unknown> }, base, [e]);
    // λ = 2, L = 2: scales 0.1 and 0.1 + 0.5 = 0.6 -> 0.2 and 1.2
    expect(values(m)).toEqual({ 'layers.0.w': [Math.fround(0.2)], 'layers.1.w': [Math.fround(1.2)] });
  });
});
