import { fc, test as fcTest } from '@fast-check/vitest';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { batchShares, PoolSampler } from '../src/clip/batches.js';
import { buildStream, FomoData } from '../src/clip/data.js';
import {
  cutPerDataset,
  cutStream,
  defaultEvaluationDatasets,
  FOMO_EVALUATION_DATASETS,
  fomoLayout,
  loadDatasetRegistry,
  readAnnotations,
  readClassnames,
  readStream,
  type Sample,
} from '../src/clip/fomo.js';
import { evalSubset } from '../src/clip/evaluator.js';
import { TimeMergeError } from '../src/params/errors.js';
import { FOMO_FIXTURES } from './shared-fixtures.js';

const FIX = FOMO_FIXTURES;

/** A FoMo-in-Flux root holding the fixture's DTD files (the sample as the whole train split). */
function dtdRoot(withResized = false): string {
  const root = mkdtempSync(join(tmpdir(), 'fomo-'));
  const info = join(root, 'data_lib', '00_info');
  mkdirSync(info, { recursive: true });
  mkdirSync(join(root, 'stream_construction'));
  copyFileSync(join(FIX, 'DTD_train.sample.json'), join(info, 'DTD_train.json'));
  copyFileSync(join(FIX, 'DTD_classnames.json'), join(info, 'DTD_classnames.json'));
  copyFileSync(
    join(FIX, 'random_sequence_1_short.json'),
    join(root, 'stream_construction', 'random_sequence_1_short.json'),
  );
  if (withResized) {
    writeFileSync(
      join(info, 'DTD_train_224.json'),
      JSON.stringify({
        'banded/banded_0005.jpg': {
          classname: 'banded',
          default_caption: 'a banded thing',
          primer_caption: 'A photo of a banded texture.',
          synthetic_caption: [],
          synthetic_merged_caption: [],
          target: 0,
        },
      }),
    );
  }
  return root;
}

function expectError(fn: () => unknown, code: string, ...parts: string[]): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TimeMergeError);
    expect((err as TimeMergeError).code).toBe(code);
    for (const p of parts) expect((err as Error).message).toContain(p);
    return;
  }
  throw new Error('expected an error');
}

describe('dataset registry', () => {
  const reg = loadDatasetRegistry();
  it('holds the official entries keyed by folder', () => {
    expect(reg.size).toBe(67);
    expect(reg.get('DTD')).toMatchObject({
      key: 'dtd',
      primer: 'A photo of a {} texture.',
      type: 'classification',
      evalOnly: false,
      infoPrefix: 'DTD',
    });
    expect(reg.get('CALTECH101')!.mean).toEqual([0.5454, 0.5259, 0.4989]);
    expect(reg.get('IMAGENET')!.evalOnly).toBe(true);
    expect(reg.get('FSCOCO')).toMatchObject({ type: 'retrieval', evalOnly: false });
    expect(reg.get('MSCOCO')).toMatchObject({ type: 'retrieval', infoPrefix: null });
  });
});

describe('annotations and class names', () => {
  it('reads the official annotation format; captions fall back to synthetic_merged_caption', () => {
    const root = dtdRoot();
    const layout = fomoLayout(root);
    const s = readAnnotations(layout, loadDatasetRegistry().get('DTD')!, 'train');
    expect(s).toHaveLength(16);
    expect(s[0]).toEqual({
      dataset: 'DTD',
      path: join(root, 'data', 'DTD', 'dtd/dtd/images/banded/banded_0005.jpg'),
      classname: 'banded',
      target: 0,
      captions: ['The photo depicts a banded texture with white and pink stripes in a gradient pattern.'],
    });
    expect(readClassnames(layout, loadDatasetRegistry().get('DTD')!).slice(0, 3)).toEqual([
      'banded',
      'blotchy',
      'braided',
    ]);
    expect(readClassnames(layout, loadDatasetRegistry().get('DTD')!)).toHaveLength(47);
  });

  it('prefers the _224 variant, with images under <FOLDER>/<FOLDER>_<split>_224/', () => {
    const root = dtdRoot(true);
    const dtd = loadDatasetRegistry().get('DTD')!;
    const s = readAnnotations(fomoLayout(root), dtd, 'train');
    expect(s).toEqual([
      {
        dataset: 'DTD',
        path: join(root, 'data', 'DTD', 'DTD_train_224', 'banded/banded_0005.jpg'),
        classname: 'banded',
        target: 0,
        captions: ['a banded thing'],
      },
    ]);
    expect(readAnnotations(fomoLayout(root), dtd, 'train', false)).toHaveLength(16);
  });

  it('names the file at fault', () => {
    const root = dtdRoot();
    const reg = loadDatasetRegistry();
    expectError(() => readAnnotations(fomoLayout(root), reg.get('CUB200')!, 'test'), 'IO', 'CUB200_test.json');
    writeFileSync(
      join(root, 'data_lib', '00_info', 'DTD_test.json'),
      JSON.stringify({ 'a.jpg': { classname: 'banded' } }),
    );
    expectError(
      () => readAnnotations(fomoLayout(root), reg.get('DTD')!, 'test'),
      'DATA',
      'DTD_test.json',
      '"a.jpg"',
      'target',
    );
  });
});

