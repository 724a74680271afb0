import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/clip/backend.js';
import { clipForward } from '../src/clip/model.js';
import { toTensors } from '../src/clip/tensors.js';
import { loadClipCheckpoint, type ClipCheckpoint } from '../src/clip/weights.js';
import { openSafetensors } from '../src/params/safetensors/reader.js';
import { OPEN_CLIP_FIXTURES } from './shared-fixtures.js';

/**
 * A checkpoint laid out as Hugging Face transformers' CLIPModel.save_pretrained writes it, built here
 * from the open_clip fixture's tensors by transformers' own conventions (modeling_clip.py), without the
 * project's name mapping: it checks that mapping against an independent reading of the conventions.
 */
const DIR = join(OPEN_CLIP_FIXTURES, 'tiny-a');
const fixture = JSON.parse(readFileSync(`${DIR}/fixture.json`, 'utf8')) as { tokens: number[][] };
type Tensor = { shape: number[]; data: Float32Array };

async function readAll(path: string): Promise<Map<string, Tensor>> {
  const f = await openSafetensors(path);
  const out = new Map<string, Tensor>();
  for (const i of f.tensorInfos()) out.set(i.name, { shape: [...i.shape], data: await f.read(i.name) });
  await f.close();
  return out;
}

function transpose(t: Tensor): Tensor {
  const [r, c] = t.shape;
  const data = new Float32Array(t.data.length);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) data[j * r + i] = t.data[i * c + j];
  return { shape: [c, r], data };
}

/** open_clip state_dict -> transformers CLIPModel state_dict, written out name by name. */
function toTransformers(oc: Map<string, Tensor>, layers: { vision: number; text: number }): Map<string, Tensor> {
  const hf = new Map<string, Tensor>();
  const get = (n: string) => {
    const t = oc.get(n);
    if (!t) throw new Error(`fixture lacks ${n}`);
    return t;
  };
  hf.set('logit_scale', get('logit_scale'));
  // nn.Linear(width, projection_dim, bias=False) stores [out, in]; open_clip multiplies x @ proj [in, out].
  hf.set('visual_projection.weight', transpose(get('visual.proj')));
  hf.set('text_projection.weight', transpose(get('text_projection')));
  hf.set('vision_model.embeddings.class_embedding', get('visual.class_embedding'));
  hf.set('vision_model.embeddings.patch_embedding.weight', get('visual.conv1.weight'));
  hf.set('vision_model.embeddings.position_embedding.weight', get('visual.positional_embedding'));
  hf.set('vision_model.pre_layrnorm.weight', get('visual.ln_pre.weight')); // sic: transformers' spelling
  hf.set('vision_model.pre_layrnorm.bias', get('visual.ln_pre.bias'));
  hf.set('vision_model.post_layernorm.weight', get('visual.ln_post.weight'));
  hf.set('vision_model.post_layernorm.bias', get('visual.ln_post.bias'));
  hf.set('text_model.embeddings.token_embedding.weight', get('token_embedding.weight'));
  hf.set('text_model.embeddings.position_embedding.weight', get('positional_embedding'));
  hf.set('text_model.final_layer_norm.weight', get('ln_final.weight'));
  hf.set('text_model.final_layer_norm.bias', get('ln_final.bias'));
  for (const [ocTower, hfTower, n] of [
    ['visual.transformer', 'vision_model.encoder', layers.vision],
    ['transformer', 'text_model.encoder', layers.text],
  ] as const) {
    for (let i = 0; i < n; i++) {
      const o = `${ocTower}.resblocks.${i}`;
      const h = `${hfTower}.layers.${i}`;
      // nn.MultiheadAttention's in_proj stacks q, k, v along the output axis; transformers keeps three Linears.
      const w = get(`${o}.attn.in_proj_weight`);
      const b = get(`${o}.attn.in_proj_bias`);
      const width = w.shape[1];
      ['q', 'k', 'v'].forEach((x, j) => {
        hf.set(`${h}.self_attn.${x}_proj.weight`, {
          shape: [width, width],
          data: w.data.slice(j * width * width, (j + 1) * width * width),
        });
        hf.set(`${h}.self_attn.${x}_proj.bias`, { shape: [width], data: b.data.slice(j * width, (j + 1) * width) });
      });
      for (const [from, to] of [
        ['attn.out_proj', 'self_attn.out_proj'],
        ['ln_1', 'layer_norm1'],
        ['ln_2', 'layer_norm2'],
        ['mlp.c_fc', 'mlp.fc1'],
        ['mlp.c_proj', 'mlp.fc2'],
      ]) {
        hf.set(`${h}.${to}.weight`, get(`${o}.${from}.weight`));
        hf.set(`${h}.${to}.bias`, get(`${o}.${from}.bias`));
      }
    }
  }
  return hf;
}

