import { existsSync, mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fail } from '../params/errors.js';
import { ParamSet } from '../params/paramset.js';
import { openSafetensors, writeSafetensors } from '../params/safetensors/index.js';
import type { TaskStream } from '../time/types.js';
import { toOpenClipJson, type ClipConfig } from './config.js';
import { type ClipTaskData, type FomoData, streamImages } from './data.js';
import type { DeviceChoice } from './engine.js';
import type { Sample } from './fomo.js';
import { TorchWorker, type WorkerProgress } from './torch-worker.js';

export interface TorchEngineOptions {
  readonly python: string;
  readonly device: DeviceChoice;
  /** DataLoader worker processes decoding images (default: one per core; each decodes a share of every batch). */
  readonly loaderWorkers?: number;
  /** Micro-batch for gradient accumulation; 0 = the whole batch at once (halved on CUDA out-of-memory). */
  readonly microBatch?: number;
  readonly log?: (msg: string) => void;
  /** Added to the worker's environment (CUDA_VISIBLE_DEVICES for one GPU). */
  readonly env?: Readonly<Record<string, string>>;
}

/** About how many bytes a float32 copy of the model's weights takes (the towers' matrices and embeddings). */
export function weightsBytes(c: ClipConfig): number {
  const tower = (t: { width: number; layers: number; mlpWidth: number }) =>
    t.layers * (4 * t.width * t.width + 2 * t.width * t.mlpWidth);
  const v = c.vision;
  return 4 * (tower(v) + tower(c.text) + c.text.vocabSize * c.text.width + 3 * v.patchSize ** 2 * v.width);
}

/**
 * tmpfs when there is one with room (weights cross it twice per TIME step; containers often give
 * /dev/shm 64 MB): room for four copies of the weights and the plans, else the temporary folder.
 */
export function scratchRoot(needBytes: number, log?: (msg: string) => void, shm = '/dev/shm'): string {
  if (!existsSync(shm)) return tmpdir();
  let free = 0;
  try {
    const s = statfsSync(shm);
    free = s.bavail * s.bsize;
  } catch {
    // unreadable: treated as full
  }
  if (free >= needBytes) return shm;
  log?.(
    `scratch: ${shm} has ${(free / 2 ** 20).toFixed(0)} MiB free, ${(needBytes / 2 ** 20).toFixed(0)} MiB wanted; using ${tmpdir()}`,
  );
  return tmpdir();
}

/**
 * One torch worker for a run, with what it shares with the Trainer and Evaluator: the data index (every
 * image the stream can use, by id, written once at start), a scratch folder for weights and plans, and
 * the model config. Weights go both ways as float32 safetensors in open_clip names.
 */
export class TorchEngine {
  readonly scratch: string;
  /** "torch <version> on <device name>", for logs and the results' backend column. */
  description = '';
  /** The device the worker runs on. */
  device: 'cuda' | 'cpu' = 'cpu';
  private readonly ids = new Map<string, number>();
  private files = 0;

  private constructor(
    readonly worker: TorchWorker,
    readonly data: FomoData,
    readonly config: ClipConfig,
    log?: (msg: string) => void,
  ) {
    this.scratch = mkdtempSync(join(scratchRoot(4 * weightsBytes(config) + 2 ** 26, log), 'time-merge-torch-'));
  }

  static async start(
    data: FomoData,
    stream: TaskStream<ClipTaskData>,
    config: ClipConfig,
    pretrain: readonly string[],
    o: TorchEngineOptions,
  ): Promise<TorchEngine> {
    const engine = new TorchEngine(TorchWorker.start(o.python, o.log, o.env), data, config, o.log);
    try {
      const index = await engine.writeIndex(stream, pretrain);
      const reply = await engine.worker.request('init', {
        config: toOpenClipJson(config),
        index,
        device: o.device,
        loaderWorkers: o.loaderWorkers ?? cpus().length,
        microBatch: o.microBatch ?? 0,
      });
      engine.device = reply.device === 'cuda' ? 'cuda' : 'cpu';
      engine.description = `torch ${reply.torch} on ${engine.device === 'cuda' ? `cuda (${reply.name})` : 'cpu'}`;
      return engine;
    } catch (err) {
      await engine.close();
      throw err;
    }
  }

  /** The index id of an image (every sample of the stream, its evaluation-only sets and pretraining sets). */
  id(s: Sample): number {
    const id = this.ids.get(s.path);
    if (id === undefined) fail('PIPELINE', `torch engine: ${s.path} is not in the data index`);
    return id;
  }

  /** A fresh file name in the scratch folder. */
  file(stem: string, ext = 'safetensors'): string {
    return join(this.scratch, `${stem}-${++this.files}.${ext}`);
  }

  async writeWeights(params: ParamSet, stem: string): Promise<string> {
    const path = this.file(stem);
    await writeSafetensors(path, params, { dtype: 'F32' });
    return path;
  }

  /** Reads the worker's weights back in the order (and with the shapes) of `like`. */
  async readWeights(path: string, like: ParamSet, label: string): Promise<ParamSet> {
    const f = await openSafetensors(path);
    try {
      const out = new ParamSet(label);
      for (const name of like.names()) out.set(name, like.get(name).shape, await f.read(name));
      return out;
    } finally {
      await f.close();
    }
  }

  train(body: Record<string, unknown>, onProgress: (p: WorkerProgress) => void): Promise<Record<string, unknown>> {
    return this.worker.request('train', body, onProgress);
  }

  async close(): Promise<void> {
    await this.worker.close();
    rmSync(this.scratch, { recursive: true, force: true });
  }

  private async writeIndex(stream: TaskStream<ClipTaskData>, pretrain: readonly string[]): Promise<string> {
    const paths: string[] = [];
    const norm: number[] = [];
    const norms: { mean: readonly number[]; std: readonly number[] }[] = [];
    const normOf = new Map<string, number>();
    for (const s of streamImages(this.data, stream, pretrain)) {
      let n = normOf.get(s.dataset);
      if (n === undefined) {
        const info = this.data.info(s.dataset);
        n = norms.push({ mean: info.mean, std: info.std }) - 1;
        normOf.set(s.dataset, n);
      }
      this.ids.set(s.path, paths.length);
      paths.push(this.data.imagePath(s));
      norm.push(n);
    }
    const path = join(this.scratch, 'index.json');
    await writeFile(`${path}.tmp`, JSON.stringify({ paths, norm, norms }));
    await rename(`${path}.tmp`, path);
    return path;
  }
}

/** Writes int32 tensors as a safetensors file (temporary name, then rename). */
export async function writeInt32Safetensors(
  path: string,
  tensors: Record<string, { shape: readonly number[]; data: Int32Array }>,
): Promise<void> {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: 'I32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const body = Object.values(tensors).map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  await writeFile(`${path}.tmp`, Buffer.concat([head, Buffer.from(json), ...body]));
  await rename(`${path}.tmp`, path);
}
