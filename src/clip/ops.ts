import * as tf from '@tensorflow/tfjs';

/*
 * Building blocks whose gradients avoid kernels that are slow or missing on tfjs-backend-wasm 4.22:
 * matMul with transpose flags runs 8-15x slower there (and tfjs's built-in matMul gradient uses them),
 * and gather's gradient needs UnsortedSegmentSum, which the wasm backend does not register.
 */

function swapLast2(t: tf.Tensor): tf.Tensor {
  const perm = [...Array(t.rank).keys()];
  perm[t.rank - 2] = t.rank - 1;
  perm[t.rank - 1] = t.rank - 2;
  return tf.transpose(t, perm);
}

/** a @ b (rank 2, or batched rank 3 with equal batch) with a gradient made of explicit transposes. */
export const matmul = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved;
      return [
        tf.matMul(dy as tf.Tensor2D, swapLast2(sb) as tf.Tensor2D),
        tf.matMul(swapLast2(sa) as tf.Tensor2D, dy as tf.Tensor2D),
      ];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/**
 * x [N, in] @ W^T for a PyTorch-layout weight W [out, in]. Only the activation-sized dy is transposed in
 * the backward pass (dx = dy @ W, dW = dy^T @ x), and the forward's transposed copy of W is not kept for
 * backprop: at ViT-B/16 size, keeping weight-sized copies would exhaust the wasm heap.
 */
const matmulWeightT = tf.customGrad(((x: tf.Tensor, weight: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, weight]);
  const weightT = tf.transpose(weight);
  const value = tf.matMul(x as tf.Tensor2D, weightT as tf.Tensor2D);
  // Freed now rather than at the end of the enclosing scope: these copies add up to the model's size.
  weightT.dispose();
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sw] = saved;
      return [
        tf.matMul(dy as tf.Tensor2D, sw as tf.Tensor2D),
        tf.matMul(tf.transpose(dy) as tf.Tensor2D, sx as tf.Tensor2D),
      ];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor, weight: tf.Tensor) => tf.Tensor;

/** x [..., in] @ W^T + b for a PyTorch-layout weight W [out, in]. */
export function linear(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  const inDim = x.shape[x.rank - 1];
  const lead = x.shape.slice(0, -1);
  const y = matmulWeightT(x.reshape([-1, inDim]), weight);
  const out = bias ? tf.add(y, bias) : y;
  return out.reshape([...lead, weight.shape[0]]);
}

/** Rows of `table` [V, W] at integer `ids` (any shape) -> [...ids.shape, W]; the gradient is a scatter-add. */
export function embeddingLookup(table: tf.Tensor, ids: tf.Tensor): tf.Tensor {
  const lookup = tf.customGrad(((t: tf.Tensor, save: tf.GradSaveFunc) => {
    // Saved tensors outlive the forward pass's scope; captured ones would be disposed before backprop.
    const index = ids.reshape([-1, 1]);
    save([index]);
    return {
      value: tf.gather(t, index.reshape([-1])),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.scatterND(saved[0], dy, t.shape),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as (t: tf.Tensor) => tf.Tensor;
  return lookup(table).reshape([...ids.shape, table.shape[1] as number]);
}

/** LayerNorm over the last axis (PyTorch semantics: biased variance, eps inside the square root). */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps = 1e-5): tf.Tensor {
  const axis = x.rank - 1;
  const mean = tf.mean(x, axis, true);
  const centered = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centered), axis, true);
  return tf.add(tf.mul(tf.mul(centered, tf.rsqrt(tf.add(variance, eps))), gamma), beta);
}

/** GELU, exact (erf) form, as torch.nn.GELU(). */
export function geluExact(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
}

/** QuickGELU of OpenAI's CLIP: x * sigmoid(1.702 x). */
export function quickGelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.sigmoid(tf.mul(x, 1.702)));
}