/**
 * The safetensors bytes, written directly (8-byte header length, JSON header, raw little-endian data),
 * with the int64 position_ids buffers older transformers versions save and {"format": "pt"} metadata.
 */
function safetensorsBytes(tensors: Map<string, Tensor>, positionIds: Record<string, number>): Buffer {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  const chunks: Buffer[] = [];
  let offset = 0;
  const add = (name: string, dtype: string, shape: number[], bytes: Buffer) => {
    header[name] = { dtype, shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  };
  for (const [name, t] of tensors)
    add(name, 'F32', t.shape, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  for (const [name, n] of Object.entries(positionIds))
    add(name, 'I64', [1, n], Buffer.from(BigInt64Array.from({ length: n }, (_, i) => BigInt(i)).buffer));
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, Buffer.from(json), ...chunks]);
}

/** transformers CLIPConfig for the fixture's shapes (fixture.json), with exact GELU as open_clip uses. */
const HF_CONFIG = {
  architectures: ['CLIPModel'],
  model_type: 'clip',
  projection_dim: 32,
  logit_scale_init_value: 2.6592,
  text_config: {
    hidden_act: 'gelu',
    hidden_size: 32,
    intermediate_size: 128,
    num_attention_heads: 2,
    num_hidden_layers: 2,
    max_position_embeddings: 77,
    vocab_size: 49408,
    layer_norm_eps: 1e-5,
    eos_token_id: 49407,
    bos_token_id: 49406,
  },
  vision_config: {
    hidden_act: 'gelu',
    hidden_size: 64,
    intermediate_size: 256,
    num_attention_heads: 2,
    num_hidden_layers: 2,
    image_size: 32,
    patch_size: 8,
    num_channels: 3,
    layer_norm_eps: 1e-5,
  },
};

function maxErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return m;
}

describe('a transformers CLIPModel checkpoint built from the open_clip fixture', () => {
  let path: string;
  let hf: ClipCheckpoint;
  let oc: Map<string, Tensor>;

  beforeAll(async () => {
    await selectBackend('wasm');
    oc = await readAll(`${DIR}/model.safetensors`);
    const dir = mkdtempSync(join(tmpdir(), 'clip-hf-'));
    path = join(dir, 'model.safetensors');
    const hfTensors = toTransformers(oc, { vision: 2, text: 2 });
    writeFileSync(
      path,
      safetensorsBytes(hfTensors, {
        'text_model.embeddings.position_ids': 77,
        'vision_model.embeddings.position_ids': 17,
      }),
    );
    writeFileSync(join(dir, 'config.json'), JSON.stringify(HF_CONFIG));
    hf = await loadClipCheckpoint(path);
  });

  it('is read as transformers naming with its config.json, every tensor back at its open_clip name', () => {
    expect(hf.naming).toBe('hf');
    expect(hf.configSource).toBe(join(path, '..', 'config.json'));
    expect(hf.config).toMatchObject({ embedDim: 32, quickGelu: false });
    expect(hf.config.vision).toEqual({ imageSize: 32, patchSize: 8, width: 64, layers: 2, heads: 2, mlpWidth: 256 });
    expect(hf.config.text).toEqual({
      contextLength: 77,
      vocabSize: 49408,
      width: 32,
      layers: 2,
      heads: 2,
      mlpWidth: 128,
    });
    expect(new Set(hf.params.names())).toEqual(new Set(oc.keys()));
    for (const [name, t] of oc) {
      expect(hf.params.get(name).shape, name).toEqual(t.shape);
      const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
      expect(bytes(hf.params.data(name)).equals(bytes(t.data)), name).toBe(true);
    }
  });

  it("gives the fixture's features and logits to 1e-4", async () => {
    const inputs = await readAll(`${DIR}/inputs.safetensors`);
    const expected = await readAll(`${DIR}/expected.safetensors`);
    const img = inputs.get('images')!;
    tf.tidy(() => {
      const out = clipForward(
        toTensors(hf.params),
        hf.config,
        tf.tensor(img.data, img.shape),
        Int32Array.from(fixture.tokens.flat()),
      );
      expect(maxErr(out.imageFeatures.dataSync(), expected.get('image_features')!.data)).toBeLessThan(1e-4);
      expect(maxErr(out.textFeatures.dataSync(), expected.get('text_features')!.data)).toBeLessThan(1e-4);
      expect(maxErr(out.logitsPerImage.dataSync(), expected.get('logits_per_image')!.data)).toBeLessThan(1e-4);
    });
  });
});
