import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { fail } from '../params/errors.js';

/** One dataset module of the official code (src/clip/fomo-datasets.json is its registry at commit 3e123d9). */
export interface DatasetInfo {
  /** Module name (e.g. "dtd"). */
  readonly key: string;
  /** Directory under the data root, prefix of its annotation files, and the name streams use. */
  readonly folder: string;
  /** Prefix of <info_prefix>_classnames.json; null for retrieval sets without class names. */
  readonly infoPrefix: string | null;
  /** The one zero-shot prompt template; "{}" is the class name. */
  readonly primer: string;
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
  readonly imgSize: number;
  readonly type: 'classification' | 'retrieval';
  readonly evalOnly: boolean;
  readonly resizedVariant: boolean;
}

/** The official annotation entry for one image. */
interface AnnotationEntry {
  classname: string;
  default_caption: string | null;
  primer_caption: string | null;
  synthetic_caption?: string[] | string | null;
  synthetic_merged_caption?: string[] | string | null;
  target: number;
}

/** One image with its label and the captions the loader may choose from. */
export interface Sample {
  readonly dataset: string;
  /** Absolute path of the image file. */
  readonly path: string;
  readonly classname: string;
  readonly target: number;
  /** Training text candidates: [default_caption] when it is set, else synthetic_merged_caption. */
  readonly captions: readonly string[];
}

export type Split = 'train' | 'test';

export interface FomoLayout {
  /** Holds <FOLDER>/ image directories. */
  readonly dataDir: string;
  /** Holds <FOLDER>_{train,test}[_224].json and <prefix>_classnames.json. */
  readonly infoDir: string;
  /** Holds stream orderings (*.json). */
  readonly streamDir: string;
}

