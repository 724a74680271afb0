import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { initClipParams } from '../src/clip/init.js';
import { makeTinyFomo, TINY_CLIP } from '../src/clip/tiny.js';
import { saveClipCheckpoint } from '../src/clip/weights.js';

const BPE = '/work/shared/fixtures/open_clip/bpe_simple_vocab_16e6.txt.gz';
const run = promisify(execFile);
const cli = (args: string[]) => run(process.execPath, ['bin/time-merge.js', ...args], { cwd: join(import.meta.dirname, '..'), maxBuffer: 1 << 24 });
let root: string | undefined;
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('time-merge clip writes the report', () => {
  it('a CLIP results folder gets report.html and the figures its data allows', async () => {
    root = await mkdtemp(join(tmpdir(), 'report-clip-'));
    await makeTinyFomo(root, {
      trainPerClass: 2,
      testPerClass: 2,
      imageSize: 32,
      datasets: [
        { folder: 'COLOURS', classes: ['red', 'green'], style: 'solid' },
        { folder: 'STRIPES', classes: ['blue', 'white'], style: 'stripes' },
        { folder: 'HELDOUT', classes: ['pink', 'black'], style: 'checks', evalOnly: true },
      ],
    });
    await saveClipCheckpoint(join(root, 'model.safetensors'), initClipParams(TINY_CLIP, 2), TINY_CLIP, 'open_clip');
    await writeFile(
      join(root, 'study.yaml'),
      `study: tiny-report\nmodel: model.safetensors\ntokenizer: ${BPE}\ndata: { root: ., registry: datasets.json }\nstream: tiny_sequence\nT: 2\nsteps: 2\nbatch: 4\n` +
        `methods: [finetune, ema_paint]\nbackend: wasm\nout: results\neval: { maxSamples: 4 }\n`,
    );
    const out = join(root, 'results');
    const { stdout } = await cli(['clip', join(root, 'study.yaml')]);
    expect(stdout).toContain(`report: ${join(out, 'report.html')}`);
    const html = await readFile(join(out, 'report.html'), 'utf8');
    for (const figure of ['plane', 'gm-over-time', 'matrix-ema_paint']) {
      expect(existsSync(join(out, 'figures', `${figure}.svg`)), figure).toBe(true);
      expect(html).toContain(`id="fig-${figure}"`);
    }
    expect(html).toContain('ema_paint');
  }, 120_000);
});
