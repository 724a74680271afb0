import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseMethod, runBaseline, runTime, writeResults, RUNS_COLUMNS, type ResultRun } from '../src/time/index.js';
import { longMatrixRecords, matrixRows } from '../src/time/results.js';
import { RecordingEvaluator, ScriptedTrainer, stream, vec } from './time-helpers.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function runs(): Promise<ResultRun[]> {
  const common = {
    stream: stream(
      [
        [1, 0],
        [0, 2],
      ],
      2,
    ),
    base: vec([0, 0]),
    stepsPerTask: 2,
    seed: 5,
    trainer: new ScriptedTrainer(),
    evaluator: new RecordingEvaluator(),
  };
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
  return text
    .trimEnd()
    .split('\n')
    .map((l) => l.split(','));
}

describe('results folder', () => {
  it('writes runs, steps and matrix rows in the documented columns, numbers in full precision', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'time-res-'));
    dirs.push(dir);
    const rs = await runs();
    const written = await writeResults(dir, {
      study: 'demo',
      runs: rs,
      config: { seeds: [5] },
      findings: '# findings\n',
    });
    expect(written.map((p) => p.slice(dir.length + 1))).toEqual([
      'runs.csv',
      'steps.csv',
      'matrix.csv',
      'config.json',
      'findings.md',
    ]);
    expect((await readdir(dir)).sort()).toEqual(['config.json', 'findings.md', 'matrix.csv', 'runs.csv', 'steps.csv']);

    const runRows = csv(await readFile(join(dir, 'runs.csv'), 'utf8'));
    expect(runRows[0]).toEqual([...RUNS_COLUMNS, 'param_d', 'param_k', 'param_order']);
    const r1 = Object.fromEntries(runRows[0].map((h, i) => [h, runRows[1][i]]));
    expect(r1).toMatchObject({
      run_id: 'r1',
      study: 'demo',
      method: 'offline_merge',
      init: 'base',
      deploy: 'merge-all',
      technique: 'weighted-average',
      seed: '5',
      T: '2',
      param_d: '2',
      param_k: '',
      param_order: 'random',
    });
    expect(Number(r1.a_ka)).toBe(rs[0].record.final.aKa);
    expect(Number(r1.gm)).toBe(rs[0].record.final.gm);
    const r2 = Object.fromEntries(runRows[0].map((h, i) => [h, runRows[2][i]]));
    expect([r2.method, r2.init, r2.forgetting, r2.param_k]).toEqual(['multitask', '-', '', '3']);

    const stepRows = csv(await readFile(join(dir, 'steps.csv'), 'utf8'));
    expect(stepRows[0][0]).toBe('run_id');
    expect(stepRows.slice(1).map((r) => `${r[0]}:${r[1]}`)).toEqual(['r1:0', 'r1:1', 'r1:2', 'r2:0', 'r2:2']);

    const matrix = csv(await readFile(join(dir, 'matrix.csv'), 'utf8'));
    const columns = rs[0].record.tasks.map((t) => `${t.role}:${t.id}`);
    expect(matrix[0]).toEqual(['run_id', 'step', ...columns]);
    expect(matrix.slice(1).map((r) => `${r[0]}:${r[1]}`)).toEqual(['r1:0', 'r1:1', 'r1:2', 'r2:0', 'r2:2']);
    const row = matrix.find((r) => r[0] === 'r1' && r[1] === '2')!;
    expect(row.slice(2).map(Number)).toEqual(rs[0].record.steps[2].scores);
    const long = longMatrixRecords(
      matrix[0],
      matrix.slice(1).map((r) => Object.fromEntries(matrix[0].map((h, i) => [h, r[i]]))),
    );
    expect(long).toHaveLength(3 * 4 + 2 * 4);
    expect(long.find((m) => m.run_id === 'r1' && m.step === '2' && m.task_id === 'zs-2')).toEqual({
      run_id: 'r1',
      step: '2',
      task_index: '3',
      task_id: 'zs-2',
      role: 'zeroshot',
      score: String(rs[0].record.steps[2].scores[3]),
    });
    expect(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'))).toEqual({ seeds: [5] });
  });

  it('matrix: runs with tasks the others lack keep their order; runs ordering shared tasks differently get the long format', async () => {
    const [r1] = await runs();
    const tasks = r1.record.tasks;
    const extra = {
      ...r1.record,
      tasks: [tasks[0], { id: 'new', role: 'adaptation' as const }, ...tasks.slice(1, 3)],
      steps: r1.record.steps.map((s) => ({ ...s, scores: s.scores.slice(0, 4) })),
    };
    const wide = matrixRows([r1, { runId: 'r3', record: extra }]);
    expect(wide[0].slice(2)).toEqual([
      'adaptation:' + tasks[0].id,
      'adaptation:new',
      ...[...tasks.slice(1)].map((t) => `${t.role}:${t.id}`),
    ]);
    expect(wide.at(-1)!.at(-1)).toBe('');
    const swapped = { ...r1.record, tasks: [tasks[1], tasks[0], ...tasks.slice(2)] };
    expect(matrixRows([r1, { runId: 'r4', record: swapped }])[0]).toEqual([
      'run_id',
      'step',
      'task_index',
      'task_id',
      'role',
      'score',
    ]);
  });

  it('puts a shard suffix before each extension and refuses duplicate run ids before writing anything', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'time-res-'));
    dirs.push(dir);
    const rs = await runs();
    await writeResults(dir, { study: 'demo', runs: rs }, { suffix: 'shard-1-of-2' });
    expect((await readdir(dir)).sort()).toEqual([
      'matrix.shard-1-of-2.csv',
      'runs.shard-1-of-2.csv',
      'steps.shard-1-of-2.csv',
    ]);
    const empty = await mkdtemp(join(tmpdir(), 'time-res-'));
    dirs.push(empty);
    await expect(writeResults(empty, { study: 'x', runs: [rs[0], { ...rs[1], runId: 'r1' }] })).rejects.toThrow(
      /run_id "r1" appears twice/,
    );
    expect(await readdir(empty)).toEqual([]);
    await expect(writeResults(empty, { study: 'x', runs: rs }, { suffix: '../up' })).rejects.toThrow(/suffix/);
  });
});
