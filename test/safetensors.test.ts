import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseSafetensorsMetadata } from '@huggingface/hub';
import { afterAll, describe, expect, it } from 'vitest';
import { TimeMergeError } from '../src/params/errors.js';
import { f32ToBf16, f32ToF16 } from '../src/params/half.js';
import { ParamSet } from '../src/params/paramset.js';
import {
  createSafetensorsWriter,
  openCheckpoint,
  openSafetensors,
  readSafetensors,
  writeSafetensors,
} from '../src/params/safetensors/index.js';
import { buildSafetensors, concatBytes, leBytes, tempDir } from './fixtures/safetensors/build.js';
import { localHub } from './hf-folders.js';
import { OPEN_CLIP_FIXTURES } from './shared-fixtures.js';

const tmp = tempDir();
/** Files written by open_clip's tooling (another safetensors writer), shared with the CLIP tests. */
const OPEN_CLIP = join(OPEN_CLIP_FIXTURES, 'tiny-a');
afterAll(() => tmp.cleanup());

/** Values chosen to exercise rounding: exact in every dtype, F16/BF16 ties, subnormals, specials. */
const tricky = new Float32Array([
  0,
  -0,
  1,
  -2.5,
  65504,
  1 + 2 ** -11,
  1 + 3 * 2 ** -11,
  2 ** -24,
  2 ** -25,
  3 * 2 ** -25,
  1e-30,
  3.0e38,
  Infinity,
  -Infinity,
  Number.NaN,
  1 + 2 ** -8,
  1 + 3 * 2 ** -8,
  Math.PI,
]);

function sample(): ParamSet {
  return ParamSet.fromEntries([
    ['layer.0.weight', { shape: [3, 6], data: tricky }],
    ['empty', { shape: [0], data: new Float32Array(0) }],
    ['zero-dim', { shape: [4, 0, 2], data: new Float32Array(0) }],
    ['scalar', { shape: [], data: new Float32Array([7.25]) }],
    ['10', { shape: [2], data: new Float32Array([1, 2]) }],
    ['2', { shape: [1], data: new Float32Array([3]) }],
  ]);
}

/** What each output dtype should give back: the value narrowed by the (separately tested) converters. */
function expectedAfter(dtype: 'F32' | 'F16' | 'BF16', data: Float32Array): Float32Array {
  if (dtype === 'F32') return data;
  const narrowed = dtype === 'F16' ? f32ToF16(data) : f32ToBf16(data);
  const out = new Float32Array(data.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < narrowed.length; i++) {
    const h = narrowed[i];
    if (dtype === 'BF16') bits[i] = h * 65536;
    else {
      // Decode by formula, independently of the reader's table.
      const e = (h >> 10) & 0x1f;
      const m = h & 0x3ff;
      const s = h & 0x8000 ? -1 : 1;
      out[i] =
        e === 0x1f ? (m ? Number.NaN : s * Infinity) : e === 0 ? s * m * 2 ** -24 : s * (1 + m / 1024) * 2 ** (e - 15);
    }
  }
  return out;
}

