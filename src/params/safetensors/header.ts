import { fail } from '../errors.js';
import { formatShape } from '../tensor.js';
import { DTYPE_BITS, MAX_HEADER_BYTES, METADATA_KEY, PREFIX_BYTES } from './format.js';

/** One tensor as the header describes it; offsets are relative to the start of the data section. */
export interface HeaderEntry {
  readonly name: string;
  /** The dtype string as written (any dtype of the format, not only the float ones). */
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

export interface ParsedHeader {
  /** Tensors in header order. */
  readonly entries: readonly HeaderEntry[];
  readonly metadata: Record<string, string>;
  /** Byte offset in the file where the data section starts (8 + header length). */
  readonly dataStart: number;
}

/**
 * Reads the 8-byte prefix: the header length. Checks it against the reference's 100 MB cap and the
 * file size, so a corrupt prefix never makes us allocate or read gigabytes.
 */
export function headerLength(prefix: Uint8Array, fileSize: number, label: string): number {
  if (fileSize < PREFIX_BYTES) {
    fail('SAFETENSORS', `${label}: file is ${fileSize} bytes, shorter than the 8-byte header length prefix`);
  }
  const n = new DataView(prefix.buffer, prefix.byteOffset, PREFIX_BYTES).getBigUint64(0, true);
  if (n > BigInt(fileSize - PREFIX_BYTES)) {
    fail('SAFETENSORS', `${label}: header length ${n} is larger than the ${fileSize - PREFIX_BYTES} bytes after the prefix (truncated or not a safetensors file)`);
  }
  if (n > BigInt(MAX_HEADER_BYTES)) fail('SAFETENSORS', `${label}: header length ${n} exceeds the format's limit of ${MAX_HEADER_BYTES} bytes`);
  if (n < 2n) fail('SAFETENSORS', `${label}: header length ${n} is too short to hold a JSON object`);
  return Number(n);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses and validates a header: JSON object, metadata of strings, every tensor's dtype/shape/offsets,
 * no duplicate names, and offsets that tile the data section exactly (contiguous from 0, no overlap, no
 * gap, ending at the end of the file), as the reference's validation requires.
 */
export function parseHeader(headerBytes: Uint8Array, dataBytes: number, label: string): ParsedHeader {
  let text: string;
  try {
    text = utf8.decode(headerBytes);
  } catch {
    fail('SAFETENSORS', `${label}: header is not valid UTF-8`);
  }
  if (!text.startsWith('{')) fail('SAFETENSORS', `${label}: header does not start with "{" (not a safetensors file?)`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    fail('SAFETENSORS', `${label}: header is not valid JSON (${(err as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('SAFETENSORS', `${label}: header is not a JSON object`);
  const header = json as Record<string, unknown>;

  // JSON.parse keeps the last of duplicate keys and reorders integer-like keys, so take names and
  // their order from the text itself.
  const keys = topLevelKeys(text);
  const seen = new Set<string>();
  for (const k of keys) {
    if (seen.has(k)) fail('SAFETENSORS', `${label}: tensor "${k}" appears more than once in the header`);
    seen.add(k);
  }

  const metadata = parseMetadata(header[METADATA_KEY], label);
  const entries: HeaderEntry[] = [];
  for (const name of keys) {
    if (name === METADATA_KEY) continue;
    entries.push(parseEntry(name, header[name], label));
  }
  checkLayout(entries, dataBytes, label);
  return { entries, metadata, dataStart: PREFIX_BYTES + headerBytes.length };
}

function parseMetadata(raw: unknown, label: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw === undefined || raw === null) return out;
  if (typeof raw !== 'object' || Array.isArray(raw)) fail('SAFETENSORS', `${label}: ${METADATA_KEY} must be an object of strings`);
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') fail('SAFETENSORS', `${label}: ${METADATA_KEY} value "${k}" must be a string, got ${JSON.stringify(v)}`);
    out[k] = v;
  }
  return out;
}

function parseEntry(name: string, raw: unknown, label: string): HeaderEntry {
  const where = `${label}: tensor "${name}"`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('SAFETENSORS', `${where}: header entry must be an object with dtype, shape and data_offsets`);
  const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
  if (typeof dtype !== 'string') fail('SAFETENSORS', `${where}: dtype is missing or not a string`);
  const bits = DTYPE_BITS[dtype];
  if (bits === undefined || !Object.hasOwn(DTYPE_BITS, dtype)) fail('SAFETENSORS', `${where}: unknown dtype "${dtype}"`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail('SAFETENSORS', `${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    fail('SAFETENSORS', `${where}: data_offsets must be [begin, end] non-negative integers, got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as number[];
  if (end < begin) fail('SAFETENSORS', `${where}: data_offsets [${begin}, ${end}] end before they begin`);
  let n = 1;
  for (const d of shape as number[]) n *= d;
  const totalBits = n * bits;
  if (!Number.isSafeInteger(totalBits)) fail('SAFETENSORS', `${where}: shape ${formatShape(shape as number[])} is too large`);
  if (totalBits % 8 !== 0) fail('SAFETENSORS', `${where}: ${n} elements of ${dtype} do not fill a whole number of bytes`);
  if (end - begin !== totalBits / 8) {
    fail('SAFETENSORS', `${where}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes but ${dtype} ${formatShape(shape as number[])} needs ${totalBits / 8}`);
  }
  return { name, dtype, shape: [...(shape as number[])], begin, end };
}

function checkLayout(entries: readonly HeaderEntry[], dataBytes: number, label: string): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  let prev: HeaderEntry | undefined;
  for (const e of sorted) {
    if (e.begin < expected) {
      fail('SAFETENSORS', `${label}: tensor "${e.name}" data_offsets [${e.begin}, ${e.end}] overlap tensor "${prev?.name}" [${prev?.begin}, ${prev?.end}]`);
    }
    if (e.begin > expected) {
      const after = prev ? `after tensor "${prev.name}"` : 'at the start of the data';
      fail('SAFETENSORS', `${label}: tensor "${e.name}" begins at ${e.begin}, leaving a gap of ${e.begin - expected} bytes ${after} (offsets must be contiguous)`);
    }
    expected = e.end;
    prev = e;
  }
  if (expected > dataBytes) {
    fail('SAFETENSORS', `${label}: tensor "${prev?.name}" data_offsets end at ${expected}, past the ${dataBytes}-byte data section (file truncated?)`);
  }
  if (expected < dataBytes) {
    fail('SAFETENSORS', `${label}: data section is ${dataBytes} bytes but the tensors cover only ${expected} (trailing bytes)`);
  }
}

/** Keys of the top-level object, in text order, duplicates included. `text` must be valid JSON. */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c ? 2 : 1;
      if (depth === 1 && expectKey) {
        keys.push(JSON.parse(text.slice(i, j + 1)) as string);
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth === 1) expectKey = true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    } else if (c === 0x2c && depth === 1) {
      expectKey = true;
    }
  }
  return keys;
}
