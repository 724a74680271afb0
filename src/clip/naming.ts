import { fail } from '../params/errors.js';
import { ParamSet } from '../params/paramset.js';
import { gridSize, type ClipConfig } from './config.js';

/** The two checkpoint layouts we read and write. The model itself always works in open_clip naming. */
export type ClipNaming = 'open_clip' | 'hf';

/** Buffers some checkpoints carry that are not parameters; skipped on load. */
export function isIgnorableBuffer(name: string): boolean {
  return name.endsWith('position_ids') || name === 'attn_mask' || name.endsWith('.attn_mask');
}

function towerShapes(prefix: string, width: number, layers: number, mlp: number): [string, number[]][] {
  const out: [string, number[]][] = [];
  for (let i = 0; i < layers; i++) {
    const b = `${prefix}.resblocks.${i}`;
    out.push(
      [`${b}.ln_1.weight`, [width]],
      [`${b}.ln_1.bias`, [width]],
      [`${b}.attn.in_proj_weight`, [3 * width, width]],
      [`${b}.attn.in_proj_bias`, [3 * width]],
      [`${b}.attn.out_proj.weight`, [width, width]],
      [`${b}.attn.out_proj.bias`, [width]],
      [`${b}.ln_2.weight`, [width]],
      [`${b}.ln_2.bias`, [width]],
      [`${b}.mlp.c_fc.weight`, [mlp, width]],
      [`${b}.mlp.c_fc.bias`, [mlp]],
      [`${b}.mlp.c_proj.weight`, [width, mlp]],
      [`${b}.mlp.c_proj.bias`, [width]],
    );
  }
  return out;
}

/** Every parameter of a CLIP model of this config, in open_clip state_dict order and naming. */
export function openClipShapes(c: ClipConfig): [string, number[]][] {
  const v = c.vision;
  const t = c.text;
  const g = gridSize(v);
  return [
    ['positional_embedding', [t.contextLength, t.width]],
    ['text_projection', [t.width, c.embedDim]],
    ['logit_scale', []],
    ['visual.class_embedding', [v.width]],
    ['visual.positional_embedding', [g * g + 1, v.width]],
    ['visual.proj', [v.width, c.embedDim]],
    ['visual.conv1.weight', [v.width, 3, v.patchSize, v.patchSize]],
    ['visual.ln_pre.weight', [v.width]],
    ['visual.ln_pre.bias', [v.width]],
    ...towerShapes('visual.transformer', v.width, v.layers, v.mlpWidth),
    ['visual.ln_post.weight', [v.width]],
    ['visual.ln_post.bias', [v.width]],
    ...towerShapes('transformer', t.width, t.layers, t.mlpWidth),
    ['token_embedding.weight', [t.vocabSize, t.width]],
    ['ln_final.weight', [t.width]],
    ['ln_final.bias', [t.width]],
  ];
}

export function detectNaming(names: readonly string[], label: string): ClipNaming {
  if (names.some((n) => n.startsWith('vision_model.') || n.startsWith('text_model.'))) return 'hf';
  if (names.some((n) => n.startsWith('visual.'))) return 'open_clip';
  fail('MISMATCH', `${label}: not a CLIP checkpoint (no "visual.*" or "vision_model.*" tensors among ${names.length})`);
}

/** Fixed renames between open_clip (left) and transformers (right); per-layer names are mapped separately. */
const FIXED: [string, string][] = [
  ['positional_embedding', 'text_model.embeddings.position_embedding.weight'],
  ['token_embedding.weight', 'text_model.embeddings.token_embedding.weight'],
  ['ln_final.weight', 'text_model.final_layer_norm.weight'],
  ['ln_final.bias', 'text_model.final_layer_norm.bias'],
  ['logit_scale', 'logit_scale'],
  ['visual.class_embedding', 'vision_model.embeddings.class_embedding'],
  ['visual.positional_embedding', 'vision_model.embeddings.position_embedding.weight'],
  ['visual.conv1.weight', 'vision_model.embeddings.patch_embedding.weight'],
  ['visual.ln_pre.weight', 'vision_model.pre_layrnorm.weight'],
  ['visual.ln_pre.bias', 'vision_model.pre_layrnorm.bias'],
  ['visual.ln_post.weight', 'vision_model.post_layernorm.weight'],
  ['visual.ln_post.bias', 'vision_model.post_layernorm.bias'],
];
/** Projections are [in, out] in open_clip (x @ P) and Linear [out, in] in transformers. */
const TRANSPOSED: [string, string][] = [
  ['visual.proj', 'visual_projection.weight'],
  ['text_projection', 'text_projection.weight'],
];
const BLOCK: [string, string][] = [
  ['ln_1', 'layer_norm1'],
  ['ln_2', 'layer_norm2'],
  ['attn.out_proj', 'self_attn.out_proj'],
  ['mlp.c_fc', 'mlp.fc1'],
  ['mlp.c_proj', 'mlp.fc2'],
];

