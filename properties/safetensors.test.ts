import { readFileSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { TimeMergeError } from '../src/params/errors.js';
import { bf16BitsToF32Bits, f16BitsToF32Bits, f32BitsToBf16Bits, f32BitsToF16Bits } from '../src/params/half.js';
import { ParamSet } from '../src/params/paramset.js';
import {
  JsonNumber,
  JsonObject,
  JsonSyntaxError,
  parseStrictJson,
  showJson,
  type JsonValue,
} from '../src/params/strict-json.js';
import {
  openSafetensors,
  parseHeader,
  writeSafetensors,
  type SafetensorsFile,
} from '../src/params/safetensors/index.js';
import { tempDir } from '../test/fixtures/safetensors/build.js';

const tmp = tempDir('tm-st-prop-');
afterAll(() => tmp.cleanup());

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const floatOf = (bits: number): number => ((u32[0] = bits >>> 0), f32[0]);
const bitsOf = (x: number): number => ((f32[0] = x), u32[0]);

/** Reads every tensor every way; anything it throws must be the project's own error. */
async function readEverything(path: string): Promise<void> {
  let f: SafetensorsFile | undefined;
  try {
    f = await openSafetensors(path);
    for (const e of f.entries) {
      await f.readTyped(e.name);
      if (f.tensorInfos().some((t) => t.name === e.name)) await f.read(e.name);
    }
  } catch (err) {
    if (!(err instanceof TimeMergeError)) throw err;
  } finally {
    await f?.close();
  }
}

const paramSetArb = fc
  .uniqueArray(
    fc.string({ minLength: 1, maxLength: 8 }).filter((s) => s !== '__metadata__'),
    { minLength: 0, maxLength: 5 },
  )
  .chain((names) =>
    fc.tuple(
      ...names.map((name) =>
        fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }).chain((shape) =>
          fc
            .array(fc.float({ noDefaultInfinity: false }), {
              minLength: shape.reduce((a, b) => a * b, 1),
              maxLength: shape.reduce((a, b) => a * b, 1),
            })
            .map((values) => [name, shape, values] as const),
        ),
      ),
    ),
  )
  .map((tensors) => {
    const ps = new ParamSet('random');
    for (const [name, shape, values] of tensors) ps.set(name, shape, new Float32Array(values));
    return ps;
  });

