import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseMethod, runBaseline, runTime, writeResults, RUNS_COLUMNS, type ResultRun } from '../src/time/index.js';
import { RecordingEvaluator, ScriptedTrainer, stream, vec } from './time-helpers.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function runs(): Promise<ResultRun[]> {
  const common = { stream: stream([[1, 0], [0, 2]], 2), base: vec([0, 0]), stepsPerTask: 2, seed: 5, trainer: new ScriptedTrainer(), evaluator: new RecordingEvaluator() };
  const a = await runTime({ ...common, method: parseMethod('offline_merge') });
  const b = await runBaseline('multitask', common);
  return [
    { runId: 'r1', record: a, params: { d: 2, order: 'random' } },
    { runId: 'r2', record: b, params: { k: 3 } },
  ];
}

/** Our CSVs hold no quoted fields here (ids and labels have no commas), so a plain split reads them. */
function csv(text: string): string[][] {
  expect(text).not.toContain('"');
  return text.trimEnd().split('\n').map((l) => l.split(','));
}

describe('results folder', () => {
  it('writes runs, steps and matrix rows in the documented columns, numbers in full precision', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'time-res-'));
    dirs.push(dir);
    const rs = await runs();
    const written = await writeResults(dir, { study: 'demo', runs: rs, config: { seeds: [5] }, findings: '# findings\n' });
    expect(written.map((p) => p.slice(dir.length + 1))).toEqual(['runs.csv', 'steps.csv', 'matrix.csv', 'config.json', 'findings.md']);
    expect((await readdir(dir)).sort()).toEqual(['config.json', 'findings.md', 'matrix.csv', 'runs.csv', 'steps.csv']);

    const runRows = csv(await readFile(join(dir, 'runs.csv'), 'utf8'));
    expect(runRows[0]).toEqual([...RUNS_COLUMNS, 'param_d', 'param_k', 'param_order']);
    const r1 = Object.fromEntries(runRows[0].map((h, i) => [h, runRows[1][i]]));
    expect(r1).toMatchObject({ run_id: 'r1', study: 'demo', method: 'offline_merge', init: 'base', deploy: 'merge-all', technique: 'weighted-average', seed: '5', T: '2', param_d: '2', param_k: '', param_order: 'random' });
    expect(Number(r1.a_ka)).toBe(rs[0].record.final.aKa);
    expect(Number(r1.gm)).toBe(rs[0].record.final.gm);
    const r2 = Object.fromEntries(runRows[0].map((h, i) => [h, runRows[2][i]]));
    expect([r2.method, r2.init, r2.forgetting, r2.param_k]).toEqual(['multitask', '-', '', '3']);

    const stepRows = csv(await readFile(join(dir, 'steps.csv'), 'utf8'));
    expect(stepRows[0][0]).toBe('run_id');
    expect(stepRows.slice(1).map((r) => `${r[0]}:${r[1]}`)).toEqual(['r1:0', 'r1:1', 'r1:2', 'r2:0', 'r2:2']);

    const matrix = csv(await readFile(join(dir, 'matrix.csv'), 'utf8'));
    expect(matrix[0]).toEqual(['run_id', 'step', 'task_index', 'task_id', 'role', 'score']);
    expect(matrix.length - 1).toBe(3 * 4 + 2 * 4);
    const row = matrix.find((r) => r[0] === 'r1' && r[1] === '2' && r[3] === 'zs-2')!;
    expect(row[2]).toBe('3');
    expect(row[4]).toBe('zeroshot');
    expect(Number(row[5])).toBe(rs[0].record.steps[2].scores[3]);
    expect(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'))).toEqual({ seeds: [5] });
  });

  it('puts a shard suffix before each extension and refuses duplicate run ids before writing anything', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'time-res-'));
    dirs.push(dir);
    const rs = await runs();
    await writeResults(dir, { study: 'demo', runs: rs }, { suffix: 'shard-1-of-2' });
    expect((await readdir(dir)).sort()).toEqual(['matrix.shard-1-of-2.csv', 'runs.shard-1-of-2.csv', 'steps.shard-1-of-2.csv']);
    const empty = await mkdtemp(join(tmpdir(), 'time-res-'));
    dirs.push(empty);
    await expect(writeResults(empty, { study: 'x', runs: [rs[0], { ...rs[1], runId: 'r1' }] })).rejects.toThrow(/run_id "r1" appears twice/);
    expect(await readdir(empty)).toEqual([]);
    await expect(writeResults(empty, { study: 'x', runs: rs }, { suffix: '../up' })).rejects.toThrow(/suffix/);
  });
});
