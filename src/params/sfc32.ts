/**
 * sfc32 (Small Fast Counter, 32-bit words a, b, c, d): the generator behind the sequential draw stream
 * of src/merge/uniform.ts (DARE's exact mask).
 */

/** One step on s = [a, b, c, d]: returns the 32-bit output (unsigned) and advances s. */
export function sfc32Step(s: Uint32Array): number {
  const a = s[0],
    b = s[1],
    c = s[2],
    d = s[3];
  const t = (((a + b) | 0) + d) | 0;
  s[0] = b ^ (b >>> 9);
  s[1] = (c + (c << 3)) | 0;
  s[2] = (((c << 21) | (c >>> 11)) + t) | 0;
  s[3] = (d + 1) | 0;
  return t >>> 0;
}

/** A draw in [0, 1) from the 32-bit output, as the stream hands it out. */
export const SFC32_SCALE = 1 / 4294967296;
