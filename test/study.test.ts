import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fc, test as fcTest } from '@fast-check/vitest';
import { csvObjects } from '../src/report/csv.js';
import { effectiveStudy, expandStudy, parseShard, shardRuns } from '../src/study/expand.js';
import { runStudy } from '../src/study/runner.js';
import type { Study } from '../src/study/types.js';
import { STUDIES } from '../sims/index.js';
import { OFFICIAL_TECHNIQUES } from '../src/study/groups.js';

const tiny: Study = {
  name: 'tiny',
  description: 'a tiny study for tests',
  stream: {
    T: 3,
    datasets: 3,
    stepsPerTask: 8,
    pretrainSteps: 150,
    zeroshotTasks: 1,
    d: 12,
    k: 6,
    m: 4,
    trainPerClass: 6,
    testPerClass: 4,
    classesPerTask: 3,
  },
  methods: ['finetune', 'offline_merge', 'ema_paint', 'deployed+last'],
  techniques: [{ name: 'weighted-average' }, { name: 'ties' }],
  seeds: [0, 1],
  baselines: ['zeroshot', 'multitask'],
  findings: ['offline-vs-continual', 'best-in-time'],
};

/** Rows of a results CSV without the columns that measure time (those differ between any two runs). */
async function rowsOf(dir: string, file: string): Promise<Record<string, string>[]> {
  const rows = csvObjects(await readFile(join(dir, file), 'utf8'));
  for (const r of rows) for (const k of Object.keys(r)) if (k.endsWith('_seconds')) delete r[k];
  return rows;
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'study-test-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('study expansion', () => {
  it('runs each non-merging method once, skips duplicates, and orders runs by setting, seed, baselines, methods', () => {
    const { runs, skipped } = expandStudy(tiny);
    // per seed: 2 baselines + finetune once + (offline_merge, ema_paint) x 2 techniques = 7
    expect(runs).toHaveLength(14);
    expect(runs.slice(0, 7).map((r) => r.runId)).toEqual([
      'default/zeroshot/-/s0',
      'default/multitask/-/s0',
      'default/finetune/-/s0',
      'default/offline_merge/weighted-average/s0',
      'default/offline_merge/ties/s0',
      'default/ema_paint/weighted-average/s0',
      'default/ema_paint/ties/s0',
    ]);
    expect(skipped.map((s) => s.reason)).toEqual([
      'merges nothing: the technique cannot matter, run once',
      'same run as finetune',
    ]);
    expect(expandStudy({ ...tiny, methods: ['ema_paint', 'deployed+ema'] }).skipped.map((s) => s.reason)).toEqual([
      'same run as ema_paint',
    ]);
    expect(runs.map((r) => r.index)).toEqual(runs.map((_, i) => i));
    // Paired design: every run of one seed shares the loop seed; seeds differ.
    expect(new Set(runs.filter((r) => r.seed === 0).map((r) => r.runSeed)).size).toBe(1);
    expect(runs[0].runSeed).not.toBe(runs[7].runSeed);
  });

  it('skips SLERP for merge-all methods, saying why', () => {
    const { runs, skipped } = expandStudy({
      ...tiny,
      methods: ['offline_merge', 'ema_paint'],
      techniques: [{ name: 'slerp' }],
      seeds: [0],
      baselines: [],
    });
    expect(runs.map((r) => r.method)).toEqual(['ema_paint']);
    expect(skipped[0].reason).toMatch(/slerp merges at most 2 models/);
  });

  it("every built-in study expands without error; the default study is the paper's setup", () => {
    for (const s of STUDIES) expect(expandStudy(s).runs.length).toBeGreaterThan(0);
    const def = STUDIES.find((s) => s.name === 'default')!;
    expect(def.methods).toEqual(['finetune', 'offline_merge', 'zs_paint', 'ft_paint', 'ema_paint']);
    expect(def.seeds.length).toBeGreaterThanOrEqual(5);
    expect(def.techniques.map((t) => t.label ?? t.name)).toEqual(OFFICIAL_TECHNIQUES.map((t) => t.name));
    const { runs } = expandStudy(def);
    // Replay 0.33 / 0.34 / 0.33 for every method run; the multitask oracle mixes 0.33 pretraining with 0.67 task data.
    for (const r of runs.filter((x) => x.method !== 'multitask'))
      expect(r.replay).toEqual({ pretrain: 0.33, current: 0.34, buffer: 0.33 });
    for (const r of runs.filter((x) => x.method === 'multitask'))
      expect(r.replay).toEqual({ pretrain: 0.33, current: 0.67, buffer: 0 });
    // Task arithmetic as tv_merge: λ 0.3 on the sum.
    expect(runs.find((r) => r.technique === 'task-arithmetic')!.techniqueParams).toEqual({
      lambda: 0.3,
      normalize: false,
    });
    expect(def.stream.T ?? 20).toBe(20);
  });

  it('studies without replay say so explicitly (the no-replay settings are ablations)', () => {
    const noReplay = STUDIES.flatMap((s) =>
      expandStudy(s)
        .runs.filter((r) => r.replay.buffer === 0 && r.method !== 'multitask')
        .map((r) => `${s.name}/${r.setting}`),
    );
    expect([...new Set(noReplay)].sort()).toEqual(['offline-vs-continual/no-replay', 'time-aware-offline/no-replay']);
  });

  it('rejects bad shards and unknown techniques', () => {
    expect(() => parseShard('3/2')).toThrow(/1 <= i <= n/);
    expect(() => parseShard('x')).toThrow(/i\/n/);
    expect(() => expandStudy({ ...tiny, techniques: [{ name: 'nope' }] })).toThrow(/unknown merge technique "nope"/);
  });

  fcTest.prop([fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 9 })])(
    'shards partition the run list',
    (n, count) => {
      const runs = Array.from({ length: n }, (_, index) => ({ index }));
      const parts = Array.from({ length: count }, (_, i) => shardRuns(runs, { index: i + 1, count }));
      expect(
        parts
          .flat()
          .map((r) => r.index)
          .sort((a, b) => a - b),
      ).toEqual(runs.map((r) => r.index));
      for (const p of parts) expect(p.length).toBeLessThanOrEqual(Math.ceil(n / count));
    },
  );
});

