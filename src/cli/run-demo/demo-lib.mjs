// Helpers of the demo's Node trainer and evaluator: float32 safetensors read and write (an 8-byte
// header length, a JSON header of names, dtypes, shapes and byte offsets, then raw little-endian data),
// the task CSVs, command-line options and a seeded random generator.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function readF32(path) {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const out = {};
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (t.dtype !== 'F32') throw new Error(`${path}: tensor ${name} is ${t.dtype}; this demo reads F32 only`);
    const [begin, end] = t.data_offsets;
    const bytes = buf.subarray(8 + n + begin, 8 + n + end);
    out[name] = {
      shape: t.shape,
      data: Float64Array.from(
        new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)),
      ),
    };
  }
  return out;
}

export function writeF32(path, tensors) {
  const header = {};
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.length * 4] };
    offset += t.data.length * 4;
  }
  let json = JSON.stringify(header);
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const data = Object.values(tensors).map((t) => Buffer.from(Float32Array.from(t.data).buffer));
  writeFileSync(path, Buffer.concat([prefix, Buffer.from(json, 'utf8'), ...data]));
}

/** Rows of `<folder>/<split>.csv` (label, then the features) as { x: number[][], y: number[] }. */
export function loadCsv(folder, split) {
  const lines = readFileSync(join(folder, `${split}.csv`), 'utf8')
    .trim()
    .split('\n')
    .slice(1);
  const rows = lines.map((l) => l.split(',').map(Number));
  return { x: rows.map((r) => r.slice(1)), y: rows.map((r) => r[0]) };
}

/** --name value pairs of the command line. */
export function options() {
  const out = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) out[argv[i].replace(/^--/, '')] = argv[i + 1] ?? '';
  return out;
}

/** mulberry32: a small seeded generator of uniform numbers in [0, 1). */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Logits of one sample: W [classes x features] (row-major) times x, plus b. */
export function logits(W, b, x) {
  const features = x.length;
  return b.map((bc, c) => x.reduce((s, v, j) => s + W[c * features + j] * v, bc));
}
