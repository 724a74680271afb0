import * as tf from '@tensorflow/tfjs';
import { gridSize, type ClipConfig, type TowerConfig } from './config.js';
import { embeddingLookup, geluExact, layerNorm, linear, matmul, quickGelu } from './ops.js';

/** Parameters by open_clip state_dict name, as tf tensors (or variables, when training). */
export type ClipWeights = Readonly<Record<string, tf.Tensor>>;

function w(p: ClipWeights, name: string): tf.Tensor {
  const t = p[name];
  if (!t) throw new Error(`CLIP model: parameter "${name}" is missing`);
  return t;
}

/** Multi-head self-attention with fused in_proj (q, k, v stacked along the first axis). */
function attention(x: tf.Tensor, p: ClipWeights, prefix: string, heads: number, mask?: tf.Tensor): tf.Tensor {
  const [batch, len, width] = x.shape;
  const headDim = width / heads;
  const qkv = linear(x, w(p, `${prefix}.in_proj_weight`), w(p, `${prefix}.in_proj_bias`)); // [B, L, 3W]
  // Heads to the batch axis with rank-4 transposes only: tfjs-wasm transposes of rank 5+ are ~100x slower.
  const [q, k, v] = tf
    .split(qkv, 3, 2)
    .map((t) =>
      tf.transpose(t.reshape([batch, len, heads, headDim]), [0, 2, 1, 3]).reshape([batch * heads, len, headDim]),
    );
  const kT = tf.transpose(k, [0, 2, 1]);
  let scores = matmul(tf.mul(q, 1 / Math.sqrt(headDim)), kT); // [B*H, L, L]
  if (mask) scores = tf.add(scores, mask);
  const attn = tf.softmax(scores, -1);
  const ctx = matmul(attn, v).reshape([batch, heads, len, headDim]);
  const merged = tf.transpose(ctx, [0, 2, 1, 3]).reshape([batch, len, width]);
  return linear(merged, w(p, `${prefix}.out_proj.weight`), w(p, `${prefix}.out_proj.bias`));
}

/** Pre-norm residual blocks: x + attn(ln_1(x)), then x + mlp(ln_2(x)). */
function transformer(
  x: tf.Tensor,
  p: ClipWeights,
  prefix: string,
  tower: TowerConfig,
  act: (t: tf.Tensor) => tf.Tensor,
  mask?: tf.Tensor,
): tf.Tensor {
  let h = x;
  for (let i = 0; i < tower.layers; i++) {
    const b = `${prefix}.resblocks.${i}`;
    h = tf.add(
      h,
      attention(layerNorm(h, w(p, `${b}.ln_1.weight`), w(p, `${b}.ln_1.bias`)), p, `${b}.attn`, tower.heads, mask),
    );
    const n2 = layerNorm(h, w(p, `${b}.ln_2.weight`), w(p, `${b}.ln_2.bias`));
    const hidden = act(linear(n2, w(p, `${b}.mlp.c_fc.weight`), w(p, `${b}.mlp.c_fc.bias`)));
    h = tf.add(h, linear(hidden, w(p, `${b}.mlp.c_proj.weight`), w(p, `${b}.mlp.c_proj.bias`)));
  }
  return h;
}

function activation(cfg: ClipConfig): (t: tf.Tensor) => tf.Tensor {
  return cfg.quickGelu ? quickGelu : geluExact;
}

/** Image features (not normalised) for images [B, 3, H, W], already normalised per channel. */
export function encodeImage(p: ClipWeights, cfg: ClipConfig, images: tf.Tensor): tf.Tensor {
  const v = cfg.vision;
  const [batch, channels, height, width] = images.shape;
  if (channels !== 3 || height !== v.imageSize || width !== v.imageSize) {
    throw new Error(`CLIP model: images must be [B,3,${v.imageSize},${v.imageSize}], got [${images.shape.join(',')}]`);
  }
  const g = gridSize(v);
  const ps = v.patchSize;
  // The bias-free conv with stride = kernel is a matmul over flattened (c, kh, kw) patches.
  // [B,3,g,p,g,p] -> [B, g*g, 3*p*p] in two rank-4 transposes (rank 5+ is very slow on tfjs-wasm).
  const rows = tf.transpose(images.reshape([batch * 3 * g, ps, g, ps]), [0, 2, 1, 3]); // [B*3*g, g, p, p]
  const patches = tf
    .transpose(rows.reshape([batch, 3, g * g, ps * ps]), [0, 2, 1, 3])
    .reshape([batch, g * g, 3 * ps * ps]);
  const convW = w(p, 'visual.conv1.weight').reshape([v.width, 3 * ps * ps]);
  const tokens = linear(patches, convW); // [B, g*g, W]
  const cls = tf.tile(w(p, 'visual.class_embedding').reshape([1, 1, v.width]), [batch, 1, 1]);
  let x = tf.add(tf.concat([cls, tokens], 1), w(p, 'visual.positional_embedding'));
  x = layerNorm(x, w(p, 'visual.ln_pre.weight'), w(p, 'visual.ln_pre.bias'));
  x = transformer(x, p, 'visual.transformer', v, activation(cfg));
  const pooled = tf.squeeze(tf.slice(x, [0, 0, 0], [batch, 1, v.width]), [1]);
  const normed = layerNorm(pooled, w(p, 'visual.ln_post.weight'), w(p, 'visual.ln_post.bias'));
  return matmul(normed, w(p, 'visual.proj'));
}

