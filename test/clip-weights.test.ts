import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromHfJson, fromOpenClipJson } from '../src/clip/config.js';
import { initClipParams } from '../src/clip/init.js';
import { openClipShapes } from '../src/clip/naming.js';
import { TINY_CLIP } from '../src/clip/tiny.js';
import { loadClipCheckpoint, saveClipCheckpoint, type ClipCheckpoint } from '../src/clip/weights.js';
import { TimeMergeError } from '../src/params/errors.js';
import { ParamSet } from '../src/params/paramset.js';
import { openSafetensors, writeSafetensors } from '../src/params/safetensors/index.js';
import { OPEN_CLIP_FIXTURES } from './shared-fixtures.js';

const MODEL = join(OPEN_CLIP_FIXTURES, 'tiny-a', 'model.safetensors');
function sameValues(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const tmp = () => mkdtempSync(join(tmpdir(), 'clip-w-'));

async function expectMismatch(p: Promise<unknown>, ...parts: string[]): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TimeMergeError);
  expect((err as TimeMergeError).code).toBe('MISMATCH');
  for (const s of parts) expect((err as Error).message).toContain(s);
}

describe('CLIP checkpoints', () => {
  let ref: ClipCheckpoint;
  beforeAll(async () => {
    ref = await loadClipCheckpoint(MODEL);
  });

  it('loads open_clip naming in canonical order', () => {
    expect(ref.params.names()).toEqual(openClipShapes(ref.config).map(([n]) => n));
    expect(ref.params.get('logit_scale').shape).toEqual([]);
  });

  it('saves in transformers naming and loads back to the same parameters', async () => {
    const path = join(tmp(), 'hf.safetensors');
    await saveClipCheckpoint(path, ref.params, ref.config, 'hf');
    const f = await openSafetensors(path);
    const names = f.tensorInfos().map((i) => i.name);
    expect(names).toContain('vision_model.encoder.layers.1.self_attn.k_proj.bias');
    expect(names).toContain('text_model.final_layer_norm.weight');
    expect(names).not.toContain('visual.proj');
    // q/k/v are the three row blocks of in_proj; projections are transposed to Linear [out, in].
    const q = await f.read('vision_model.encoder.layers.0.self_attn.v_proj.weight');
    expect(Array.from(q)).toEqual(
      Array.from(ref.params.data('visual.transformer.resblocks.0.attn.in_proj_weight').slice(2 * 64 * 64, 3 * 64 * 64)),
    );
    const vp = await f.read('visual_projection.weight');
    expect(f.tensorInfos().find((i) => i.name === 'visual_projection.weight')!.shape).toEqual([32, 64]);
    expect(vp[1 * 64 + 5]).toBe(ref.params.data('visual.proj')[5 * 32 + 1]);
    await f.close();
    const back = await loadClipCheckpoint(path);
    expect(back.naming).toBe('hf');
    expect(back.config).toEqual(ref.config);
    for (const n of ref.params.names()) expect(sameValues(back.params.data(n), ref.params.data(n)), n).toBe(true);
  });

  it('lists missing and unexpected tensors', async () => {
    const ps = new ParamSet('broken');
    for (const [n, t] of ref.params.entries()) if (n !== 'visual.ln_post.bias') ps.set(n, t.shape, t.data);
    ps.set('visual.extra', [1], new Float32Array(1));
    const path = join(tmp(), 'broken.safetensors');
    await writeSafetensors(path, ps, {
      metadata: {
        config: JSON.stringify({
          embed_dim: 32,
          vision_cfg: { image_size: 32, patch_size: 8, width: 64, layers: 2, head_width: 32 },
          text_cfg: { context_length: 77, vocab_size: 49408, width: 32, heads: 2, layers: 2 },
        }),
      },
    });
    await expectMismatch(loadClipCheckpoint(path), 'missing 1: visual.ln_post.bias', 'unexpected 1: visual.extra');
  });

  it('reports shapes that disagree with the config', async () => {
    const wrong = { ...TINY_CLIP, text: { ...TINY_CLIP.text, contextLength: 77 } };
    const path = join(tmp(), 'tiny.safetensors');
    await saveClipCheckpoint(path, initClipParams(TINY_CLIP, 3), TINY_CLIP, 'open_clip');
    await expectMismatch(
      loadClipCheckpoint(path, { config: wrong }),
      'positional_embedding is [24,32], expected [77,32]',
    );
    const tiny = await loadClipCheckpoint(path);
    expect(tiny.config).toEqual(TINY_CLIP);
  });

  it("rejects a given config that contradicts the checkpoint's metadata where shapes cannot tell", async () => {
    const path = join(tmp(), 'tiny-meta.safetensors');
    await saveClipCheckpoint(path, initClipParams(TINY_CLIP, 3), TINY_CLIP, 'open_clip');
    const heads = { ...TINY_CLIP, quickGelu: true, vision: { ...TINY_CLIP.vision, heads: 4 } };
    await expect(loadClipCheckpoint(path, { config: heads })).rejects.toThrow(
      `${path}: the model config contradicts the checkpoint's own __metadata__.config: quickGelu true vs false in the checkpoint, vision.heads 4 vs 2 in the checkpoint (fix or drop "modelConfig")`,
    );
    expect((await loadClipCheckpoint(path, { config: TINY_CLIP })).config).toEqual(TINY_CLIP);
  });

  it('takes the config from open_clip_config.json beside the file, else infers it from shapes', async () => {
    const dir = tmp();
    const path = join(dir, 'open_clip_model.safetensors');
    await writeSafetensors(path, ref.params);
    const inferred = await loadClipCheckpoint(path);
    expect(inferred.configSource).toContain('inferred');
    expect(inferred.config.vision).toMatchObject({
      imageSize: 32,
      patchSize: 8,
      width: 64,
      layers: 2,
      heads: 1,
      mlpWidth: 256,
    });
    expect(inferred.config.text).toMatchObject({
      contextLength: 77,
      vocabSize: 49408,
      width: 32,
      layers: 2,
      mlpWidth: 128,
    });
    writeFileSync(
      join(dir, 'open_clip_config.json'),
      JSON.stringify({
        model_cfg: {
          embed_dim: 32,
          vision_cfg: { image_size: 32, patch_size: 8, width: 64, layers: 2, head_width: 32 },
          text_cfg: { context_length: 77, vocab_size: 49408, width: 32, heads: 2, layers: 2 },
        },
      }),
    );
    const fromFile = await loadClipCheckpoint(path);
    expect(fromFile.config).toEqual(ref.config);
  });

  it('rejects files that are not CLIP checkpoints', async () => {
    const path = join(tmp(), 'other.safetensors');
    await writeSafetensors(path, ParamSet.fromEntries([['layer.weight', { shape: [2], data: new Float32Array(2) }]]));
    await expectMismatch(loadClipCheckpoint(path), 'not a CLIP checkpoint');
  });
});

