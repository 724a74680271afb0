import { sfc32Step } from '../params/sfc32.js';

/**
 * A fast uniform [0, 1) stream for sequential per-element draws (DARE's exact mask), seeded from the
 * tensor's seedrandom generator: four draws of it seed sfc32 (Small Fast Counter, 128-bit state). The
 * stream is as deterministic as its seed, so the same (merge seed, tensor name) gives the same draws,
 * and it is an order of magnitude faster per draw than seedrandom's ARC4.
 */
export function uniformStream(seedFrom: () => number): () => number {
  const state = new Uint32Array(4);
  for (let i = 0; i < 4; i++) state[i] = (seedFrom() * 4294967296) >>> 0;
  const next = () => sfc32Step(state) / 4294967296;
  // Discard the first outputs, which still echo the seed words.
  for (let i = 0; i < 12; i++) next();
  return next;
}
