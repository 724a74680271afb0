import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fc, test } from '@fast-check/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { runMergeConfig } from '../src/cli/commands/merge.js';
import { mergeModels } from '../src/merge/engine.js';
import { getTechnique, listTechniques } from '../src/merge/registry.js';
import { nativeFiles } from '../src/params/kernels/native/loader.js';
import { ParamSet } from '../src/params/paramset.js';
import { openCheckpoint, openSafetensors, writeSafetensors } from '../src/params/safetensors/index.js';
import type { DType } from '../src/params/tensor.js';
import { buildSafetensors, mixedFloatFile, tempDir } from './fixtures/safetensors/build.js';

const tmp = tempDir('tm-mapped-');
afterAll(() => tmp.cleanup());
let folders = 0;

/** A model of `tensors` random tensors (seeded by fast-check), each of the given dtype. */
const modelArb = fc.record({
  sizes: fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 4 }),
  dtype: fc.constantFrom<DType>('F32', 'F16', 'BF16'),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
});

function randomModel(sizes: number[], dtype: DType, seed: number, near?: ParamSet): ParamSet {
  let s = seed;
  const next = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  return ParamSet.fromEntries(
    sizes.map((n, i) => {
      const data = Float32Array.from({ length: n }, (_, k) => (near ? near.data(`t${i}`)[k] : 0) + next());
      return [`t${i}`, { shape: [n], data, dtype }] as const;
    }),
  );
}

const TECHNIQUES: [string, string][] = [
  ['weighted-average', ''],
  ['task-arithmetic', 'parameters: { lambda: 0.7 }\n'],
  ['ties', 'parameters: { density: 0.4 }\n'],
  ['dare-linear', 'parameters: { p: 0.3 }\nseed: 7\n'],
  ['breadcrumbs', 'parameters: { density: 0.8, gamma: 0.1 }\n'],
  ['magmax', ''],
];

