import { fail } from '../params/errors.js';
import { scale, sub } from '../params/kernels.js';
import type { TensorSource } from '../params/source.js';
import { tensorRng } from './tensor-rng.js';
import { electSigns, signTotal, type Election } from './sign.js';
import { keepCount } from './trim.js';
import { uniformStream } from './uniform.js';

/**
 * fomo_in_flux's DARE over the flattened model: per expert, a uniform random set of exactly m of the
 * model's n elements is dropped (m = int(p·n) - 1 for its kthvalue rule, which keeps every random
 * value >= the k-th smallest of n; m = ⌊p·n⌋ for the exact rule). The set is drawn by Floyd's
 * algorithm into a bitset (n/8 bytes per expert) from a stream seeded by (merge seed, expert), so the
 * same seed drops the same elements.
 */
export interface GlobalDrop {
  /** Per expert, bit i set when element i of the flattened model is dropped. */
  readonly dropped: readonly Uint32Array[];
  /** Each tensor's offset in the flattened model (base order). */
  readonly offsets: ReadonlyMap<string, number>;
  readonly scales: readonly number[];
  readonly signTotal?: number;
}

const isSet = (bits: Uint32Array, i: number) => ((bits[i >>> 5] >>> (i & 31)) & 1) === 1;

/** A uniform m-subset of 0..n-1 (Floyd), as a bitset. */
export function chooseSubset(n: number, m: number, uniform: () => number): Uint32Array {
  const bits = new Uint32Array(Math.ceil(n / 32));
  for (let j = n - m; j < n; j++) {
    const r = Math.floor(uniform() * (j + 1));
    const pick = isSet(bits, r) ? j : r;
    bits[pick >>> 5] |= 1 << (pick & 31);
  }
  return bits;
}

/** How many of n elements the model-wide drop removes. */
export function modelDropCount(n: number, p: number, mask: 'exact' | 'kthvalue'): number {
  if (mask === 'exact') return keepCount(n, p);
  const k = keepCount(n, p, 'truncate');
  if (k < 1) fail('MERGE', `dare: mask kthvalue needs int(p·n) >= 1 (torch kthvalue), got int(${p}·${n}) = ${k}`);
  return k - 1;
}

export async function prepareGlobalDrop(
  base: TensorSource,
  experts: readonly TensorSource[],
  ps: readonly number[],
  o: { mask: 'exact' | 'kthvalue'; rescale: 'inverse' | 'none'; seed: number },
  election?: { weights: readonly number[]; method: Election },
): Promise<GlobalDrop> {
  const offsets = new Map<string, number>();
  let n = 0;
  for (const info of base.tensorInfos()) {
    offsets.set(info.name, n);
    n += info.shape.reduce((a, b) => a * b, 1);
  }
  const dropped = ps.map((p, k) =>
    chooseSubset(n, modelDropCount(n, p, o.mask), uniformStream(tensorRng(o.seed, `<model>#${k}`))),
  );
  const scales = ps.map((p) => (o.rescale === 'inverse' && p > 0 ? 1 / (1 - p) : 1));
  const drop: GlobalDrop = { dropped, offsets, scales };
  if (!election) return drop;
  let total = 0;
  for (const info of base.tensorInfos()) {
    const b = await base.read(info.name);
    const taus = await Promise.all(
      experts.map(async (e, k) => {
        const t = new Float32Array(b.length);
        sub(t, await e.read(info.name), b);
        applyDrop(t, drop, info.name, k);
        return t;
      }),
    );
    const s = new Int8Array(b.length);
    electSigns(taus, election.weights, election.method, s);
    total += signTotal(s);
  }
  return { ...drop, signTotal: total };
}

/** Drops, in place, expert k's elements of one tensor and rescales the rest. */
export function applyDrop(t: Float32Array, drop: GlobalDrop, name: string, k: number): void {
  const o = drop.offsets.get(name);
  if (o === undefined) throw new Error(`dare: scope "model" needs prepare() to have seen tensor "${name}"`);
  const bits = drop.dropped[k];
  for (let i = 0; i < t.length; i++) if (isSet(bits, o + i)) t[i] = 0;
  if (drop.scales[k] !== 1) scale(t, drop.scales[k]);
}
