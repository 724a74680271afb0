import { readdirSync, unlinkSync } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fail, TimeMergeError } from '../errors.js';
import { f32ToBf16, f32ToF16 } from '../half.js';
import { nativeFiles } from '../kernels/native/loader.js';
import type { TensorSource } from '../source.js';
import { checkReplaceable, renameOver } from '../replace-target.js';
import { formatShape, numel, sameShape, type TensorInfo } from '../tensor.js';
import { bytesPerElement, isWriteDType, METADATA_KEY, PREFIX_BYTES, WRITE_DTYPES, type WriteDType } from './format.js';

/** Node's single write() moves at most 2 GiB; larger tensors are written in pieces. */
const MAX_WRITE_BYTES = 1 << 30;

export interface WriteOptions {
  /** Output dtype of every tensor; default each tensor's own dtype (F64 is written as F32). */
  readonly dtype?: WriteDType;
  /** Stored as the header's __metadata__ (string values only). */
  readonly metadata?: Record<string, string>;
  /**
   * Refuse a finite value that narrowing to F16/BF16 turns into ±Infinity (a MERGE error naming the
   * tensor and by how much), instead of writing the IEEE result, Infinity.
   */
  readonly refuseOverflow?: boolean;
  /**
   * The two reused buffers (see outputFor), shared by writers used one after another (the shards of a
   * folder), so that a run allocates them once however many files it writes; a writer must be drained
   * before the next one takes them.
   */
  readonly buffers?: (ArrayBuffer | undefined)[];
}

/** A tensor's place in the file being written. */
interface Slot {
  readonly info: TensorInfo;
  readonly dtype: WriteDType;
  readonly begin: number;
  readonly end: number;
}

/**
 * The header bytes for these tensors laid out contiguously in the given order, padded with spaces to a
 * multiple of 8 bytes as the reference writer does, with the 8-byte length prefix in front.
 */
export function encodeHeader(slots: readonly Slot[], metadata: Record<string, string> | undefined): Uint8Array {
  // Build the JSON text by hand: an object literal would move integer-like names ("0", "1") first.
  const parts: string[] = [];
  if (metadata && Object.keys(metadata).length > 0)
    parts.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(metadata)}`);
  for (const s of slots) {
    parts.push(
      `${JSON.stringify(s.info.name)}:${JSON.stringify({ dtype: s.dtype, shape: s.info.shape, data_offsets: [s.begin, s.end] })}`,
    );
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(PREFIX_BYTES + padded).fill(0x20);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, PREFIX_BYTES);
  return out;
}

let tempCounter = 0;

function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${++tempCounter}.tmp`);
}

/** Temporary files this process is writing now (removed by removeLiveTemporaries on a signal). */
const live = new Set<string>();

/**
 * Removes the temporary files of every unfinished writer, synchronously (for a SIGINT or SIGTERM
 * handler, which must not wait on the event loop). Returns the paths removed.
 */
export function removeLiveTemporaries(): string[] {
  const removed: string[] = [];
  for (const p of live) {
    try {
      unlinkSync(p);
      removed.push(p);
    } catch {
      // Already gone (finished or aborted in the meantime).
    }
  }
  live.clear();
  return removed;
}

/**
 * Removes temporaries of `path` left by processes that no longer run (killed before they could clean
 * up: SIGKILL, a crash, power loss). A temporary whose pid is alive may be another run's and is kept.
 */
export function removeStaleTemporaries(path: string): string[] {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const m = /^(\d+)\.\d+\.tmp$/.exec(name.slice(prefix.length));
    if (!m || Number(m[1]) === process.pid || processAlive(Number(m[1]))) continue;
    try {
      unlinkSync(join(dir, name));
      removed.push(join(dir, name));
    } catch {
      // Removed by someone else meanwhile.
    }
  }
  return removed;
}

