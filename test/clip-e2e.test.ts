import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initClipParams } from '../src/clip/init.js';
import { parseClipStudy, runClipStudy, type ClipStudyResult } from '../src/clip/study.js';
import { makeTinyFomo, TINY_CLIP } from '../src/clip/tiny.js';
import { saveClipCheckpoint } from '../src/clip/weights.js';
import { TimeMergeError } from '../src/params/errors.js';

const BPE = '/work/shared/fixtures/open_clip/bpe_simple_vocab_16e6.txt.gz';

function csv(path: string): Record<string, string>[] {
  const [head, ...rows] = readFileSync(path, 'utf8').trim().split('\n').map((l) => l.split(','));
  return rows.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i]])));
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
        { folder: 'HELDOUT', classes: ['green', 'yellow', 'white'], style: 'checks', evalOnly: true },
      ],
    });
    await saveClipCheckpoint(join(root, 'model.safetensors'), initClipParams(TINY_CLIP, 1), TINY_CLIP, 'open_clip');
    const study = parseClipStudy(
      `study: tiny-e2e
model: model.safetensors
tokenizer: ${BPE}
data: { root: ., registry: datasets.json }
stream: tiny_sequence
T: 3
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
    expect(result.files.map((f) => f.replace(/^.*\//, '')).sort()).toEqual(['config.json', 'matrix.csv', 'runs.csv', 'steps.csv']);
    const runs = csv(join(root, 'results', 'runs.csv'));
    expect(runs.map((r) => [r.run_id, r.method, r.init, r.deploy, r.T, r.train_steps, r.param_backend])).toEqual([
      ['finetune-s3', 'finetune', 'last', 'last', '3', '48', 'wasm'],
      ['ema_paint-s3', 'ema_paint', 'ema:0.5', 'ema:0.5', '3', '48', 'wasm'],
    ]);
    expect(csv(join(root, 'results', 'steps.csv'))).toHaveLength(2 * 4);
    const matrix = csv(join(root, 'results', 'matrix.csv'));
    expect(matrix).toHaveLength(2 * 4 * 4);
    expect([...new Set(matrix.map((m) => m.task_id))]).toEqual(['t1:COLOURS', 't2:STRIPES', 't3:CHECKS', 'zs:HELDOUT']);
  });

  it('continual fine-tuning learns each task when trained on it (A_KA rises)', () => {
    const ft = result.runs[0].record;
    const s = ft.steps;
    for (let t = 1; t <= 3; t++) expect(s[t].scores[t - 1], `task ${t} after step ${t}`).toBeGreaterThan(s[0].scores[t - 1]);
    expect(s[1].aKa!).toBeGreaterThan(s[0].aKa!);
    expect(s[3].aKa!).toBeGreaterThan(s[0].aKa! + 0.25);
  });

  it('Best-in-TIME (EMA init + EMA deploy) also accumulates knowledge', () => {
    const ema = result.runs[1].record;
    expect(ema.final.aKa!).toBeGreaterThan(ema.steps[0].aKa!);
    expect(ema.steps[0].scores).toEqual(result.runs[0].record.steps[0].scores);
  });

  it('resumes a run: finished TIME steps are not trained again', async () => {
    const text = `model: model.safetensors\ntokenizer: ${BPE}\ndata: { root: ., registry: datasets.json }\nstream: tiny_sequence\nT: 3\nsteps: 2\nbatch: 4\nmethods: [finetune]\nout: resumable\nbackend: wasm\nresume: true\neval: { maxSamples: 2 }\n`;
    const firstTrained: string[] = [];
    const first = await runClipStudy(parseClipStudy(text, root), (m) => m.includes('step 2/2') && firstTrained.push(m));
    expect(firstTrained).toHaveLength(3); // the last optimiser step of each of the 3 tasks
    const trained: string[] = [];
    const second = await runClipStudy(parseClipStudy(text, root), (m) => m.includes('step 2/2') && trained.push(m));
    expect(trained).toEqual([]);
    expect(second.runs[0].record.steps.map((s) => s.scores)).toEqual(first.runs[0].record.steps.map((s) => s.scores));
  }, 60_000);

  it('rejects bad study definitions with the setting named', () => {
    expect(() => parseClipStudy('model: m.safetensors\nstream: s\ndata: {root: .}\nbatchsize: 3\n', root)).toThrow(TimeMergeError);
    expect(() => parseClipStudy('model: m.safetensors\nstream: s\ndata: {root: .}\nbatchsize: 3\n', root)).toThrow(/unknown setting\(s\) batchsize/);
    expect(() => parseClipStudy('stream: s\ndata: {root: .}\n', root)).toThrow(/"model" must be a non-empty string \(required\)/);
    expect(() => parseClipStudy('model: m\nstream: s\ndata: {root: .}\nbatch: 1\n', root)).toThrow(/"batch"/);
    expect(() => parseClipStudy('model: m\nstream: s\ndata: {root: .}\nbackend: tpu\n', root)).toThrow(/backend "tpu"/);
  });
});
