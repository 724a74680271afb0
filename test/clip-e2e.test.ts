import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initClipParams } from '../src/clip/init.js';
import { parseClipStudy, runClipStudy, type ClipStudyResult } from '../src/clip/study.js';
import { makeTinyFomo, TINY_CLIP } from '../src/clip/tiny.js';
import { saveClipCheckpoint } from '../src/clip/weights.js';
import { TimeMergeError } from '../src/params/errors.js';
import { csvObjects } from '../src/report/csv.js';
import { BPE_VOCAB as BPE } from './shared-fixtures.js';

function csv(path: string): Record<string, string>[] {
  return csvObjects(readFileSync(path, 'utf8'));
}

/** matrix.csv as (run, step, task) records, whether written long (task_id column) or wide (<role>:<task id> columns). */
function matrixRecords(path: string): { run_id: string; step: string; task_id: string; score: string }[] {
  const rows = csv(path);
  if (rows.length === 0 || 'task_id' in rows[0]) return rows as never;
  return rows.flatMap((r) =>
    Object.entries(r)
      .filter(([c, v]) => c.includes(':') && v !== '')
      .map(([c, score]) => ({ run_id: r.run_id, step: r.step, task_id: c.slice(c.indexOf(':') + 1), score })),
  );
}

describe('time-merge clip end to end (tiny CLIP, tiny FoMo-in-Flux tree, wasm)', () => {
  const root = mkdtempSync(join(tmpdir(), 'clip-e2e-'));
  let result: ClipStudyResult;
  const logs: string[] = [];

  beforeAll(async () => {
    await makeTinyFomo(root, {
      trainPerClass: 5,
      testPerClass: 3,
      datasets: [
        { folder: 'COLOURS', classes: ['red', 'green', 'blue'], style: 'solid' },
        { folder: 'STRIPES', classes: ['purple', 'orange', 'black'], style: 'stripes', syntheticCaptions: true },
        { folder: 'CHECKS', classes: ['pink', 'brown', 'yellow'], style: 'checks', primer: 'A checkered {} pattern.' },
        {
          folder: 'SKETCHES',
          classes: ['white', 'red', 'yellow'],
          style: 'stripes',
          type: 'retrieval',
          primer: 'A sketch of a {}',
        },
        { folder: 'HELDOUT', classes: ['green', 'yellow', 'white'], style: 'checks', evalOnly: true },
        {
          folder: 'CAPTIONS',
          classes: ['blue', 'pink', 'black'],
          style: 'solid',
          type: 'retrieval',
          evalOnly: true,
          primer: '{}',
        },
      ],
    });
    await saveClipCheckpoint(join(root, 'model.safetensors'), initClipParams(TINY_CLIP, 1), TINY_CLIP, 'open_clip');
    const study = parseClipStudy(
      `study: tiny-e2e
model: model.safetensors
tokenizer: ${BPE}
data: { root: ., registry: datasets.json }
stream: tiny_sequence
T: 4
steps: 16
batch: 12
lr: 0.001
weightDecay: 0
methods: [finetune, ema_paint]
seed: 3
out: results
backend: wasm
`,
      root,
    );
    result = await runClipStudy(study, (m) => logs.push(m));
  }, 120_000);

  it('logs the backend and writes the results folder', () => {
    expect(logs[0]).toBe('tensor backend: wasm (forced)');
    expect(result.files.map((f) => f.replace(/^.*\//, '')).sort()).toEqual([
      'config.json',
      'findings.md',
      'matrix.csv',
      'retrieval.csv',
      'runs.csv',
      'steps.csv',
    ]);
    const runs = csv(join(root, 'results', 'runs.csv'));
    expect(runs.map((r) => [r.run_id, r.method, r.init, r.deploy, r.T, r.train_steps, r.param_backend])).toEqual([
      ['finetune-s3', 'finetune', 'last', 'last', '4', '64', 'wasm'],
      ['ema_paint-s3', 'ema_paint', 'ema:0.5', 'ema:0.5', '4', '64', 'wasm'],
    ]);
    expect(csv(join(root, 'results', 'steps.csv'))).toHaveLength(2 * 5);
    const matrix = matrixRecords(join(root, 'results', 'matrix.csv'));
    expect(matrix).toHaveLength(2 * 5 * 6);
    expect([...new Set(matrix.map((m) => m.task_id))]).toEqual([
      't1:COLOURS',
      't2:STRIPES',
      't3:CHECKS',
      't4:SKETCHES',
      'zs:HELDOUT',
      'zs:CAPTIONS',
    ]);
  });

  it('scores retrieval tasks by R@5 over both directions, with R@1/R@5 per direction in retrieval.csv', () => {
    const rows = csv(join(root, 'results', 'retrieval.csv'));
    // Both retrieval sets (one trained on, one evaluation-only) at every step of both runs.
    expect(rows.map((r) => `${r.run_id}/${r.step}/${r.task_id}`)).toEqual(
      ['finetune-s3', 'ema_paint-s3'].flatMap((run) =>
        [0, 1, 2, 3, 4].flatMap((step) => [`${run}/${step}/t4:SKETCHES`, `${run}/${step}/zs:CAPTIONS`]),
      ),
    );
    const matrix = new Map(
      matrixRecords(join(root, 'results', 'matrix.csv')).map((m) => [
        `${m.run_id}/${m.step}/${m.task_id}`,
        Number(m.score),
      ]),
    );
    for (const r of rows) {
      const [i2t1, i2t5, t2i1, t2i5] = [r.i2t_r1, r.i2t_r5, r.t2i_r1, r.t2i_r5].map(Number);
      expect(r.pairs).toBe('9');
      expect(r.k).toBe('5');
      // Recalls over 9 pairs are multiples of 1/9, and R@1 <= R@5 in each direction.
      for (const v of [i2t1, i2t5, t2i1, t2i5]) expect(Math.abs(v * 9 - Math.round(v * 9))).toBeLessThan(1e-9);
      expect(i2t1).toBeLessThanOrEqual(i2t5);
      expect(t2i1).toBeLessThanOrEqual(t2i5);
      expect(Number(r.score)).toBeCloseTo((i2t5 + t2i5) / 2, 12);
      expect(matrix.get(`${r.run_id}/${r.step}/${r.task_id}`)).toBeCloseTo(Number(r.score), 12);
    }
    // Training on the sketches' own image-caption pairs helps retrieve them.
    const sketches = (step: number) => result.runs[0].record.steps[step].scores[3];
    expect(sketches(4)).toBeGreaterThan(sketches(0));
  });

  it('continual fine-tuning learns each task when trained on it (A_KA rises)', () => {
    const ft = result.runs[0].record;
    const s = ft.steps;
    for (let t = 1; t <= 4; t++)
      expect(s[t].scores[t - 1], `task ${t} after step ${t}`).toBeGreaterThan(s[0].scores[t - 1]);
    expect(s[1].aKa!).toBeGreaterThan(s[0].aKa!);
    expect(s[4].aKa!).toBeGreaterThan(s[0].aKa! + 0.2);
  });

  it('Best-in-TIME (EMA init + EMA deploy) also accumulates knowledge', () => {
    const ema = result.runs[1].record;
    expect(ema.final.aKa!).toBeGreaterThan(ema.steps[0].aKa!);
    expect(ema.steps[0].scores).toEqual(result.runs[0].record.steps[0].scores);
  });

  it('resumes a run: finished TIME steps are not trained again', async () => {
    const text = `model: model.safetensors\ntokenizer: ${BPE}\ndata: { root: ., registry: datasets.json }\nstream: tiny_sequence\nT: 4\nsteps: 2\nbatch: 4\nmethods: [finetune]\nout: resumable\nbackend: wasm\nresume: true\neval: { maxSamples: 2 }\n`;
    const firstTrained: string[] = [];
    const first = await runClipStudy(parseClipStudy(text, root), (m) => m.includes('step 2/2') && firstTrained.push(m));
    expect(firstTrained).toHaveLength(4); // the last optimiser step of each of the 4 tasks
    const retrievalBefore = readFileSync(join(root, 'resumable', 'retrieval.csv'), 'utf8');
    const trained: string[] = [];
    const second = await runClipStudy(parseClipStudy(text, root), (m) => m.includes('step 2/2') && trained.push(m));
    expect(trained).toEqual([]);
    expect(second.runs[0].record.steps.map((s) => s.scores)).toEqual(first.runs[0].record.steps.map((s) => s.scores));
    // The retrieval figures of the skipped steps are carried over from the first run's file.
    expect(second.files.some((f) => f.endsWith('retrieval.csv'))).toBe(true);
    expect(csvObjects(retrievalBefore)).toHaveLength(5 * 2);
    expect(readFileSync(join(root, 'resumable', 'retrieval.csv'), 'utf8')).toBe(retrievalBefore);
  }, 60_000);

  it('rejects bad study definitions with the setting named', () => {
    expect(() => parseClipStudy('model: m.safetensors\nstream: s\ndata: {root: .}\nbatchsize: 3\n', root)).toThrow(
      TimeMergeError,
    );
    expect(() => parseClipStudy('model: m.safetensors\nstream: s\ndata: {root: .}\nbatchsize: 3\n', root)).toThrow(
      /unknown setting\(s\) batchsize/,
    );
    expect(() => parseClipStudy('stream: s\ndata: {root: .}\n', root)).toThrow(
      /"model" must be a non-empty string \(required\)/,
    );
    expect(() => parseClipStudy('model: m\nstream: s\ndata: {root: .}\nbatch: 1\n', root)).toThrow(/"batch"/);
    expect(() => parseClipStudy('model: m\nstream: s\ndata: {root: .}\nbackend: tpu\n', root)).toThrow(/backend "tpu"/);
  });
});