describe('round trips', () => {
  for (const dtype of ['F32', 'F16', 'BF16'] as const) {
    it(`writes and reads ${dtype}, keeping order, shapes, metadata and empty tensors`, async () => {
      const path = tmp.file(`rt-${dtype}.safetensors`);
      const src = sample();
      await writeSafetensors(path, src, { dtype, metadata: { note: 'round trip', 'a b': 'ü' } });
      const f = await openSafetensors(path);
      try {
        expect(f.metadata).toEqual({ note: 'round trip', 'a b': 'ü' });
        expect(f.tensorInfos().map((t) => [t.name, t.shape, t.dtype])).toEqual(
          src.tensorInfos().map((t) => [t.name, t.shape, dtype]),
        );
        for (const info of src.tensorInfos()) {
          expect(await f.read(info.name)).toEqual(expectedAfter(dtype, src.data(info.name)));
        }
        expect(f.byteSize).toBe(readFileSync(path).length);
      } finally {
        await f.close();
      }
    });
  }

  it('hand-picked F16 values land on the expected bits in the file', async () => {
    const path = tmp.file('f16-bits.safetensors');
    const data = new Float32Array([
      1,
      65520,
      2 ** -25,
      3 * 2 ** -25,
      1 + 2 ** -11,
      1 + 3 * 2 ** -11,
      -Infinity,
      Number.NaN,
    ]);
    await writeSafetensors(path, ParamSet.fromEntries([['x', { shape: [8], data }]]), { dtype: 'F16' });
    const f = await openSafetensors(path);
    expect([...(await f.readTyped('x'))]).toEqual([0x3c00, 0x7c00, 0x0000, 0x0002, 0x3c00, 0x3c02, 0xfc00, 0x7e00]);
    await f.close();
  });

  it('keeps each tensor dtype by default and writes F64 as F32', async () => {
    const path = tmp.file('own-dtypes.safetensors');
    const src = new ParamSet()
      .set('h', [2], new Float32Array([1.5, -3]), 'F16')
      .set('b', [2], new Float32Array([1.5, -3]), 'BF16')
      .set('d', [2], new Float32Array([1.5, -3]), 'F64');
    await writeSafetensors(path, src);
    const f = await openSafetensors(path);
    expect(f.entries.map((e) => [e.name, e.dtype, e.end - e.begin])).toEqual([
      ['h', 'F16', 4],
      ['b', 'BF16', 4],
      ['d', 'F32', 8],
    ]);
    await f.close();
  });

  it('writes a file with no tensors and no metadata as {} padded to 8 bytes', async () => {
    const path = tmp.file('empty.safetensors');
    await writeSafetensors(path, new ParamSet());
    const bytes = readFileSync(path);
    expect(bytes.length).toBe(16);
    expect(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true)).toBe(8n);
    expect(bytes.subarray(8).toString('latin1')).toBe('{}      ');
    expect((await readSafetensors(path)).size).toBe(0);
  });

  it('readSafetensors loads everything into a ParamSet labelled with the path', async () => {
    const path = tmp.file('all.safetensors');
    await writeSafetensors(path, sample());
    const ps = await readSafetensors(path);
    expect(ps.label).toBe(path);
    expect(ps.names()).toEqual(sample().names());
    expect(ps.data('layer.0.weight')).toEqual(tricky);
  });
});

