import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/clip/backend.js';
import { accuracy, recallAtK, retrievalScores, similarities } from '../src/clip/metrics.js';
import { AdamW, clipByGlobalNorm, cosineLr, excludedFromDecay } from '../src/clip/optim.js';

describe('zero-shot metrics', () => {
  it('accuracy: argmax per row, first on ties', () => {
    const sims = Float32Array.from([0.9, 0.1, 0.0, /**/ 0.2, 0.3, 0.3, /**/ 0.5, 0.5, 0.1]);
    expect(accuracy(sims, 3, 3, [0, 1, 0])).toBeCloseTo(1, 9);
    expect(accuracy(sims, 3, 3, [0, 2, 1])).toBeCloseTo(1 / 3, 9);
    expect(accuracy(new Float32Array(), 0, 3, [])).toBe(0);
  });

  it('recall@k in both directions', () => {
    // Images are rows. Image 0 ranks its text 2nd, image 1 1st, image 2 3rd; texts (columns): 0 -> 1st, 1 -> 3rd, 2 -> 1st.
    const sims = Float32Array.from([0.5, 0.9, 0.1, /**/ 0.1, 0.8, 0.2, /**/ 0.3, 0.85, 0.25]);
    const r1 = recallAtK(sims, 3, 1);
    expect(r1.imageToText).toBeCloseTo(1 / 3, 9);
    expect(r1.textToImage).toBeCloseTo(2 / 3, 9);
    expect(r1.mean).toBeCloseTo(0.5, 9);
    const r2 = recallAtK(sims, 3, 2);
    expect(r2.imageToText).toBeCloseTo(2 / 3, 9);
    expect(r2.textToImage).toBeCloseTo(2 / 3, 9);
    expect(recallAtK(sims, 3, 3).mean).toBe(1);
  });

  it("R@1 and R@5 in both directions on a hand-computed 7 x 7 matrix, ties in the model's favour", () => {
    // Rows are images, columns texts; pair i is the diagonal. Integers, so float32 holds them exactly.
    // prettier-ignore
    const sims = Float32Array.from([
      9, 1, 1, 1, 1, 1, 4, 1, 5, 6, 1, 1, 1, 4, 1, 1, 4, 5, 5, 5, 5, 7, 7, 7, 3, 7, 7, 4, 1, 1, 1, 1, 2, 2, 2, 9, 8, 8,
      8, 8, 4, 8, 1, 1, 1, 1, 1, 1, 3,
    ]);
    // Image->text rank = entries of the row strictly above the diagonal: 0, 1, 4, 6, 0 (two ties), 6, 0.
    // Text->image rank = entries of the column strictly above it: 0 (one tie, image 5), 2, 3, 2, 3, 2, 5.
    const r = retrievalScores(sims, 7);
    expect(r.imageToTextR1).toBe(3 / 7);
    expect(r.imageToTextR5).toBe(5 / 7);
    expect(r.textToImageR1).toBe(1 / 7);
    expect(r.textToImageR5).toBe(6 / 7);
    expect(r.score).toBe((5 / 7 + 6 / 7) / 2);
    expect(retrievalScores(sims, 7, 1).score).toBe((3 / 7 + 1 / 7) / 2);
    expect(retrievalScores(sims, 7, 7).score).toBe(1);
    // Breaking image 4's tie against it (one of its other texts now scores higher) drops it from R@1.
    const untied = Float32Array.from(sims);
    untied[4 * 7 + 5] = 2.5;
    expect(retrievalScores(untied, 7).imageToTextR1).toBe(2 / 7);
    expect(retrievalScores(new Float32Array(), 0)).toEqual({
      imageToTextR1: 0,
      imageToTextR5: 0,
      textToImageR1: 0,
      textToImageR5: 0,
      score: 0,
    });
  });

  it('similarities are row dot products', () => {
    const a = Float32Array.from([1, 0, 0, 1]);
    const b = Float32Array.from([0.6, 0.8, 1, 0, -1, 0]);
    expect(Array.from(similarities(a, 2, b, 3, 2))).toEqual([Math.fround(0.6), 1, -1, Math.fround(0.8), 0, 0]);
  });
});

