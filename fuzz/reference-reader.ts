/**
 * An independent reading of a safetensors file, written from the format description only (JSON.parse,
 * DataView, the IEEE half formats) and sharing no code with src/params/safetensors: what the project's
 * reader accepts must read the same here, value for value. It is more lenient than the project's reader
 * (JSON.parse takes duplicate keys and 1e400), so a file only the project refuses is no disagreement.
 */
export interface ReferenceTensor {
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Float dtypes: the values as float32 would hold them; integer dtypes: the integers (bigint for 64-bit). */
  readonly values: readonly (number | bigint)[];
}

/** Bits per element of every dtype the format defines. */
const BITS: Record<string, number> = {
  BOOL: 8,
  U8: 8,
  I8: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  F64: 64,
  I64: 64,
  U64: 64,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  C64: 64,
};
/** Dtypes read element by element; the others (packed, 8-bit floats, complex) are compared as raw bytes. */
const ELEMENT = new Set(['BOOL', 'U8', 'I8', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64']);

/** float16 bits as a number (exact in float32). */
export function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function element(view: DataView, at: number, dtype: string): number | bigint {
  switch (dtype) {
    case 'F32':
      return view.getFloat32(at, true);
    case 'F64':
      return Math.fround(view.getFloat64(at, true));
    case 'F16':
      return halfToNumber(view.getUint16(at, true));
    case 'BF16': {
      const b = new DataView(new ArrayBuffer(4));
      b.setUint32(0, view.getUint16(at, true) << 16);
      return b.getFloat32(0);
    }
    case 'BOOL':
    case 'U8':
      return view.getUint8(at);
    case 'I8':
      return view.getInt8(at);
    case 'I16':
      return view.getInt16(at, true);
    case 'U16':
      return view.getUint16(at, true);
    case 'I32':
      return view.getInt32(at, true);
    case 'U32':
      return view.getUint32(at, true);
    case 'I64':
      return view.getBigInt64(at, true);
    default:
      return view.getBigUint64(at, true);
  }
}

/** The file's tensors by name, or a reason it is not a valid safetensors file of these dtypes. */
export function referenceRead(bytes: Uint8Array): Map<string, ReferenceTensor> | string {
  if (bytes.length < 8) return 'short';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) return 'header past the end';
  let header: unknown;
  try {
    header = JSON.parse(
      new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + Number(n))),
    );
  } catch {
    return 'header is not JSON';
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return 'header is not an object';
  const dataStart = 8 + Number(n);
  const spans: [number, number][] = [];
  const out = new Map<string, ReferenceTensor>();
  for (const [name, e] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (e === null) continue;
      if (typeof e !== 'object' || Array.isArray(e)) return 'metadata is not an object';
      if (!Object.values(e as object).every((v) => typeof v === 'string')) return 'metadata value not a string';
      continue;
    }
    if (typeof e !== 'object' || e === null || Array.isArray(e)) return `entry ${name} not an object`;
    const { dtype, shape, data_offsets: off } = e as Record<string, unknown>;
    if (typeof dtype !== 'string' || !Object.hasOwn(BITS, dtype)) return `entry ${name}: dtype`;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) return `entry ${name}: shape`;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0))
      return `entry ${name}: offsets`;
    const [b, end] = off as number[];
    const count = (shape as number[]).reduce((p, d) => p * d, 1);
    if (end < b || (count * BITS[dtype]) % 8 !== 0 || end - b !== (count * BITS[dtype]) / 8)
      return `entry ${name}: size`;
    spans.push([b, end]);
    const values: (number | bigint)[] = [];
    if (dataStart + end > bytes.length) return `entry ${name}: past the end`;
    if (!ELEMENT.has(dtype)) values.push(...bytes.subarray(dataStart + b, dataStart + end));
    else for (let i = 0; i < count; i++) values.push(element(view, dataStart + b + (i * BITS[dtype]) / 8, dtype));
    out.set(name, { dtype, shape: shape as number[], values });
  }
  spans.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let at = 0;
  for (const [b, e] of spans) {
    if (b !== at) return 'offsets do not tile the data';
    at = e;
  }
  if (at !== bytes.length - dataStart) return 'data size differs';
  return out;
}