describe('byte layout', () => {
  it('reads a file assembled from the spec byte by byte (F64, F32, F16, BF16, I32)', async () => {
    const header = {
      __metadata__: { format: 'pt' },
      d: { dtype: 'F64', shape: [2], data_offsets: [0, 16] },
      f: { dtype: 'F32', shape: [1, 2], data_offsets: [16, 24] },
      h: { dtype: 'F16', shape: [3], data_offsets: [24, 30] },
      b: { dtype: 'BF16', shape: [2], data_offsets: [30, 34] },
      ids: { dtype: 'I32', shape: [2], data_offsets: [34, 42] },
    };
    const data = concatBytes(
      leBytes([0.1, -1e300], 'f64'),
      leBytes([0.5, -7], 'f32'),
      leBytes([0x3555, 0x0001, 0xfbff], 'u16'), // 0.333251953125, 2^-24, -65504
      leBytes([0x4049, 0x7f80], 'u16'), // 3.140625, Infinity
      leBytes([49406, -1], 'i32'),
    );
    const path = tmp.file('handmade.safetensors', buildSafetensors(header, data));
    const f = await openSafetensors(path);
    try {
      expect(f.metadata).toEqual({ format: 'pt' });
      expect(f.tensorInfos().map((t) => t.name)).toEqual(['d', 'f', 'h', 'b']);
      expect(f.entries.map((e) => e.name)).toEqual(['d', 'f', 'h', 'b', 'ids']);
      expect([...(await f.read('d'))]).toEqual([Math.fround(0.1), -Infinity]);
      expect([...(await f.read('f'))]).toEqual([0.5, -7]);
      expect([...(await f.read('h'))]).toEqual([0.333251953125, 2 ** -24, -65504]);
      expect([...(await f.read('b'))]).toEqual([3.140625, Infinity]);
      expect([...(await f.readTyped('ids'))]).toEqual([49406, -1]);
      await expect(f.read('ids')).rejects.toThrow(/tensor "ids" has dtype I32/);
      await expect(f.read('nope')).rejects.toThrow(/no tensor named "nope"/);
    } finally {
      await f.close();
    }
  });

  it('writes exactly the layout the format specifies', async () => {
    const path = tmp.file('layout.safetensors');
    const ps = ParamSet.fromEntries([
      ['w', { shape: [2], data: new Float32Array([1, -2]) }],
      ['b', { shape: [1], data: new Float32Array([0.5]) }],
    ]);
    await writeSafetensors(path, ps, { metadata: { k: 'v' } });
    const json =
      '{"__metadata__":{"k":"v"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}';
    const padded = json + ' '.repeat((8 - (json.length % 8)) % 8);
    const expected = buildSafetensors(padded, leBytes([1, -2, 0.5], 'f32'));
    expect(new Uint8Array(readFileSync(path))).toEqual(expected);
  });

  // The reference's own serialization tests give these header lengths (JSON plus space padding).
  const referenceCases: [string, ParamSet, Record<string, string> | undefined, string, number][] = [
    [
      'one tensor',
      ParamSet.fromEntries([['attn.0', { shape: [1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) }]]),
      undefined,
      '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}',
      64,
    ],
    [
      'forced alignment',
      ParamSet.fromEntries([['attn0', { shape: [1, 1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) }]]),
      undefined,
      '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}',
      72,
    ],
    ['no tensors', new ParamSet(), undefined, '{}', 8],
    ['metadata only', new ParamSet(), { framework: 'pt' }, '{"__metadata__":{"framework":"pt"}}', 40],
  ];
  for (const [what, params, metadata, json, length] of referenceCases) {
    it(`matches the reference serializer byte for byte: ${what}`, async () => {
      const path = tmp.file(`ref-${what.replaceAll(' ', '-')}.safetensors`);
      await writeSafetensors(path, params, { metadata });
      const expected = buildSafetensors(json.padEnd(length, ' '), leBytes([...params.flatten()], 'f32'));
      expect(new DataView(expected.buffer).getBigUint64(0, true)).toBe(BigInt(length));
      expect(new Uint8Array(readFileSync(path))).toEqual(expected);
    });
  }

  it.skipIf(!existsSync(OPEN_CLIP))(
    'reads files from another writer (open_clip fixture) and rewrites their data byte for byte',
    async () => {
      for (const name of ['model', 'inputs', 'expected', 'grads']) {
        const path = join(OPEN_CLIP, `${name}.safetensors`);
        const f = await openSafetensors(path);
        const original = readFileSync(path);
        const copy = tmp.file(`copy-${name}.safetensors`);
        try {
          const writer = createSafetensorsWriter(copy, f.tensorInfos(), { metadata: f.metadata });
          for (const info of f.tensorInfos()) await writer.write(info, await f.read(info.name));
          await writer.finish();
          const back = await openSafetensors(copy);
          expect(back.metadata).toEqual(f.metadata);
          expect(back.entries.map((e) => [e.name, e.dtype, e.shape, e.begin, e.end])).toEqual(
            f.entries.filter((e) => e.dtype === 'F32').map((e) => [e.name, e.dtype, e.shape, e.begin, e.end]),
          );
          // Same order and layout, so the data sections must be identical bytes (compared natively: MBs).
          const dataOf = (bytes: Buffer, ck: typeof f) => bytes.subarray(ck.byteSize - (ck.entries.at(-1)?.end ?? 0));
          const ownData = f.entries.every((e) => e.dtype === 'F32') ? dataOf(original, f) : undefined;
          if (ownData) expect(Buffer.compare(dataOf(readFileSync(copy), back), ownData)).toBe(0);
          await back.close();
        } finally {
          await f.close();
        }
      }
    },
  );

  it('accepts header padding with trailing spaces, as the reference writes it', async () => {
    const path = tmp.file(
      'padded.safetensors',
      buildSafetensors('{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}   ', leBytes([2], 'f32')),
    );
    expect((await readSafetensors(path)).data('x')).toEqual(new Float32Array([2]));
  });
});