describe('safetensors properties', () => {
  it('byte mutations, truncations and extensions of a valid file only ever raise TimeMergeError', async () => {
    const valid = tmp.file('valid.safetensors');
    await writeSafetensors(
      valid,
      ParamSet.fromEntries([
        ['a', { shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) }],
        ['b', { shape: [0], data: new Float32Array(0) }],
        ['c', { shape: [3], data: new Float32Array([7, 8, 9]) }],
      ]),
      { dtype: 'F16', metadata: { k: 'v' } },
    );
    const original = new Uint8Array(readFileSync(valid));
    const target = tmp.file('mutated.safetensors');
    const mutation = fc.oneof(
      fc.record({
        kind: fc.constant('set' as const),
        at: fc.nat(original.length - 1),
        byte: fc.integer({ min: 0, max: 255 }),
      }),
      // Printable bytes inside the header make JSON that still parses but says something else.
      fc.record({
        kind: fc.constant('set' as const),
        at: fc.integer({ min: 8, max: original.length - 1 }),
        byte: fc.constantFrom(...[...'0123456789[]{},:"- eE.'].map((c) => c.charCodeAt(0))),
      }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(original.length) }),
      fc.record({ kind: fc.constant('append' as const), at: fc.nat(16) }),
      fc.record({ kind: fc.constant('prefix' as const), at: fc.nat(Number.MAX_SAFE_INTEGER) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (muts) => {
        let bytes = original.slice();
        for (const m of muts) {
          if (m.kind === 'set') {
            if (m.at < bytes.length) bytes[m.at] = m.byte;
          } else if (m.kind === 'truncate') bytes = bytes.slice(0, Math.min(m.at, bytes.length));
          else if (m.kind === 'append') bytes = Uint8Array.from([...bytes, ...new Uint8Array(m.at).fill(0x20)]);
          else if (bytes.length >= 8) new DataView(bytes.buffer).setBigUint64(0, BigInt(m.at), true);
        }
        writeFileSync(target, bytes);
        await readEverything(target);
      }),
      { numRuns: 400, seed: 20251123 },
    );
  });

  it('any JSON header only ever raises TimeMergeError', () => {
    const entry = fc.record(
      {
        dtype: fc.oneof(fc.constantFrom('F32', 'F16', 'BF16', 'I64', 'F4', 'BOOL', 'nope', '__proto__'), fc.anything()),
        shape: fc.oneof(fc.array(fc.integer({ min: -1, max: 4 }), { maxLength: 3 }), fc.anything()),
        data_offsets: fc.oneof(
          fc.tuple(fc.integer({ min: -1, max: 40 }), fc.integer({ min: -1, max: 40 })),
          fc.anything(),
        ),
      },
      { requiredKeys: [] },
    );
    const header = fc.oneof(
      fc.json(),
      fc.dictionary(fc.string({ maxLength: 4 }), entry, { maxKeys: 4 }).map((h) => JSON.stringify(h)),
    );
    fc.assert(
      fc.property(header, fc.nat(64), (text, dataBytes) => {
        try {
          parseHeader(new TextEncoder().encode(text), dataBytes, 'fuzz.safetensors');
        } catch (err) {
          if (!(err instanceof TimeMergeError)) throw err;
        }
      }),
      { numRuns: 2000, seed: 7 },
    );
  });

  it('F32 files give back every bit; F16/BF16 files are stable after one narrowing', async () => {
    const path = tmp.file('rt.safetensors');
    const again = tmp.file('rt2.safetensors');
    await fc.assert(
      fc.asyncProperty(
        paramSetArb,
        fc.constantFrom('F32' as const, 'F16' as const, 'BF16' as const),
        async (ps, dtype) => {
          await writeSafetensors(path, ps, { dtype });
          const f = await openSafetensors(path);
          const back = new ParamSet();
          for (const info of f.tensorInfos()) back.set(info.name, info.shape, await f.read(info.name));
          await f.close();
          expect(back.names()).toEqual(ps.names());
          if (dtype === 'F32') {
            for (const name of ps.names())
              expect(new Uint32Array(back.data(name).buffer)).toEqual(new Uint32Array(ps.data(name).buffer));
          }
          await writeSafetensors(again, back, { dtype });
          expect(readFileSync(again)).toEqual(readFileSync(path));
        },
      ),
      { numRuns: 150, seed: 42 },
    );
  });

  for (const [name, narrow, widen, maxFinite] of [
    ['F16', f32BitsToF16Bits, f16BitsToF32Bits, 65504],
    ['BF16', f32BitsToBf16Bits, bf16BitsToF32Bits, floatOf(0x7f7f0000)],
  ] as const) {
    it(`${name} narrowing picks the nearest value, ties to the even pattern`, () => {
      fc.assert(
        fc.property(fc.float({ min: -maxFinite, max: maxFinite, noNaN: true }), (x) => {
          const h = narrow(bitsOf(x));
          const got = floatOf(widen(h));
          const err = Math.abs(got - x);
          // The neighbours of h on the same side of zero (h ± 1 as magnitudes).
          for (const n of [h - 1, h + 1]) {
            if (
              (n & 0x7fff) === 0x7fff ||
              (n & 0x8000) !== (h & 0x8000) ||
              (n & 0x7fff) >= (name === 'F16' ? 0x7c00 : 0x7f80)
            )
              continue;
            const alt = Math.abs(floatOf(widen(n)) - x);
            expect(err).toBeLessThanOrEqual(alt);
            if (err === alt) expect(h & 1).toBe(0);
          }
        }),
        { numRuns: 5000, seed: 3 },
      );
    });
  }
});

describe('the strict header JSON parser', () => {
  // Plain values back from the parser's form: objects from their entries, numbers from their text.
  const plain = (v: JsonValue): unknown =>
    v instanceof JsonNumber
      ? Number(v.text)
      : v instanceof JsonObject
        ? Object.fromEntries(v.entries.map(([k, x]) => [k, plain(x)]))
        : Array.isArray(v)
          ? v.map(plain)
          : v;

  it('reads any JSON text without lone surrogates as JSON.parse does', () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: 'grapheme', maxDepth: 6 }), fc.boolean(), (value, pretty) => {
        const text = JSON.stringify(value, null, pretty ? 2 : undefined);
        expect(plain(parseStrictJson(text))).toStrictEqual(JSON.parse(text));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses exactly the texts JSON.parse refuses, among mutations of valid texts (nesting and surrogates aside)', () => {
    fc.assert(
      fc.property(
        fc.jsonValue({ stringUnit: 'grapheme', maxDepth: 4 }),
        fc.nat(),
        fc.constantFrom('', '"', '{', '}', '[', ']', ',', ':', '-', '.', 'e', '0', '\\', ' '),
        (value, at, insert) => {
          const base = JSON.stringify(value);
          const k = at % (base.length + 1);
          const text = base.slice(0, k) + insert + base.slice(k);
          let expected = true;
          try {
            JSON.parse(text);
          } catch {
            expected = false;
          }
          let got = true;
          try {
            parseStrictJson(text);
          } catch (e) {
            expect(e).toBeInstanceOf(JsonSyntaxError);
            got = false;
          }
          expect(got).toBe(expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('quotes any value in at most the asked length plus an ellipsis', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), fc.integer({ min: 4, max: 80 }), (value, max) => {
        const text = JSON.stringify(value);
        const shown = showJson(parseStrictJson(text), max);
        expect(shown.length).toBeLessThanOrEqual(max + 1);
        if (text.length <= max && !/\\u/.test(text)) expect(shown).toBe(text);
      }),
    );
  });
});
