/**
 * float32 <-> float16 / bfloat16 conversion on raw bits.
 *
 * Everything works on Uint32Array / Uint16Array views, never through JS numbers, so NaN payloads survive
 * (V8 may canonicalise a NaN that passes through a double). Narrowing rounds to nearest, ties to even;
 * overflow gives ±Infinity; values below half the smallest subnormal give ±0.
 * NaN stays NaN: the high mantissa bits are kept, and where those are all zero (which would read as
 * Infinity) the quiet bit is set instead.
 */

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  // safetensors data is little-endian and is read straight into typed arrays.
  throw new Error('time-merge needs a little-endian host');
}

/** float32 bits -> float16 bits, round to nearest even. */
export function f32BitsToF16Bits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) {
    if (mant === 0) return sign | 0x7c00;
    const m = mant >>> 13;
    return sign | 0x7c00 | (m === 0 ? 0x200 : m);
  }
  const e = exp - 112; // rebias 127 -> 15
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    // Subnormal half: h = M * 2^(e-14), M the 24-bit significand with its implicit bit.
    const m = mant | 0x800000;
    const shift = 14 - e;
    const halfway = 1 << (shift - 1);
    const rem = m & ((1 << shift) - 1);
    let h = m >>> shift;
    if (rem > halfway || (rem === halfway && (h & 1) === 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa bumps the exponent, which is the right answer (up to Infinity).
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++;
  return sign | h;
}

/** float16 bits -> float32 bits (exact). */
export function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0) {
    if (mant === 0) return sign >>> 0;
    let e = 113;
    while ((mant & 0x400) === 0) {
      mant <<= 1;
      e--;
    }
    return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
  }
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
}

/** float32 bits -> bfloat16 bits, round to nearest even. */
export function f32BitsToBf16Bits(x: number): number {
  if ((x & 0x7fffffff) >>> 0 > 0x7f800000) {
    const b = x >>> 16;
    return (b & 0x7f) === 0 ? b | 0x40 : b;
  }
  // No overflow past 2^32: the largest non-NaN pattern is -Infinity, 0xff800000.
  return ((x >>> 0) + 0x7fff + ((x >>> 16) & 1)) >>> 16;
}

/** bfloat16 bits -> float32 bits (exact). */
export function bf16BitsToF32Bits(b: number): number {
  return (b << 16) >>> 0;
}

let f16Table: Uint32Array | undefined;

/** All 65536 half values as float32 bits: decoding is one table lookup per element. */
function f16ToF32Table(): Uint32Array {
  if (!f16Table) {
    f16Table = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16BitsToF32Bits(h);
  }
  return f16Table;
}

function bitsOf(src: Float32Array): Uint32Array {
  return new Uint32Array(src.buffer, src.byteOffset, src.length);
}

export function f16ToF32(src: Uint16Array, dst: Float32Array = new Float32Array(src.length)): Float32Array {
  const table = f16ToF32Table();
  const out = bitsOf(dst);
  for (let i = 0; i < src.length; i++) out[i] = table[src[i]];
  return dst;
}

export function bf16ToF32(src: Uint16Array, dst: Float32Array = new Float32Array(src.length)): Float32Array {
  const out = bitsOf(dst);
  for (let i = 0; i < src.length; i++) out[i] = src[i] << 16;
  return dst;
}

export function f32ToF16(src: Float32Array, dst: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  const bits = bitsOf(src);
  for (let i = 0; i < bits.length; i++) dst[i] = f32BitsToF16Bits(bits[i]);
  return dst;
}

export function f32ToBf16(src: Float32Array, dst: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  const bits = bitsOf(src);
  for (let i = 0; i < bits.length; i++) dst[i] = f32BitsToBf16Bits(bits[i]);
  return dst;
}

/** float64 -> float32 (IEEE round to nearest even, as Float32Array assignment does). */
export function f64ToF32(src: Float64Array, dst: Float32Array = new Float32Array(src.length)): Float32Array {
  dst.set(src);
  return dst;
}
