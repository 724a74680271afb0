import { fail } from '../params/errors.js';

/** One transformer tower's shape. */
export interface TowerConfig {
  readonly width: number;
  readonly layers: number;
  readonly heads: number;
  /** Hidden width of each block's MLP (width x mlp_ratio). */
  readonly mlpWidth: number;
}

export interface VisionConfig extends TowerConfig {
  readonly imageSize: number;
  readonly patchSize: number;
}

export interface TextConfig extends TowerConfig {
  readonly contextLength: number;
  readonly vocabSize: number;
}

/** A CLIP model's architecture: enough to build it and to check a checkpoint against it. */
export interface ClipConfig {
  readonly embedDim: number;
  readonly vision: VisionConfig;
  readonly text: TextConfig;
  /** OpenAI's original checkpoints use x*sigmoid(1.702x); open_clip's LAION models use exact GELU. */
  readonly quickGelu: boolean;
}

export function gridSize(v: VisionConfig): number {
  return v.imageSize / v.patchSize;
}

function positiveInt(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    fail('CONFIG', `CLIP config: ${what} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Checks internal consistency (heads divide width, patches tile the image). */
export function validateClipConfig(c: ClipConfig): ClipConfig {
  for (const [name, t] of [
    ['vision', c.vision],
    ['text', c.text],
  ] as const) {
    positiveInt(t.width, `${name}.width`);
    positiveInt(t.layers, `${name}.layers`);
    positiveInt(t.heads, `${name}.heads`);
    positiveInt(t.mlpWidth, `${name}.mlpWidth`);
    if (t.width % t.heads !== 0)
      fail('CONFIG', `CLIP config: ${name}.width ${t.width} is not divisible by ${name}.heads ${t.heads}`);
  }
  positiveInt(c.embedDim, 'embedDim');
  positiveInt(c.vision.imageSize, 'vision.imageSize');
  positiveInt(c.vision.patchSize, 'vision.patchSize');
  if (c.vision.imageSize % c.vision.patchSize !== 0) {
    fail(
      'CONFIG',
      `CLIP config: vision.imageSize ${c.vision.imageSize} is not a multiple of vision.patchSize ${c.vision.patchSize}`,
    );
  }
  positiveInt(c.text.contextLength, 'text.contextLength');
  positiveInt(c.text.vocabSize, 'text.vocabSize');
  return c;
}

interface OpenClipJson {
  embed_dim?: number;
  quick_gelu?: boolean;
  vision_cfg?: {
    image_size?: number;
    patch_size?: number;
    width?: number;
    layers?: number;
    head_width?: number;
    mlp_ratio?: number;
  };
  text_cfg?: {
    context_length?: number;
    vocab_size?: number;
    width?: number;
    heads?: number;
    layers?: number;
    mlp_ratio?: number;
  };
}

/**
 * Reads open_clip's model config JSON (the model_cfg of open_clip_config.json, or the one the fixtures
 * keep in the safetensors metadata). Defaults are open_clip's: head_width 64, mlp_ratio 4, text heads 8.
 */
export function fromOpenClipJson(json: unknown, where: string): ClipConfig {
  if (typeof json !== 'object' || json === null) fail('CONFIG', `${where}: the open_clip config is not an object`);
  const j = ((json as { model_cfg?: OpenClipJson }).model_cfg ?? json) as OpenClipJson;
  const v = j.vision_cfg ?? {};
  const t = j.text_cfg ?? {};
  const vWidth = v.width ?? 768;
  const tWidth = t.width ?? 512;
  const headWidth = v.head_width ?? 64;
  return validateClipConfig({
    embedDim: j.embed_dim ?? 512,
    quickGelu: j.quick_gelu ?? false,
    vision: {
      imageSize: v.image_size ?? 224,
      patchSize: v.patch_size ?? 16,
      width: vWidth,
      layers: v.layers ?? 12,
      heads: vWidth / headWidth,
      mlpWidth: Math.round(vWidth * (v.mlp_ratio ?? 4)),
    },
    text: {
      contextLength: t.context_length ?? 77,
      vocabSize: t.vocab_size ?? 49408,
      width: tWidth,
      layers: t.layers ?? 12,
      heads: t.heads ?? 8,
      mlpWidth: Math.round(tWidth * (t.mlp_ratio ?? 4)),
    },
  });
}

interface HfJson {
  projection_dim?: number;
  vision_config?: {
    image_size?: number;
    patch_size?: number;
    hidden_size?: number;
    num_hidden_layers?: number;
    num_attention_heads?: number;
    intermediate_size?: number;
    hidden_act?: string;
  };
  text_config?: {
    max_position_embeddings?: number;
    vocab_size?: number;
    hidden_size?: number;
    num_hidden_layers?: number;
    num_attention_heads?: number;
    intermediate_size?: number;
    hidden_act?: string;
  };
}

/** Reads a Hugging Face transformers CLIPConfig (config.json of a model directory). */
export function fromHfJson(json: unknown, where: string): ClipConfig {
  if (typeof json !== 'object' || json === null) fail('CONFIG', `${where}: the Hugging Face config is not an object`);
  const j = json as HfJson;
  const v = j.vision_config ?? {};
  const t = j.text_config ?? {};
  const act = v.hidden_act ?? t.hidden_act ?? 'quick_gelu';
  if (act !== 'gelu' && act !== 'quick_gelu')
    fail('CONFIG', `${where}: hidden_act "${act}" is not supported (gelu or quick_gelu)`);
  return validateClipConfig({
    embedDim: j.projection_dim ?? 512,
    quickGelu: act === 'quick_gelu',
    vision: {
      imageSize: v.image_size ?? 224,
      patchSize: v.patch_size ?? 32,
      width: v.hidden_size ?? 768,
      layers: v.num_hidden_layers ?? 12,
      heads: v.num_attention_heads ?? 12,
      mlpWidth: v.intermediate_size ?? 3072,
    },
    text: {
      contextLength: t.max_position_embeddings ?? 77,
      vocabSize: t.vocab_size ?? 49408,
      width: t.hidden_size ?? 512,
      layers: t.num_hidden_layers ?? 12,
      heads: t.num_attention_heads ?? 8,
      mlpWidth: t.intermediate_size ?? 2048,
    },
  });
}

/** open_clip's ViT-B-16 (the paper's model). */
export const VIT_B_16: ClipConfig = {
  embedDim: 512,
  quickGelu: false,
  vision: { imageSize: 224, patchSize: 16, width: 768, layers: 12, heads: 12, mlpWidth: 3072 },
  text: { contextLength: 77, vocabSize: 49408, width: 512, layers: 12, heads: 8, mlpWidth: 2048 },
};

/** Writes a config back as open_clip's JSON (for safetensors metadata and open_clip_config.json). */
export function toOpenClipJson(c: ClipConfig): OpenClipJson {
  return {
    embed_dim: c.embedDim,
    quick_gelu: c.quickGelu,
    vision_cfg: {
      image_size: c.vision.imageSize,
      patch_size: c.vision.patchSize,
      width: c.vision.width,
      layers: c.vision.layers,
      head_width: c.vision.width / c.vision.heads,
      mlp_ratio: c.vision.mlpWidth / c.vision.width,
    },
    text_cfg: {
      context_length: c.text.contextLength,
      vocab_size: c.text.vocabSize,
      width: c.text.width,
      heads: c.text.heads,
      layers: c.text.layers,
      mlp_ratio: c.text.mlpWidth / c.text.width,
    },
  };
}