/** Whether a process runs (one we may not signal counts as running). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Writes a safetensors file tensor by tensor. The header goes first (sizes are known up front), then
 * each tensor's bytes as write() is called, in the order of `infos`. Everything goes to a temporary
 * file in the target's directory; finish() syncs it and renames it over the target, abort() removes it,
 * so a failure never leaves a partial file nor clobbers an existing one.
 */
export class SafetensorsWriter {
  readonly path: string;
  readonly tempPath: string;
  private readonly slots: readonly Slot[];
  private readonly header: Uint8Array;
  private readonly dataStart: number;
  private fh: Promise<FileHandle> | undefined;
  private readonly refuseOverflow: boolean;
  private next = 0;
  private state: 'open' | 'finished' | 'aborted' = 'open';
  /** Two reused buffers: one is filled by the caller while the other's bytes are being written. */
  private readonly areas: (ArrayBuffer | undefined)[];
  private readonly pending: (Promise<void> | undefined)[] = [undefined, undefined];
  /** The area outputFor() hands out next (free: write() waits for its previous write before returning). */
  private turn = 0;

  constructor(path: string, infos: readonly TensorInfo[], options: WriteOptions = {}) {
    this.path = path;
    checkReplaceable(path);
    this.tempPath = tempPathFor(path);
    this.refuseOverflow = options.refuseOverflow === true;
    this.areas = options.buffers ?? [undefined, undefined];
    if (options.dtype !== undefined && !isWriteDType(options.dtype)) {
      fail('CONFIG', `${path}: cannot write dtype "${options.dtype}" (choose ${WRITE_DTYPES.join(', ')})`);
    }
    for (const [k, v] of Object.entries(options.metadata ?? {})) {
      if (typeof v !== 'string') fail('CONFIG', `${path}: metadata "${k}" must be a string, got ${typeof v}`);
    }
    const names = new Set<string>();
    const slots: Slot[] = [];
    let offset = 0;
    for (const info of infos) {
      if (names.has(info.name)) fail('MISMATCH', `${path}: tensor "${info.name}" given twice`);
      if (info.name === METADATA_KEY) fail('MISMATCH', `${path}: a tensor cannot be named ${METADATA_KEY}`);
      names.add(info.name);
      const own = info.dtype === 'F64' ? 'F32' : info.dtype;
      const dtype = options.dtype ?? own;
      if (!isWriteDType(dtype))
        fail('MISMATCH', `${path}: tensor "${info.name}" has dtype ${String(info.dtype)}, which cannot be written`);
      if (!info.shape.every((d) => Number.isSafeInteger(d) && d >= 0))
        fail('MISMATCH', `${path}: tensor "${info.name}" has invalid shape ${formatShape(info.shape)}`);
      const bytes = numel(info.shape) * bytesPerElement(dtype);
      slots.push({ info, dtype, begin: offset, end: offset + bytes });
      offset += bytes;
    }
    this.slots = slots;
    this.header = encodeHeader(slots, options.metadata);
    this.dataStart = this.header.length;
  }

  /** How errors name the write: the output, with the temporary it goes to first (ENOSPC names both). */
  private get writing(): string {
    return `${this.path} (written as ${this.tempPath})`;
  }

  /** Bytes the finished file will have. */
  get byteSize(): number {
    return this.dataStart + (this.slots.length ? this.slots[this.slots.length - 1].end : 0);
  }