function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** Source tensors by name (shape + float32 data). */
export type TensorMap = ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>;

function towers(c: ClipConfig): [string, string, number, number][] {
  return [
    ['visual.transformer', 'vision_model.encoder', c.vision.layers, c.vision.width],
    ['transformer', 'text_model.encoder', c.text.layers, c.text.width],
  ];
}

/**
 * Renames a transformers checkpoint into open_clip naming: q/k/v projections are stacked into the fused
 * in_proj, projection matrices transposed. Names it does not know are left for the caller to report.
 */
export function hfToOpenClip(src: TensorMap, c: ClipConfig): { params: ParamSet; used: Set<string> } {
  const used = new Set<string>();
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  const take = (name: string) => {
    const t = src.get(name);
    if (t) used.add(name);
    return t;
  };
  for (const [oc, hf] of FIXED) {
    const t = take(hf);
    if (t) out.set(oc, { shape: [...t.shape], data: t.data });
  }
  for (const [oc, hf] of TRANSPOSED) {
    const t = take(hf);
    if (t && t.shape.length === 2)
      out.set(oc, { shape: [t.shape[1], t.shape[0]], data: transpose2d(t.data, t.shape[0], t.shape[1]) });
  }
  for (const [ocTower, hfTower, layers, width] of towers(c)) {
    for (let i = 0; i < layers; i++) {
      const ob = `${ocTower}.resblocks.${i}`;
      const hb = `${hfTower}.layers.${i}`;
      for (const [o, h] of BLOCK) {
        for (const s of ['weight', 'bias']) {
          const t = take(`${hb}.${h}.${s}`);
          if (t) out.set(`${ob}.${o}.${s}`, { shape: [...t.shape], data: t.data });
        }
      }
      const q = take(`${hb}.self_attn.q_proj.weight`),
        k = take(`${hb}.self_attn.k_proj.weight`),
        v = take(`${hb}.self_attn.v_proj.weight`);
      if (q && k && v) {
        const data = new Float32Array(q.data.length * 3);
        data.set(q.data, 0), data.set(k.data, q.data.length), data.set(v.data, 2 * q.data.length);
        out.set(`${ob}.attn.in_proj_weight`, { shape: [3 * width, width], data });
      }
      const qb = take(`${hb}.self_attn.q_proj.bias`),
        kb = take(`${hb}.self_attn.k_proj.bias`),
        vb = take(`${hb}.self_attn.v_proj.bias`);
      if (qb && kb && vb) {
        const data = new Float32Array(qb.data.length * 3);
        data.set(qb.data, 0), data.set(kb.data, qb.data.length), data.set(vb.data, 2 * qb.data.length);
        out.set(`${ob}.attn.in_proj_bias`, { shape: [3 * width], data });
      }
    }
  }
  const params = new ParamSet('hf->open_clip');
  for (const [name] of openClipShapes(c)) {
    const t = out.get(name);
    if (t) params.set(name, t.shape, t.data);
  }
  return { params, used };
}

/** The inverse of hfToOpenClip: open_clip-named parameters -> transformers names, in a stable order. */
export function openClipToHf(p: ParamSet, c: ClipConfig): ParamSet {
  const out = new ParamSet(`${p.label} (hf naming)`);
  const copy = (from: string, to: string) => {
    const t = p.get(from);
    out.set(to, t.shape, t.data, t.dtype);
  };
  for (const [oc, hf] of FIXED) copy(oc, hf);
  for (const [oc, hf] of TRANSPOSED) {
    const t = p.get(oc);
    out.set(hf, [t.shape[1], t.shape[0]], transpose2d(t.data, t.shape[0], t.shape[1]), t.dtype);
  }
  for (const [ocTower, hfTower, layers, width] of towers(c)) {
    for (let i = 0; i < layers; i++) {
      const ob = `${ocTower}.resblocks.${i}`;
      const hb = `${hfTower}.layers.${i}`;
      const inW = p.get(`${ob}.attn.in_proj_weight`);
      const inB = p.get(`${ob}.attn.in_proj_bias`);
      ['q', 'k', 'v'].forEach((x, j) => {
        out.set(
          `${hb}.self_attn.${x}_proj.weight`,
          [width, width],
          inW.data.slice(j * width * width, (j + 1) * width * width),
          inW.dtype,
        );
        out.set(`${hb}.self_attn.${x}_proj.bias`, [width], inB.data.slice(j * width, (j + 1) * width), inB.dtype);
      });
      for (const [o, h] of BLOCK) for (const s of ['weight', 'bias']) copy(`${ob}.${o}.${s}`, `${hb}.${h}.${s}`);
    }
  }
  return out;
}
