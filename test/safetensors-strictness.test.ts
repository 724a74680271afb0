/**
 * The reader accepts and refuses headers as the reference reader (the Rust safetensors crate over
 * serde_json) does, at its edges: a byte-order mark, a number past float64 in a field it ignores, the
 * nesting limit, dimensions it cannot hold exactly, keys that name Object.prototype's members, and the
 * number of entries it reads (refused before the JSON is parsed).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { TimeMergeError } from '../src/params/errors.js';
import { MAX_HEADER_ENTRIES } from '../src/params/safetensors/format.js';
import { openSafetensors } from '../src/params/safetensors/index.js';
import { buildSafetensors, concatBytes, tempDir } from './fixtures/safetensors/build.js';

const tmp = tempDir('tm-st-strict-');
afterAll(() => tmp.cleanup());

const four = new Uint8Array(4);
const x = (extra = '') => `"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]${extra}}`;

async function outcome(name: string, bytes: Uint8Array): Promise<string> {
  try {
    const f = await openSafetensors(tmp.file(name, bytes));
    await f.close();
    return 'accepted';
  } catch (err) {
    if (!(err instanceof TimeMergeError)) throw err;
    return `${err.code}: ${err.message.slice(err.message.indexOf(':') + 2)}`;
  }
}

describe('header strictness at the reference reader edges', () => {
  it('a UTF-8 byte-order mark before "{" is refused', async () => {
    const bom = concatBytes(new Uint8Array([0xef, 0xbb, 0xbf]), new TextEncoder().encode(`{${x()}}`));
    const len = new Uint8Array(8);
    new DataView(len.buffer).setBigUint64(0, BigInt(bom.length), true);
    expect(await outcome('bom.safetensors', concatBytes(len, bom, four))).toBe(
      'SAFETENSORS: header does not start with "{" (it starts with a byte-order mark)',
    );
  });

  it('a number past float64 is refused even in an ignored field; a large one in range is not', async () => {
    expect(await outcome('inf.safetensors', buildSafetensors(`{${x(',"note":1e400')}}`, four))).toMatch(
      /^SAFETENSORS: header is not valid JSON \(number 1e400 out of range at character \d+\)$/,
    );
    expect(await outcome('big.safetensors', buildSafetensors(`{${x(',"note":1e300')}}`, four))).toBe('accepted');
    expect(await outcome('neg.safetensors', buildSafetensors(`{${x(',"note":-1e309')}}`, four))).toMatch(
      /out of range/,
    );
  });

  it('127 nested levels are read, 128 are refused (serde_json recursion limit)', async () => {
    // the header object is one level; the ignored field holds the rest
    const nested = (levels: number) => `${'['.repeat(levels - 1)}${']'.repeat(levels - 1)}`;
    expect(await outcome('d127.safetensors', buildSafetensors(`{${x(`,"n":${nested(126)}`)}}`, four))).toBe('accepted');
    expect(await outcome('d128.safetensors', buildSafetensors(`{${x(`,"n":${nested(127)}`)}}`, four))).toMatch(
      /nested 128 levels deep/,
    );
  });

  it('dimensions past 2^53 are refused, not rounded', async () => {
    const header = `{"z":{"dtype":"F32","shape":[9007199254740993,0],"data_offsets":[0,0]}}`;
    expect(await outcome('dim.safetensors', buildSafetensors(header))).toBe(
      'SAFETENSORS: tensor "z": dimension 9007199254740993 is past 2^53, which time-merge cannot hold exactly',
    );
    const exact = `{"z":{"dtype":"F32","shape":[9007199254740991,0],"data_offsets":[0,0]}}`;
    const f = await openSafetensors(tmp.file('exact.safetensors', buildSafetensors(exact)));
    expect(f.entries[0].shape).toEqual([9007199254740991, 0]);
    await f.close();
  });

  it('metadata keys named like Object.prototype members are kept as keys', async () => {
    const header = `{"__metadata__":{"__proto__":"a","constructor":"b"},${x()}}`;
    const f = await openSafetensors(tmp.file('meta.safetensors', buildSafetensors(header, four)));
    expect(Object.entries(f.metadata)).toEqual([
      ['__proto__', 'a'],
      ['constructor', 'b'],
    ]);
    await f.close();
  });

  it(`more than ${MAX_HEADER_ENTRIES} entries are refused before the JSON is parsed`, async () => {
    const n = MAX_HEADER_ENTRIES + 1;
    // not even valid JSON past the first entries: the count comes first
    const entries = Array.from({ length: n }, (_, i) => `"t${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`);
    expect(await outcome('many.safetensors', buildSafetensors(`{${entries.join(',')},`))).toBe(
      `SAFETENSORS: header lists ${n} tensors; time-merge reads at most ${MAX_HEADER_ENTRIES} per file (shard larger models)`,
    );
    const ok = Array.from({ length: 1000 }, (_, i) => `"t${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`);
    expect(await outcome('some.safetensors', buildSafetensors(`{${ok.join(',')}}`))).toBe('accepted');
  });
});
