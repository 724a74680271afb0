import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClipConfig } from './config.js';
import { initClipParams } from './init.js';
import { makeTinyFomo, TINY_CLIP, type TinyDataset } from './tiny.js';
import { bytesToUnicode } from './tokenizer.js';
import { saveClipCheckpoint } from './weights.js';

/** The demo's datasets: two classification sets and a retrieval set to adapt to, one evaluation-only set. */
const DEMO_DATASETS: readonly TinyDataset[] = [
  { folder: 'COLOURS', classes: ['red', 'green', 'blue'], style: 'solid' },
  { folder: 'STRIPES', classes: ['yellow', 'purple', 'orange'], style: 'stripes' },
  { folder: 'SKETCHES', classes: ['brown', 'white'], style: 'checks', type: 'retrieval' },
  { folder: 'HELDOUT', classes: ['pink', 'black'], style: 'checks', evalOnly: true },
];

/**
 * A byte-level BPE tokenizer.json that knows whole words of the demo's captions: every byte alone and
 * word-final, then merges building each word left to right. Any text still tokenises (into bytes where
 * no merge applies); the demo's captions take one token per word, so they fit the tiny context.
 */
export function demoTokenizerJson(words: readonly string[]): { json: unknown; vocabSize: number } {
  const bytes = bytesToUnicode();
  const vocab: Record<string, number> = {};
  const add = (piece: string) => {
    if (!(piece in vocab)) vocab[piece] = Object.keys(vocab).length;
  };
  for (const b of bytes) add(b);
  for (const b of bytes) add(`${b}</w>`);
  const merges: string[] = [];
  for (const word of [...new Set(words.map((w) => w.toLowerCase()))]) {
    const chars = Array.from(new TextEncoder().encode(word), (b) => bytes[b]);
    chars[chars.length - 1] += '</w>';
    let left = chars[0];
    for (const next of chars.slice(1)) {
      merges.push(`${left} ${next}`);
      left += next;
      add(left);
    }
  }
  // The end token has the highest id: the text feature is read at the highest id of each sequence.
  add('<|startoftext|>');
  add('<|endoftext|>');
  const json = {
    added_tokens: [
      { id: vocab['<|startoftext|>'], content: '<|startoftext|>' },
      { id: vocab['<|endoftext|>'], content: '<|endoftext|>' },
    ],
    model: { type: 'BPE', vocab, merges },
  };
  return { json, vocabSize: Object.keys(vocab).length };
}

/** The demo's study: it reads the paths relative to itself, so the folder can be moved. */
const DEMO_STUDY = `# A demo CLIP study: a tiny, freshly initialised CLIP (0.16M parameters) on a generated
# FoMo-in-Flux tree (made-up colour and pattern datasets). It shows the whole TIME pipeline and the
# results folder in well under a minute on a CPU; the numbers say nothing about real CLIP models.
# Run it with:  time-merge clip clip-demo.yaml
study: clip-demo
model: model/model.safetensors          # open_clip naming, config in the checkpoint's metadata
tokenizer: model/tokenizer.json
data: { root: fomo, registry: fomo/datasets.json }   # a real tree needs only root (docs/clip.md)
stream: tiny_sequence                   # fomo/stream_construction/tiny_sequence.json
T: per-dataset                          # one task per adaptation dataset: 3 tasks
steps: 12                               # optimiser steps per task
batch: 8
lr: 0.001
methods: [finetune, offline_merge, ema_paint]
technique: weighted-average
baselines: [zeroshot]
seeds: [0]
engine: auto                            # torch when Python with torch is found, else TensorFlow.js
device: cpu
eval: { maxSamples: 6 }
out: results                            # relative to this file
`;

/**
 * Writes a runnable clip study into `dir`: the tiny FoMo-in-Flux tree under fomo/, a fresh tiny CLIP and
 * its tokenizer under model/, and clip-demo.yaml. Returns the study file's path.
 */
export async function writeClipDemo(dir: string): Promise<string> {
  await mkdir(join(dir, 'model'), { recursive: true });
  await makeTinyFomo(join(dir, 'fomo'), {
    datasets: DEMO_DATASETS,
    trainPerClass: 4,
    testPerClass: 3,
    imageSize: 32,
  });
  const words = DEMO_DATASETS.flatMap((d) => d.classes).concat(['a', 'photo', 'of', 'picture', 'things']);
  words.push(...Array.from({ length: 10 }, (_, i) => String(i + 1)));
  const { json, vocabSize } = demoTokenizerJson(words);
  await writeFile(join(dir, 'model', 'tokenizer.json'), JSON.stringify(json));
  // TINY_CLIP with the demo vocabulary: the 49408-token embedding would be most of the model.
  const config: ClipConfig = { ...TINY_CLIP, text: { ...TINY_CLIP.text, vocabSize } };
  await saveClipCheckpoint(join(dir, 'model', 'model.safetensors'), initClipParams(config, 0), config, 'open_clip');
  const study = join(dir, 'clip-demo.yaml');
  await writeFile(study, DEMO_STUDY);
  return study;
}
