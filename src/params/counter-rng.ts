/**
 * Counter-based uniforms for DARE's drop mask and random selection's pick. The draw for element i of
 * expert k of a tensor is a pure function u32(key, k, i) of a per-tensor key (two 32-bit words taken
 * from the tensor's seeded rng), so a kernel can draw any range of elements on any thread, in any order,
 * and vectorise the loop: only 32-bit multiply, xor, shift and add (Math.imul here; `pmulld` in C).
 * src/params/kernels/native/src/counter-rng.h is the C twin; both give the same bits.
 *
 *   fmix32(h)   murmur3's 32-bit finaliser
 *   e0 = fmix32(key0 + 0x9e3779b9·(k + 1)),  e1 = fmix32(key1 ^ e0)     (per expert, once)
 *   u32(k, i) = fmix32(fmix32(i ^ e0) + e1)                              (i mod 2^32)
 *
 * Comparisons are in the integer domain, so no float rounding can differ between backends: DARE keeps
 * element i iff u32 >= floor(p·2^32) (drop probability floor(p·2^32)/2^32, within 2^-32 of p).
 */

export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A tensor's key: two 32-bit words. */
export type CounterKey = readonly [number, number];

/** The key of a tensor from its seeded rng (two draws). */
export function counterKey(rng: () => number): CounterKey {
  const k0 = (rng() * 4294967296) >>> 0;
  const k1 = (rng() * 4294967296) >>> 0;
  return [k0, k1];
}

/** Expert k's words [e0, e1]. */
export function expertKey(key: CounterKey, k: number): [number, number] {
  const e0 = fmix32((key[0] + Math.imul(0x9e3779b9, k + 1)) | 0);
  return [e0, fmix32(key[1] ^ e0)];
}

/** u32(k, i) from expert words (unsigned). */
export function counterU32(e0: number, e1: number, i: number): number {
  return fmix32((fmix32(i ^ e0) + e1) | 0);
}

/** DARE's integer threshold for drop probability p in [0, 1): keep iff u32 >= cut. */
export function dropCut(p: number): number {
  return Math.floor(p * 4294967296);
}
