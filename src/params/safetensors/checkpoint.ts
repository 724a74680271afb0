import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fail, TimeMergeError } from '../errors.js';
import { ParamSet } from '../paramset.js';
import type { TensorSource } from '../source.js';
import type { TensorInfo } from '../tensor.js';
import type { HeaderEntry } from './header.js';
import { openSafetensors, type OpenOptions, type RawArray, type SafetensorsFile } from './reader.js';

/** A checkpoint on disk: one safetensors file or a sharded set behind an index. */
export interface Checkpoint extends TensorSource {
  readonly path: string;
  readonly metadata: Record<string, string>;
  /** Every file it reads: the .safetensors file, or the index and each of its shards. */
  readonly files: readonly string[];
  /** Total bytes on disk (all shards). */
  readonly byteSize: number;
  /** Every tensor, whatever its dtype (tensorInfos() lists the float ones). */
  readonly entries: readonly HeaderEntry[];
  readTyped(name: string): Promise<RawArray>;
  readBytes(name: string): Promise<Uint8Array>;
  close(): Promise<void>;
}

export const INDEX_SUFFIX = '.safetensors.index.json';

/**
 * Opens `path`: a `.safetensors` file, or a Hugging Face style `*.safetensors.index.json` whose
 * weight_map names the shard holding each tensor (shard paths relative to the index's directory).
 */
export function openCheckpoint(path: string, options: OpenOptions = {}): Promise<Checkpoint> {
  return path.endsWith('.index.json') ? openSharded(path, options) : openSafetensors(path, options);
}

/** Reads every float tensor into memory (for models small enough to hold). */
export async function readSafetensors(path: string): Promise<ParamSet> {
  const ckpt = await openCheckpoint(path);
  try {
    return await ParamSet.fromSource(ckpt, path);
  } finally {
    await ckpt.close();
  }
}

class ShardedCheckpoint implements Checkpoint {
  readonly label: string;
  readonly byteSize: number;
  readonly files: readonly string[];
  readonly entries: readonly HeaderEntry[];
  private readonly infos: readonly TensorInfo[];

  constructor(
    readonly path: string,
    readonly metadata: Record<string, string>,
    private readonly shards: readonly SafetensorsFile[],
    private readonly owner: ReadonlyMap<string, SafetensorsFile>,
    order: readonly string[],
  ) {
    this.label = path;
    this.byteSize = shards.reduce((s, f) => s + f.byteSize, 0);
    this.files = [path, ...shards.map((s) => s.path)];
    this.entries = order.map((name) => owner.get(name)!.entry(name));
    const floatInfos = new Map(shards.flatMap((s) => s.tensorInfos().map((t) => [t.name, t] as const)));
    this.infos = order.flatMap((n) => floatInfos.get(n) ?? []);
  }

  tensorInfos(): readonly TensorInfo[] {
    return this.infos;
  }

  read(name: string): Promise<Float32Array> {
    return this.shardOf(name).read(name);
  }

  verify(name: string): void {
    this.shardOf(name).verify();
  }

  readTyped(name: string): Promise<RawArray> {
    return this.shardOf(name).readTyped(name);
  }

  readBytes(name: string): Promise<Uint8Array> {
    return this.shardOf(name).readBytes(name);
  }

  async close(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.close()));
  }

  private shardOf(name: string): SafetensorsFile {
    const s = this.owner.get(name);
    if (!s) fail('MISMATCH', `${this.path}: no tensor named "${name}"`);
    return s;
  }
}

async function openSharded(path: string, options: OpenOptions): Promise<Checkpoint> {
  let text: string;
  try {
    // Not blocking on a FIFO (see SafetensorsFile.open): an index is read whole, from a regular file.
    const fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      if (!(await fh.stat()).isFile()) fail('IO', `${path}: not a regular file`);
      text = await fh.readFile('utf8');
    } finally {
      await fh.close();
    }
  } catch (err) {
    if (err instanceof TimeMergeError) throw err;
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new TimeMergeError('IO', `${path}: cannot open: ${reason}`, { cause: err });
  }
  let index: unknown;
  try {
    index = JSON.parse(text);
  } catch (err) {
    fail('SAFETENSORS', `${path}: index is not valid JSON (${(err as Error).message})`);
  }
  if (typeof index !== 'object' || index === null || Array.isArray(index))
    fail('SAFETENSORS', `${path}: index is not a JSON object`);
  const { weight_map: weightMap, metadata: rawMeta } = index as Record<string, unknown>;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
    fail('SAFETENSORS', `${path}: index has no "weight_map" object (tensor name -> shard file)`);
  }
  const metadata: Record<string, string> = {};
  if (rawMeta !== undefined && rawMeta !== null) {
    if (typeof rawMeta !== 'object' || Array.isArray(rawMeta))
      fail('SAFETENSORS', `${path}: index "metadata" must be an object`);
    // HF writes total_size as a number; metadata here is strings, as in a safetensors header.
    for (const [k, v] of Object.entries(rawMeta)) metadata[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  const map = Object.entries(weightMap as Record<string, unknown>);
  if (map.length === 0) fail('SAFETENSORS', `${path}: weight_map is empty`);
  for (const [name, file] of map) {
    if (typeof file !== 'string' || file === '')
      fail('SAFETENSORS', `${path}: weight_map entry "${name}" must name a shard file`);
  }

  const dir = dirname(path);
  const shardNames = [...new Set(map.map(([, f]) => f as string))];
  const shards = new Map<string, SafetensorsFile>();
  try {
    for (const f of shardNames) shards.set(f, await openSafetensors(resolve(dir, f), options));
    const owner = new Map<string, SafetensorsFile>();
    for (const [name, f] of map) {
      const shard = shards.get(f as string)!;
      if (!shard.has(name))
        fail('SAFETENSORS', `${path}: weight_map puts tensor "${name}" in ${shard.path}, which has no such tensor`);
      owner.set(name, shard);
    }
    for (const shard of shards.values()) {
      for (const e of shard.entries) {
        if (owner.get(e.name) !== shard)
          fail(
            'SAFETENSORS',
            `${path}: shard ${shard.path} holds tensor "${e.name}", which the weight_map does not assign to it`,
          );
      }
    }
    // Shard headers' metadata (e.g. format: pt), then the index's on top.
    const merged = Object.assign({}, ...[...shards.values()].map((s) => s.metadata), metadata) as Record<
      string,
      string
    >;
    return new ShardedCheckpoint(
      path,
      merged,
      [...shards.values()],
      owner,
      map.map(([n]) => n),
    );
  } catch (err) {
    await Promise.all([...shards.values()].map((s) => s.close().catch(() => undefined)));
    throw err;
  }
}
