import sharp from 'sharp';
import { fail } from '../params/errors.js';

export interface Normalization {
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
}

export interface CropBox {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/** Uniform integer in [lo, hi] from a [0, 1) source. */
function randint(rng: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

/**
 * torchvision's RandomResizedCrop box: up to 10 tries at a random area fraction in `scale` and
 * log-uniform aspect ratio in `ratio`, else a centre crop clamped to the ratio range.
 */
export function randomResizedCropBox(
  width: number,
  height: number,
  rng: () => number,
  scale: [number, number] = [0.9, 1],
  ratio: [number, number] = [3 / 4, 4 / 3],
): CropBox {
  const area = width * height;
  const logR = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * (scale[0] + rng() * (scale[1] - scale[0]));
    const aspect = Math.exp(logR[0] + rng() * (logR[1] - logR[0]));
    const w = Math.round(Math.sqrt(target * aspect));
    const h = Math.round(Math.sqrt(target / aspect));
    if (w > 0 && h > 0 && w <= width && h <= height) {
      return { left: randint(rng, 0, width - w), top: randint(rng, 0, height - h), width: w, height: h };
    }
  }
  const inRatio = width / height;
  let w: number, h: number;
  if (inRatio < ratio[0]) {
    w = width;
    h = Math.round(w / ratio[0]);
  } else if (inRatio > ratio[1]) {
    h = height;
    w = Math.round(h * ratio[1]);
  } else {
    w = width;
    h = height;
  }
  return { left: Math.floor((width - w) / 2), top: Math.floor((height - h) / 2), width: w, height: h };
}

/** HWC bytes -> CHW float32, (x / 255 - mean) / std per channel; grey images are repeated to RGB. */
export function toNormalizedChw(
  pixels: Uint8Array | Buffer,
  size: number,
  channels: number,
  norm: Normalization,
): Float32Array {
  const out = new Float32Array(3 * size * size);
  const plane = size * size;
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      const v = pixels[i * channels + (channels >= 3 ? c : 0)] / 255;
      out[c * plane + i] = (v - norm.mean[c]) / norm.std[c];
    }
  }
  return out;
}

async function decode(path: string): Promise<sharp.Sharp> {
  try {
    const img = sharp(path, { failOn: 'error' });
    await img.metadata();
    return img;
  } catch (err) {
    fail('DATA', `${path}: cannot decode image (${(err as Error).message})`);
  }
}

/** Training view: RandomResizedCrop(size, scale 0.9-1) from the seeded rng, normalised. */
export async function loadTrainImage(
  path: string,
  size: number,
  norm: Normalization,
  rng: () => number,
): Promise<Float32Array> {
  const img = await decode(path);
  const meta = await img.metadata();
  const box = randomResizedCropBox(meta.width ?? 0, meta.height ?? 0, rng);
  const { data, info } = await img
    .extract(box)
    .resize(size, size, { fit: 'fill', kernel: 'cubic' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return toNormalizedChw(data, size, info.channels, norm);
}

/** Evaluation view: shorter side resized to `size`, centre crop, normalised (CLIP's eval transform). */
export async function loadEvalImage(path: string, size: number, norm: Normalization): Promise<Float32Array> {
  const img = await decode(path);
  const { data, info } = await img
    .resize(size, size, { fit: 'cover', position: 'centre', kernel: 'cubic' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return toNormalizedChw(data, size, info.channels, norm);
}
