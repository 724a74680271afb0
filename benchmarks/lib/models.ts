/**
 * Synthetic models for the benchmarks: a base and experts near it, with realistic tensor shapes. Values
 * come from a seeded xorshift stream (fast enough for 1e8 parameters); they do not matter for speed
 * except where techniques select by magnitude, which is why experts are base + noise of varied scale.
 */
import seedrandom from 'seedrandom';
import { ParamSet } from '../../src/params/paramset.js';
import { numel } from '../../src/params/tensor.js';

export interface ModelShape {
  /** Label in the CSV and the docs: the parameter count, or 'vit-b16'. */
  readonly label: string;
  readonly tensors: readonly { name: string; shape: number[] }[];
}

/**
 * A model of about `params` parameters laid out like a transformer: square [d, d] weights of at most
 * 1024 x 1024 (4 MiB, about a ViT-B/16 attention matrix) with a bias after each, so merges stream over
 * many tensors as they do on real checkpoints.
 */
export function sizedShape(params: number): ModelShape {
  const tensors: { name: string; shape: number[] }[] = [];
  const d = Math.max(8, Math.min(1024, Math.floor(Math.sqrt(params / 4))));
  let left = params;
  for (let i = 0; left > 0; i++) {
    const rows = Math.max(1, Math.min(d, Math.floor((left - d) / d)));
    if (left <= d || rows < 1) {
      tensors.push({ name: `layers.${i}.tail`, shape: [left] });
      break;
    }
    tensors.push({ name: `layers.${i}.weight`, shape: [rows, d] });
    tensors.push({ name: `layers.${i}.bias`, shape: [d] });
    left -= rows * d + d;
  }
  return { label: String(params), tensors };
}

/** The image tower of open_clip ViT-B-16 (86M parameters), in open_clip naming. */
export function vitB16Shape(): ModelShape {
  const w = 768;
  const t: { name: string; shape: number[] }[] = [
    { name: 'visual.class_embedding', shape: [w] },
    { name: 'visual.positional_embedding', shape: [197, w] },
    { name: 'visual.proj', shape: [w, 512] },
    { name: 'visual.conv1.weight', shape: [w, 3, 16, 16] },
    { name: 'visual.ln_pre.weight', shape: [w] },
    { name: 'visual.ln_pre.bias', shape: [w] },
  ];
  for (let l = 0; l < 12; l++) {
    const p = `visual.transformer.resblocks.${l}`;
    t.push(
      { name: `${p}.ln_1.weight`, shape: [w] },
      { name: `${p}.ln_1.bias`, shape: [w] },
      { name: `${p}.attn.in_proj_weight`, shape: [3 * w, w] },
      { name: `${p}.attn.in_proj_bias`, shape: [3 * w] },
      { name: `${p}.attn.out_proj.weight`, shape: [w, w] },
      { name: `${p}.attn.out_proj.bias`, shape: [w] },
      { name: `${p}.ln_2.weight`, shape: [w] },
      { name: `${p}.ln_2.bias`, shape: [w] },
      { name: `${p}.mlp.c_fc.weight`, shape: [4 * w, w] },
      { name: `${p}.mlp.c_fc.bias`, shape: [4 * w] },
      { name: `${p}.mlp.c_proj.weight`, shape: [w, 4 * w] },
      { name: `${p}.mlp.c_proj.bias`, shape: [w] },
    );
  }
  t.push({ name: 'visual.ln_post.weight', shape: [w] }, { name: 'visual.ln_post.bias', shape: [w] });
  return { label: 'vit-b16', tensors: t };
}

export function shapeParams(s: ModelShape): number {
  let n = 0;
  for (const t of s.tensors) n += numel(t.shape);
  return n;
}

/** A seeded stream of uniform values in [-1, 1) (xorshift32; seedrandom only for the seed). */
export function uniformStream(seed: string): () => number {
  let st = (seedrandom(seed).int32() | 1) >>> 0;
  return () => {
    st ^= st << 13;
    st ^= st >>> 17;
    st ^= st << 5;
    return (st >>> 0) / 2147483648 - 1;
  };
}

/** Fills `out` with base + scale·noise (base omitted: plain noise). */
export function fillNear(out: Float32Array, seed: string, scale: number, base?: Float32Array): void {
  const u = uniformStream(seed);
  if (base) for (let i = 0; i < out.length; i++) out[i] = base[i] + scale * u();
  else for (let i = 0; i < out.length; i++) out[i] = scale * u();
}

export function makeBase(shape: ModelShape, seed = 'base'): ParamSet {
  const ps = new ParamSet('base');
  for (const t of shape.tensors) {
    const data = new Float32Array(numel(t.shape));
    fillNear(data, `${seed}/${t.name}`, 0.05);
    ps.set(t.name, t.shape, data);
  }
  return ps;
}

/** Expert i: base + noise whose scale differs per expert, so magnitude-based techniques have work to do. */
export function makeExpert(base: ParamSet, i: number): ParamSet {
  return base.map((b, name) => {
    const out = new Float32Array(b.length);
    fillNear(out, `expert${i}/${name}`, 0.002 * (1 + (i % 7)), b);
    return out;
  }, `expert ${i}`);
}
