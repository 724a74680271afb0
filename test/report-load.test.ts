import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fc, test as fcTest } from '@fast-check/vitest';
import { stringify } from 'csv-stringify/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { TimeMergeError } from '../src/params/errors.js';
import { csvObjects, parseCsv, parseCsvRecords } from '../src/report/csv.js';
import { loadResults } from '../src/report/load.js';
import { makeFixture, writeFixture, writeShards } from './report-fixture.js';

const root = mkdtempSync(path.join(tmpdir(), 'report-load-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => path.join(root, `case-${n++}`);

function expectError(fn: () => unknown, code: string, ...fragments: string[]): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TimeMergeError);
    expect((err as TimeMergeError).code).toBe(code);
    for (const f of fragments) expect((err as Error).message).toContain(f);
    return;
  }
  throw new Error('expected a TimeMergeError');
}

describe('parseCsv', () => {
  it('reads quoted fields, escaped quotes, CRLF line ends and a byte-order mark', () => {
    const t = parseCsv('\ufeffa,b,c\r\n1,"x, y","say ""hi"""\r\n2,"multi\nline",\r\n', 'f.csv');
    expect(t.columns).toEqual(['a', 'b', 'c']);
    expect(t.rows).toEqual([
      { a: '1', b: 'x, y', c: 'say "hi"' },
      { a: '2', b: 'multi\nline', c: '' },
    ]);
  });

  it('rejects ragged rows, duplicate columns and unterminated quotes, naming the file', () => {
    expectError(() => parseCsv('a,b\n1,2,3\n', 'ragged.csv'), 'DATA', 'ragged.csv', 'row 1', '3 fields');
    expectError(() => parseCsv('a,a\n1,2\n', 'dup.csv'), 'DATA', 'dup.csv', '"a" twice');
    expectError(() => parseCsv('a\n"open\n', 'q.csv'), 'DATA', 'q.csv', 'unterminated');
    expectError(() => parseCsv('', 'empty.csv'), 'DATA', 'empty.csv');
  });

  it('gives the records as written (the final line end adds none) and objects by header', () => {
    expect(parseCsvRecords('')).toEqual([]);
    expect(parseCsvRecords('a,b')).toEqual([['a', 'b']]);
    expect(parseCsvRecords('a,b\n')).toEqual([['a', 'b']]);
    expect(parseCsvRecords('a,b\n\n1,2\r\n')).toEqual([['a', 'b'], [''], ['1', '2']]);
    expect(parseCsvRecords('a,"b\n"\n')).toEqual([['a', 'b\n']]);
    expect(csvObjects('a,b\n1\n"x,y",2\n')).toEqual([
      { a: '1', b: '' },
      { a: 'x,y', b: '2' },
    ]);
    expectError(() => parseCsvRecords('a,b"c\n', 'stray.csv'), 'DATA', 'stray.csv', 'stray quote');
  });

  const cell = fc.string({ unit: fc.constantFrom('a', 'Z', '0', ',', '"', '\n', ' ', 'é', '-'), maxLength: 8 });
  fcTest.prop([fc.array(fc.tuple(cell, cell, cell), { minLength: 1, maxLength: 20 })], { numRuns: 100 })(
    'reads back whatever csv-stringify writes',
    (rows) => {
      const text = stringify([['x', 'y', 'z'], ...rows]);
      const t = parseCsv(text, 'p.csv');
      expect(t.rows.map((r) => [r.x, r.y, r.z])).toEqual(rows);
    },
  );
});

