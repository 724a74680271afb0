import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fail } from '../params/errors.js';
import { checkReplaceable } from '../params/replace-target.js';
import type { WriteDType } from '../params/safetensors/format.js';

/**
 * The output of a merge: one .safetensors file, or (any other name) a model folder as mergekit and
 * transformers write it: shards, their index, config.json, tokenizer files and a README.md card.
 */
export type OutputKind = 'file' | 'folder';

/** Which kind `path` asks for; names that cannot be written are CONFIG errors naming the path. */
export function outputKind(path: string): OutputKind {
  if (path.endsWith('.index.json'))
    fail(
      'CONFIG',
      `${path}: an index is written inside a model folder; give the folder (${dirname(path)}) for shards with model.safetensors.index.json, or a .safetensors file`,
    );
  const kind: OutputKind = path.endsWith('.safetensors') ? 'file' : 'folder';
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (st === undefined) return kind;
  // A device, FIFO or symlink where a folder goes is refused by what it is (a file OUT is checked the same
  // way after the output-is-an-input check, which names a symlinked input first).
  if (kind === 'folder' && !st.isFile() && !st.isDirectory()) checkReplaceable(path);
  const isDir = st.isDirectory();
  if (kind === 'file' && isDir) fail('CONFIG', `${path}: is a folder; a .safetensors output is one file`);
  if (kind === 'folder' && !isDir)
    fail(
      'CONFIG',
      `${path}: exists and is not a folder; an output without .safetensors is a model folder (remove the file or choose another name)`,
    );
  if (kind === 'folder') checkFolderReplaceable(path);
  return kind;
}

/** Files a model folder holds: an existing output folder with anything else is never replaced. */
const MODEL_FILE = /\.(safetensors|json|md|model|txt|jinja|ya?ml|bin|py|tiktoken|gitattributes)$|^\.gitattributes$/;

function checkFolderReplaceable(dir: string): void {
  const other = readdirSync(dir, { withFileTypes: true }).find((e) => !e.isFile() || !MODEL_FILE.test(e.name));
  if (other)
    fail(
      'CONFIG',
      `${dir}: an existing folder is replaced as a whole by the merged model, and this one holds ${other.isDirectory() ? 'a folder' : 'a file'} that is not part of a model (${other.name}); choose a new or model folder`,
    );
}

/**
 * mergekit's size syntax (parse_kmb): a plain number, or a number with K, M or B (thousands,
 * millions, billions; either case). The value is bytes of tensor data per shard, as mergekit's writer
 * counts it; 0 writes one shard.
 */
export function parseShardSize(text: string): number {
  const m = /^(\d+)([kmbKMB]?)$/.exec(text.trim());
  if (!m)
    fail('CONFIG', `--out-shard-size: "${text}" is not a size (a number with an optional K, M or B, as 5B or 500M)`);
  const scale = { '': 1, k: 1e3, m: 1e6, b: 1e9 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'b'];
  return Number(m[1]) * scale;
}

/** mergekit's default: 5B. */
export const DEFAULT_SHARD_SIZE = '5B';

/** The folder a checkpoint path lies in (a model folder's, or a loose file's). */
export function modelDir(checkpoint: string): string {
  return dirname(checkpoint);
}

const TORCH_DTYPE: Record<WriteDType, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };
/** Where configs keep the layer count (Llama/Mistral/Qwen2/Gemma, GPT-2, others). */
const LAYER_KEYS = ['num_hidden_layers', 'n_layer', 'num_layers'];

/**
 * The output's config.json: the donor's (base model's, else the first model's) with its dtype field set
 * to the written dtype and, where slices change it, its layer count. Undefined when the donor has none.
 */