describe('interop with @huggingface/hub', () => {
  it('parseSafetensorsMetadata reads a file written here (served from disk by a local fetch)', async () => {
    const path = join(tmp.file('hub'), 'model.safetensors');
    mkdirSync(dirname(path));
    await writeSafetensors(path, sample(), { dtype: 'BF16', metadata: { source: 'time-merge' } });
    const requests: string[] = [];
    const localFetch = localHub(dirname(path), requests);
    const parsed = await parseSafetensorsMetadata({
      repo: 'local/model',
      path: 'model.safetensors',
      fetch: localFetch,
      computeParametersCount: true,
    });
    expect(parsed.sharded).toBe(false);
    if (parsed.sharded) return;
    const ours = await openSafetensors(path);
    expect(parsed.header.__metadata__).toEqual({ source: 'time-merge' });
    for (const e of ours.entries) {
      expect(parsed.header[e.name]).toEqual({ dtype: 'BF16', shape: e.shape, data_offsets: [e.begin, e.end] });
    }
    // The hub skips 0-d tensors when counting parameters; the scalar holds one value.
    expect(parsed.parameterCount).toEqual({ BF16: sample().numel() - 1 });
    await ours.close();
    expect(requests.every((r) => !r.startsWith('model.safetensors') || r.includes('bytes='))).toBe(true);
  });
});

describe('sharded checkpoints', () => {
  async function shardedFixture(name: string, weightMap: Record<string, string>): Promise<string> {
    await writeSafetensors(
      tmp.file(`${name}-1.safetensors`),
      ParamSet.fromEntries([
        ['a', { shape: [2], data: new Float32Array([1, 2]) }],
        ['b', { shape: [1], data: new Float32Array([3]) }],
      ]),
      { metadata: { format: 'pt' } },
    );
    await writeSafetensors(
      tmp.file(`${name}-2.safetensors`),
      ParamSet.fromEntries([['c', { shape: [2, 1], data: new Float32Array([4, 5]) }]]),
      { dtype: 'F16' },
    );
    const index = tmp.file(`${name}.safetensors.index.json`);
    writeFileSync(index, JSON.stringify({ metadata: { total_size: 16 }, weight_map: weightMap }));
    return index;
  }

  it('reads tensors across shards in weight_map order', async () => {
    const index = await shardedFixture('good', {
      c: 'good-2.safetensors',
      a: 'good-1.safetensors',
      b: 'good-1.safetensors',
    });
    const ck = await openCheckpoint(index);
    expect(ck.tensorInfos().map((t) => t.name)).toEqual(['c', 'a', 'b']);
    expect(ck.metadata).toEqual({ format: 'pt', total_size: '16' });
    expect(await ck.read('c')).toEqual(new Float32Array([4, 5]));
    expect(await ck.read('b')).toEqual(new Float32Array([3]));
    await ck.close();
    expect((await readSafetensors(index)).numel()).toBe(5);
  });

  it('rejects a weight_map that points at the wrong shard, a missing shard, or leaves tensors out', async () => {
    const wrong = await shardedFixture('wrong', {
      a: 'wrong-2.safetensors',
      b: 'wrong-1.safetensors',
      c: 'wrong-2.safetensors',
    });
    await expect(openCheckpoint(wrong)).rejects.toThrow(
      /puts tensor "a" in .*wrong-2\.safetensors, which has no such tensor/,
    );
    const missing = await shardedFixture('missing', {
      a: 'missing-1.safetensors',
      b: 'missing-1.safetensors',
      c: 'missing-9.safetensors',
    });
    await expect(openCheckpoint(missing)).rejects.toThrow(/missing-9\.safetensors: cannot open: no such file/);
    const partial = await shardedFixture('partial', { a: 'partial-1.safetensors', c: 'partial-2.safetensors' });
    await expect(openCheckpoint(partial)).rejects.toThrow(/holds tensor "b", which the weight_map does not assign/);
    writeFileSync(tmp.file('nomap.safetensors.index.json'), '{"metadata":{}}');
    await expect(openCheckpoint(tmp.file('nomap.safetensors.index.json'))).rejects.toThrow(/no "weight_map"/);
  });
});

