import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fail } from '../errors.js';
import { numel, type TensorInfo } from '../tensor.js';
import { bytesPerElement, type WriteDType } from './format.js';
import { createSafetensorsWriter, type SafetensorsWriter, type WriteOptions } from './writer.js';

/** One output shard: its file name and the tensors it holds, in write order. */
export interface ShardPlan {
  readonly file: string;
  readonly infos: readonly TensorInfo[];
}

/** The index file transformers and mergekit write beside shards. */
export const SHARD_INDEX_NAME = 'model.safetensors.index.json';

/**
 * Splits tensors into shards as mergekit's TensorWriter does: in order, a new shard starting when the
 * current one holds something and the next tensor would take it past `maxBytes` of tensor data (0: one
 * shard). Names follow transformers: model.safetensors alone, else model-00001-of-00003.safetensors.
 */
export function planShards(infos: readonly TensorInfo[], dtype: WriteDType | undefined, maxBytes: number): ShardPlan[] {
  const groups: TensorInfo[][] = [];
  let size = 0;
  for (const info of infos) {
    const bytes = tensorBytes(info, dtype);
    if (groups.length === 0 || (maxBytes > 0 && size > 0 && size + bytes > maxBytes)) {
      groups.push([]);
      size = 0;
    }
    groups[groups.length - 1].push(info);
    size += bytes;
  }
  if (groups.length === 0) groups.push([]);
  const n = groups.length;
  const pad = (i: number) => String(i).padStart(5, '0');
  return groups.map((g, i) => ({
    file: n === 1 ? 'model.safetensors' : `model-${pad(i + 1)}-of-${pad(n)}.safetensors`,
    infos: g,
  }));
}

/** Bytes of a tensor's data as written (F64 is written as F32). */
export function tensorBytes(info: TensorInfo, dtype: WriteDType | undefined): number {
  const own = info.dtype === 'F64' ? 'F32' : info.dtype;
  return numel(info.shape) * bytesPerElement(dtype ?? (own as WriteDType));
}

/**
 * Writes tensors into shard files in `dir` (each through its own temporary name) and, when there is
 * more than one shard, the index with the true total_size: the sum of the tensor data bytes, as
 * transformers computes it. One shard is open at a time, so memory is that of one writer.
 */
export class ShardedWriter {
  readonly shards: readonly ShardPlan[];
  readonly totalSize: number;
  private readonly owner = new Map<string, number>();
  private readonly writers: (SafetensorsWriter | undefined)[];
  private readonly written: number[];
  private closing: Promise<void> = Promise.resolve();
  /** The two write buffers every shard's writer takes in turn. */
  private readonly buffers: (ArrayBuffer | undefined)[] = [undefined, undefined];
  private readonly finished = new Set<number>();
  private readonly sizes: (number | undefined)[] = [];

  constructor(
    readonly dir: string,
    infos: readonly TensorInfo[],
    private readonly options: WriteOptions & {
      readonly maxShardBytes: number;
      /** Extra entries of the index's metadata (beside total_size). */
      readonly indexMetadata?: Record<string, string>;
    },
  ) {
    this.shards = planShards(infos, options.dtype, options.maxShardBytes);
    this.shards.forEach((s, i) => {
      for (const info of s.infos) this.owner.set(info.name, i);
    });
    this.totalSize = infos.reduce((n, t) => n + tensorBytes(t, options.dtype), 0);
    this.writers = this.shards.map(() => undefined);
    this.written = this.shards.map(() => 0);
  }

  /** Bytes of every shard file (headers included). */
  get byteSize(): number {
    let n = 0;
    for (let i = 0; i < this.shards.length; i++) n += this.sizes[i] ?? this.writerOf(i).byteSize;
    return n;
  }

  outputFor(info: TensorInfo): Float32Array {
    return this.writerOf(this.shardOf(info.name)).outputFor(info);
  }

  async write(info: TensorInfo, data: Float32Array): Promise<void> {
    const i = this.shardOf(info.name);
    await this.writerOf(i).write(info, data);
    if (++this.written[i] < this.shards[i].infos.length) return;
    // The shard's last tensor: once its writes are handed over, the next shard takes the buffers, and
    // this one is synced and renamed while the next is computed (the merge does not wait on the disk).
    await this.writerOf(i).drain();
    await this.closing;
    this.closing = this.finishShard(i);
    this.closing.catch(() => undefined); // awaited by the next shard's end, finish() or abort()
  }

  /** Finishes every shard and writes the index (several shards only, as transformers does). */
  async finish(): Promise<void> {
    await this.closing;
    for (let i = 0; i < this.shards.length; i++) await this.finishShard(i);
    if (this.shards.length > 1) {
      const weightMap: Record<string, string> = {};
      for (const s of this.shards) for (const info of s.infos) weightMap[info.name] = s.file;
      const index = {
        metadata: { total_size: this.totalSize, ...(this.options.indexMetadata ?? {}) },
        weight_map: weightMap,
      };
      await writeFile(join(this.dir, SHARD_INDEX_NAME), `${JSON.stringify(index, null, 2)}\n`);
    }
  }

  async abort(): Promise<void> {
    await this.closing.catch(() => undefined);
    await Promise.all(this.writers.map((w, i) => (this.finished.has(i) ? undefined : w?.abort())));
  }

  private async finishShard(i: number): Promise<void> {
    if (this.finished.has(i)) return;
    this.finished.add(i);
    const writer = this.writerOf(i);
    await writer.finish();
    // A finished shard's writer and its buffers go: memory stays that of one shard, however many.
    this.sizes[i] = writer.byteSize;
    this.writers[i] = undefined;
  }

  private shardOf(name: string): number {
    const i = this.owner.get(name);
    if (i === undefined) fail('MISMATCH', `${this.dir}: tensor "${name}" is not in any shard`);
    return i;
  }

  private writerOf(i: number): SafetensorsWriter {
    const { maxShardBytes: _m, indexMetadata: _i, ...options } = this.options;
    this.writers[i] ??= createSafetensorsWriter(join(this.dir, this.shards[i].file), this.shards[i].infos, {
      ...options,
      buffers: this.buffers,
    });
    return this.writers[i];
  }
}