/** The official layout under one root: data/, data_lib/00_info/, stream_construction/. */
export function fomoLayout(root: string, overrides: Partial<FomoLayout> = {}): FomoLayout {
  return {
    dataDir: overrides.dataDir ?? join(root, 'data'),
    infoDir: overrides.infoDir ?? join(root, 'data_lib', '00_info'),
    streamDir: overrides.streamDir ?? join(root, 'stream_construction'),
  };
}

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    fail('IO', `${path}: cannot read ${what} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    fail('DATA', `${path}: ${what} is not valid JSON (${(err as Error).message})`);
  }
}

function triple(v: unknown, what: string): [number, number, number] {
  if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'number' && Number.isFinite(x)))
    fail('DATA', `${what} must be three numbers`);
  return v as [number, number, number];
}

/**
 * The evaluation-only datasets of fomo_in_flux's default experiment (configs/experiment/
 * continualfomo_default.yaml, evaluation.additional_datasets), by registry key: A_ZS covers these by
 * default. Several are not marked eval_only in the registry; they are simply not in the adaptation streams.
 */
export const FOMO_EVALUATION_DATASETS = [
  'caltech101',
  'caltech256',
  'cars196',
  'cifar10',
  'domainnet_quickdraw',
  'eurosat',
  'fashionmnist',
  'flickr30k',
  'food101',
  'gtsrb',
  'imagenet',
  'imagenet_a',
  'imagenet_d',
  'imagenet_r',
  'imagenet_s',
  'imagenet_v2',
  'mnist',
  'monkeys10',
  'mscoco',
  'oxford_pets',
  'stl10',
  'svhn',
] as const;

/**
 * The default evaluation-only datasets (folders): the official experiment's list and anything the
 * registry marks eval_only, less the datasets the stream adapts on.
 */
export function defaultEvaluationDatasets(
  registry: ReadonlyMap<string, DatasetInfo>,
  adaptation: ReadonlySet<string>,
): string[] {
  const official = new Set<string>(FOMO_EVALUATION_DATASETS);
  return [...registry.values()]
    .filter((d) => (d.evalOnly || official.has(d.key)) && !adaptation.has(d.folder))
    .map((d) => d.folder);
}

/** The dataset registry, keyed by folder name (streams and annotation files use folders). */
export function loadDatasetRegistry(
  path = new URL('./fomo-datasets.json', import.meta.url).pathname,
): Map<string, DatasetInfo> {
  const json = readJson(path, 'the dataset registry') as Record<string, Record<string, unknown>>;
  const out = new Map<string, DatasetInfo>();
  for (const [key, d] of Object.entries(json)) {
    const where = `${path}: dataset "${key}"`;
    if (typeof d.folder !== 'string' || typeof d.primer !== 'string')
      fail('DATA', `${where} needs "folder" and "primer" strings`);
    if (d.type !== 'classification' && d.type !== 'retrieval')
      fail('DATA', `${where}: type must be classification or retrieval`);
    const std = triple(d.std, `${where} std`);
    if (std.some((s) => s <= 0)) fail('DATA', `${where}: std values must be positive`);
    out.set(d.folder, {
      key,
      folder: d.folder,
      infoPrefix: typeof d.info_prefix === 'string' ? d.info_prefix : null,
      primer: d.primer,
      mean: triple(d.mean, `${where} mean`),
      std,
      imgSize: typeof d.img_size === 'number' ? d.img_size : 224,
      type: d.type,
      evalOnly: d.eval_only === true,
      resizedVariant: d.create_resized_variant_if_possible === true,
    });
  }
  return out;
}

/** The training text: default_caption when set, else synthetic_merged_caption (a list: pick at batch time). */
function trainingCaptions(e: AnnotationEntry): string[] {
  if (typeof e.default_caption === 'string') return [e.default_caption];
  const m = e.synthetic_merged_caption;
  if (typeof m === 'string') return [m];
  if (Array.isArray(m) && m.length > 0) return m.filter((x): x is string => typeof x === 'string');
  return e.primer_caption ? [e.primer_caption] : [e.classname];
}

/**
 * Reads one split's annotations. With `preferResized`, <folder>_<split>_224.json is used when it exists;
 * its image keys are relative to <folder>/<folder>_<split>_224/ (keys already carrying that prefix are
 * taken as relative to <folder>/).
 */
export function readAnnotations(layout: FomoLayout, info: DatasetInfo, split: Split, preferResized = true): Sample[] {
  const resizedFile = join(layout.infoDir, `${info.folder}_${split}_224.json`);
  const useResized = preferResized && existsSync(resizedFile);
  const file = useResized ? resizedFile : join(layout.infoDir, `${info.folder}_${split}.json`);
  const json = readJson(file, `the ${split} annotations of ${info.folder}`);
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    fail('DATA', `${file}: expected an object mapping image paths to annotations`);
  const resizedDir = `${info.folder}_${split}_224`;
  const out: Sample[] = [];
  for (const [rel, e] of Object.entries(json as Record<string, AnnotationEntry>)) {
    if (typeof e !== 'object' || e === null || typeof e.classname !== 'string' || typeof e.target !== 'number') {
      fail('DATA', `${file}: entry "${rel}" needs a "classname" string and a "target" number`);
    }
    const sub = useResized && !rel.startsWith(`${resizedDir}/`) ? join(resizedDir, rel) : rel;
    out.push({
      dataset: info.folder,
      path: join(layout.dataDir, info.folder, sub),
      classname: e.classname,
      target: e.target,
      captions: trainingCaptions(e),
    });
  }
  return out;
}

/** Class names by target index; retrieval sets have none (the distinct classnames of the split stand in). */
export function readClassnames(layout: FomoLayout, info: DatasetInfo): string[] {
  if (!info.infoPrefix) fail('DATA', `dataset ${info.folder} has no class-name file (it is a ${info.type} set)`);
  const file = join(layout.infoDir, `${info.infoPrefix}_classnames.json`);
  const json = readJson(file, `the class names of ${info.folder}`);
  if (!Array.isArray(json) || !json.every((x) => typeof x === 'string'))
    fail('DATA', `${file}: expected a JSON list of class names`);
  return json;
}

/** One stream entry: a class of a dataset. */
export interface StreamEntry {
  readonly dataset: string;
  readonly classname: string;
}

/** Reads an ordered "DATASET+++classname" list (a name looks in the layout's stream directory). */
export function readStream(layout: FomoLayout, stream: string): StreamEntry[] {
  const file =
    isAbsolute(stream) || stream.includes('/')
      ? stream
      : join(layout.streamDir, stream.endsWith('.json') ? stream : `${stream}.json`);
  const json = readJson(file, 'the stream');
  if (!Array.isArray(json)) fail('DATA', `${file}: a stream is a JSON list of "DATASET+++classname" strings`);
  return json.map((s, i) => {
    const parts = typeof s === 'string' ? s.split('+++') : [];
    if (parts.length !== 2 || !parts[0] || !parts[1])
      fail('DATA', `${file}: entry ${i} ${JSON.stringify(s)} is not "DATASET+++classname"`);
    return { dataset: parts[0], classname: parts[1] };
  });
}

/** Cuts N entries into T tasks in order: floor(N/T) each, the first N mod T tasks one more (official rule). */
export function cutStream<E>(entries: readonly E[], T: number): E[][] {
  if (!Number.isInteger(T) || T < 1) fail('CONFIG', `T must be a positive integer, got ${T}`);
  if (T > entries.length) fail('CONFIG', `cannot cut a stream of ${entries.length} entries into ${T} tasks`);
  const base = Math.floor(entries.length / T);
  const extra = entries.length % T;
  const out: E[][] = [];
  let at = 0;
  for (let t = 0; t < T; t++) {
    const n = base + (t < extra ? 1 : 0);
    out.push(entries.slice(at, at + n));
    at += n;
  }
  return out;
}

/** Groups entries by dataset, in order of first appearance: one task per dataset. */
export function cutPerDataset(entries: readonly StreamEntry[]): StreamEntry[][] {
  const groups = new Map<string, StreamEntry[]>();
  for (const e of entries) {
    const g = groups.get(e.dataset);
    if (g) g.push(e);
    else groups.set(e.dataset, [e]);
  }
  return [...groups.values()];
}
