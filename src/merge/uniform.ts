import { sfc32Step } from '../params/sfc32.js';

/**
 * A fast uniform [0, 1) stream for per-element draws (DARE masks, random selection), seeded from the
 * tensor's seedrandom generator: four draws of it seed sfc32 (Small Fast Counter, 128-bit state). The
 * stream is as deterministic as its seed, so the same (merge seed, tensor name) gives the same draws,
 * and it is an order of magnitude faster per draw than seedrandom's ARC4.
 *
 * The state words are exposed (`state`) so that a kernel can take many draws in one call and leave the
 * stream where per-call draws would have left it; the native kernels implement the same update.
 */
export interface UniformStream {
  (): number;
  /** sfc32's a, b, c, d; advanced by every draw. */
  readonly state: Uint32Array;
}

export function uniformStream(seedFrom: () => number): UniformStream {
  const state = new Uint32Array(4);
  for (let i = 0; i < 4; i++) state[i] = (seedFrom() * 4294967296) >>> 0;
  const next = (() => sfc32Step(state) / 4294967296) as UniformStream;
  Object.defineProperty(next, 'state', { value: state, enumerable: true });
  // Discard the first outputs, which still echo the seed words.
  for (let i = 0; i < 12; i++) next();
  return next;
}

/** Whether a draw function is a UniformStream (its draws can be taken by a kernel). */
export function isUniformStream(f: () => number): f is UniformStream {
  return (f as Partial<UniformStream>).state instanceof Uint32Array;
}
