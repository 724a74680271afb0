import { constants, fstatSync, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { fail, TimeMergeError } from '../errors.js';
import { bf16ToF32, f16ToF32, f64ToF32 } from '../half.js';
import { deferCheck } from '../deferred-checks.js';
import { firstNonFinite } from '../kernels.js';
import { nativeFiles } from '../kernels/native/loader.js';
import type { TensorSource } from '../source.js';
import { formatShape, type TensorInfo } from '../tensor.js';
import { FLOAT_DTYPES, isFloatDType, PREFIX_BYTES } from './format.js';
import { headerLength, parseHeader, type HeaderEntry } from './header.js';

/** Node's single read() moves at most 2 GiB; larger tensors are read in pieces. */
const MAX_READ_BYTES = 1 << 30;

/** The typed array that holds each dtype's raw values, for readTyped(). */
export type RawArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

export interface OpenOptions {
  /**
   * read() returns a view of one buffer per file, valid until the next read() of this file, instead of
   * a new array per tensor (for streaming passes that use each tensor once: a merge reads gigabytes, and
   * fresh memory costs a page fault per 4 KiB).
   */
  readonly reuseBuffers?: boolean;
  /**
   * read() refuses a tensor holding NaN or ±Infinity, naming the file, tensor and index; 'deferred'
   * attaches that check to the returned array for its consumer to take (deferred-checks.ts).
   */
  readonly requireFinite?: boolean | 'deferred';
  /**
   * read() returns F32 tensors as views of the file's pages mapped into memory (and converts F16, BF16
   * and F64 from them), so no byte is copied into a JS buffer. Needs the native addon; without it, or
   * where mmap fails or a tensor is not aligned to its element size, read() copies as usual. A file
   * truncated while mapped reads zeros where its bytes were lost (the addon catches the SIGBUS), and
   * verify() then fails naming it.
   */
  readonly map?: boolean;
}

/**
 * An open safetensors file. The header is parsed and validated on open; tensor data is read on demand,
 * one positional read per tensor, so memory stays at the size of the tensors being used.
 *
 * tensorInfos() lists the floating-point tensors (F32, F16, BF16, F64), which read() returns as
 * float32. Tensors of other dtypes (I32 token ids, I64 position ids, ...) are in `entries` and can be
 * read in their own type with readTyped().
 */
export class SafetensorsFile implements TensorSource {
  readonly label: string;
  readonly path: string;
  readonly metadata: Record<string, string>;
  readonly byteSize: number;
  readonly files: readonly string[];
  /** Every tensor of the header, in header order, whatever its dtype. */
  readonly entries: readonly HeaderEntry[];
  private readonly byName: Map<string, HeaderEntry>;
  private readonly infos: readonly TensorInfo[];
  private closed = false;
  private scratch: ArrayBuffer | undefined;
  /** The whole file mapped (options.map), unmapped when collected: views handed out keep it alive. */
  private mapped: ArrayBuffer | undefined;
  /** The byte range of the previous mapped read, whose pages are released at the next (reuseBuffers). */
  private lastMapped: [number, number] | undefined;

  private constructor(
    path: string,
    private readonly fh: FileHandle,
    byteSize: number,
    private readonly dataStart: number,
    entries: readonly HeaderEntry[],
    metadata: Record<string, string>,
    private readonly options: OpenOptions,
  ) {
    this.path = path;
    this.label = path;
    this.files = [path];
    this.byteSize = byteSize;
    this.entries = entries;
    this.metadata = metadata;
    this.byName = new Map(entries.map((e) => [e.name, e]));
    this.infos = entries
      .filter((e) => isFloatDType(e.dtype))
      .map((e) => ({ name: e.name, shape: e.shape, dtype: e.dtype as TensorInfo['dtype'] }));
  }

  /** Opens and validates; the handle is closed again if validation fails. */
  static async open(path: string, options: OpenOptions = {}): Promise<SafetensorsFile> {
    let fh: FileHandle;
    try {
      // O_NONBLOCK: opening a FIFO for reading blocks until a writer comes, so a FIFO given as a model
      // would hang here before the regular-file check below. It changes nothing for a regular file.
      fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (err) {
      throw ioError(path, 'cannot open', err);
    }
    try {
      const stat = await fh.stat();
      if (!stat.isFile()) fail('IO', `${path}: not a regular file (a safetensors file is read at random offsets)`);
      const size = stat.size;
      const prefix = new Uint8Array(PREFIX_BYTES);
      if (size >= PREFIX_BYTES) await readFully(fh, prefix, 0, path);
      const n = headerLength(prefix, size, path);
      const headerBytes = new Uint8Array(n);
      await readFully(fh, headerBytes, PREFIX_BYTES, path);
      const parsed = parseHeader(headerBytes, size - PREFIX_BYTES - n, path);
      const file = new SafetensorsFile(path, fh, size, parsed.dataStart, parsed.entries, parsed.metadata, options);
      // Every tensor's offsets were checked against the file size above; the mapping covers the file.
      if (options.map) file.mapped = mapWhole(fh.fd, size);
      return file;
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
  }

  tensorInfos(): readonly TensorInfo[] {
    return this.infos;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  entry(name: string): HeaderEntry {
    const e = this.byName.get(name);
    if (!e) fail('MISMATCH', `${this.path}: no tensor named "${name}"`);
    return e;
  }

  /** The tensor as float32 (converted from F16, BF16 or F64). */
  async read(name: string): Promise<Float32Array> {
    const e = this.entry(name);
    if (!isFloatDType(e.dtype)) {
      fail(
        'SAFETENSORS',
        `${this.path}: tensor "${name}" has dtype ${e.dtype}; only ${FLOAT_DTYPES.join(', ')} can be read as float32 (use readTyped)`,
      );
    }
    const bytes = e.end - e.begin;
    const width = e.dtype === 'F64' ? 8 : e.dtype === 'F32' ? 4 : 2;
    const n = bytes / width;
    const at = this.dataStart + e.begin;
    if (this.mapped && bytes > 0 && at % width === 0) return this.checked(name, e, this.readMapped(e, at, n));
    // With reused buffers the raw bytes go to the front of one buffer and the float32 values after them
    // (F32 is read in place), so a file costs one allocation of its largest tensor's size.
    const buf = this.options.reuseBuffers ? this.scratchOf(e.dtype === 'F32' ? bytes : bytes + 4 * n) : undefined;
    let out: Float32Array;
    switch (e.dtype) {
      case 'F32': {
        out = buf ? new Float32Array(buf, 0, n) : new Float32Array(n);
        await this.readInto(e, new Uint8Array(out.buffer, out.byteOffset, bytes));
        break;
      }
      case 'F16':
      case 'BF16': {
        const raw = buf ? new Uint16Array(buf, 0, n) : new Uint16Array(n);
        await this.readInto(e, new Uint8Array(raw.buffer, raw.byteOffset, bytes));
        const dst = buf ? new Float32Array(buf, alignUp(bytes), n) : undefined;
        out = e.dtype === 'F16' ? f16ToF32(raw, dst) : bf16ToF32(raw, dst);
        break;
      }
      case 'F64': {
        const raw = buf ? new Float64Array(buf, 0, n) : new Float64Array(n);
        await this.readInto(e, new Uint8Array(raw.buffer, raw.byteOffset, bytes));
        out = f64ToF32(raw, buf ? new Float32Array(buf, bytes, n) : undefined);
        break;
      }
    }
    return this.checked(name, e, out);
  }

  /** A view of the mapped tensor (F32), or its values converted from the mapped raw values. */
  private readMapped(e: HeaderEntry, at: number, n: number): Float32Array {
    if (this.closed) fail('IO', `${this.path}: read of tensor "${e.name}" after close()`);
    const mapped = this.mapped!;
    this.verify(); // a cut found by an earlier read fails before more is read
    if (this.options.reuseBuffers) {
      // The previous tensor's values are no longer used (reuseBuffers' contract): let its pages go, so
      // resident memory stays near the tensors in use.
      if (this.lastMapped) nativeFiles()!.releasePages(mapped, this.lastMapped[0], this.lastMapped[1]);
      this.lastMapped = [at, e.end - e.begin];
    }
    if (e.dtype === 'F32') return new Float32Array(mapped, at, n);
    const dst = this.options.reuseBuffers ? new Float32Array(this.scratchOf(4 * n), 0, n) : undefined;
    if (e.dtype === 'F64') return f64ToF32(new Float64Array(mapped, at, n), dst);
    const raw = new Uint16Array(mapped, at, n);
    return e.dtype === 'F16' ? f16ToF32(raw, dst) : bf16ToF32(raw, dst);
  }

  /** Runs (or, when deferred, attaches) the finite check of requireFinite. */
  private checked(name: string, e: HeaderEntry, out: Float32Array): Float32Array {
    if (!this.options.requireFinite) return out;
    const check = () => {
      const bad = firstNonFinite(out);
      if (bad < 0) return;
      const stored = e.dtype === 'F64' ? this.storedF64(e, bad) : out[bad];
      if (Number.isFinite(stored))
        fail(
          'SAFETENSORS',
          `${this.path}: tensor "${name}" holds ${stored} at index ${bad} (${e.dtype} ${formatShape(e.shape)}), which overflows float32, the type inputs are read and merged in`,
        );
      fail(
        'SAFETENSORS',
        `${this.path}: tensor "${name}" holds ${stored} at index ${bad} (${e.dtype} ${formatShape(e.shape)}); inputs must be finite`,
      );
    };
    if (this.options.requireFinite === 'deferred') deferCheck(out, check);
    else check();
    return out;
  }

  /** The float64 value stored at index i of an F64 tensor, read again from the file (for messages). */
  private storedF64(e: HeaderEntry, i: number): number {
    const b = Buffer.alloc(8);
    readSync(this.fh.fd, b, 0, 8, this.dataStart + e.begin + 8 * i);
    return b.readDoubleLE(0);
  }

  /** The reused buffer, grown to at least `bytes` (+ alignment slack). */
  private scratchOf(bytes: number): ArrayBuffer {
    const need = alignUp(bytes) + 8;
    if (!this.scratch || this.scratch.byteLength < need) {
      // Sized for the largest float tensor at once, so the buffer is allocated one time per file.
      let most = need;
      for (const x of this.entries) {
        if (!isFloatDType(x.dtype)) continue;
        const b = x.end - x.begin;
        const m = x.dtype === 'F32' ? b : b + 4 * (b / (x.dtype === 'F64' ? 8 : 2));
        most = Math.max(most, alignUp(m) + 8);
      }
      this.scratch = new ArrayBuffer(most);
    }
    return this.scratch;
  }

  /**
   * The tensor's values in the typed array that matches its dtype (I32 -> Int32Array, BOOL/U8 ->
   * Uint8Array, F16/BF16 -> raw Uint16Array bits, ...). Packed and 8-bit float dtypes come back as bytes.
   */
  async readTyped(name: string): Promise<RawArray> {
    const e = this.entry(name);
    const bytes = await this.readBytes(name);
    const b = bytes.buffer;
    switch (e.dtype) {
      case 'I8':
        return new Int8Array(b);
      case 'I16':
        return new Int16Array(b);
      case 'U16':
      case 'F16':
      case 'BF16':
        return new Uint16Array(b);
      case 'I32':
        return new Int32Array(b);
      case 'U32':
        return new Uint32Array(b);
      case 'F32':
        return new Float32Array(b);
      case 'F64':
        return new Float64Array(b);
      case 'I64':
        return new BigInt64Array(b);
      case 'U64':
        return new BigUint64Array(b);
      default:
        return bytes;
    }
  }

  /** The tensor's raw bytes (little-endian, as stored). */
  async readBytes(name: string): Promise<Uint8Array> {
    const e = this.entry(name);
    const out = new Uint8Array(e.end - e.begin);
    await this.readInto(e, out);
    return out;
  }

  /**
   * Fails with an IO error naming the file when it shrank since it was opened and values were read from
   * its mapping: the addon found a read of lost pages (and gave it zeros), or the file is now shorter (a
   * partly lost last page reads zeros without a fault). Reads that copy find a short file themselves.
   */
  verify(): void {
    if (!this.mapped || this.closed) return;
    const cut = nativeFiles()!.mappedCut(this.mapped);
    const now = fstatSync(this.fh.fd).size;
    if (cut || now < this.byteSize)
      fail(
        'IO',
        `${this.path}: the file shrank to ${now} of its ${this.byteSize} bytes while it was being read; an input must not change during a merge`,
      );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Views already handed out keep the mapping alive; it is unmapped when the last is collected.
    this.mapped = undefined;
    await this.fh.close();
  }

  private async readInto(e: HeaderEntry, out: Uint8Array): Promise<void> {
    if (this.closed) fail('IO', `${this.path}: read of tensor "${e.name}" after close()`);
    await readFully(this.fh, out, this.dataStart + e.begin, `${this.path}: tensor "${e.name}"`);
  }
}

export function openSafetensors(path: string, options: OpenOptions = {}): Promise<SafetensorsFile> {
  return SafetensorsFile.open(path, options);
}

/** The file mapped into memory, or undefined (no addon, an empty file, mmap refused): reads then copy. */
function mapWhole(fd: number, size: number): ArrayBuffer | undefined {
  const files = nativeFiles();
  if (!files || size === 0) return undefined;
  try {
    return files.mapFile(fd, size);
  } catch {
    return undefined;
  }
}

/** The next multiple of 8 (where the float32 values start after raw bytes in a reused buffer). */
function alignUp(n: number): number {
  return Math.ceil(n / 8) * 8;
}

async function readFully(fh: FileHandle, out: Uint8Array, position: number, what: string): Promise<void> {
  let done = 0;
  while (done < out.length) {
    const want = Math.min(out.length - done, MAX_READ_BYTES);
    let bytesRead: number;
    try {
      ({ bytesRead } = await fh.read(out, done, want, position + done));
    } catch (err) {
      throw ioError(what, 'read failed', err);
    }
    if (bytesRead === 0)
      fail('IO', `${what}: file ended after ${done} of ${out.length} bytes (truncated since it was opened?)`);
    done += bytesRead;
  }
}

function ioError(what: string, action: string, err: unknown): TimeMergeError {
  const code = (err as NodeJS.ErrnoException)?.code;
  const reason =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EISDIR'
        ? 'is a directory'
        : ((err as Error)?.message ?? String(err));
  return new TimeMergeError('IO', `${what}: ${action}: ${reason}`, { cause: err });
}
