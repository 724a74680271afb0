import { fc, test as fcTest } from '@fast-check/vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import seedrandom from 'seedrandom';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadEvalImage, loadTrainImage, randomResizedCropBox, toNormalizedChw } from '../src/clip/images.js';
import { TimeMergeError } from '../src/params/errors.js';

const norm = { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] } as const;

async function png(
  path: string,
  width: number,
  height: number,
  fill: (x: number, y: number) => [number, number, number],
): Promise<string> {
  const px = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) px.set(fill(x, y), (y * width + x) * 3);
  await sharp(px, { raw: { width, height, channels: 3 } })
    .png()
    .toFile(path);
  return path;
}

describe('RandomResizedCrop(scale 0.9-1)', () => {
  fcTest.prop([fc.integer({ min: 8, max: 600 }), fc.integer({ min: 8, max: 600 }), fc.string()])(
    'boxes lie inside the image and cover at least ~90% of one side pair',
    (w, h, seed) => {
      const box = randomResizedCropBox(w, h, seedrandom(seed));
      expect(box.left).toBeGreaterThanOrEqual(0);
      expect(box.top).toBeGreaterThanOrEqual(0);
      expect(box.left + box.width).toBeLessThanOrEqual(w);
      expect(box.top + box.height).toBeLessThanOrEqual(h);
      expect(box.width).toBeGreaterThan(0);
      expect(box.height).toBeGreaterThan(0);
      expect(randomResizedCropBox(w, h, seedrandom(seed))).toEqual(box);
    },
  );

  fcTest.prop([fc.integer({ min: 100, max: 600 }), fc.string()])(
    'square images: area fraction in [0.9, 1] and aspect in [3/4, 4/3] (up to rounding)',
    (s, seed) => {
      const box = randomResizedCropBox(s, s, seedrandom(seed));
      const tol = 4 / s;
      expect((box.width * box.height) / (s * s)).toBeGreaterThanOrEqual(0.9 - tol);
      expect(box.width / box.height).toBeGreaterThanOrEqual(3 / 4 - tol);
      expect(box.width / box.height).toBeLessThanOrEqual(4 / 3 + tol);
    },
  );

  it('falls back to a centre crop clamped to the ratio range for very wide images', () => {
    // No 90%-area box with aspect <= 4/3 fits in 400x10: centre crop of width 10 * 4/3 = 13.
    expect(randomResizedCropBox(400, 10, seedrandom('a'))).toEqual({ left: 193, top: 0, width: 13, height: 10 });
  });
});

describe('pixels to tensors', () => {
  it('normalises per channel into CHW order', () => {
    const px = Uint8Array.from([255, 0, 128, 0, 255, 0]); // two pixels
    const out = toNormalizedChw(px, 1, 3, norm);
    expect(out.length).toBe(3);
    expect(out[0]).toBeCloseTo(2, 6);
    expect(out[1]).toBeCloseTo(-2, 6);
    expect(out[2]).toBeCloseTo((128 / 255 - 0.5) / 0.25, 6);
    const two = toNormalizedChw(Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]), 2, 3, norm);
    expect(Array.from(two.slice(0, 4))).toEqual([2, -2, -2, 2]); // red plane
    expect(Array.from(two.slice(4, 8))).toEqual([-2, 2, -2, 2]); // green plane
  });

  it('repeats a grey channel', () => {
    expect(Array.from(toNormalizedChw(Uint8Array.from([255]), 1, 1, norm))).toEqual([2, 2, 2]);
  });

  it('decodes, resizes and crops real files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clip-img-'));
    const solid = await png(join(dir, 'solid.png'), 50, 30, () => [255, 0, 255]);
    const ev = await loadEvalImage(solid, 16, norm);
    expect(ev.length).toBe(3 * 16 * 16);
    expect(Math.max(...ev.slice(0, 256).map((v) => Math.abs(v - 2)))).toBeLessThan(1e-5);
    expect(Math.max(...ev.slice(256, 512).map((v) => Math.abs(v + 2)))).toBeLessThan(1e-5);
    // Left half black, right half white: the centre crop of a 2:1 image keeps the middle, half and half.
    const halves = await png(join(dir, 'halves.png'), 64, 32, (x) => (x < 32 ? [0, 0, 0] : [255, 255, 255]));
    const h = await loadEvalImage(halves, 8, norm);
    expect(h[0]).toBeCloseTo(-2, 1);
    expect(h[7]).toBeCloseTo(2, 1);
    const a = await loadTrainImage(halves, 8, norm, seedrandom('s'));
    const b = await loadTrainImage(halves, 8, norm, seedrandom('s'));
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('names an undecodable file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clip-img-'));
    await expect(loadEvalImage(join(dir, 'missing.png'), 8, norm)).rejects.toThrow(TimeMergeError);
    await expect(loadEvalImage(join(dir, 'missing.png'), 8, norm)).rejects.toThrow(/missing\.png/);
  });
});
