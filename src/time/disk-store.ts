import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fail, TimeMergeError } from '../params/errors.js';
import { ParamSet } from '../params/paramset.js';
import { openSafetensors, writeSafetensors } from '../params/safetensors/index.js';
import { checkStep, countingSource, type CheckpointStore, type OpenedExpert } from './store.js';

interface Manifest {
  readonly format: 'time-merge-store';
  readonly version: 1;
  readonly experts: { step: number; file: string; bytes: number }[];
}

const MANIFEST = 'manifest.json';

export function expertFile(step: number): string {
  return `expert-${String(step).padStart(4, '0')}.safetensors`;
}

/**
 * Experts as safetensors files (float32, so a stored expert reads back bit for bit) plus manifest.json
 * listing them. Files and the manifest are written under temporary names and renamed when complete,
 * so a crash leaves the previous manifest valid. open() hands out a file-backed TensorSource: merges
 * read one tensor at a time and never hold a whole expert.
 */
export class DiskStore implements CheckpointStore {
  readonly kind = 'disk' as const;
  private read = 0;
  private stored = 0;

  private constructor(
    readonly dir: string,
    private manifest: Manifest,
  ) {}

  /** Opens the store in `dir`, creating it if needed; an existing manifest is kept (for resumed runs). */
  static async open(dir: string): Promise<DiskStore> {
    try {
      await mkdir(dir, { recursive: true });
    } catch (e) {
      throw new TimeMergeError('IO', `checkpoint store ${dir}: cannot create the folder: ${(e as Error).message}`, {
        cause: e,
      });
    }
    let manifest: Manifest = { format: 'time-merge-store', version: 1, experts: [] };
    const path = join(dir, MANIFEST);
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      text = undefined;
    }
    if (text !== undefined) {
      try {
        manifest = JSON.parse(text) as Manifest;
      } catch (e) {
        fail('IO', `checkpoint store ${path}: not valid JSON (${(e as Error).message})`);
      }
      if (manifest.format !== 'time-merge-store' || !Array.isArray(manifest.experts))
        fail('IO', `checkpoint store ${path}: not a time-merge store manifest`);
    }
    return new DiskStore(dir, manifest);
  }

  get bytesRead(): number {
    return this.read;
  }

  get bytesStored(): number {
    return this.stored;
  }

  steps(): number[] {
    return this.manifest.experts.map((e) => e.step).sort((a, b) => a - b);
  }

  async put(step: number, expert: ParamSet): Promise<void> {
    checkStep(step);
    const file = expertFile(step);
    const path = join(this.dir, file);
    await writeSafetensors(path, expert, { dtype: 'F32', metadata: { step: String(step) } });
    const bytes = (await stat(path)).size;
    this.stored += bytes;
    const experts = [...this.manifest.experts.filter((e) => e.step !== step), { step, file, bytes }].sort(
      (a, b) => a.step - b.step,
    );
    this.manifest = { ...this.manifest, experts };
    const tmp = join(this.dir, `${MANIFEST}.tmp`);
    await writeFile(tmp, JSON.stringify(this.manifest, null, 2));
    await rename(tmp, join(this.dir, MANIFEST));
  }

  private path(step: number): string {
    const e = this.manifest.experts.find((x) => x.step === step);
    if (!e)
      fail(
        'PIPELINE',
        `checkpoint store ${this.dir}: no expert for step ${step} (held: ${this.steps().join(', ') || 'none'})`,
      );
    return join(this.dir, e.file);
  }

  async open(step: number): Promise<OpenedExpert> {
    const file = await openSafetensors(this.path(step));
    return { source: countingSource(file, (b) => (this.read += b)), close: () => file.close() };
  }

  async load(step: number): Promise<ParamSet> {
    const { source, close } = await this.open(step);
    try {
      return await ParamSet.fromSource(source, `expert ${step}`);
    } finally {
      await close();
    }
  }
}
