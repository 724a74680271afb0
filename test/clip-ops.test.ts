import { fc, test as fcTest } from '@fast-check/vitest';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/clip/backend.js';
import { endPositions } from '../src/clip/model.js';
import { embeddingLookup, geluExact, layerNorm, linear, matmul, quickGelu } from '../src/clip/ops.js';

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-4): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(tol * Math.max(1, Math.abs(b[i])));
}

describe('CLIP building blocks (wasm)', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('GELU exact and QuickGELU', () => {
    const x = tf.tensor1d([-2, -1, 0, 1, 2]);
    // 0.5 x (1 + erf(x / sqrt 2)) and x sigmoid(1.702 x), computed by hand.
    close(geluExact(x).dataSync(), [-0.0455003, -0.1586553, 0, 0.8413447, 1.9544997]);
    close(quickGelu(x).dataSync(), [
      -2 / (1 + Math.exp(3.404)),
      -1 / (1 + Math.exp(1.702)),
      0,
      1 / (1 + Math.exp(-1.702)),
      2 / (1 + Math.exp(-3.404)),
    ]);
  });

  it('layer norm uses the biased variance and eps 1e-5', () => {
    const y = layerNorm(tf.tensor2d([[1, 2, 3, 4]]), tf.tensor1d([1, 1, 1, 2]), tf.tensor1d([0, 0, 0, 1]));
    const sd = Math.sqrt(1.25 + 1e-5);
    close(y.dataSync(), [-1.5 / sd, -0.5 / sd, 0.5 / sd, (2 * 1.5) / sd + 1]);
  });

  it('linear takes PyTorch [out, in] weights', () => {
    const y = linear(
      tf.tensor2d([[1, 2]]),
      tf.tensor2d([
        [1, 0],
        [0, 1],
        [1, 1],
      ]),
      tf.tensor1d([0, 0, 10]),
    );
    expect(Array.from(y.dataSync())).toEqual([1, 2, 13]);
  });

  fcTest.prop(
    [
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 3 }),
      fc.integer(),
    ],
    { numRuns: 25 },
  )('matmul gradients equal tfjs built-in matMul gradients (rank 2 and batched rank 3)', (m, k, n, batch, seed) => {
    tf.tidy(() => {
      const shapeA = batch > 1 ? [batch, m, k] : [m, k];
      const shapeB = batch > 1 ? [batch, k, n] : [k, n];
      const a = tf.randomNormal(shapeA, 0, 1, 'float32', seed);
      const b = tf.randomNormal(shapeB, 0, 1, 'float32', seed + 1);
      const w = tf.randomNormal(batch > 1 ? [batch, m, n] : [m, n], 0, 1, 'float32', seed + 2);
      const ours = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(matmul(x, y), w)))([a, b]);
      const ref = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
        tf.sum(tf.mul(tf.matMul(x as tf.Tensor3D, y as tf.Tensor3D), w)),
      )([a, b]);
      close(ours[0].dataSync(), ref[0].dataSync());
      close(ours[1].dataSync(), ref[1].dataSync());
    });
  });

  it('embedding lookup scatters gradients, summing repeated ids', () => {
    const table = tf.tensor2d([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const ids = tf.tensor2d([[2, 0, 2]], [1, 3], 'int32');
    expect(Array.from(embeddingLookup(table, ids).dataSync())).toEqual([5, 6, 1, 2, 5, 6]);
    const g = tf.grad((t: tf.Tensor) =>
      tf.sum(
        tf.mul(
          embeddingLookup(t, ids),
          tf.tensor3d([
            [
              [1, 10],
              [2, 20],
              [3, 30],
            ],
          ]),
        ),
      ),
    )(table);
    expect(Array.from(g.dataSync())).toEqual([2, 20, 0, 0, 4, 40]);
  });

  it('pools text at the first highest token id', () => {
    expect(endPositions(Int32Array.from([49406, 5, 49407, 0, 49406, 49407, 0, 0]), 2, 4)).toEqual([2, 1]);
  });
});
