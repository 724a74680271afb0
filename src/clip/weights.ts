import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fail } from '../params/errors.js';
import { ParamSet } from '../params/paramset.js';
import { openSafetensors, writeSafetensors, type WriteDType } from '../params/safetensors/index.js';
import { formatShape, sameShape } from '../params/tensor.js';
import { fromHfJson, fromOpenClipJson, toOpenClipJson, validateClipConfig, type ClipConfig } from './config.js';
import {
  detectNaming,
  hfToOpenClip,
  isIgnorableBuffer,
  openClipShapes,
  openClipToHf,
  type ClipNaming,
  type TensorMap,
} from './naming.js';

export interface ClipCheckpoint {
  readonly config: ClipConfig;
  /** Parameters in open_clip naming and order, whatever the file used. */
  readonly params: ParamSet;
  /** The naming the file used; save back with the same one. */
  readonly naming: ClipNaming;
  /** Where the config came from (for logs). */
  readonly configSource: string;
}

/** Counts resblocks.N (or layers.N) under a prefix. */
function countLayers(names: Iterable<string>, prefix: string): number {
  let n = 0;
  const re = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(\\d+)\\.`);
  for (const name of names) {
    const m = re.exec(name);
    if (m) n = Math.max(n, Number(m[1]) + 1);
  }
  return n;
}

/**
 * Architecture from tensor shapes alone. Head counts are not visible in shapes: open_clip's default head
 * width of 64 is assumed unless `heads` are given (a config file or metadata gives them).
 */
export function inferConfig(
  shapes: ReadonlyMap<string, readonly number[]>,
  naming: ClipNaming,
  hint?: Partial<Pick<ClipConfig, 'quickGelu'>> & { visionHeads?: number; textHeads?: number },
): ClipConfig {
  const hf = naming === 'hf';
  const need = (name: string): readonly number[] => {
    const s = shapes.get(name);
    if (!s) fail('MISMATCH', `CLIP checkpoint: cannot infer the architecture without "${name}"`);
    return s;
  };
  const conv = need(hf ? 'vision_model.embeddings.patch_embedding.weight' : 'visual.conv1.weight');
  const vpos = need(hf ? 'vision_model.embeddings.position_embedding.weight' : 'visual.positional_embedding');
  const vproj = need(hf ? 'visual_projection.weight' : 'visual.proj');
  const tok = need(hf ? 'text_model.embeddings.token_embedding.weight' : 'token_embedding.weight');
  const tpos = need(hf ? 'text_model.embeddings.position_embedding.weight' : 'positional_embedding');
  const vLayers = countLayers(shapes.keys(), hf ? 'vision_model.encoder.layers' : 'visual.transformer.resblocks');
  const tLayers = countLayers(shapes.keys(), hf ? 'text_model.encoder.layers' : 'transformer.resblocks');
  const vFc = need(
    hf ? 'vision_model.encoder.layers.0.mlp.fc1.weight' : 'visual.transformer.resblocks.0.mlp.c_fc.weight',
  );
  const tFc = need(hf ? 'text_model.encoder.layers.0.mlp.fc1.weight' : 'transformer.resblocks.0.mlp.c_fc.weight');
  const vWidth = conv[0];
  const patch = conv[2];
  const grid = Math.round(Math.sqrt(vpos[0] - 1));
  if (grid * grid + 1 !== vpos[0])
    fail('MISMATCH', `CLIP checkpoint: vision positional embedding has ${vpos[0]} rows, not a square grid + 1`);
  const tWidth = tok[1];
  return validateClipConfig({
    embedDim: hf ? vproj[0] : vproj[1],
    quickGelu: hint?.quickGelu ?? false,
    vision: {
      imageSize: grid * patch,
      patchSize: patch,
      width: vWidth,
      layers: vLayers,
      heads: hint?.visionHeads ?? Math.max(1, vWidth / 64),
      mlpWidth: vFc[0],
    },
    text: {
      contextLength: tpos[0],
      vocabSize: tok[0],
      width: tWidth,
      layers: tLayers,
      heads: hint?.textHeads ?? Math.max(1, tWidth / 64),
      mlpWidth: tFc[0],
    },
  });
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    fail('CONFIG', `${path}: not valid JSON (${(err as Error).message})`);
  }
}

/** Finds the config: the file's metadata, else open_clip_config.json / config.json beside it, else shapes. */
function resolveConfig(
  path: string,
  metadata: Record<string, string>,
  shapes: ReadonlyMap<string, readonly number[]>,
  naming: ClipNaming,
): { config: ClipConfig; source: string } {
  if (metadata.config) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(metadata.config);
    } catch {
      fail('CONFIG', `${path}: __metadata__.config is not valid JSON`);
    }
    return { config: fromOpenClipJson(parsed, `${path} metadata`), source: `${path} (__metadata__.config)` };
  }
  const dir = dirname(path);
  const oc = join(dir, 'open_clip_config.json');
  if (existsSync(oc)) return { config: fromOpenClipJson(readJson(oc), oc), source: oc };
  const hfc = join(dir, 'config.json');
  if (existsSync(hfc)) return { config: fromHfJson(readJson(hfc), hfc), source: hfc };
  return { config: inferConfig(shapes, naming), source: 'inferred from tensor shapes (head width 64, exact GELU)' };
}

/** "vision.heads 12 vs 6"-style differences between two configs (given first, the checkpoint's second). */
export function configDifferences(given: ClipConfig, own: ClipConfig): string[] {
  const out: string[] = [];
  const walk = (a: object, b: object, prefix: string) => {
    for (const [k, v] of Object.entries(a)) {
      const w = (b as Record<string, unknown>)[k];
      if (typeof v === 'object' && v !== null) walk(v, w as object, `${prefix}${k}.`);
      else if (v !== w) out.push(`${prefix}${k} ${v} vs ${w} in the checkpoint`);
    }
  };
  walk(given, own, '');
  return out;
}

/**
 * Checks a parameter set against a config. The error lists every missing, unexpected and misshapen
 * tensor (up to a limit each), so a wrong file or a wrong config is obvious at once.
 */
export function checkClipParams(
  params: ParamSet,
  config: ClipConfig,
  label: string,
  extraUnexpected: readonly string[] = [],
): void {
  const expected = openClipShapes(config);
  const want = new Map(expected);
  const missing = expected.filter(([n]) => !params.has(n)).map(([n]) => n);
  const unexpected = [...params.names().filter((n) => !want.has(n)), ...extraUnexpected];
  const misshapen = expected
    .filter(([n, s]) => params.has(n) && !sameShape(params.get(n).shape, s))
    .map(([n, s]) => `${n} is ${formatShape(params.get(n).shape)}, expected ${formatShape(s)}`);
  if (missing.length + unexpected.length + misshapen.length === 0) return;
  const list = (xs: string[]) => xs.slice(0, 12).join(', ') + (xs.length > 12 ? `, ... (${xs.length} in all)` : '');
  const parts: string[] = [];
  if (missing.length) parts.push(`missing ${missing.length}: ${list(missing)}`);
  if (unexpected.length) parts.push(`unexpected ${unexpected.length}: ${list(unexpected)}`);
  if (misshapen.length) parts.push(`wrong shape ${misshapen.length}: ${list(misshapen)}`);
  fail('MISMATCH', `${label}: does not match the CLIP config (${expected.length} parameters): ${parts.join('; ')}`);
}

/** Loads a CLIP checkpoint (open_clip or transformers naming) into open_clip-named float32 parameters. */
export async function loadClipCheckpoint(path: string, options: { config?: ClipConfig } = {}): Promise<ClipCheckpoint> {
  const file = await openSafetensors(path);
  try {
    const infos = file.tensorInfos().filter((i) => !isIgnorableBuffer(i.name));
    const shapes = new Map(infos.map((i) => [i.name, i.shape]));
    const naming = detectNaming([...shapes.keys()], path);
    const { config, source } = options.config
      ? { config: validateClipConfig(options.config), source: 'given' }
      : resolveConfig(path, file.metadata, shapes, naming);
    const raw = new Map<string, { shape: readonly number[]; data: Float32Array }>();
    for (const i of infos) raw.set(i.name, { shape: i.shape, data: await file.read(i.name) });
    let params: ParamSet;
    let extra: string[] = [];
    if (naming === 'hf') {
      const converted = hfToOpenClip(raw as TensorMap, config);
      params = converted.params;
      extra = [...raw.keys()].filter((n) => !converted.used.has(n));
    } else {
      params = new ParamSet(path);
      for (const [name, t] of raw) params.set(name, t.shape, t.data);
    }
    checkClipParams(params, config, path, extra);
    if (options.config && file.metadata.config) {
      // Shapes cannot show head counts or the activation: a config that disagrees with the file's own would load and run wrongly.
      const own = resolveConfig(path, file.metadata, shapes, naming).config;
      const diff = configDifferences(config, own);
      if (diff.length)
        fail(
          'CONFIG',
          `${path}: the model config contradicts the checkpoint's own __metadata__.config: ${diff.join(', ')} (fix or drop "modelConfig")`,
        );
    }
    // Canonical order, so every expert of a run has identical structure.
    const ordered = new ParamSet(path);
    for (const [name] of openClipShapes(config)) {
      const t = params.get(name);
      ordered.set(name, t.shape, t.data);
    }
    return { config, params: ordered, naming, configSource: source };
  } finally {
    await file.close();
  }
}

/** Tensors as they should be written for a naming (open_clip as is; transformers renamed and split). */
export function toNaming(params: ParamSet, config: ClipConfig, naming: ClipNaming): ParamSet {
  return naming === 'hf' ? openClipToHf(params, config) : params;
}

/** Safetensors metadata that lets the loader rebuild the config without side files. */
export function clipMetadata(config: ClipConfig, naming: ClipNaming): Record<string, string> {
  return { format: naming === 'hf' ? 'pt' : 'open_clip', config: JSON.stringify(toOpenClipJson(config)) };
}

/**
 * Writes open_clip-named parameters as a checkpoint in the given naming (temporary name, then rename,
 * as the writer does), with the config in the metadata so it loads back without side files.
 */
export async function saveClipCheckpoint(
  path: string,
  params: ParamSet,
  config: ClipConfig,
  naming: ClipNaming,
  dtype: WriteDType = 'F32',
): Promise<void> {
  checkClipParams(params, config, params.label);
  await writeSafetensors(path, toNaming(params, config, naming), { dtype, metadata: clipMetadata(config, naming) });
}
