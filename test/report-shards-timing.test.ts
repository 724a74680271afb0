import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadResults } from '../src/report/load.js';
import { runStudy } from '../src/study/runner.js';
import type { Study } from '../src/study/types.js';

const tiny: Study = {
  name: 'tiny',
  description: 'a tiny study for tests',
  stream: {
    T: 2,
    datasets: 2,
    stepsPerTask: 6,
    pretrainSteps: 80,
    zeroshotTasks: 1,
    d: 8,
    k: 4,
    m: 3,
    trainPerClass: 4,
    testPerClass: 2,
    classesPerTask: 2,
  },
  methods: ['finetune', 'offline_merge'],
  techniques: [{ name: 'weighted-average' }],
  seeds: [0],
  baselines: [],
  findings: [],
};

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('a results folder holding one study both sharded and unsharded', () => {
  it('loads: the same runs with other timings are one run; a differing result is still a conflict', async () => {
    const whole = await mkdtemp(join(tmpdir(), 'tm-shards-'));
    const parts = await mkdtemp(join(tmpdir(), 'tm-shards-'));
    dirs.push(whole, parts);
    await runStudy(tiny, { out: whole, workers: 1 });
    for (const i of [1, 2]) await runStudy(tiny, { out: parts, workers: 1, shard: { index: i, count: 2 } });
    for (const f of readdirSync(parts).filter((n) => /\.shard-\d-of-2\.csv$/.test(n)))
      copyFileSync(join(parts, f), join(whole, f));
    // Make the timings surely differ between the two executions.
    const shardRuns = join(whole, 'runs.shard-1-of-2.csv');
    const text = readFileSync(shardRuns, 'utf8');
    const header = text.split('\n')[0].split(',');
    const wall = header.indexOf('wall_seconds');
    expect(wall).toBeGreaterThanOrEqual(0);
    const bump = (t: string, col: number, value: (old: string) => string) =>
      t
        .split('\n')
        .map((line, k) =>
          k === 0 || line === ''
            ? line
            : line
                .split(',')
                .map((c, j) => (j === col ? value(c) : c))
                .join(','),
        )
        .join('\n');
    writeFileSync(
      shardRuns,
      bump(text, wall, (c) => String(Number(c) + 123.5)),
    );
    const combined = loadResults(whole);
    const alone = loadResults(parts);
    expect(combined.runs.map((r) => r.run_id)).toEqual(alone.runs.map((r) => r.run_id));
    expect(combined.runs.length).toBe(2);
    // A result column that differs is still refused, naming both files.
    const ka = header.indexOf('a_ka');
    expect(ka).toBeGreaterThanOrEqual(0);
    writeFileSync(
      shardRuns,
      bump(text, ka, (c) => String(Number(c) + 1)),
    );
    expect(() => loadResults(whole)).toThrow(
      /conflicting duplicate rows for run_id .*: .*runs\.csv has a_ka=.*runs\.shard-1-of-2\.csv has a_ka=/,
    );
  }, 60_000);
});
