/**
 * Safetensors files for the fuzz suite: valid files of every readable dtype, then mutated (truncated,
 * bits flipped, the length prefix changed, bytes appended, and header edits: offsets, dtypes, shapes,
 * nesting, metadata, unknown fields, duplicate keys, a byte-order mark). Each is read by the project's
 * reader (plainly, mapped, with reused buffers) and judged against fuzz/reference-reader.ts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { openSafetensors } from '../src/params/safetensors/index.js';
import { accept, type CaseResult, defect, judgeError } from './outcome.js';
import { referenceRead } from './reference-reader.js';

const DTYPES = ['F32', 'F16', 'BF16', 'F64', 'I32', 'U8', 'I64', 'BOOL'] as const;
const SIZE: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I32: 4, U8: 1, I64: 8, BOOL: 1 };
const FLOAT = new Set(['F32', 'F16', 'BF16', 'F64']);
const ODD_NAMES = ['__proto__', 'constructor', 'toString', '', 'a"b', 'é😀', 'x'.repeat(300), '__metadata__x'];

const tensorArb = fc.record({
  name: fc.oneof(fc.stringMatching(/^[a-z][a-z0-9._]{0,12}$/), fc.constantFrom(...ODD_NAMES)),
  dtype: fc.constantFrom(...DTYPES),
  shape: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }),
});

/** One header edit, applied to the header text (some need text JSON cannot hold: 1e400, duplicate keys). */
const headerEditArb = fc.oneof(
  fc.record({
    op: fc.constant('offset' as const),
    tensor: fc.nat(),
    which: fc.nat(1),
    to: fc.oneof(fc.integer({ min: -8, max: 8 }), fc.constantFrom(2 ** 53, 2 ** 64, -1)),
  }),
  fc.record({
    op: fc.constant('dtype' as const),
    tensor: fc.nat(),
    to: fc.constantFrom('F32', 'I64', 'f32', 'F8_E4M3', 'F4', 'C64', 'X', 'constructor', '__proto__', ''),
  }),
  fc.record({
    op: fc.constant('shape' as const),
    tensor: fc.nat(),
    to: fc.constantFrom(
      '[-1]',
      '[1.5]',
      '["3"]',
      '[9007199254740993,0]',
      '[18446744073709551615,0]',
      '[4.0]',
      '[]',
      '[[1]]',
      'null',
      '{}',
    ),
  }),
  fc.record({ op: fc.constant('nest' as const), tensor: fc.nat(), depth: fc.integer({ min: 1, max: 140 }) }),
  fc.record({
    op: fc.constant('metadata' as const),
    to: fc.constantFrom(
      'null',
      '[]',
      '{"a":1}',
      '{"__proto__":"x","a":"b"}',
      '{"a":"1","a":"2"}',
      '"m"',
      '{"n":1e400}',
    ),
  }),
  fc.record({
    op: fc.constant('unknown-field' as const),
    tensor: fc.nat(),
    value: fc.constantFrom(
      '1e400',
      '-1e309',
      '1e308',
      '123456789012345678901234567890',
      '"x"',
      '[[[[]]]]',
      'true',
      '{"dtype":1}',
    ),
  }),
  fc.record({
    op: fc.constant('duplicate' as const),
    tensor: fc.nat(),
    field: fc.constantFrom('dtype', 'shape', 'data_offsets', 'name'),
  }),
  fc.record({
    op: fc.constantFrom('bom' as const, 'leading-space' as const, 'trailing-space' as const, 'trailing-comma' as const),
  }),
);

const byteEditArb = fc.oneof(
  fc.record({ op: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ op: fc.constant('flip' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), bit: fc.nat(7) }),
  fc.record({
    op: fc.constant('prefix' as const),
    delta: fc.oneof(fc.integer({ min: -16, max: 16 }), fc.constantFrom(2 ** 40, 2 ** 62)),
  }),
  fc.record({ op: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
);

export const safetensorsCaseArb = fc.record({
  tensors: fc.uniqueArray(tensorArb, { maxLength: 4, selector: (t) => t.name }),
  metadata: fc.option(fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 })),
  dataSeed: fc.integer(),
  headerEdits: fc.array(headerEditArb, { maxLength: 2 }),
  byteEdits: fc.array(byteEditArb, { maxLength: 2 }),
  read: fc.record({ map: fc.boolean(), reuseBuffers: fc.boolean() }),
});
export type SafetensorsCase = typeof safetensorsCaseArb extends fc.Arbitrary<infer T> ? T : never;

/** xorshift32 bytes: the data of a case from its seed. */
function bytesFrom(seed: number, n: number): Uint8Array {
  let s = seed | 0 || 1;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 0xff;
  }
  return out;
}