const maskCache = new Map<number, Float32Array>();

/** Additive causal mask [L, L]: 0 on and below the diagonal, a large negative number above it. */
function causalMask(len: number): tf.Tensor {
  let m = maskCache.get(len);
  if (!m) {
    m = new Float32Array(len * len);
    // -1e9 rather than -inf: exp underflows to exactly 0 either way, and no inf-inf NaN can appear.
    for (let i = 0; i < len; i++) for (let j = i + 1; j < len; j++) m[i * len + j] = -1e9;
    maskCache.set(len, m);
  }
  return tf.tensor2d(m, [len, len]);
}

/** Position of the highest token id per row (the end token), as open_clip pools text features. */
export function endPositions(tokens: Int32Array, batch: number, len: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < batch; b++) {
    let best = 0;
    for (let i = 1; i < len; i++) if (tokens[b * len + i] > tokens[b * len + best]) best = i;
    out.push(best);
  }
  return out;
}

/** Text features (not normalised) for token ids [B, L] (L = context length). */
export function encodeText(p: ClipWeights, cfg: ClipConfig, tokens: Int32Array, batch: number): tf.Tensor {
  const t = cfg.text;
  const len = t.contextLength;
  if (tokens.length !== batch * len)
    throw new Error(`CLIP model: expected ${batch}x${len} token ids, got ${tokens.length}`);
  const ids = tf.tensor2d(tokens, [batch, len], 'int32');
  let x = tf.add(embeddingLookup(w(p, 'token_embedding.weight'), ids), w(p, 'positional_embedding'));
  x = transformer(x, p, 'transformer', t, activation(cfg), causalMask(len));
  x = layerNorm(x, w(p, 'ln_final.weight'), w(p, 'ln_final.bias'));
  // Pick the end-token row with a one-hot weighting: gather's gradient is not available on wasm.
  const onehot = new Float32Array(batch * len);
  endPositions(tokens, batch, len).forEach((pos, b) => (onehot[b * len + pos] = 1));
  const pooled = tf.sum(tf.mul(x, tf.tensor3d(onehot, [batch, len, 1])), 1);
  return matmul(pooled, w(p, 'text_projection'));
}

export function l2normalize(x: tf.Tensor): tf.Tensor {
  return tf.div(x, tf.norm(x, 'euclidean', -1, true));
}

export interface ClipOutputs {
  readonly imageFeatures: tf.Tensor;
  readonly textFeatures: tf.Tensor;
  readonly logitsPerImage: tf.Tensor;
  readonly loss: tf.Scalar;
}

/** Symmetric contrastive loss: mean of image->text and text->image cross-entropy, labels 0..B-1. */
export function contrastiveLoss(logitsPerImage: tf.Tensor): tf.Scalar {
  const n = logitsPerImage.shape[0];
  const eye = tf.eye(n);
  const ce = (logits: tf.Tensor) => tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits, -1), eye), -1)));
  return tf.mul(tf.add(ce(logitsPerImage), ce(tf.transpose(logitsPerImage))), 0.5) as tf.Scalar;
}

/** Forward pass of a batch of image-text pairs, with the contrastive loss. */
export function clipForward(p: ClipWeights, cfg: ClipConfig, images: tf.Tensor, tokens: Int32Array): ClipOutputs {
  const batch = images.shape[0];
  const imageFeatures = encodeImage(p, cfg, images);
  const textFeatures = encodeText(p, cfg, tokens, batch);
  const scale = tf.exp(w(p, 'logit_scale'));
  const logitsPerImage = tf.mul(scale, matmul(l2normalize(imageFeatures), tf.transpose(l2normalize(textFeatures))));
  return { imageFeatures, textFeatures, logitsPerImage, loss: contrastiveLoss(logitsPerImage) };
}
