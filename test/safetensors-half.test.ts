import { describe, expect, it } from 'vitest';
import {
  bf16BitsToF32Bits,
  bf16ToF32,
  f16BitsToF32Bits,
  f16ToF32,
  f32BitsToBf16Bits,
  f32BitsToF16Bits,
  f32ToBf16,
  f32ToF16,
} from '../src/params/half.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const bitsOf = (x: number): number => ((f32[0] = x), u32[0]);
const floatOf = (bits: number): number => ((u32[0] = bits), f32[0]);

describe('float32 -> float16 (round to nearest, ties to even)', () => {
  const cases: [string, number, number][] = [
    ['one', bitsOf(1), 0x3c00],
    ['minus two', bitsOf(-2), 0xc000],
    ['+0', bitsOf(0), 0x0000],
    ['-0', 0x80000000, 0x8000],
    ['largest half 65504', bitsOf(65504), 0x7bff],
    ['just below the overflow tie', bitsOf(65519), 0x7bff],
    ['65520 ties to even: Infinity', bitsOf(65520), 0x7c00],
    ['1e6 overflows', bitsOf(1e6), 0x7c00],
    ['-1e6 overflows', bitsOf(-1e6), 0xfc00],
    ['+Infinity', 0x7f800000, 0x7c00],
    ['-Infinity', 0xff800000, 0xfc00],
    ['1 + 2^-11 ties down to even', bitsOf(1 + 2 ** -11), 0x3c00],
    ['1 + 3*2^-11 ties up to even', bitsOf(1 + 3 * 2 ** -11), 0x3c02],
    ['1 + 2^-11 + 2^-23 rounds up', bitsOf(1 + 2 ** -11 + 2 ** -23), 0x3c01],
    ['smallest normal 2^-14', bitsOf(2 ** -14), 0x0400],
    ['smallest subnormal 2^-24', bitsOf(2 ** -24), 0x0001],
    ['largest subnormal', bitsOf(1023 * 2 ** -24), 0x03ff],
    ['halfway largest subnormal / smallest normal goes to even', bitsOf(1023.5 * 2 ** -24), 0x0400],
    ['2^-25 ties down to zero', bitsOf(2 ** -25), 0x0000],
    ['just above 2^-25 rounds up', bitsOf(2 ** -25 * (1 + 2 ** -23)), 0x0001],
    ['-3 * 2^-25 ties up to 2 ulps', bitsOf(-3 * 2 ** -25), 0x8002],
    ['5 * 2^-25 ties down to 2 ulps', bitsOf(5 * 2 ** -25), 0x0002],
    ['float32 subnormal flushes to zero', 0x00000001, 0x0000],
    ['quiet NaN', 0x7fc00000, 0x7e00],
    ['NaN payload high bits kept', 0x7fc02000 | (0x155 << 13), 0x7c00 | 0x200 | 0x155],
    ['signalling NaN stays NaN with its payload', 0x7fa00000, 0x7d00],
    ['NaN whose payload is only low bits stays NaN', 0x7f800001, 0x7e00],
    ['negative NaN keeps its sign', 0xffc00000, 0xfe00],
  ];
  for (const [what, input, expected] of cases) {
    it(what, () => {
      expect(f32BitsToF16Bits(input)).toBe(expected);
    });
  }
});