describe('loadResults', () => {
  const fixture = makeFixture();

  it('reads every file of a results folder with typed rows', () => {
    const dir = fresh();
    writeFixture(dir, fixture);
    const data = loadResults(dir);
    expect(data.runs).toHaveLength(fixture.runs.length);
    const r = data.runs.find((x) => x.run_id === fixture.runs[0].run_id)!;
    expect(r.gm).toBe(fixture.runs[0].gm);
    expect(r.params).toEqual({ param_d: String(fixture.runs[0].d), param_steps: '100' });
    expect(data.steps).toHaveLength(fixture.runs.reduce((s, x) => s + x.T + 1, 0));
    expect(data.matrix).toHaveLength(fixture.runs.reduce((s, x) => s + (x.T + 1) * 6, 0));
    expect(data.bench).toHaveLength(24 + 3);
    expect(data.bench.find((b) => b.suite === 'deploy')!.label).toBe('ema (weighted_average)');
    expect(data.config).toMatchObject({ study: 'fixture-study' });
    expect(data.findings).toContain('ema_paint');
  });

  it('fails clearly on a missing folder, a folder without results, and missing or bad columns', () => {
    expectError(() => loadResults(path.join(root, 'nope')), 'IO', path.join(root, 'nope'), 'does not exist');
    const empty = fresh();
    writeFixture(empty, fixture, { bench: false });
    rmSync(path.join(empty, 'runs.csv'));
    expectError(() => loadResults(empty), 'IO', 'no runs.csv');

    const dir = fresh();
    writeFixture(dir, fixture, { bench: false });
    const runs = path.join(dir, 'runs.csv');
    const text = readFileSync(runs, 'utf8');
    writeFileSync(runs, text.replace(',gm,', ',gmx,'));
    expectError(() => loadResults(dir), 'DATA', runs, 'missing required column "gm"');
    const lines = text.split('\n');
    lines[2] = lines[2].replace(/^([^,]*,[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,)[^,]*/, '$1seven');
    writeFileSync(runs, lines.join('\n'));
    expectError(() => loadResults(dir), 'DATA', runs, 'data row 2', 'column "seed"', 'seven');

    const steps = path.join(dir, 'steps.csv');
    writeFileSync(runs, text);
    writeFileSync(steps, readFileSync(steps, 'utf8').replace('run_id,step,', 'run_id,t,'));
    expectError(() => loadResults(dir), 'DATA', steps, '"step"');
  });

  it('combines shards (with a re-run shard repeating a run) into exactly the unsharded data', () => {
    const whole = fresh();
    const sharded = fresh();
    writeFixture(whole, fixture, { bench: false });
    writeShards(sharded, fixture, 3, { overlap: true });
    const a = loadResults(whole);
    const b = loadResults(sharded);
    expect(b.sources).toContain('runs.shard-2-of-3.csv');
    expect(b.runs).toEqual(a.runs);
    expect(b.steps).toEqual(a.steps);
    expect(b.matrix).toEqual(a.matrix);
  });

  it('reads the wide matrix.csv (one column per task) as the long one, and names a bad cell by its own row', () => {
    const long = fresh();
    const wide = fresh();
    writeFixture(long, fixture, { bench: false });
    writeFixture(wide, fixture, { bench: false });
    const rows = parseCsv(readFileSync(path.join(long, 'matrix.csv'), 'utf8'), 'long').rows;
    const columns = [...new Set(rows.map((r) => `${r.role}:${r.task_id}`))];
    const byStep = new Map<string, Record<string, string>>();
    for (const r of rows) {
      const key = `${r.run_id},${r.step}`;
      byStep.set(key, { ...(byStep.get(key) ?? {}), [`${r.role}:${r.task_id}`]: r.score });
    }
    const lines = [...byStep].map(([key, cells]) => [key, ...columns.map((c) => cells[c] ?? '')].join(','));
    writeFileSync(path.join(wide, 'matrix.csv'), ['run_id,step,' + columns.join(','), ...lines].join('\n') + '\n');
    const a = loadResults(long);
    expect(a.matrix.length).toBeGreaterThan(0);
    expect(loadResults(wide).matrix).toEqual(a.matrix);
    writeFileSync(
      path.join(wide, 'matrix.csv'),
      ['run_id,step,' + columns.join(','), ...lines.slice(0, 2), lines[2].replace(/,[^,]+$/, ',x')].join('\n') + '\n',
    );
    expectError(() => loadResults(wide), 'DATA', 'matrix.csv', 'data row 3', `"${columns.at(-1)}"`);
  });

  it('rejects conflicting duplicates across shards, naming both files and the run', () => {
    const dir = fresh();
    writeShards(dir, fixture, 2, { overlap: true });
    const first = fixture.runs[0];
    // Shard 2 repeats the first run; give it a different GM.
    const file = path.join(dir, 'runs.shard-2-of-2.csv');
    writeFileSync(file, readFileSync(file, 'utf8').replace(String(first.gm), '0.123'));
    expectError(
      () => loadResults(dir),
      'DATA',
      `run_id ${first.run_id}`,
      'runs.shard-1-of-2.csv',
      'runs.shard-2-of-2.csv',
      'gm=',
    );
  });

  fcTest.prop([fc.integer({ min: 1, max: 4 }), fc.infiniteStream(fc.nat()), fc.array(fc.nat(), { maxLength: 5 })], {
    numRuns: 12,
  })('any assignment of runs to shards, with repeats, loads as the unsharded folder', (shards, choices, repeats) => {
    const dir = fresh();
    mkdirSync(dir);
    const header = fixture.runsCsv.split('\n')[0];
    const lines = fixture.runsCsv.trimEnd().split('\n').slice(1);
    const it = choices[Symbol.iterator]();
    const byShard: string[][] = Array.from({ length: shards }, () => []);
    for (const line of lines) byShard[it.next().value % shards].push(line);
    for (const r of repeats) byShard[r % shards].push(lines[r % lines.length]);
    byShard.forEach((ls, i) =>
      writeFileSync(path.join(dir, `runs.shard-${i + 1}-of-${shards}.csv`), [header, ...ls].join('\n') + '\n'),
    );
    writeFileSync(path.join(dir, 'runs.csv'), header + '\n');
    const whole = fresh();
    writeFixture(whole, fixture, { bench: false });
    expect(loadResults(dir).runs).toEqual(loadResults(whole).runs);
  });
});
