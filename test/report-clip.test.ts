import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTinyClipTree, TINY_STUDY_COMMON } from './tiny-clip-tree.js';

const run = promisify(execFile);
const cli = (args: string[]) =>
  run(process.execPath, ['bin/time-merge.js', ...args], { cwd: join(import.meta.dirname, '..'), maxBuffer: 1 << 24 });
let root: string | undefined;
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('time-merge clip writes the report', () => {
  it('a CLIP results folder gets report.html and the figures its data allows', async () => {
    root = await makeTinyClipTree('report-clip-', { folder: 'STRIPES', classes: ['blue', 'white'], style: 'stripes' });
    await writeFile(
      join(root, 'study.yaml'),
      `study: tiny-report\nT: 2\nsteps: 2\nbatch: 4\nmethods: [finetune, ema_paint]\nout: results\n${TINY_STUDY_COMMON}`,
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