describe('writer', () => {
  const infos = [
    { name: 'a', shape: [2], dtype: 'F32' as const },
    { name: 'b', shape: [1], dtype: 'F32' as const },
  ];

  it('writes nothing at the target until finish(), then renames into place', async () => {
    const path = tmp.file('stream.safetensors');
    const w = createSafetensorsWriter(path, infos, { dtype: 'BF16' });
    await w.write(infos[0], new Float32Array([1, 2]));
    expect(existsSync(path)).toBe(false);
    expect(existsSync(w.tempPath)).toBe(true);
    await w.write(infos[1], new Float32Array([3]));
    await w.finish();
    expect(existsSync(w.tempPath)).toBe(false);
    expect((await readSafetensors(path)).flatten()).toEqual(new Float32Array([1, 2, 3]));
  });

  it('abort() removes the temporary file and leaves an existing target untouched', async () => {
    const path = tmp.file('keep.safetensors');
    writeFileSync(path, 'precious');
    const w = createSafetensorsWriter(path, infos);
    await w.write(infos[0], new Float32Array([1, 2]));
    await w.abort();
    expect(readFileSync(path, 'utf8')).toBe('precious');
    expect(readdirSync(tmp.dir).filter((f) => f.includes('keep.safetensors.'))).toEqual([]);
  });

  it('rejects tensors out of order, of the wrong size, extra, and an early finish', async () => {
    const path = tmp.file('bad-writes.safetensors');
    const w = createSafetensorsWriter(path, infos);
    await expect(w.write(infos[1], new Float32Array([3]))).rejects.toThrow(/expected tensor "a" next, got "b"/);
    await expect(w.write(infos[0], new Float32Array([3]))).rejects.toThrow(/needs 2 values, got 1/);
    await w.write(infos[0], new Float32Array([1, 2]));
    await expect(w.finish()).rejects.toThrow(/finish\(\) after 1 of 2 tensors \(next: "b"\)/);
    await w.write(infos[1], new Float32Array([3]));
    await expect(w.write(infos[1], new Float32Array([3]))).rejects.toThrow(/after all 2 tensors/);
    await w.abort();
    expect(existsSync(path)).toBe(false);
  });

  it('rejects duplicate names, a reserved name and an unwritable dtype up front', () => {
    expect(() => createSafetensorsWriter('x.safetensors', [infos[0], infos[0]])).toThrow(/tensor "a" given twice/);
    expect(() =>
      createSafetensorsWriter('x.safetensors', [{ name: '__metadata__', shape: [1], dtype: 'F32' }]),
    ).toThrow(/cannot be named __metadata__/);
    expect(() => createSafetensorsWriter('x.safetensors', infos, { dtype: 'F8' as never })).toThrow(TimeMergeError);
  });

  it('writeSafetensors leaves no file when the source fails mid-way', async () => {
    const path = tmp.file('failing.safetensors');
    const source = {
      label: 'flaky',
      tensorInfos: () => infos,
      read: async (name: string) => {
        if (name === 'b') throw new TimeMergeError('IO', 'flaky: disk gone');
        return new Float32Array([1, 2]);
      },
    };
    await expect(writeSafetensors(path, source)).rejects.toThrow(/disk gone/);
    expect(readdirSync(tmp.dir).filter((f) => f.includes('failing'))).toEqual([]);
  });

  it('reports a missing directory as an IO error naming the path', async () => {
    await expect(writeSafetensors(`${tmp.dir}/no/such/dir/x.safetensors`, sample())).rejects.toMatchObject({
      code: 'IO',
      message: expect.stringContaining('no/such/dir/x.safetensors'),
    });
  });
});