describe('model configs', () => {
  it('reads open_clip ViT-B-16 defaults and a transformers CLIPConfig', () => {
    const b16 = fromOpenClipJson(
      {
        embed_dim: 512,
        vision_cfg: { image_size: 224, layers: 12, width: 768, patch_size: 16 },
        text_cfg: { context_length: 77, vocab_size: 49408, width: 512, heads: 8, layers: 12 },
      },
      'x',
    );
    expect(b16.vision).toEqual({ imageSize: 224, patchSize: 16, width: 768, layers: 12, heads: 12, mlpWidth: 3072 });
    expect(b16.text.heads).toBe(8);
    const hf = fromHfJson(
      {
        projection_dim: 512,
        text_config: { hidden_act: 'quick_gelu', hidden_size: 512, num_attention_heads: 8 },
        vision_config: { hidden_act: 'quick_gelu', patch_size: 32, hidden_size: 768 },
      },
      'config.json',
    );
    expect(hf.quickGelu).toBe(true);
    expect(hf.vision.patchSize).toBe(32);
    expect(() => fromHfJson({ vision_config: { hidden_act: 'relu' } }, 'config.json')).toThrow(/hidden_act "relu"/);
    expect(() => fromOpenClipJson({ vision_cfg: { width: 100, head_width: 64 } }, 'cfg')).toThrow(/vision.heads/);
  });
});
