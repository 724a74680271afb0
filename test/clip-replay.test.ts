import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/clip/backend.js';
import { buildStream, FomoData, type ClipTask } from '../src/clip/data.js';
import { fomoLayout, loadDatasetRegistry, type Sample } from '../src/clip/fomo.js';
import { initClipParams } from '../src/clip/init.js';
import { makeTinyFomo, TINY_CLIP } from '../src/clip/tiny.js';
import { ClipTokenizer } from '../src/clip/tokenizer.js';
import { ClipTrainer } from '../src/clip/trainer.js';
import type { ReplayMix } from '../src/time/types.js';
import { BPE_VOCAB as BPE } from './shared-fixtures.js';

describe('replay in CLIP training batches', () => {
  let root: string;
  let data: FomoData;
  let tasks: readonly ClipTask[];
  const tokenizer = ClipTokenizer.fromBpeFile(BPE);
  const base = initClipParams(TINY_CLIP, 4);

  beforeAll(async () => {
    await selectBackend('wasm');
    root = await mkdtemp(join(tmpdir(), 'clip-replay-'));
    const { registry } = await makeTinyFomo(root, {
      trainPerClass: 3,
      testPerClass: 1,
      imageSize: 32,
      datasets: [
        { folder: 'COLOURS', classes: ['red', 'green'], style: 'solid' },
        { folder: 'STRIPES', classes: ['blue', 'white'], style: 'stripes' },
        // Not in the stream: its train split stands in for pretraining data.
        { folder: 'WEB', classes: ['pink', 'black'], style: 'checks', evalOnly: true },
      ],
    });
    data = new FomoData(fomoLayout(root), loadDatasetRegistry(registry));
    tasks = buildStream(data, { stream: 'tiny_sequence', T: 2, zeroshot: [] }, () => false).adaptation;
  }, 30_000);
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** Trains `steps` steps on task 2 (task 1 earlier) and returns every batch the trainer drew. */
  async function batches(replay: ReplayMix, previous: readonly ClipTask[], steps = 3): Promise<Sample[][]> {
    const seen: Sample[][] = [];
    const trainer = new ClipTrainer(data, TINY_CLIP, tokenizer, {
      batchSize: 6,
      pretrainDatasets: ['WEB'],
      onBatch: (b, step) => (seen[step] = [...b]),
    });
    const result = await trainer.train({ init: base, tasks: [tasks[1]], previous, replay, steps, seed: 7 });
    expect(result.steps).toBe(steps);
    expect(seen).toHaveLength(steps);
    return seen;
  }

  const where = (s: Sample) => `${s.dataset}/${s.classname}`;
  const fromTrainSplit = (s: Sample) => s.path.includes(`${sep}${s.dataset}${sep}train${sep}`);

  it('0.33/0.34/0.33 fills each batch of 6 with 2 pretraining, 2 current-task and 2 earlier-task samples', async () => {
    const seen = await batches({ pretrain: 0.33, current: 0.34, buffer: 0.33 }, [tasks[0]]);
    for (const b of seen) {
      expect(b.every(fromTrainSplit)).toBe(true);
      expect(b.slice(0, 2).map((s) => s.dataset)).toEqual(['WEB', 'WEB']);
      expect(b.slice(2, 4).every((s) => where(s) === 'STRIPES/blue' || where(s) === 'STRIPES/white')).toBe(true);
      expect(b.slice(4, 6).every((s) => where(s) === 'COLOURS/red' || where(s) === 'COLOURS/green')).toBe(true);
    }
    // Pools are drawn without replacement: 3 batches x 2 take each pool's 6 images exactly once.
    for (const [from, to] of [
      [0, 2],
      [2, 4],
      [4, 6],
    ]) {
      const drawn = seen.flatMap((b) => b.slice(from, to).map((s) => s.path));
      expect(new Set(drawn).size).toBe(6);
    }
  });

  it('0/1/0 trains on the current task only, though earlier tasks and pretraining data exist', async () => {
    const seen = await batches({ pretrain: 0, current: 1, buffer: 0 }, [tasks[0]]);
    for (const b of seen) {
      expect(b).toHaveLength(6);
      expect(b.every((s) => s.dataset === 'STRIPES' && fromTrainSplit(s))).toBe(true);
    }
  });

  it('the buffer share falls to the current task while there are no earlier tasks', async () => {
    const seen = await batches({ pretrain: 0, current: 0.5, buffer: 0.5 }, [], 1);
    expect(seen[0].map((s) => s.dataset)).toEqual(Array(6).fill('STRIPES'));
  });
});
