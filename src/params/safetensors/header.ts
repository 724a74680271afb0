import { fail } from '../errors.js';
import { formatShape } from '../tensor.js';
import { DTYPE_BITS, MAX_HEADER_BYTES, MAX_HEADER_ENTRIES, METADATA_KEY, PREFIX_BYTES } from './format.js';
import { JsonNumber, JsonObject, JsonSyntaxError, parseStrictJson, showJson, type JsonValue } from '../strict-json.js';
import { own } from '../own.js';

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
    fail(
      'SAFETENSORS',
      `${label}: header length ${n} is larger than the ${fileSize - PREFIX_BYTES} bytes after the prefix (truncated or not a safetensors file)`,
    );
  }
  if (n > BigInt(MAX_HEADER_BYTES))
    fail('SAFETENSORS', `${label}: header length ${n} exceeds the format's limit of ${MAX_HEADER_BYTES} bytes`);
  if (n < 2n) fail('SAFETENSORS', `${label}: header length ${n} is too short to hold a JSON object`);
  return Number(n);
}

// ignoreBOM: keep a leading byte-order mark in the text (the default drops it), so that a header
// starting with one is refused as the reference refuses it.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Parses and validates a header: JSON object, metadata of strings, every tensor's dtype/shape/offsets,
 * no duplicate names, and offsets that tile the data section exactly (contiguous from 0, no overlap, no
 * gap, ending at the end of the file), as the reference's validation requires. Its JSON is read as
 * strictly as the reference reads it (see src/params/strict-json.ts): integers written as `4.0` or `-0`, duplicated
 * fields inside an entry, lone surrogates in names and nesting past 128 levels are refused.
 */
export function parseHeader(headerBytes: Uint8Array, dataBytes: number, label: string): ParsedHeader {
  let text: string;
  try {
    text = utf8.decode(headerBytes);
  } catch {
    fail('SAFETENSORS', `${label}: header is not valid UTF-8`);
  }
  if (!text.startsWith('{'))
    fail(
      'SAFETENSORS',
      `${label}: header does not start with "{"${text.charCodeAt(0) === 0xfeff ? ' (it starts with a byte-order mark)' : ' (not a safetensors file?)'}`,
    );
  const listed = countKeys(headerBytes);
  if (listed > MAX_HEADER_ENTRIES)
    fail(
      'SAFETENSORS',
      `${label}: header lists ${listed} tensors; time-merge reads at most ${MAX_HEADER_ENTRIES} per file (shard larger models)`,
    );
  let json: JsonValue;
  try {
    json = parseStrictJson(text, { finite: true });
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    fail('SAFETENSORS', `${label}: header is not valid JSON (${err.message})`);
  }
  if (!(json instanceof JsonObject)) fail('SAFETENSORS', `${label}: header is not a JSON object`);

  const seen = new Set<string>();
  let metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, raw] of json.entries) {
    if (seen.has(name))
      fail(
        'SAFETENSORS',
        `${label}: ${name === METADATA_KEY ? METADATA_KEY : `tensor "${name}"`} appears more than once in the header`,
      );
    seen.add(name);
    if (name === METADATA_KEY) metadata = parseMetadata(raw, label);
    else entries.push(parseEntry(name, raw, label));
  }
  checkLayout(entries, dataBytes, label);
  return { entries, metadata, dataStart: PREFIX_BYTES + headerBytes.length };
}

