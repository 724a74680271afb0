import { gridSize, type ClipConfig, type TowerConfig } from './config.js';

/**
 * Multiply-add work of a CLIP forward pass, counted as 2 FLOPs per multiply-add over the matrix products
 * (patch embedding, q/k/v, attention scores and mixing, output projection, MLP, final projections,
 * logits). Norms, softmax and activations are left out: they are a few percent at ViT-B/16 sizes. Used
 * to turn measured step times into achieved GFLOP/s.
 */
function towerFlops(t: TowerConfig, tokens: number): number {
  const w = t.width;
  const perLayer =
    2 * tokens * w * 3 * w + 2 * 2 * tokens * tokens * w + 2 * tokens * w * w + 2 * 2 * tokens * w * t.mlpWidth;
  return t.layers * perLayer;
}

/** FLOPs of one forward pass (image tower, text tower at full context, logits) for a batch. */
export function clipForwardFlops(c: ClipConfig, batch: number): number {
  const v = c.vision;
  const patches = gridSize(v) ** 2;
  const image =
    2 * patches * 3 * v.patchSize * v.patchSize * v.width + towerFlops(v, patches + 1) + 2 * v.width * c.embedDim;
  const text = towerFlops(c.text, c.text.contextLength) + 2 * c.text.width * c.embedDim;
  return batch * (image + text) + 2 * batch * batch * c.embedDim;
}

/** A backward pass costs about twice the forward (gradients of both operands of every product). */
export function clipTrainFlops(c: ClipConfig, batch: number): number {
  return 3 * clipForwardFlops(c, batch);
}
