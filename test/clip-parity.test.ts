import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openSafetensors } from '../src/params/safetensors/reader.js';
import { selectBackend } from '../src/clip/backend.js';
import { clipForward, l2normalize } from '../src/clip/model.js';
import { clipGradients, toTensors } from '../src/clip/tensors.js';
import { loadClipCheckpoint, type ClipCheckpoint } from '../src/clip/weights.js';
import { OPEN_CLIP_FIXTURES } from './shared-fixtures.js';

const DIR = join(OPEN_CLIP_FIXTURES, 'tiny-a');
const fixture = JSON.parse(readFileSync(`${DIR}/fixture.json`, 'utf8')) as { loss: number; tokens: number[][] };

async function readAll(path: string): Promise<Map<string, { shape: readonly number[]; data: Float32Array }>> {
  const f = await openSafetensors(path);
  const out = new Map<string, { shape: readonly number[]; data: Float32Array }>();
  for (const i of f.tensorInfos()) out.set(i.name, { shape: i.shape, data: await f.read(i.name) });
  await f.close();
  return out;
}

/** Largest |a - b| / max(1, |b|): absolute for small values, relative for large ones. */
function maxErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return m;
}

describe.each(['wasm', 'cpu'] as const)('open_clip tiny-a parity on %s', (backend) => {
  let ckpt: ClipCheckpoint;
  let images: tf.Tensor;
  let tokens: Int32Array;
  let expected: Awaited<ReturnType<typeof readAll>>;

  beforeAll(async () => {
    await selectBackend(backend);
    ckpt = await loadClipCheckpoint(`${DIR}/model.safetensors`);
    const inputs = await readAll(`${DIR}/inputs.safetensors`);
    const img = inputs.get('images')!;
    images = tf.tensor(img.data, [...img.shape]);
    tokens = Int32Array.from(fixture.tokens.flat());
    expected = await readAll(`${DIR}/expected.safetensors`);
  });

  it('reads the config from the checkpoint metadata', () => {
    expect(ckpt.naming).toBe('open_clip');
    expect(ckpt.config.vision).toMatchObject({
      imageSize: 32,
      patchSize: 8,
      width: 64,
      layers: 2,
      heads: 2,
      mlpWidth: 256,
    });
    expect(ckpt.config.text).toMatchObject({
      contextLength: 77,
      vocabSize: 49408,
      width: 32,
      layers: 2,
      heads: 2,
      mlpWidth: 128,
    });
  });

  it('matches features, normalised features, logits and loss to 1e-4', () => {
    tf.tidy(() => {
      const out = clipForward(toTensors(ckpt.params), ckpt.config, images, tokens);
      expect(maxErr(out.imageFeatures.dataSync(), expected.get('image_features')!.data)).toBeLessThan(1e-4);
      expect(maxErr(out.textFeatures.dataSync(), expected.get('text_features')!.data)).toBeLessThan(1e-4);
      expect(
        maxErr(l2normalize(out.imageFeatures).dataSync(), expected.get('image_features_normalized')!.data),
      ).toBeLessThan(1e-4);
      expect(
        maxErr(l2normalize(out.textFeatures).dataSync(), expected.get('text_features_normalized')!.data),
      ).toBeLessThan(1e-4);
      expect(maxErr(out.logitsPerImage.dataSync(), expected.get('logits_per_image')!.data)).toBeLessThan(1e-4);
      expect(Math.abs(out.loss.dataSync()[0] - fixture.loss)).toBeLessThan(1e-4);
    });
  });

  it('matches the gradient of every parameter to 1e-4', async () => {
    const grads = await readAll(`${DIR}/grads.safetensors`);
    const { loss, grads: ours } = clipGradients(ckpt.params, ckpt.config, images, tokens);
    expect(Math.abs(loss - fixture.loss)).toBeLessThan(1e-4);
    expect(new Set(ours.names())).toEqual(new Set(grads.keys()));
    const worst: [string, number][] = [];
    for (const [name, g] of grads) worst.push([name, maxErr(ours.data(name), g.data)]);
    worst.sort((a, b) => b[1] - a[1]);
    expect(worst[0][1], `worst: ${worst[0][0]}`).toBeLessThan(1e-4);
  });
});
