import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import seedrandom from 'seedrandom';
import sharp from 'sharp';
import type { ClipConfig } from './config.js';
import { own } from '../params/own.js';

/** A tiny CLIP (about 2M parameters, most of them the token embedding) for tests, demos and benchmarks. */
export const TINY_CLIP: ClipConfig = {
  embedDim: 32,
  quickGelu: false,
  vision: { imageSize: 32, patchSize: 8, width: 64, layers: 2, heads: 2, mlpWidth: 256 },
  text: { contextLength: 24, vocabSize: 49408, width: 32, layers: 2, heads: 2, mlpWidth: 128 },
};

export interface TinyDataset {
  readonly folder: string;
  readonly classes: readonly string[];
  /** Drawing style: every dataset looks different, every class has its own colour. */
  readonly style: 'solid' | 'stripes' | 'checks';
  readonly primer?: string;
  readonly evalOnly?: boolean;
  /** Give training captions as synthetic_merged_caption lists instead of default_caption. */
  readonly syntheticCaptions?: boolean;
  /**
   * Retrieval sets score R@k over image-caption pairs, and every image gets a caption of its own. Like the
   * real ones, an adaptation retrieval set keeps a class-name file (FSCOCO) and an evaluation-only one
   * has none (info_prefix null, as MSCOCO and FLICKR30K).
   */
  readonly type?: 'classification' | 'retrieval';
}

export interface TinyFomoOptions {
  readonly datasets: readonly TinyDataset[];
  readonly trainPerClass: number;
  readonly testPerClass: number;
  readonly imageSize?: number;
  readonly seed?: number;
  /** Stream file name in stream_construction/; entries go dataset by dataset, classes in order. */
  readonly streamName?: string;
}

const PALETTE: Record<string, [number, number, number]> = {
  red: [220, 30, 30],
  green: [30, 200, 40],
  blue: [30, 60, 220],
  yellow: [230, 220, 30],
  purple: [150, 40, 200],
  orange: [250, 140, 20],
  black: [15, 15, 15],
  white: [240, 240, 240],
  pink: [250, 120, 190],
  brown: [120, 70, 20],
};

function colourOf(name: string, index: number): [number, number, number] {
  return own(PALETTE, name) ?? [(index * 97) % 256, (index * 57 + 80) % 256, (index * 151 + 40) % 256];
}

function draw(style: TinyDataset['style'], rgb: [number, number, number], size: number, rng: () => number): Buffer {
  const px = Buffer.alloc(size * size * 3);
  const phase = Math.floor(rng() * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const on =
        style === 'solid'
          ? true
          : style === 'stripes'
            ? Math.floor((y + phase) / 4) % 2 === 0
            : (Math.floor((x + phase) / 5) + Math.floor(y / 5)) % 2 === 0;
      for (let c = 0; c < 3; c++) {
        const base = on ? rgb[c] : 255 - rgb[c];
        px[(y * size + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(base + (rng() - 0.5) * 40)));
      }
    }
  }
  return px;
}

/**
 * Writes a FoMo-in-Flux-layout tree under `root`: data/<FOLDER>/<split>/<class>/<i>.png images,
 * data_lib/00_info/<FOLDER>_{train,test}.json annotations and <FOLDER>_classnames.json, a stream in
 * stream_construction/, and datasets.json (the registry entries of these made-up datasets).
 */
export async function makeTinyFomo(root: string, o: TinyFomoOptions): Promise<{ registry: string; stream: string }> {
  const size = o.imageSize ?? 40;
  const info = join(root, 'data_lib', '00_info');
  const streams = join(root, 'stream_construction');
  await mkdir(info, { recursive: true });
  await mkdir(streams, { recursive: true });
  const registry: Record<string, unknown> = {};
  const stream: string[] = [];
  for (const d of o.datasets) {
    const primer = d.primer ?? 'A photo of a {}.';
    const type = d.type ?? 'classification';
    const infoPrefix = type === 'retrieval' && d.evalOnly ? null : d.folder;
    registry[d.folder.toLowerCase()] = {
      folder: d.folder,
      info_prefix: infoPrefix,
      primer,
      mean: [0.5, 0.5, 0.5],
      std: [0.25, 0.25, 0.25],
      img_size: size,
      type,
      eval_only: d.evalOnly === true,
      create_resized_variant_if_possible: false,
    };
    if (infoPrefix) await writeFile(join(info, `${infoPrefix}_classnames.json`), JSON.stringify(d.classes, null, 1));
    for (const split of ['train', 'test'] as const) {
      const n = split === 'train' ? o.trainPerClass : o.testPerClass;
      const ann: Record<string, unknown> = {};
      for (const [target, cls] of d.classes.entries()) {
        const dir = join(root, 'data', d.folder, split, cls);
        await mkdir(dir, { recursive: true });
        for (let i = 0; i < n; i++) {
          const rng = seedrandom(`tiny-fomo/${o.seed ?? 0}/${d.folder}/${split}/${cls}/${i}`);
          const rel = `${split}/${cls}/${i}.png`;
          await sharp(draw(d.style, colourOf(cls, target), size, rng), {
            raw: { width: size, height: size, channels: 3 },
          })
            .png()
            .toFile(join(root, 'data', d.folder, rel));
          const text = primer.replaceAll('{}', cls);
          const caption = type === 'retrieval' ? `${text}, picture ${i + 1}` : text;
          ann[rel] = {
            classname: cls,
            default_caption: d.syntheticCaptions ? null : caption,
            primer_caption: text,
            synthetic_caption: [`${cls} things`],
            synthetic_merged_caption: [text, `${text} ${cls}`],
            target,
          };
        }
      }
      await writeFile(join(info, `${d.folder}_${split}.json`), JSON.stringify(ann, null, 1));
    }
    if (!d.evalOnly) for (const cls of d.classes) stream.push(`${d.folder}+++${cls}`);
  }
  const registryPath = join(root, 'datasets.json');
  await writeFile(registryPath, JSON.stringify(registry, null, 1));
  const name = o.streamName ?? 'tiny_sequence';
  await writeFile(join(streams, `${name}.json`), JSON.stringify(stream, null, 4));
  return { registry: registryPath, stream: name };
}