describe('reading through memory mappings', () => {
  it('maps the file when the native addon is built (views over one buffer the size of the file)', async () => {
    const path = tmp.file('plain.safetensors');
    await writeSafetensors(path, randomModel([100, 7], 'F32', 3));
    const f = await openSafetensors(path, { map: true });
    const a = await f.read('t0');
    if (nativeFiles()) expect(a.buffer.byteLength).toBe(f.byteSize);
    else expect(a.buffer.byteLength).toBe(400);
    await f.close();
    // Views handed out stay readable after close(): the mapping lives as long as they do.
    expect(a.length).toBe(100);
    expect(Number.isFinite(a[99])).toBe(true);
  });

  it('reads every float dtype, aligned or not, as a copying read does, fresh or into reused buffers', async () => {
    // d is not 4-byte aligned in the file, so that tensor is copied, the others mapped.
    const path = tmp.file('mixed.safetensors', mixedFloatFile());
    const plain = await openSafetensors(path);
    for (const options of [{ map: true }, { map: true, reuseBuffers: true }]) {
      const mapped = await openSafetensors(path, options);
      for (const name of ['a', 'b', 'c', 'd', 'e', 'b', 'a'])
        expect(Array.from(await mapped.read(name))).toEqual(Array.from(await plain.read(name)));
      await mapped.close();
    }
    await plain.close();
  });

  it('refuses a truncated file with the same error as a copying read, before anything is mapped', async () => {
    const bytes = buildSafetensors({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(16));
    const path = tmp.file('truncated.safetensors', bytes.subarray(0, bytes.length - 4));
    const copied = await openSafetensors(path).catch((e: Error) => e.message);
    const mapped = await openSafetensors(path, { map: true }).catch((e: Error) => e.message);
    expect(typeof copied).toBe('string');
    expect(mapped).toBe(copied);
  });

  it('reports a NaN in a mapped input, deferred to the engine, naming the file, tensor and index', async () => {
    const dir = tmp.file(`nan-${++folders}`);
    const base = randomModel([80], 'F32', 1);
    const a = randomModel([80], 'F32', 2, base);
    const b = randomModel([80], 'F32', 3, base);
    b.data('t0')[70] = Number.POSITIVE_INFINITY;
    const files = { base, a, b };
    mkdirSync(dir);
    for (const [name, ps] of Object.entries(files)) await writeSafetensors(join(dir, `${name}.safetensors`), ps);
    for (const [method, params] of TECHNIQUES) {
      // Expert b weighted 0: 0 · Infinity is NaN, so a finite output would still prove b finite.
      writeFileSync(
        join(dir, `${method}.yaml`),
        `merge_method: ${method}\nbase_model: base.safetensors\nmodels:\n  - model: a.safetensors\n  - model: b.safetensors\n    parameters: { weight: ${method === 'weighted-average' ? 0 : 1} }\n${params}output: out.safetensors\n`,
      );
      await expect(runMergeConfig(join(dir, `${method}.yaml`))).rejects.toThrow(
        `${join(dir, 'b.safetensors')}: tensor "t0" holds Infinity at index 70 (F32 [80]); inputs must be finite`,
      );
    }
  });

  test.prop([modelArb, fc.constantFrom<string | undefined>(undefined, 'f32', 'f16', 'bf16'), fc.boolean()], {
    numRuns: 12,
  })('gives byte-identical outputs to copying reads on every elementwise technique', async (m, dtype, sharded) => {
    const dir = tmp.file(`same-${++folders}`);
    mkdirSync(dir);
    const base = randomModel(m.sizes, m.dtype, m.seed);
    const experts = [randomModel(m.sizes, m.dtype, m.seed + 1, base), randomModel(m.sizes, m.dtype, m.seed + 2, base)];
    await writeSafetensors(join(dir, 'base.safetensors'), base);
    await writeSafetensors(join(dir, 'a.safetensors'), experts[0]);
    let second = 'b.safetensors';
    if (sharded && m.sizes.length > 1) {
      // Expert b in two shards behind an index: its first tensor in one, the rest in the other.
      const [first, ...rest] = experts[1].names();
      const part = (names: string[]) =>
        ParamSet.fromEntries(
          names.map((n) => [n, { shape: [experts[1].data(n).length], data: experts[1].data(n), dtype: m.dtype }]),
        );
      await writeSafetensors(join(dir, 'b-1.safetensors'), part([first]));
      await writeSafetensors(join(dir, 'b-2.safetensors'), part(rest));
      const weightMap = Object.fromEntries(
        experts[1].names().map((n) => [n, n === first ? 'b-1.safetensors' : 'b-2.safetensors']),
      );
      second = 'b.safetensors.index.json';
      writeFileSync(join(dir, second), JSON.stringify({ weight_map: weightMap }));
    } else await writeSafetensors(join(dir, second), experts[1]);
    for (const [method, params] of TECHNIQUES) {
      const config = join(dir, `${method}.yaml`);
      writeFileSync(
        config,
        `merge_method: ${method}\nbase_model: base.safetensors\nmodels: [a.safetensors, ${second}]\n${params}${dtype ? `dtype: ${dtype}\n` : ''}output: out.safetensors\n`,
      );
      await runMergeConfig(config, { output: join(dir, 'mapped.safetensors') });
      await runMergeConfig(config, { output: join(dir, 'copied.safetensors'), map: false });
      const mapped = readFileSync(join(dir, 'mapped.safetensors'));
      expect(mapped.equals(readFileSync(join(dir, 'copied.safetensors')))).toBe(true);
      const out = await openCheckpoint(join(dir, 'mapped.safetensors'));
      expect(out.tensorInfos().map((t) => t.name)).toEqual(base.names());
      await out.close();
    }
  });
});

describe('techniques that claim a non-finite input always reaches the output', () => {
  const claiming = listTechniques()
    .filter((t) => t.facts.nonFiniteReachesOutput)
    .map((t) => t.name);

  it('include the linear techniques', () => {
    expect(claiming).toEqual(expect.arrayContaining(['weighted-average', 'task-arithmetic']));
  });

  test.prop(
    [
      fc.constantFrom(...claiming),
      fc.integer({ min: 1, max: 200 }),
      fc.nat(),
      fc.nat(),
      fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
      fc.array(fc.constantFrom(0, 0.5, 1, -2), { minLength: 2, maxLength: 3 }),
    ],
    { numRuns: 60 },
  )(
    'a NaN or ±Infinity at one index of any read input makes the output non-finite there',
    async (name, n, at, which, bad, weights) => {
      const ws: number[] = [...weights];
      if (ws.reduce((s, w) => s + w, 0) === 0) ws[0] += 1; // a zero sum cannot be normalised
      const base = randomModel([n], 'F32', 11);
      const experts = ws.map((_, k) => randomModel([n], 'F32', 20 + k, base));
      const inputs = getTechnique(name).facts.readsBase ? [base, ...experts] : experts;
      const i = at % n;
      inputs[which % inputs.length].data('t0')[i] = bad;
      const merged = await mergeModels({ technique: name, weights: ws }, base, experts).catch((e: Error) => e);
      // The engine's own output check refuses the merge, naming the index.
      expect(merged).toBeInstanceOf(Error);
      expect((merged as Error).message).toContain(`"t0" at index ${i}`);
    },
  );
});
