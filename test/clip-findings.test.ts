import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClipStudyResult, parseClipStudy, runClipStudy } from '../src/clip/study.js';
import { csvObjects } from '../src/report/csv.js';
import { FINDING_IDS } from '../src/study/findings.js';
import { makeTinyClipTree, TINY_STUDY_COMMON } from './tiny-clip-tree.js';

let root: string;
let result: ClipStudyResult;
const logs: string[] = [];
const study = (out: string) =>
  parseClipStudy(
    `study: tiny-findings\nT: 2\nsteps: 3\nbatch: 4\nlr: 0.001\nmethods: [finetune, offline_merge, ema_paint]\nseeds: [0, 1]\nout: ${out}\n${TINY_STUDY_COMMON}`,
    root,
  );

beforeAll(async () => {
  root = await makeTinyClipTree('clip-findings-');
  result = await runClipStudy(study('results'), (m) => logs.push(m));
}, 120_000);
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A mean difference of GM in points, as findings.md writes it. */
const points = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;

describe('findings.md of a clip study', () => {
  it('judges every claim: those the grid has cells for on its runs, the rest not tested with what they need', () => {
    expect(result.findings.map((f) => f.id)).toEqual([...FINDING_IDS]);
    const byId = Object.fromEntries(result.findings.map((f) => [f.id, f]));
    expect(byId['time-aware-offline'].verdict).toBe('not tested');
    expect(byId['time-aware-offline'].summary).toBe(
      'not tested: needs offline_merge with and without replay, and replay fine-tuning',
    );
    expect(byId['init-deploy-over-technique'].summary).toBe(
      'not tested: needs at least two merging methods and two techniques that all of them ran',
    );
    expect(byId.scaling.summary).toBe(
      'not tested: needs ema_paint and finetune or offline_merge in two or more settings',
    );

    // The tested claims rest on the runs' own GM, paired by seed.
    const runs = csvObjects(readFileSync(join(root, 'results', 'runs.csv'), 'utf8'));
    const gm = (method: string, seed: number) => Number(runs.find((r) => r.run_id === `${method}-s${seed}`)!.gm);
    const meanDiff = (a: string, b: string) => (gm(a, 0) - gm(b, 0) + (gm(a, 1) - gm(b, 1))) / 2;
    // lr 1e-3 moves the tiny CLIP enough that the methods differ, so the checks below compare numbers.
    expect(Math.abs(meanDiff('finetune', 'offline_merge'))).toBeGreaterThan(0.001);
    const offline = byId['offline-vs-continual'];
    expect(offline.verdict).not.toBe('not tested');
    expect(
      offline.effect.startsWith(`finetune - offline_merge GM ${points(meanDiff('finetune', 'offline_merge'))}`),
    ).toBe(true);
    const best = byId['best-in-time'];
    expect(best.verdict).not.toBe('not tested');
    const closest = ['finetune', 'offline_merge'].sort(
      (a, b) => meanDiff('ema_paint', a) - meanDiff('ema_paint', b),
    )[0];
    expect(best.effect).toContain(`ema_paint - ${closest} / `);
    expect(best.effect).toContain(`GM ${points(meanDiff('ema_paint', closest))}`);
  });

  it('is written beside the results, led by the verdicts, and summarised in the log', () => {
    const md = readFileSync(join(root, 'results', 'findings.md'), 'utf8');
    expect(
      md.startsWith(
        '# Findings: tiny-findings\n\nCLIP model.safetensors on the FoMo-in-Flux stream tiny_sequence/T=2, 3 steps x batch 4 per task, lr 0.001',
      ),
    ).toBe(true);
    expect(md).toContain('6 runs, seeds 0, 1.');
    for (const f of result.findings) expect(md).toContain(`| ${f.title} |`);
    expect(md).toContain(
      '## Init and deploy protocols matter more than the merging technique (two-way variance decomposition of GM): not tested\n\nnot tested: needs at least two',
    );
    expect(logs.some((m) => m.startsWith(`findings (${join(root, 'results', 'findings.md')}):\n- `))).toBe(true);
  });

  it('is not written by a shard of several', async () => {
    const shard = await runClipStudy(study('sharded'), () => {}, { shard: { index: 2, count: 2 } });
    expect(shard.findings).toEqual([]);
    expect(existsSync(join(root, 'sharded', 'runs.shard-2-of-2.csv'))).toBe(true);
    expect(existsSync(join(root, 'sharded', 'findings.shard-2-of-2.md'))).toBe(false);
    expect(existsSync(join(root, 'sharded', 'findings.md'))).toBe(false);
  }, 60_000);
});
