import { describe, expect, it } from 'vitest';
import type { ClipConfig } from '../src/clip/config.js';
import { clipForwardFlops, clipTrainFlops } from '../src/clip/flops.js';

describe('CLIP FLOP count', () => {
  // 4x4 images in 2x2 patches (4 patches + class token), width 2, one layer each, MLP 4, context 3.
  const micro: ClipConfig = {
    embedDim: 2,
    quickGelu: false,
    vision: { imageSize: 4, patchSize: 2, width: 2, layers: 1, heads: 1, mlpWidth: 4 },
    text: { contextLength: 3, vocabSize: 10, width: 2, layers: 1, heads: 1, mlpWidth: 4 },
  };

  it('counts 2 FLOPs per multiply-add of every matrix product, by hand', () => {
    // Image: patch embedding 2*4*(3*2*2)*2 = 192; block on 5 tokens: q/k/v 2*5*2*6 = 120, scores and
    // mixing 2*2*5*5*2 = 200, output 2*5*2*2 = 40, MLP 2*2*5*2*4 = 160; projection 2*2*2 = 8: 720.
    // Text on 3 tokens: 72 + 72 + 24 + 96, projection 8: 272. Logits for one pair 2*1*1*2 = 4.
    expect(clipForwardFlops(micro, 1)).toBe(720 + 272 + 4);
    expect(clipForwardFlops(micro, 2)).toBe(2 * (720 + 272) + 2 * 2 * 2 * 2);
    expect(clipTrainFlops(micro, 1)).toBe(3 * 996);
  });
});
