import seedrandom from 'seedrandom';

/**
 * Uniform [0, 1) draws from xorshift32 seeded by seedrandom: fast enough for the tens of thousands of
 * values a kernel property needs per case, and the same sequence for the same seed.
 */
export function xorshiftUniform(seed: number): () => number {
  let st = (seedrandom(String(seed)).int32() | 1) >>> 0;
  return () => {
    st ^= st << 13;
    st ^= st >>> 17;
    st ^= st << 5;
    return (st >>> 0) / 4294967296;
  };
}
