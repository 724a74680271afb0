/**
 * A folder holding what `time-merge clip` needs for a seconds-long run: a generated FoMo-in-Flux tree
 * (two adaptation datasets and one evaluation-only), a freshly initialised tiny CLIP checkpoint, and the
 * study YAML's common lines (tokenizer, data, stream, wasm backend).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initClipParams } from '../src/clip/init.js';
import { makeTinyFomo, TINY_CLIP, type TinyDataset } from '../src/clip/tiny.js';
import { saveClipCheckpoint } from '../src/clip/weights.js';
import { BPE_VOCAB } from './shared-fixtures.js';

/** The study YAML lines every tiny run shares; a test adds study, T, steps, batch, methods, out. */
export const TINY_STUDY_COMMON =
  `model: model.safetensors\ntokenizer: ${BPE_VOCAB}\ndata: { root: ., registry: datasets.json }\n` +
  `stream: tiny_sequence\nbackend: wasm\neval: { maxSamples: 4 }\n`;

/** The second adaptation dataset most tiny runs use: two classes, retrieval-scored. */
export const TINY_SKETCHES: TinyDataset = {
  folder: 'SKETCHES',
  classes: ['blue', 'white'],
  style: 'stripes',
  type: 'retrieval',
};

export async function makeTinyClipTree(prefix: string, second: TinyDataset = TINY_SKETCHES): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  await makeTinyFomo(root, {
    trainPerClass: 2,
    testPerClass: 2,
    imageSize: 32,
    datasets: [
      { folder: 'COLOURS', classes: ['red', 'green'], style: 'solid' },
      second,
      { folder: 'HELDOUT', classes: ['pink', 'black'], style: 'checks', evalOnly: true },
    ],
  });
  await saveClipCheckpoint(join(root, 'model.safetensors'), initClipParams(TINY_CLIP, 2), TINY_CLIP, 'open_clip');
  return root;
}