function parseMetadata(raw: JsonValue, label: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw === null) return out;
  if (!(raw instanceof JsonObject)) fail('SAFETENSORS', `${label}: ${METADATA_KEY} must be an object of strings`);
  // As the reference (a map of strings), a repeated metadata key keeps its last value.
  for (const [k, v] of raw.entries) {
    if (typeof v !== 'string')
      fail('SAFETENSORS', `${label}: ${METADATA_KEY} value "${k}" must be a string, got ${showJson(v)}`);
    // defineProperty: a key "__proto__" is a key like any other (assignment would set the prototype)
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

const U64_LIMIT = 2n ** 64n;

/** A JSON number written as a plain non-negative integer below 2^64 (what the reference's usize accepts), or undefined. */
function u64(v: JsonValue): bigint | undefined {
  if (!(v instanceof JsonNumber) || !/^(0|[1-9][0-9]*)$/.test(v.text)) return undefined;
  const n = BigInt(v.text);
  return n < U64_LIMIT ? n : undefined;
}

function parseEntry(name: string, raw: JsonValue, label: string): HeaderEntry {
  const where = `${label}: tensor "${name}"`;
  if (!(raw instanceof JsonObject))
    fail('SAFETENSORS', `${where}: header entry must be an object with dtype, shape and data_offsets`);
  // Unknown fields are ignored, as by the reference; a known field given twice is refused, as by it.
  const fields = new Map<string, JsonValue>();
  for (const [k, v] of raw.entries) {
    if (k !== 'dtype' && k !== 'shape' && k !== 'data_offsets') continue;
    if (fields.has(k)) fail('SAFETENSORS', `${where}: field "${k}" appears more than once in its entry`);
    fields.set(k, v);
  }
  const dtype = fields.get('dtype');
  const shapeRaw = fields.get('shape');
  const offsetsRaw = fields.get('data_offsets');
  if (typeof dtype !== 'string') fail('SAFETENSORS', `${where}: dtype is missing or not a string`);
  const bits = own(DTYPE_BITS, dtype);
  if (bits === undefined)
    fail('SAFETENSORS', `${where}: unknown dtype "${dtype.length > 60 ? `${dtype.slice(0, 60)}…` : dtype}"`);
  const dims = Array.isArray(shapeRaw) ? shapeRaw.map(u64) : undefined;
  if (!dims?.every((d) => d !== undefined)) {
    fail(
      'SAFETENSORS',
      `${where}: shape must be an array of non-negative integers, got ${shapeRaw === undefined ? 'nothing' : showJson(shapeRaw)}`,
    );
  }
  const offsets = Array.isArray(offsetsRaw) && offsetsRaw.length === 2 ? offsetsRaw.map(u64) : undefined;
  if (!offsets?.every((o) => o !== undefined)) {
    fail(
      'SAFETENSORS',
      `${where}: data_offsets must be [begin, end] non-negative integers, got ${offsetsRaw === undefined ? 'nothing' : showJson(offsetsRaw)}`,
    );
  }
  const [begin, end] = offsets as bigint[];
  const shape = dims as bigint[];
  if (end < begin) fail('SAFETENSORS', `${where}: data_offsets [${begin}, ${end}] end before they begin`);
  // The element count in the reference's order (left to right, refusing a product past 2^64), so a
  // zero-size tensor may have a dimension of 2^64 - 1 before its 0.
  let n = 1n;
  for (const d of shape) {
    n *= d;
    if (n >= U64_LIMIT)
      fail(
        'SAFETENSORS',
        `${where}: shape ${formatShape(shape.map(Number))} is too large (its element count overflows 64 bits)`,
      );
  }
  const totalBits = n * BigInt(bits);
  if (totalBits % 8n !== 0n)
    fail('SAFETENSORS', `${where}: ${n} elements of ${dtype} do not fill a whole number of bytes`);
  if (end - begin !== totalBits / 8n) {
    fail(
      'SAFETENSORS',
      `${where}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes but ${dtype} ${formatShape(shape.map(Number))} needs ${totalBits / 8n}`,
    );
  }
  const big = shape.find((d) => d > BigInt(Number.MAX_SAFE_INTEGER));
  if (big !== undefined)
    fail('SAFETENSORS', `${where}: dimension ${big} is past 2^53, which time-merge cannot hold exactly`);
  if (end > BigInt(Number.MAX_SAFE_INTEGER)) {
    fail('SAFETENSORS', `${where}: data_offsets end at ${end}, past 2^53 bytes (no file holds that much data)`);
  }
  return { name, dtype, shape: shape.map(Number), begin: Number(begin), end: Number(end) };
}

function checkLayout(entries: readonly HeaderEntry[], dataBytes: number, label: string): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  let prev: HeaderEntry | undefined;
  for (const e of sorted) {
    if (e.begin < expected) {
      fail(
        'SAFETENSORS',
        `${label}: tensor "${e.name}" data_offsets [${e.begin}, ${e.end}] overlap tensor "${prev?.name}" [${prev?.begin}, ${prev?.end}]`,
      );
    }
    if (e.begin > expected) {
      const after = prev ? `after tensor "${prev.name}"` : 'at the start of the data';
      fail(
        'SAFETENSORS',
        `${label}: tensor "${e.name}" begins at ${e.begin}, leaving a gap of ${e.begin - expected} bytes ${after} (offsets must be contiguous)`,
      );
    }
    expected = e.end;
    prev = e;
  }
  if (expected > dataBytes) {
    fail(
      'SAFETENSORS',
      `${label}: tensor "${prev?.name}" data_offsets end at ${expected}, past the ${dataBytes}-byte data section (file truncated?)`,
    );
  }
  if (expected < dataBytes) {
    fail(
      'SAFETENSORS',
      `${label}: data section is ${dataBytes} bytes but the tensors cover only ${expected} (trailing bytes)`,
    );
  }
}

const DATA_OFFSETS = new TextEncoder().encode('"data_offsets"');

/**
 * How many times `"data_offsets"` occurs in the raw header: at least the number of tensor entries (each
 * has that key once; a name holding the word has its quotes escaped), found with one byte search before
 * the JSON is parsed, so an oversized header is refused in milliseconds rather than after a parse of
 * seconds and gigabytes.
 */
function countKeys(bytes: Uint8Array): number {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let n = 0;
  for (let at = buf.indexOf(DATA_OFFSETS); at >= 0; at = buf.indexOf(DATA_OFFSETS, at + DATA_OFFSETS.length)) n++;
  return n;
}
