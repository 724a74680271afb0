import { mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { TimeMergeError } from '../src/params/errors.js';
import { openCheckpoint, openSafetensors } from '../src/params/safetensors/index.js';
import { buildSafetensors, leBytes, tempDir } from './fixtures/safetensors/build.js';

const tmp = tempDir('tm-st-bad-');
afterAll(() => tmp.cleanup());

const f32 = (shape: number[], begin: number, end: number) => ({ dtype: 'F32', shape, data_offsets: [begin, end] });
const zeros = (n: number) => new Uint8Array(n);

/** name, file bytes, expected error code, and what the message must say (beyond the file's path). */
const corpus: [string, Uint8Array, 'SAFETENSORS' | 'IO', RegExp][] = [
  ['empty file', zeros(0), 'SAFETENSORS', /file is 0 bytes, shorter than the 8-byte header length prefix/],
  ['five bytes', zeros(5), 'SAFETENSORS', /file is 5 bytes, shorter than/],
  [
    'header length past the end',
    buildSafetensors('{}', zeros(0), 1000n),
    'SAFETENSORS',
    /header length 1000 is larger than the 2 bytes after the prefix/,
  ],
  [
    'header length 2^63',
    buildSafetensors('{}', zeros(0), 2n ** 63n),
    'SAFETENSORS',
    /header length 9223372036854775808 is larger than/,
  ],
  ['header length 0', buildSafetensors('', zeros(4)), 'SAFETENSORS', /header length 0 is too short/],
  [
    'header not UTF-8',
    (() => {
      const b = buildSafetensors('{"\u00e9":1}');
      b[10] = 0xff;
      return b;
    })(),
    'SAFETENSORS',
    /header is not valid UTF-8/,
  ],
  ['header is an array', buildSafetensors('[1,2]'), 'SAFETENSORS', /header does not start with "\{"/],
  ['leading whitespace', buildSafetensors(' {}'), 'SAFETENSORS', /header does not start with "\{"/],
  ['invalid JSON', buildSafetensors('{"a":'), 'SAFETENSORS', /header is not valid JSON/],
  [
    'metadata is a list',
    buildSafetensors({ __metadata__: [1] }),
    'SAFETENSORS',
    /__metadata__ must be an object of strings/,
  ],
  [
    'metadata value is a number',
    buildSafetensors({ __metadata__: { n: 1 } }),
    'SAFETENSORS',
    /__metadata__ value "n" must be a string, got 1/,
  ],
  ['entry is a number', buildSafetensors({ x: 3 }), 'SAFETENSORS', /tensor "x": header entry must be an object/],
  [
    'dtype missing',
    buildSafetensors({ x: { shape: [1], data_offsets: [0, 4] } }, zeros(4)),
    'SAFETENSORS',
    /tensor "x": dtype is missing/,
  ],
  [
    'unknown dtype',
    buildSafetensors({ x: { dtype: 'Q4', shape: [1], data_offsets: [0, 4] } }, zeros(4)),
    'SAFETENSORS',
    /tensor "x": unknown dtype "Q4"/,
  ],
  [
    'dtype named like an Object method',
    buildSafetensors({ x: { dtype: 'toString', shape: [1], data_offsets: [0, 4] } }, zeros(4)),
    'SAFETENSORS',
    /unknown dtype "toString"/,
  ],
  [
    'shape missing',
    buildSafetensors({ x: { dtype: 'F32', data_offsets: [0, 4] } }, zeros(4)),
    'SAFETENSORS',
    /tensor "x": shape must be an array of non-negative integers/,
  ],
  [
    'negative dimension',
    buildSafetensors({ x: f32([-1], 0, 4) }, zeros(4)),
    'SAFETENSORS',
    /shape must be .* got \[-1\]/,
  ],
  [
    'fractional dimension',
    buildSafetensors({ x: f32([1.5], 0, 4) }, zeros(4)),
    'SAFETENSORS',
    /shape must be .* got \[1.5\]/,
  ],
  [
    'offsets missing',
    buildSafetensors({ x: { dtype: 'F32', shape: [1] } }, zeros(4)),
    'SAFETENSORS',
    /tensor "x": data_offsets must be \[begin, end\]/,
  ],
  [
    'three offsets',
    buildSafetensors({ x: { dtype: 'F32', shape: [1], data_offsets: [0, 4, 8] } }, zeros(4)),
    'SAFETENSORS',
    /data_offsets must be \[begin, end\]/,
  ],
  [
    'offsets end before begin',
    buildSafetensors({ x: f32([0], 4, 0) }, zeros(4)),
    'SAFETENSORS',
    /tensor "x": data_offsets \[4, 0\] end before they begin/,
  ],
  [
    'size does not match shape',
    buildSafetensors({ x: f32([2], 0, 4) }, zeros(4)),
    'SAFETENSORS',
    /tensor "x": data_offsets \[0, 4\] hold 4 bytes but F32 \[2\] needs 8/,
  ],
  [
    'shape too large',
    buildSafetensors({ x: f32([2 ** 30, 2 ** 30, 2 ** 30], 0, 4) }, zeros(4)),
    'SAFETENSORS',
    /tensor "x": shape \[.*\] is too large/,
  ],
  [
    'odd count of 4-bit values',
    buildSafetensors({ x: { dtype: 'F4', shape: [3], data_offsets: [0, 2] } }, zeros(2)),
    'SAFETENSORS',
    /3 elements of F4 do not fill a whole number of bytes/,
  ],
  [
    'overlapping offsets',
    buildSafetensors({ a: f32([2], 0, 8), b: f32([2], 4, 12) }, zeros(12)),
    'SAFETENSORS',
    /tensor "b" data_offsets \[4, 12\] overlap tensor "a" \[0, 8\]/,
  ],
  [
    'two tensors on the same bytes',
    buildSafetensors({ a: f32([1], 0, 4), b: f32([1], 0, 4) }, zeros(8)),
    'SAFETENSORS',
    /tensor "b" data_offsets \[0, 4\] overlap tensor "a"/,
  ],
  [
    'gap between tensors',
    buildSafetensors({ a: f32([1], 0, 4), b: f32([1], 8, 12) }, zeros(12)),
    'SAFETENSORS',
    /tensor "b" begins at 8, leaving a gap of 4 bytes after tensor "a"/,
  ],
  [
    'data not starting at 0',
    buildSafetensors({ a: f32([1], 4, 8) }, zeros(8)),
    'SAFETENSORS',
    /tensor "a" begins at 4, leaving a gap of 4 bytes at the start of the data/,
  ],
  [
    'truncated data',
    buildSafetensors({ a: f32([2], 0, 8) }, zeros(4)),
    'SAFETENSORS',
    /tensor "a" data_offsets end at 8, past the 4-byte data section/,
  ],
  [
    'trailing bytes',
    buildSafetensors({ a: f32([1], 0, 4) }, zeros(8)),
    'SAFETENSORS',
    /data section is 8 bytes but the tensors cover only 4/,
  ],
  [
    'shape dimension written as a float',
    buildSafetensors('{"x":{"dtype":"F32","shape":[4.0],"data_offsets":[0,16]}}', zeros(16)),
    'SAFETENSORS',
    /tensor "x": shape must be an array of non-negative integers, got \[4\.0\]/,
  ],
  [
    'shape dimension in exponent form',
    buildSafetensors('{"x":{"dtype":"F32","shape":[4e0],"data_offsets":[0,16]}}', zeros(16)),
    'SAFETENSORS',
    /shape must be .* got \[4e0\]/,
  ],
  [
    'offset written as -0',
    buildSafetensors('{"x":{"dtype":"F32","shape":[1],"data_offsets":[-0,4]}}', zeros(4)),
    'SAFETENSORS',
    /tensor "x": data_offsets must be \[begin, end\] non-negative integers, got \[-0,4\]/,
  ],
  [
    'offset of 2^64',
    buildSafetensors('{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,18446744073709551616]}}', zeros(4)),
    'SAFETENSORS',
    /data_offsets must be .* got \[0,18446744073709551616\]/,
  ],
  [
    'dimension product past 2^64',
    buildSafetensors('{"x":{"dtype":"U8","shape":[18446744073709551615,2],"data_offsets":[0,0]}}'),
    'SAFETENSORS',
    /tensor "x": shape .* is too large \(its element count overflows 64 bits\)/,
  ],
  [
    'dtype given twice in an entry',
    buildSafetensors('{"x":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}}', zeros(4)),
    'SAFETENSORS',
    /tensor "x": field "dtype" appears more than once in its entry/,
  ],
  [
    'shape given twice in an entry',
    buildSafetensors('{"x":{"dtype":"F32","shape":[2],"shape":[1],"data_offsets":[0,4]}}', zeros(4)),
    'SAFETENSORS',
    /tensor "x": field "shape" appears more than once/,
  ],
  [
    'lone leading surrogate in a name',
    buildSafetensors('{"a\\ud800":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', zeros(4)),
    'SAFETENSORS',
    /header is not valid JSON \(lone leading surrogate in a \\u escape at character \d+\)/,
  ],
  [
    'lone trailing surrogate in a name',
    buildSafetensors('{"\\udc00":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', zeros(4)),
    'SAFETENSORS',
    /lone trailing surrogate/,
  ],
  [
    '5000 nested arrays in a shape',
    buildSafetensors(
      `{"x":{"dtype":"F32","shape":${'['.repeat(5000)}${']'.repeat(5000)},"data_offsets":[0,4]}}`,
      zeros(4),
    ),
    'SAFETENSORS',
    /header is not valid JSON \(arrays and objects nested 128 levels deep at character \d+\)/,
  ],
  [
    'raw control character in a name',
    buildSafetensors('{"a\u0001":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', zeros(4)),
    'SAFETENSORS',
    /control character U\+0001 in a string/,
  ],
  [
    'duplicate __metadata__',
    buildSafetensors('{"__metadata__":{},"__metadata__":{}}'),
    'SAFETENSORS',
    /__metadata__ appears more than once/,
  ],
  [
    'duplicate tensor name',
    buildSafetensors(
      '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
      zeros(8),
    ),
    'SAFETENSORS',
    /tensor "a" appears more than once/,
  ],
];

describe('corrupt files each give their own clear error', () => {
  for (const [name, bytes, code, message] of corpus) {
    it(name, async () => {
      const path = tmp.file(`${name.replaceAll(' ', '-')}.safetensors`, bytes);
      const err = await openSafetensors(path).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TimeMergeError);
      expect((err as TimeMergeError).code).toBe(code);
      expect((err as TimeMergeError).message).toContain(path);
      expect((err as TimeMergeError).message).toMatch(message);
    });
  }

  it('a bad value megabytes long is quoted in a few dozen characters', async () => {
    const shape = `[${Array.from({ length: 300_000 }, () => '1.5').join(',')}]`;
    const path = tmp.file(
      'long-shape.safetensors',
      buildSafetensors(`{"x":{"dtype":"F32","shape":${shape},"data_offsets":[0,4]}}`, zeros(4)),
    );
    const err = (await openSafetensors(path).then(
      () => undefined,
      (e: unknown) => e,
    )) as TimeMergeError;
    expect(err.message).toMatch(/shape must be an array of non-negative integers, got \[1\.5,1\.5,.*…$/);
    expect(err.message.length).toBeLessThan(path.length + 200);
    const meta = tmp.file('long-meta.safetensors', buildSafetensors({ __metadata__: { big: ['x'.repeat(4 << 20)] } }));
    const err2 = (await openSafetensors(meta).then(
      () => undefined,
      (e: unknown) => e,
    )) as TimeMergeError;
    expect(err2.message).toMatch(/__metadata__ value "big" must be a string, got \["x+…$/);
    expect(err2.message.length).toBeLessThan(meta.length + 200);
  });

  it('a zero-size tensor with a dimension past 2^53 is refused (not rounded); surrogate pairs are names', async () => {
    const header = (dim: string) =>
      `{"a\\ud83d\\ude00":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"empty":{"dtype":"F32","shape":[${dim},0],"data_offsets":[4,4]},"__metadata__":{"k":"1","k":"2"}}`;
    const big = tmp.file(
      'zero-size-big.safetensors',
      buildSafetensors(header('18446744073709551615'), leBytes([2.5], 'f32')),
    );
    await expect(openSafetensors(big)).rejects.toThrowError(
      'tensor "empty": dimension 18446744073709551615 is past 2^53, which time-merge cannot hold exactly',
    );
    const path = tmp.file('zero-size.safetensors', buildSafetensors(header('9007199254740991'), leBytes([2.5], 'f32')));
    const f = await openSafetensors(path);
    expect(f.entries.map((e) => [e.name, e.shape])).toEqual([
      ['a\u{1F600}', [1]],
      ['empty', [2 ** 53 - 1, 0]],
    ]);
    expect(f.metadata).toEqual({ k: '2' });
    expect(Array.from(await f.read('a\u{1F600}'))).toEqual([2.5]);
    await f.close();
  });

  it('a missing file is an IO error', async () => {
    await expect(openSafetensors(tmp.file('nope.safetensors'))).rejects.toMatchObject({
      code: 'IO',
      message: expect.stringMatching(/nope\.safetensors: cannot open: no such file/),
    });
  });

  it('a directory is an IO error', async () => {
    const dir = tmp.file('dir.safetensors');
    mkdirSync(dir);
    await expect(openSafetensors(dir)).rejects.toMatchObject({
      code: 'IO',
      message: expect.stringMatching(/not a regular file/),
    });
  });

  it('a file truncated after it was opened fails the read with an IO error naming the tensor', async () => {
    const path = tmp.file(
      'shrinks.safetensors',
      buildSafetensors({ a: f32([1], 0, 4), b: f32([2], 4, 12) }, leBytes([1, 2, 3], 'f32')),
    );
    const f = await openSafetensors(path);
    truncateSync(path, f.byteSize - 6);
    await expect(f.read('b')).rejects.toMatchObject({
      code: 'IO',
      message: expect.stringMatching(/tensor "b": file ended after 2 of 8 bytes/),
    });
    await f.close();
    await expect(f.read('a')).rejects.toThrow(/after close\(\)/);
  });

  it('a malformed shard index names the index file', async () => {
    const bad = tmp.file('bad.safetensors.index.json');
    writeFileSync(bad, '{"weight_map": ');
    await expect(openCheckpoint(bad)).rejects.toMatchObject({
      code: 'SAFETENSORS',
      message: expect.stringMatching(/bad\.safetensors\.index\.json: index is not valid JSON/),
    });
    writeFileSync(bad, '{"weight_map": {"a": 3}}');
    await expect(openCheckpoint(bad)).rejects.toThrow(/weight_map entry "a" must name a shard file/);
    await expect(openCheckpoint(tmp.file('absent.safetensors.index.json'))).rejects.toMatchObject({ code: 'IO' });
  });
});