describe('float16 -> float32 (exact)', () => {
  it('decodes hand-picked values', () => {
    expect(floatOf(f16BitsToF32Bits(0x3c00))).toBe(1);
    expect(floatOf(f16BitsToF32Bits(0x0001))).toBe(2 ** -24);
    expect(floatOf(f16BitsToF32Bits(0x03ff))).toBe(1023 * 2 ** -24);
    expect(floatOf(f16BitsToF32Bits(0x7bff))).toBe(65504);
    expect(f16BitsToF32Bits(0x7c00)).toBe(0x7f800000);
    expect(f16BitsToF32Bits(0xfc00)).toBe(0xff800000);
    expect(f16BitsToF32Bits(0x8000)).toBe(0x80000000);
    expect(f16BitsToF32Bits(0x7e01)).toBe(0x7fc02000);
    expect(f16BitsToF32Bits(0x7c01)).toBe(0x7f802000);
  });
  it('every one of the 65536 halves matches its value and narrows back to itself', () => {
    const wrong: string[] = [];
    for (let h = 0; h < 65536; h++) {
      const bits = f16BitsToF32Bits(h);
      const exp = (h >> 10) & 0x1f;
      const mant = h & 0x3ff;
      const sign = h & 0x8000 ? -1 : 1;
      const value =
        exp === 0x1f
          ? mant
            ? Number.NaN
            : sign * Infinity
          : exp === 0
            ? sign * mant * 2 ** -24
            : sign * (1 + mant / 1024) * 2 ** (exp - 15);
      if (!Object.is(floatOf(bits), value)) wrong.push(`0x${h.toString(16)} decodes to ${floatOf(bits)}, not ${value}`);
      if (f32BitsToF16Bits(bits) !== h)
        wrong.push(`0x${h.toString(16)} narrows back to 0x${f32BitsToF16Bits(bits).toString(16)}`);
    }
    expect(wrong.slice(0, 5)).toEqual([]);
  });
  it('bulk conversion keeps NaN payload bits (no trip through a JS number)', () => {
    const halves = new Uint16Array([0x7e01, 0x7d55, 0xfe00, 0x3c00]);
    const out = f16ToF32(halves);
    expect([...new Uint32Array(out.buffer)]).toEqual([0x7fc02000, 0x7faaa000, 0xffc00000, 0x3f800000]);
    expect([...f32ToF16(out)]).toEqual([...halves]);
  });
});

describe('float32 <-> bfloat16', () => {
  const cases: [string, number, number][] = [
    ['one', bitsOf(1), 0x3f80],
    ['-0', 0x80000000, 0x8000],
    ['tie rounds down to even', 0x3f808000, 0x3f80],
    ['tie rounds up to even', 0x3f818000, 0x3f82],
    ['above the tie rounds up', 0x3f808001, 0x3f81],
    ['below the tie rounds down', 0x3f807fff, 0x3f80],
    ['largest float32 rounds to Infinity', 0x7f7fffff, 0x7f80],
    ['largest bf16 stays', 0x7f7f7fff, 0x7f7f],
    ['+Infinity', 0x7f800000, 0x7f80],
    ['-Infinity', 0xff800000, 0xff80],
    ['subnormal tie to even zero', 0x00008000, 0x0000],
    ['subnormal tie to even up', 0x00018000, 0x0002],
    ['quiet NaN', 0x7fc00000, 0x7fc0],
    ['NaN payload kept', 0xffc12345, 0xffc1],
    ['NaN with only low payload bits stays NaN', 0x7f800001, 0x7fc0],
    ['signalling NaN payload kept', 0x7f810000, 0x7f81],
  ];
  for (const [what, input, expected] of cases) {
    it(what, () => {
      expect(f32BitsToBf16Bits(input)).toBe(expected);
    });
  }
  it('every bfloat16 widens exactly and narrows back to itself', () => {
    const wrong: number[] = [];
    for (let b = 0; b < 65536; b++) {
      const bits = bf16BitsToF32Bits(b);
      if (bits !== b * 65536 || f32BitsToBf16Bits(bits) !== b) wrong.push(b);
    }
    expect(wrong.slice(0, 5)).toEqual([]);
  });
  it('bulk conversion keeps NaN payload bits', () => {
    const raw = new Uint16Array([0x7fc1, 0xff81, 0x3f80, 0x0001]);
    const wide = bf16ToF32(raw);
    expect([...new Uint32Array(wide.buffer)]).toEqual([0x7fc10000, 0xff810000, 0x3f800000, 0x00010000]);
    expect([...f32ToBf16(wide)]).toEqual([...raw]);
  });
});