export function outputConfigJson(
  donorDir: string,
  dtype: WriteDType | undefined,
  layers: number | undefined,
): { text: string; notes: string[] } | undefined {
  const path = join(donorDir, 'config.json');
  if (!existsSync(path)) return undefined;
  let cfg: unknown;
  try {
    cfg = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    fail('CONFIG', `${path}: not valid JSON (${(err as Error).message})`);
  }
  if (typeof cfg !== 'object' || cfg === null || Array.isArray(cfg)) fail('CONFIG', `${path}: not a JSON object`);
  const out = cfg as Record<string, unknown>;
  const notes: string[] = [];
  if (dtype) {
    out.torch_dtype = TORCH_DTYPE[dtype];
    // Newer transformers name the field dtype; set it too where the donor has it.
    if ('dtype' in out) out.dtype = TORCH_DTYPE[dtype];
  }
  if (layers !== undefined) {
    const keys = LAYER_KEYS.filter((k) => typeof out[k] === 'number');
    for (const k of keys) out[k] = layers;
    if (keys.length === 0)
      notes.push(`${path} has no ${LAYER_KEYS.join('/')}: set the output's layer count (${layers}) by hand`);
  }
  return { text: `${JSON.stringify(out, null, 2)}\n`, notes };
}

/** mergekit's list of tokenizer files, copied when the donor has a tokenizer. */
export const TOKENIZER_FILES = [
  'tokenizer_config.json',
  'special_tokens_map.json',
  'tokenizer.json',
  'tokenizer.model',
  'added_tokens.json',
  'merges.txt',
  'vocab.json',
  'vocab.txt',
  'chat_template.jinja',
  'generation_config.json',
  'chat_template.json',
];

/** The tokenizer files `dir` has (none unless it has tokenizer_config.json or a vocabulary). */
export function tokenizerFiles(dir: string): string[] {
  const present = TOKENIZER_FILES.filter((f) => existsSync(join(dir, f)));
  const hasTokenizer = ['tokenizer.json', 'tokenizer.model', 'vocab.json', 'vocab.txt'].some((f) =>
    present.includes(f),
  );
  return hasTokenizer ? present : [];
}

export async function copyTokenizer(fromDir: string, toDir: string): Promise<string[]> {
  const files = tokenizerFiles(fromDir);
  for (const f of files) await copyFile(join(fromDir, f), join(toDir, f));
  return files;
}

/**
 * A tokenizer_source other than the one every model already shares would need the embeddings
 * permuted to its vocabulary: a CONFIG error when a model's vocabulary (tokenizer.json's or
 * vocab.json's) differs from the source's.
 */
export function checkSameVocabulary(sourceDir: string, modelDirs: readonly string[]): void {
  const vocab = (dir: string): string | undefined => {
    for (const f of ['tokenizer.json', 'vocab.json']) {
      const p = join(dir, f);
      if (!existsSync(p)) continue;
      try {
        const j = JSON.parse(readFileSync(p, 'utf8')) as Record<string, any>;
        return JSON.stringify(f === 'vocab.json' ? j : [j.model?.vocab, j.added_tokens]);
      } catch {
        fail('CONFIG', `${p}: not valid JSON`);
      }
    }
    return undefined;
  };
  const ref = vocab(sourceDir);
  if (ref === undefined)
    fail('CONFIG', `tokenizer_source ${sourceDir}: no tokenizer there (tokenizer.json or vocab.json)`);
  for (const dir of modelDirs) {
    const v = vocab(dir);
    if (v !== undefined && v !== ref)
      fail(
        'CONFIG',
        `tokenizer_source ${sourceDir}: ${dir} has another vocabulary; merging vocabularies (permuting embeddings) is not supported, so the models must share the source's tokenizer`,
      );
  }
}

/** config.json's architectures, for --allow-crimes. */
export function architecturesOf(dir: string): string | undefined {
  const p = join(dir, 'config.json');
  if (!existsSync(p)) return undefined;
  try {
    const j = JSON.parse(readFileSync(p, 'utf8')) as { architectures?: unknown; model_type?: unknown };
    return JSON.stringify(j.architectures ?? j.model_type ?? null);
  } catch {
    return undefined;
  }
}

/** A short model card: what was merged, how, and the config as given. */
export function modelCard(o: {
  name: string;
  version: string;
  technique: string;
  models: readonly string[];
  configText: string;
}): string {
  return `---
library_name: transformers
tags:
- merge
- time-merge
---
# ${o.name}

A merge of ${o.models.length} model(s) written by time-merge ${o.version} with \`${o.technique}\`.

## Models

${o.models.map((m) => `- ${m}`).join('\n')}

## Configuration

\`\`\`yaml
${o.configText.trimEnd()}
\`\`\`
`;
}

export async function writeText(dir: string, name: string, text: string): Promise<void> {
  await writeFile(join(dir, name), text);
}