describe('streams', () => {
  it('reads the official stream and cuts it into T tasks', () => {
    const layout = fomoLayout(dtdRoot());
    const entries = readStream(layout, 'random_sequence_1_short');
    expect(entries).toHaveLength(1000);
    expect(entries[0]).toEqual({ dataset: 'PLACES365', classname: 'church outdoor' });
    expect(cutStream(entries, 20).map((t) => t.length)).toEqual(new Array(20).fill(50));
    expect(cutStream(entries, 3).map((t) => t.length)).toEqual([334, 333, 333]);
  });

  it('cuts N entries: floor(N/T) each, the first N mod T tasks one more', () => {
    expect(cutStream([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 4)).toEqual([
      [1, 2, 3],
      [4, 5, 6],
      [7, 8],
      [9, 10],
    ]);
    expectError(() => cutStream([1, 2], 3), 'CONFIG', '2 entries', '3 tasks');
    expectError(() => cutStream([1, 2], 0), 'CONFIG', 'T must be');
  });

  fcTest.prop([fc.array(fc.integer(), { minLength: 1, maxLength: 200 }), fc.integer({ min: 1, max: 200 })])(
    'a cut keeps order, sizes differ by at most one and do not increase',
    (xs, t) => {
      fc.pre(t <= xs.length);
      const tasks = cutStream(xs, t);
      expect(tasks).toHaveLength(t);
      expect(tasks.flat()).toEqual(xs);
      const sizes = tasks.map((x) => x.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      for (let i = 1; i < sizes.length; i++) expect(sizes[i]).toBeLessThanOrEqual(sizes[i - 1]);
    },
  );

  it('groups per dataset in order of first appearance', () => {
    const e = [
      { dataset: 'A', classname: 'x' },
      { dataset: 'B', classname: 'y' },
      { dataset: 'A', classname: 'z' },
    ];
    expect(cutPerDataset(e)).toEqual([[e[0], e[2]], [e[1]]]);
  });

  it('rejects malformed entries and unknown datasets', () => {
    const root = dtdRoot();
    writeFileSync(join(root, 'stream_construction', 'bad.json'), JSON.stringify(['DTD+++banded', 'no separator']));
    expectError(() => readStream(fomoLayout(root), 'bad'), 'DATA', 'bad.json', 'entry 1', 'no separator');
    writeFileSync(join(root, 'stream_construction', 'unknown.json'), JSON.stringify(['NOPE+++x']));
    const data = new FomoData(fomoLayout(root), loadDatasetRegistry());
    expectError(() => buildStream(data, { stream: 'unknown', T: 1 }, () => false), 'DATA', 'NOPE');
  });

  it('builds TIME tasks: classes grouped per dataset, evaluation-only sets as zero-shot tasks', () => {
    const root = dtdRoot();
    const data = new FomoData(fomoLayout(root), loadDatasetRegistry());
    const s = buildStream(data, { stream: 'random_sequence_1_short', T: 4, zeroshot: ['IMAGENET'] }, () => true);
    expect(s.adaptation).toHaveLength(4);
    expect(s.adaptation[0].id).toMatch(/^t1:PLACES365\+MITSTATES\+iNATURALIST2021\+\d+more$/);
    const parts = s.adaptation[0].data.parts;
    expect(parts.reduce((n, p) => n + p.classnames!.length, 0)).toBe(250);
    expect(parts[0]).toMatchObject({ dataset: 'PLACES365' });
    expect(parts[0].classnames![0]).toBe('church outdoor');
    expect(s.zeroshot).toEqual([
      { id: 'zs:IMAGENET', role: 'zeroshot', data: { parts: [{ dataset: 'IMAGENET', classnames: null }] } },
    ]);
    const dflt = buildStream(data, { stream: 'random_sequence_1_short', T: 'per-dataset' }, (f) => f === 'MSCOCO');
    expect(dflt.zeroshot.map((t) => t.id)).toEqual(['zs:MSCOCO']);
    expect(dflt.adaptation).toHaveLength(37);
  });

  it("defaults A_ZS to the official experiment's 22 evaluation-only datasets, less those the stream adapts on", () => {
    const registry = loadDatasetRegistry();
    const all = defaultEvaluationDatasets(registry, new Set());
    expect(all).toHaveLength(22);
    expect(all.map((f) => registry.get(f)!.key)).toEqual([...FOMO_EVALUATION_DATASETS]);
    const caltech = registry.get(all[0])!;
    expect(caltech.key).toBe('caltech101');
    expect(defaultEvaluationDatasets(registry, new Set([caltech.folder]))).toEqual(all.slice(1));
  });

  it('evaluates a seeded fraction of each test set, as validate_on_subset, capped by maxSamples', () => {
    const samples = Array.from({ length: 95 }, (_, i) => ({ path: `p${i}` }) as Sample);
    const tenth = evalSubset(samples, 't1/DTD', undefined, 0, 0.1);
    expect(tenth).toHaveLength(10); // ceil(9.5)
    expect(tenth.map((s) => Number(s.path.slice(1)))).toEqual(
      [...tenth.map((s) => Number(s.path.slice(1)))].sort((a, b) => a - b),
    );
    expect(evalSubset(samples, 't1/DTD', undefined, 0, 0.1)).toEqual(tenth);
    expect(evalSubset(samples, 't1/DTD', undefined, 1, 0.1)).not.toEqual(tenth);
    expect(evalSubset(samples, 't1/DTD', 4, 0, 0.1)).toHaveLength(4);
    expect(evalSubset(samples, 't1/DTD', undefined, 0, 1)).toBe(samples);
    expect(evalSubset(samples.slice(0, 3), 'x', undefined, 0, 0.1)).toHaveLength(1);
  });

  it("selects a task's samples by class", () => {
    const data = new FomoData(fomoLayout(dtdRoot()), loadDatasetRegistry());
    const all = data.split('DTD', 'train');
    const picked = data.samples({ parts: [{ dataset: 'DTD', classnames: ['banded'] }] }, 'train');
    expect(picked.length).toBeGreaterThan(0);
    expect(picked).toEqual(all.filter((s) => s.classname === 'banded'));
  });
});

describe('batch composition', () => {
  it('splits by the released replay proportions (largest remainder)', () => {
    const mix = { pretrain: 0.33, current: 0.34, buffer: 0.33 };
    expect(batchShares(16, mix, { pretrain: true, buffer: true })).toEqual({ pretrain: 5, current: 6, buffer: 5 });
    expect(batchShares(512, mix, { pretrain: true, buffer: true })).toEqual({
      pretrain: 169,
      current: 174,
      buffer: 169,
    });
    // No earlier tasks at step 1: the buffer's share is spread over the rest.
    expect(batchShares(16, mix, { pretrain: true, buffer: false })).toEqual({ pretrain: 8, current: 8, buffer: 0 });
    expect(batchShares(7, { pretrain: 0, current: 1, buffer: 0 }, { pretrain: true, buffer: true })).toEqual({
      pretrain: 0,
      current: 7,
      buffer: 0,
    });
  });

  fcTest.prop([
    fc.integer({ min: 2, max: 1024 }),
    fc.float({ min: 0, max: 1, noNaN: true }),
    fc.float({ min: 0, max: 1, noNaN: true }),
    fc.float({ min: 0, max: 1, noNaN: true }),
    fc.boolean(),
    fc.boolean(),
  ])('shares sum to the batch and leave unavailable pools empty', (size, p, c, b, hasP, hasB) => {
    const s = batchShares(size, { pretrain: p, current: c, buffer: b }, { pretrain: hasP, buffer: hasB });
    expect(s.pretrain + s.current + s.buffer).toBe(size);
    if (!hasP || p === 0) expect(s.pretrain).toBe(0);
    if (!hasB || b === 0) expect(s.buffer).toBe(0);
  });

  it('draws every sample once per pass, reshuffled with the seed', () => {
    const pool = Array.from({ length: 5 }, (_, i) => ({ path: `${i}` }) as Sample);
    const a = new PoolSampler('p', pool, seedrandom('x'));
    const first = a.take(5).map((s) => s.path);
    expect([...first].sort()).toEqual(['0', '1', '2', '3', '4']);
    expect([...a.take(5).map((s) => s.path)].sort()).toEqual(['0', '1', '2', '3', '4']);
    expect(new PoolSampler('p', pool, seedrandom('x')).take(5).map((s) => s.path)).toEqual(first);
    expectError(() => new PoolSampler('empty', [], seedrandom('x')).take(1), 'DATA', 'empty');
  });
});
