import { fail } from './errors.js';
import type { TensorSource } from './source.js';
import { checkShape, formatShape, numel, sameShape, type DType, type Tensor, type TensorInfo } from './tensor.js';

/** An ordered map of tensor name -> tensor: one model's weights (or a task vector) in memory. */
export class ParamSet implements TensorSource {
  readonly label: string;
  private readonly tensors = new Map<string, Tensor>();

  constructor(label = 'params') {
    this.label = label;
  }

  static fromEntries(
    entries: Iterable<[string, { shape: readonly number[]; data: Float32Array; dtype?: DType }]>,
    label?: string,
  ): ParamSet {
    const ps = new ParamSet(label);
    for (const [name, t] of entries) ps.set(name, t.shape, t.data, t.dtype ?? 'F32');
    return ps;
  }

  /** Reads every tensor of a source into memory. */
  static async fromSource(src: TensorSource, label = src.label): Promise<ParamSet> {
    const ps = new ParamSet(label);
    for (const info of src.tensorInfos()) ps.set(info.name, info.shape, await src.read(info.name), info.dtype);
    return ps;
  }

  set(name: string, shape: readonly number[], data: Float32Array, dtype: DType = 'F32'): this {
    checkShape(name, shape, data.length);
    this.tensors.set(name, { shape: [...shape], dtype, data });
    return this;
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  get(name: string): Tensor {
    const t = this.tensors.get(name);
    if (!t) fail('MISMATCH', `${this.label}: no tensor named "${name}"`);
    return t;
  }

  data(name: string): Float32Array {
    return this.get(name).data;
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }

  /** Whether a tensor of this set is backed by the same memory as the tensor of the same name in `other`. */
  sharesMemoryWith(other: ParamSet): boolean {
    for (const [name, t] of this.tensors) {
      if (other.has(name) && t.data.buffer === other.data(name).buffer) return true;
    }
    return false;
  }

  get size(): number {
    return this.tensors.size;
  }

  entries(): IterableIterator<[string, Tensor]> {
    return this.tensors.entries();
  }

  /** Total number of scalar parameters. */
  numel(): number {
    let n = 0;
    for (const t of this.tensors.values()) n += t.data.length;
    return n;
  }

  tensorInfos(): TensorInfo[] {
    return [...this.tensors].map(([name, t]) => ({ name, shape: t.shape, dtype: t.dtype }));
  }

  async read(name: string): Promise<Float32Array> {
    return this.data(name);
  }

  /** A deep copy: the clone's arrays are its own. */
  clone(label = this.label): ParamSet {
    const out = new ParamSet(label);
    for (const [name, t] of this.tensors) out.set(name, t.shape, t.data.slice(), t.dtype);
    return out;
  }

  /** A new ParamSet of the same structure with every tensor transformed (fn must return same length). */
  map(fn: (data: Float32Array, name: string, t: Tensor) => Float32Array, label = this.label): ParamSet {
    const out = new ParamSet(label);
    for (const [name, t] of this.tensors) out.set(name, t.shape, fn(t.data, name, t), t.dtype);
    return out;
  }

  /** All tensors laid end to end (in order), for models small enough to treat as one vector. */
  flatten(): Float32Array {
    const out = new Float32Array(this.numel());
    let o = 0;
    for (const t of this.tensors.values()) {
      out.set(t.data, o);
      o += t.data.length;
    }
    return out;
  }

  /** The inverse of flatten: same structure as this set, values taken from `flat`. */
  unflatten(flat: Float32Array, label = this.label): ParamSet {
    if (flat.length !== this.numel())
      fail('MISMATCH', `${this.label}: unflatten needs ${this.numel()} values, got ${flat.length}`);
    const out = new ParamSet(label);
    let o = 0;
    for (const [name, t] of this.tensors) {
      out.set(name, t.shape, flat.slice(o, o + t.data.length), t.dtype);
      o += t.data.length;
    }
    return out;
  }
}

/** Up to `limit` human-readable differences between two sources' structures (names, then shapes). */
export function structuralDifferences(a: TensorSource, b: TensorSource, limit = 5): string[] {
  const diffs: string[] = [];
  const ai = new Map(a.tensorInfos().map((t) => [t.name, t]));
  const bi = new Map(b.tensorInfos().map((t) => [t.name, t]));
  for (const [name, t] of ai) {
    const u = bi.get(name);
    if (!u) diffs.push(`"${name}" is in ${a.label} but not in ${b.label}`);
    else if (!sameShape(t.shape, u.shape))
      diffs.push(`"${name}" has shape ${formatShape(t.shape)} in ${a.label} but ${formatShape(u.shape)} in ${b.label}`);
  }
  for (const name of bi.keys()) if (!ai.has(name)) diffs.push(`"${name}" is in ${b.label} but not in ${a.label}`);
  return diffs.slice(0, limit);
}

/** Throws a MISMATCH error listing the first differences unless every source has `ref`'s names and shapes. */
export function assertSameStructure(ref: TensorSource, others: readonly TensorSource[]): void {
  for (const o of others) {
    const diffs = structuralDifferences(ref, o);
    if (diffs.length > 0) {
      const total = ref.tensorInfos().length;
      fail('MISMATCH', `${o.label} does not match ${ref.label} (${total} tensors): ${diffs.join('; ')}`);
    }
  }
}

export function totalNumel(src: TensorSource): number {
  let n = 0;
  for (const t of src.tensorInfos()) n += numel(t.shape);
  return n;
}
