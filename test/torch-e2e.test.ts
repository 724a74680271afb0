import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initClipParams } from '../src/clip/init.js';
import { parseClipStudy, runClipStudy, type ClipStudyResult } from '../src/clip/study.js';
import { makeTinyFomo, TINY_CLIP } from '../src/clip/tiny.js';
import { saveClipCheckpoint } from '../src/clip/weights.js';
import { csvObjects } from '../src/report/csv.js';
import { BPE_VOCAB as BPE } from './shared-fixtures.js';
import { TORCH } from './torch-available.js';

describe.skipIf(!TORCH.ok)(
  'time-merge clip end to end on the torch engine (tiny CLIP, tiny FoMo-in-Flux tree, CPU)',
  () => {
    const root = mkdtempSync(join(tmpdir(), 'torch-e2e-'));
    const results: Record<'torch' | 'tfjs', ClipStudyResult> = {} as never;
    const logs: string[] = [];
    const study = (engine: string) => `study: tiny-engines
model: model.safetensors
tokenizer: ${BPE}
data: { root: ., registry: datasets.json }
stream: tiny_sequence
T: 3
steps: 12
batch: 12
lr: 0.001
weightDecay: 0
methods: [finetune, ema_paint]
seed: 3
out: results-${engine}
${engine === 'torch' ? 'engine: torch\nloaderWorkers: 1' : 'engine: tfjs\nbackend: wasm'}
`;

    beforeAll(async () => {
      await makeTinyFomo(root, {
        trainPerClass: 5,
        testPerClass: 3,
        datasets: [
          { folder: 'COLOURS', classes: ['red', 'green', 'blue'], style: 'solid' },
          { folder: 'STRIPES', classes: ['purple', 'orange', 'black'], style: 'stripes', syntheticCaptions: true },
          {
            folder: 'SKETCHES',
            classes: ['white', 'red', 'yellow'],
            style: 'checks',
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
      results.torch = await runClipStudy(parseClipStudy(study('torch'), root), (m) => logs.push(m));
      results.tfjs = await runClipStudy(parseClipStudy(study('tfjs'), root), () => {});
    }, 300_000);

    it('runs on the worker and writes the same results folder as the tfjs engine', () => {
      expect(logs).toContainEqual(expect.stringMatching(/^engine: torch \S+ on cpu \(.*python3.*\)$/));
      if (!TORCH.ok) return;
      // The interpreter and device are printed at start and recorded; auto on a CPU torch says so.
      const source = process.env.TIME_MERGE_PYTHON
        ? 'from TIME_MERGE_PYTHON'
        : 'the first python3 on PATH that imports torch';
      expect(logs).toContainEqual(
        expect.stringContaining(
          `python: ${TORCH.python} (${source}), torch ${TORCH.torch}; device: cpu (auto: torch ${TORCH.torch} at ${TORCH.python} sees no CUDA GPU (torch.cuda.is_available() is False; `,
        ),
      );
      const config = JSON.parse(readFileSync(join(root, 'results-torch', 'config.json'), 'utf8')) as {
        python: unknown;
      };
      expect(config.python).toEqual({
        executable: TORCH.python,
        source: process.env.TIME_MERGE_PYTHON ? 'TIME_MERGE_PYTHON' : 'PATH',
        torch: TORCH.torch,
        cuda: false,
        device: 'cpu',
        gpu: null,
      });
      expect(logs).toContainEqual(
        expect.stringMatching(/^ {2}step 12\/12 loss \d+\.\d{4} lr \S+, \d+\.\d images\/s, \d+s left in this task$/),
      );
      const names = (r: ClipStudyResult) => r.files.map((f) => f.replace(/^.*\//, '')).sort();
      expect(names(results.torch)).toEqual([
        'config.json',
        'findings.md',
        'matrix.csv',
        'retrieval.csv',
        'runs.csv',
        'steps.csv',
      ]);
      expect(names(results.torch)).toEqual(names(results.tfjs));
      const runs = csvObjects(readFileSync(join(root, 'results-torch', 'runs.csv'), 'utf8'));
      expect(runs.map((r) => [r.run_id, r.T, r.train_steps, r.param_backend])).toEqual([
        ['finetune-s3', '3', '36', 'torch:cpu'],
        ['ema_paint-s3', '3', '36', 'torch:cpu'],
      ]);
      const retrieval = csvObjects(readFileSync(join(root, 'results-torch', 'retrieval.csv'), 'utf8'));
      expect(retrieval).toHaveLength(2 * 4 * 2); // 2 runs x 4 evaluations x (SKETCHES + CAPTIONS)
      for (const r of retrieval) expect(Number(r.score)).toBeCloseTo((Number(r.i2t_r5) + Number(r.t2i_r5)) / 2, 12);
    });

    it('learns each task when trained on it', () => {
      const s = results.torch.runs[0].record.steps;
      for (let t = 1; t <= 3; t++)
        expect(s[t].scores[t - 1], `task ${t} after step ${t}`).toBeGreaterThan(s[0].scores[t - 1]);
      expect(s[3].aKa!).toBeGreaterThan(s[0].aKa! + 0.2);
    });

    /*
     * Tolerance. Each adaptation task is scored on 9 test images (or 9 retrieval pairs), so one image whose
     * prediction flips moves A_KA (3 tasks) by 1/27 = 0.037 and A_ZS (2 sets) by 1/18 = 0.056. At step 0
     * both engines score the same weights and differ only in image resampling (sharp's cubic vs PIL's
     * bicubic, a grey level here and there): at most one flip. After training the engines see the same
     * samples and captions in the same order (TaskBatches) but draw their random crops from different
     * generators, so the experts differ within training noise: we allow 4 flips for A_KA (0.15) and 4 for
     * A_ZS (0.23), whose two evaluation-only sets are never trained on and move the most.
     */
    it("gives the tfjs engine's A_KA and A_ZS within the stated tolerance", () => {
      for (const [i, run] of results.torch.runs.entries()) {
        const other = results.tfjs.runs[i];
        expect(other.runId).toBe(run.runId);
        run.record.steps.forEach((s, k) => {
          const o = other.record.steps[k];
          const where = `${run.runId} step ${k}: A_KA ${s.aKa} vs ${o.aKa}, A_ZS ${s.aZs} vs ${o.aZs}`;
          expect(Math.abs(s.aKa! - o.aKa!), where).toBeLessThanOrEqual(k === 0 ? 1 / 27 + 1e-9 : 0.15);
          expect(Math.abs(s.aZs! - o.aZs!), where).toBeLessThanOrEqual(k === 0 ? 1 / 18 + 1e-9 : 0.23);
        });
        // Both engines learn the stream.
        expect(run.record.final.aKa!).toBeGreaterThan(0.8);
        expect(other.record.final.aKa!).toBeGreaterThan(0.8);
      }
    });
  },
);