  async write(info: TensorInfo, data: Float32Array): Promise<void> {
    this.checkOpen('write');
    const slot = this.slots[this.next];
    if (!slot) fail('MISMATCH', `${this.path}: tensor "${info.name}" written after all ${this.slots.length} tensors`);
    if (slot.info.name !== info.name)
      fail('MISMATCH', `${this.path}: expected tensor "${slot.info.name}" next, got "${info.name}"`);
    if (!sameShape(slot.info.shape, info.shape)) {
      fail(
        'MISMATCH',
        `${this.path}: tensor "${info.name}" has shape ${formatShape(info.shape)}, header says ${formatShape(slot.info.shape)}`,
      );
    }
    if (data.length !== numel(slot.info.shape)) {
      fail(
        'MISMATCH',
        `${this.path}: tensor "${info.name}" ${formatShape(slot.info.shape)} needs ${numel(slot.info.shape)} values, got ${data.length}`,
      );
    }
    this.next++;
    const fh = await this.handle();
    // Values in one of the writer's own buffers (from outputFor) can be written while the caller fills the
    // other one; anything else belongs to the caller and is written before write() returns.
    const inArea = this.areas.findIndex((b) => b !== undefined && data.buffer === b);
    const area = inArea >= 0 ? inArea : this.turn;
    await this.pending[area];
    let encoded: Float32Array | Uint16Array = data;
    if (slot.dtype !== 'F32') {
      // Narrowed into the part of the buffer that outputFor() does not hand out.
      const buf = this.areaOf(area, data.length);
      const dst = new Uint16Array(buf, buf.byteLength - 2 * data.length, data.length);
      encoded = slot.dtype === 'F16' ? f32ToF16(data, dst) : f32ToBf16(data, dst);
      if (this.refuseOverflow) checkNarrowed(this.path, info.name, slot.dtype, data, encoded);
    }
    const written = writeFully(
      fh,
      new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength),
      this.dataStart + slot.begin,
      this.writing,
    ).then(() => startWriteback(fh, this.dataStart + slot.begin, encoded.byteLength));
    if (inArea < 0 && slot.dtype === 'F32') return written;
    written.catch(() => undefined); // awaited below or by the next write, finish() or abort()
    this.pending[area] = written;
    this.turn = area ^ 1;
    await this.pending[this.turn];
  }

  /**
   * Memory a tensor's values may be computed into before write(): two buffers (sized for the largest
   * tensor) taken in turn, so a streamed merge allocates them once and computes one tensor while the
   * previous one is written. Valid until that tensor's write().
   */
  outputFor(info: TensorInfo): Float32Array {
    return new Float32Array(this.areaOf(this.turn, numel(info.shape)), 0, numel(info.shape));
  }

  /** Buffer `i`, for the largest tensor's float32 values and, after them, its narrowed 16-bit values. */
  private areaOf(i: number, n: number): ArrayBuffer {
    let buf = this.areas[i];
    if (!buf || buf.byteLength < 6 * n) {
      let most = n;
      for (const s of this.slots) most = Math.max(most, numel(s.info.shape));
      buf = this.areas[i] = new ArrayBuffer(6 * most);
    }
    return buf;
  }

  /** Waits for every write handed to the file so far: the reused buffers are free afterwards. */
  async drain(): Promise<void> {
    await Promise.all(this.pending);
  }

  /** Syncs the temporary file and renames it to the target. Every tensor must have been written. */
  async finish(): Promise<void> {
    this.checkOpen('finish');
    if (this.next < this.slots.length) {
      fail(
        'MISMATCH',
        `${this.path}: finish() after ${this.next} of ${this.slots.length} tensors (next: "${this.slots[this.next].info.name}")`,
      );
    }
    const fh = await this.handle();
    this.state = 'finished';
    try {
      await Promise.all(this.pending);
      await fh.sync();
      await fh.close();
      await renameOver(this.tempPath, this.path);
      live.delete(this.tempPath);
    } catch (err) {
      live.delete(this.tempPath);
      await unlink(this.tempPath).catch(() => undefined);
      if (err instanceof TimeMergeError) throw err;
      throw new TimeMergeError('IO', `${this.path}: could not complete the write: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /** Drops the temporary file; the target is untouched. Safe to call more than once. */
  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    if (!this.fh) return;
    await Promise.all(this.pending.map((p) => p?.catch(() => undefined)));
    const fh = await this.fh.catch(() => undefined);
    await fh?.close().catch(() => undefined);
    live.delete(this.tempPath);
    await unlink(this.tempPath).catch(() => undefined);
  }

  private checkOpen(what: string): void {
    if (this.state !== 'open') fail('IO', `${this.path}: ${what}() on a writer that is already ${this.state}`);
  }

  /** Opens the temporary file and writes the header on first use. */
  private handle(): Promise<FileHandle> {
    this.fh ??= (async () => {
      let fh: FileHandle;
      try {
        fh = await open(this.tempPath, 'wx');
        live.add(this.tempPath);
      } catch (err) {
        throw new TimeMergeError('IO', `${this.path}: cannot create ${this.tempPath}: ${(err as Error).message}`, {
          cause: err,
        });
      }
      await writeFully(fh, this.header, 0, this.writing);
      return fh;
    })();
    return this.fh;
  }
}

export function createSafetensorsWriter(
  path: string,
  infos: readonly TensorInfo[],
  options: WriteOptions = {},
): SafetensorsWriter {
  return new SafetensorsWriter(path, infos, options);
}

/** Streams a whole source to a safetensors file: each tensor read, converted, written and released. */
export async function writeSafetensors(path: string, source: TensorSource, options: WriteOptions = {}): Promise<void> {
  const infos = source.tensorInfos();
  const writer = createSafetensorsWriter(path, infos, options);
  try {
    for (const info of infos) await writer.write(info, await source.read(info.name));
    await writer.finish();
  } catch (err) {
    await writer.abort();
    throw err;
  }
}

/** Largest finite value of each 16-bit float format. */
const MAX_FINITE: Record<'F16' | 'BF16', number> = { F16: 65504, BF16: 3.3895313892515355e38 };

/**
 * Refuses finite float32 values that became ±Infinity when narrowed, saying how many, the largest, and
 * by what factor it exceeds the format's range.
 */
function checkNarrowed(path: string, name: string, dtype: 'F16' | 'BF16', src: Float32Array, dst: Uint16Array): void {
  const expMask = dtype === 'F16' ? 0x7c00 : 0x7f80;
  const mantissa = dtype === 'F16' ? 0x03ff : 0x007f;
  let count = 0;
  let worst = -1;
  for (let i = 0; i < dst.length; i++) {
    const h = dst[i];
    if ((h & expMask) !== expMask || (h & mantissa) !== 0 || !Number.isFinite(src[i])) continue;
    count++;
    if (worst < 0 || Math.abs(src[i]) > Math.abs(src[worst])) worst = i;
  }
  if (count === 0) return;
  const v = src[worst];
  const factor = Math.abs(v) / MAX_FINITE[dtype];
  fail(
    'MERGE',
    `${path}: tensor "${name}": ${count} value(s) overflow ${dtype} (largest finite ${MAX_FINITE[dtype]}); the largest, ${v} at index ${worst}, ` +
      `is ${factor.toPrecision(3)}x that. Write dtype f32${dtype === 'F16' ? ' or bf16' : ''}, or scale the model`,
  );
}

/**
 * Starts writing a range just written out to disk without waiting for it (sync_file_range, through the
 * native addon; nothing without it), so the fsync before the rename finds most of the file already
 * written instead of starting on all of it. Durability is unchanged: finish() still syncs the whole file.
 */
function startWriteback(fh: FileHandle, offset: number, length: number): void {
  if (length > 0) nativeFiles()?.startWriteback(fh.fd, offset, length);
}

async function writeFully(fh: FileHandle, bytes: Uint8Array, position: number, what: string): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const len = Math.min(bytes.length - done, MAX_WRITE_BYTES);
    try {
      const { bytesWritten } = await fh.write(bytes, done, len, position + done);
      done += bytesWritten;
    } catch (err) {
      throw new TimeMergeError('IO', `${what}: write failed: ${(err as Error).message}`, { cause: err });
    }
  }
}