describe('optimiser', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it('cosine schedule with 10% linear warm-up', () => {
    expect(cosineLr(0, 20, 1)).toBeCloseTo(0.5, 12);
    expect(cosineLr(1, 20, 1)).toBeCloseTo(1, 12);
    expect(cosineLr(2, 20, 1)).toBeCloseTo(1, 12);
    expect(cosineLr(11, 20, 1)).toBeCloseTo(0.5, 12);
    expect(cosineLr(19, 20, 1)).toBeCloseTo(0.5 * (1 + Math.cos((Math.PI * 17) / 18)), 12);
    expect(cosineLr(0, 5, 2)).toBeCloseTo(2, 12); // floor(0.5) = 0 warm-up steps
  });

  it('AdamW matches torch.optim.AdamW on a hand-computed step', () => {
    const p = tf.variable(tf.tensor1d([1, 1]));
    const opt = new AdamW([p], [true], { lr: 0.1, weightDecay: 0.2, beta1: 0.9, beta2: 0.98, eps: 1e-6 });
    opt.step([tf.tensor1d([0.5, -0.5])], 0.1);
    // p <- p (1 - lr wd) - lr * m_hat / (sqrt(v_hat) + eps); m_hat = g, sqrt(v_hat) = |g| on step 1.
    const expected = 0.98 - (0.1 * 0.05) / 0.1 / (Math.sqrt(0.005) / Math.sqrt(0.02) + 1e-6);
    const got = p.dataSync();
    expect(got[0]).toBeCloseTo(expected, 6);
    expect(got[1]).toBeCloseTo(0.98 + (0.98 - expected), 6);
    // Without decay the parameter moves by lr only.
    const q = tf.variable(tf.tensor1d([1]));
    new AdamW([q], [false], { lr: 0.1, weightDecay: 0.2, beta1: 0.9, beta2: 0.98, eps: 0 }).step(
      [tf.tensor1d([3])],
      0.1,
    );
    expect(q.dataSync()[0]).toBeCloseTo(0.9, 6);
  });

  it('skips decay for gains, biases, norms, the logit scale and positional embeddings (open_clip rule)', () => {
    expect(excludedFromDecay('logit_scale', [])).toBe(true);
    expect(excludedFromDecay('visual.ln_pre.weight', [768])).toBe(true);
    expect(excludedFromDecay('transformer.resblocks.0.attn.in_proj_bias', [1536])).toBe(true);
    expect(excludedFromDecay('visual.class_embedding', [768])).toBe(true);
    expect(excludedFromDecay('transformer.resblocks.0.attn.in_proj_weight', [1536, 512])).toBe(false);
    expect(excludedFromDecay('token_embedding.weight', [49408, 512])).toBe(false);
    // Both positional embeddings are 2-D but skip decay, as in current open_clip.
    expect(excludedFromDecay('positional_embedding', [77, 512])).toBe(true);
    expect(excludedFromDecay('visual.positional_embedding', [197, 768])).toBe(true);
    expect(excludedFromDecay('visual.proj', [768, 512])).toBe(false);
  });

  it('clips the global gradient norm', () => {
    const { clipped, norm } = clipByGlobalNorm([tf.tensor1d([3]), tf.tensor1d([4])], 1);
    expect(norm).toBeCloseTo(5, 6);
    expect(clipped[0].dataSync()[0]).toBeCloseTo(0.6, 5);
    expect(clipped[1].dataSync()[0]).toBeCloseTo(0.8, 5);
    const small = clipByGlobalNorm([tf.tensor1d([0.3])], 1);
    expect(small.clipped[0].dataSync()[0]).toBeCloseTo(0.3, 6);
  });
});