/** The file of a case: a valid file assembled from the format description, then edited. */
export function caseBytes(c: SafetensorsCase): Uint8Array {
  let offset = 0;
  const entries = c.tensors.map((t) => {
    const size = t.shape.reduce((p, d) => p * d, 1) * SIZE[t.dtype];
    const e = { ...t, begin: offset, end: offset + size };
    offset += size;
    return e;
  });
  const field = (k: string, v: string) => `${JSON.stringify(k)}:${v}`;
  const entryText = entries.map((e, i) => {
    const f: [string, string][] = [
      ['dtype', JSON.stringify(e.dtype)],
      ['shape', JSON.stringify(e.shape)],
      ['data_offsets', JSON.stringify([e.begin, e.end])],
    ];
    const extra: string[] = [];
    for (const h of c.headerEdits) {
      if (!('tensor' in h) || entries.length === 0 || h.tensor % entries.length !== i) continue;
      if (h.op === 'offset') {
        const o = [e.begin, e.end];
        o[h.which] = Math.abs(h.to) > 1000 ? h.to : o[h.which] + h.to;
        f[2][1] = `[${o.map((x) => (Number.isSafeInteger(x) ? String(x) : BigInt(Math.round(x)).toString())).join(',')}]`;
      } else if (h.op === 'dtype') f[0][1] = JSON.stringify(h.to);
      else if (h.op === 'shape') f[1][1] = h.to;
      else if (h.op === 'nest') f[1][1] = `${'['.repeat(h.depth)}${f[1][1]}${']'.repeat(h.depth)}`;
      else if (h.op === 'unknown-field') extra.push(field('note', h.value));
      else if (h.op === 'duplicate')
        extra.push(h.field === 'name' ? '' : field(h.field, f.find(([k]) => k === h.field)![1]));
    }
    const body = [...f.map(([k, v]) => field(k, v)), ...extra.filter((x) => x !== '')].join(',');
    const dup = c.headerEdits.some(
      (h) => h.op === 'duplicate' && h.field === 'name' && entries.length > 0 && h.tensor % entries.length === i,
    );
    return `${field(e.name, `{${body}}`)}${dup ? `,${field(e.name, `{${body}}`)}` : ''}`;
  });
  let meta = c.metadata ? JSON.stringify(c.metadata) : undefined;
  for (const h of c.headerEdits) if (h.op === 'metadata') meta = h.to;
  const parts = meta === undefined ? entryText : [field('__metadata__', meta), ...entryText];
  let text = `{${parts.join(',')}}`;
  for (const h of c.headerEdits) {
    if (h.op === 'bom') text = `\ufeff${text}`;
    else if (h.op === 'leading-space') text = ` ${text}`;
    else if (h.op === 'trailing-space') text = `${text}  `;
    else if (h.op === 'trailing-comma') text = text.replace(/}$/, ',}');
  }
  const header = new TextEncoder().encode(text);
  let bytes = new Uint8Array(8 + header.length + offset);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
  bytes.set(header, 8);
  bytes.set(bytesFrom(c.dataSeed, offset), 8 + header.length);
  for (const b of c.byteEdits) {
    if (b.op === 'truncate') bytes = bytes.slice(0, Math.floor(b.at * bytes.length));
    else if (b.op === 'flip' && bytes.length > 0)
      bytes[Math.min(bytes.length - 1, Math.floor(b.at * bytes.length))] ^= 1 << b.bit;
    else if (b.op === 'prefix' && bytes.length >= 8) {
      const v = new DataView(bytes.buffer, bytes.byteOffset);
      const n = v.getBigUint64(0, true) + BigInt(b.delta);
      v.setBigUint64(0, n < 0n ? 0n : n, true);
    } else if (b.op === 'append') {
      const out = new Uint8Array(bytes.length + b.bytes.length);
      out.set(bytes);
      out.set(b.bytes, bytes.length);
      bytes = out;
    }
  }
  return bytes;
}

const same = (a: number | bigint, b: number | bigint) =>
  typeof a === 'bigint' || typeof b === 'bigint' ? String(a) === String(b) : Object.is(a, b);

/** Reads a case's file with the project's reader and judges the outcome against the reference reading. */
export async function checkSafetensorsCase(c: SafetensorsCase, dir: string): Promise<CaseResult> {
  const bytes = caseBytes(c);
  const path = join(dir, 'case.safetensors');
  writeFileSync(path, bytes);
  const ref = referenceRead(bytes);
  let file: Awaited<ReturnType<typeof openSafetensors>> | undefined;
  try {
    file = await openSafetensors(path, c.read);
    if (typeof ref === 'string') return defect(`accepted a file the reference refuses (${ref})`);
    const names = file.entries.map((e) => e.name);
    if (names.length !== ref.size || !names.every((n) => ref.has(n)))
      return defect(`tensor names differ: ${names.join(', ')}`);
    for (const e of file.entries) {
      const r = ref.get(e.name)!;
      if (e.dtype !== r.dtype || e.shape.join(',') !== r.shape.join(','))
        return defect(`tensor "${e.name}": ${e.dtype} [${e.shape}] vs reference ${r.dtype} [${r.shape}]`);
      const values: ArrayLike<number | bigint> = FLOAT.has(e.dtype)
        ? await file.read(e.name)
        : ((await file.readTyped(e.name)) as ArrayLike<number | bigint>);
      if (values.length !== r.values.length)
        return defect(`tensor "${e.name}": ${values.length} values vs ${r.values.length}`);
      for (let i = 0; i < values.length; i++)
        if (!same(values[i], r.values[i]))
          return defect(`tensor "${e.name}"[${i}]: ${values[i]} vs reference ${r.values[i]}`);
    }
    return accept();
  } catch (err) {
    return judgeError(err, [path]);
  } finally {
    await file?.close();
  }
}
