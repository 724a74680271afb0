import * as tf from '@tensorflow/tfjs';
import { ParamSet } from '../params/paramset.js';
import type { ClipConfig } from './config.js';
import { clipForward, type ClipWeights } from './model.js';

/** ParamSet -> tf tensors by name (copies the data into the backend). */
export function toTensors(params: ParamSet): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const [name, t] of params.entries()) out[name] = tf.tensor(t.data, [...t.shape], 'float32');
  return out;
}

/** tf tensors -> ParamSet in the order of `names` (reads data back from the backend). */
export function fromTensors(
  tensors: ClipWeights,
  names: readonly string[],
  label: string,
  shapesFrom?: ParamSet,
): ParamSet {
  const ps = new ParamSet(label);
  for (const name of names) {
    const t = tensors[name];
    ps.set(name, shapesFrom ? shapesFrom.get(name).shape : t.shape, t.dataSync() as Float32Array);
  }
  return ps;
}

/** Loss and the gradient of every parameter for one batch (used by parity tests and the benchmark). */
export function clipGradients(
  params: ParamSet,
  config: ClipConfig,
  images: tf.Tensor,
  tokens: Int32Array,
): { loss: number; grads: ParamSet } {
  const names = params.names();
  const weights = toTensors(params);
  try {
    const { value, grads } = tf.tidy(() =>
      tf.valueAndGrads((...ts: tf.Tensor[]) => {
        const p: Record<string, tf.Tensor> = {};
        names.forEach((n, i) => (p[n] = ts[i]));
        return clipForward(p, config, images, tokens).loss;
      })(names.map((n) => weights[n])),
    );
    const out = new ParamSet('grads');
    names.forEach((n, i) => out.set(n, params.get(n).shape, grads[i].dataSync() as Float32Array));
    const loss = value.dataSync()[0];
    tf.dispose([value, ...grads]);
    return { loss, grads: out };
  } finally {
    tf.dispose(Object.values(weights));
  }
}