describe('running a study', () => {
  it('gives bit-identical results across reruns and worker counts (1 vs 2)', async () => {
    const a = join(root, 'w1');
    const b = join(root, 'w2');
    const c = join(root, 'w1-again');
    const oa = await runStudy(tiny, { out: a, workers: 1, progress: false });
    await runStudy(tiny, { out: b, workers: 2, progress: false });
    await runStudy(tiny, { out: c, workers: 1, progress: false });
    expect(oa.executed).toBe(14);
    for (const f of ['runs.csv', 'steps.csv', 'matrix.csv']) {
      const ra = await rowsOf(a, f);
      expect(ra.length).toBeGreaterThan(0);
      expect(await rowsOf(b, f)).toEqual(ra);
      expect(await rowsOf(c, f)).toEqual(ra);
    }
    expect(await readFile(join(a, 'findings.md'), 'utf8')).toEqual(await readFile(join(b, 'findings.md'), 'utf8'));
    const config = JSON.parse(await readFile(join(a, 'config.json'), 'utf8'));
    expect(config.runs).toHaveLength(14);
    expect(config.seeds).toEqual([0, 1]);
  });

  it('shards written into one folder add up to the full study', async () => {
    const dir = join(root, 'shards');
    const o1 = await runStudy(tiny, { out: dir, workers: 1, shard: { index: 1, count: 2 }, progress: false });
    const o2 = await runStudy(tiny, { out: dir, workers: 1, shard: { index: 2, count: 2 }, progress: false });
    expect(o1.runs.length + o2.runs.length).toBe(14);
    const full = await rowsOf(join(root, 'w1'), 'runs.csv');
    const union = [...(await rowsOf(dir, 'runs.shard-1-of-2.csv')), ...(await rowsOf(dir, 'runs.shard-2-of-2.csv'))];
    const byId = (rows: Record<string, string>[]) => [...rows].sort((x, y) => (x.run_id < y.run_id ? -1 : 1));
    expect(byId(union)).toEqual(byId(full));
    const matrix = [
      ...(await rowsOf(dir, 'matrix.shard-1-of-2.csv')),
      ...(await rowsOf(dir, 'matrix.shard-2-of-2.csv')),
    ];
    expect(matrix.length).toBe((await rowsOf(join(root, 'w1'), 'matrix.csv')).length);
  });

  it('resumes: finished runs are skipped, journaled runs are kept, and the folder ends the same', async () => {
    const dir = join(root, 'resume');
    const first = await runStudy({ ...tiny, seeds: [0] }, { out: dir, workers: 1, progress: false });
    expect(first.executed).toBe(7);
    // Simulate an interruption after one more run: its journal line survives, a half-written line does not.
    const seed1 = expandStudy(tiny).runs.filter((r) => r.seed === 1);
    const one = await runStudy(
      { ...tiny, seeds: [1], baselines: ['zeroshot'], methods: [] },
      { out: join(root, 'scratch'), workers: 1, progress: false },
    );
    await writeFile(
      join(dir, '.journal.ndjson'),
      `${JSON.stringify({ ...one.runs[0], params: seed1[0].params })}\n{"runId": "cut sh`,
    );
    const second = await runStudy(tiny, { out: dir, workers: 2, progress: false });
    expect(second.skippedAsDone).toBe(8);
    expect(second.executed).toBe(6);
    const again = await runStudy(tiny, { out: dir, workers: 1, progress: false });
    expect(again.executed).toBe(0);
    for (const f of ['runs.csv', 'steps.csv', 'matrix.csv'])
      expect(await rowsOf(dir, f)).toEqual(await rowsOf(join(root, 'w1'), f));
  });

  it('runs again every run missing from steps.csv or matrix.csv, and all of them when matrix.csv is gone', async () => {
    const dir = join(root, 'partial');
    const study = { ...tiny, seeds: [0] };
    await runStudy(study, { out: dir, workers: 1, progress: false });
    const [noSteps, noMatrix] = ['default/offline_merge/ties/s0', 'default/ema_paint/weighted-average/s0'];
    const drop = async (file: string, runId: string) => {
      const text = await readFile(join(dir, file), 'utf8');
      await writeFile(
        join(dir, file),
        text
          .split('\n')
          .filter((l) => !l.startsWith(`${runId},`))
          .join('\n'),
      );
    };
    await drop('steps.csv', noSteps);
    await drop('matrix.csv', noMatrix);
    const resumed = await runStudy(study, { out: dir, workers: 1, progress: false });
    expect(resumed.executed).toBe(2);
    expect(resumed.skippedAsDone).toBe(5);
    await rm(join(dir, 'matrix.csv'));
    expect((await runStudy(study, { out: dir, workers: 1, progress: false })).executed).toBe(7);
    const full = (await rowsOf(join(root, 'w1'), 'matrix.csv')).filter((r) => r.run_id.endsWith('/s0'));
    expect(await rowsOf(dir, 'matrix.csv')).toEqual(full);
  });

  it('does not take a run of the same id made with other settings (a --quick run, an edited study) as done', async () => {
    const dir = join(root, 'other-settings');
    const study = { ...tiny, seeds: [0], methods: ['finetune'], techniques: [{ name: 'weighted-average' }] };
    expect((await runStudy(study, { out: dir, workers: 1, progress: false })).executed).toBe(3);
    const longer = await runStudy(
      { ...study, stream: { ...study.stream, stepsPerTask: 9 } },
      { out: dir, workers: 1, progress: false },
    );
    expect(longer.executed).toBe(3);
    expect((await rowsOf(dir, 'runs.csv')).every((r) => r.param_steps === '9')).toBe(true);
  });
});

describe('a --quick study describes what it runs', () => {
  it("replaces the full study's description, which names the full grid and stream", async () => {
    const { getStudy } = await import('../sims/index.js');
    const full = getStudy('default');
    expect(full.description).toContain('T = 20 tasks from 20 datasets');
    const quick = effectiveStudy(full, { quick: true });
    expect(quick.description).not.toContain('T = 20');
    expect(quick.description).toBe(
      'Quick version (--quick) of study default, smaller than the full study: methods finetune, offline_merge, ' +
        'ema_paint, zs_paint x techniques weighted-average, magmax, on a stream of T = 6 tasks from 3 datasets, ' +
        '15 steps per task, d = 32; seeds 0; baselines zeroshot, continual, multitask. Run the study without --quick for its findings.',
    );
    expect(effectiveStudy(full).description).toBe(full.description);
  });
});
