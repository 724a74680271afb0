import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fail } from '../params/errors.js';
import { type CsvTable, numberCell, optionalNumberCell, parseCsv, requireColumns } from './csv.js';
import { longMatrixRecords } from '../time/results.js';
import type { BenchRow, MatrixRow, ResultsData, RunRow, StepRow } from './results.js';

export const RUN_COLUMNS = [
  'run_id',
  'method',
  'init',
  'deploy',
  'technique',
  'seed',
  'T',
  'a_ka',
  'a_zs',
  'gm',
] as const;
export const STEP_COLUMNS = ['run_id', 'step', 'a_ka', 'a_zs', 'gm'] as const;
export const MATRIX_COLUMNS = ['run_id', 'step', 'task_index', 'task_id', 'role', 'score'] as const;
export const BENCH_COLUMNS = ['experts', 'params', 'merge_seconds'] as const;

export interface LoadOptions {
  /** results/bench/merge.csv to plot; by default looked for in the folder, its bench/ and its sibling bench/. */
  benchCsv?: string;
}

/**
 * Reads a results folder, combining the files of every `--shard` run (runs.shard-1-of-4.csv, ...) with the
 * unsharded ones. Rows are deduplicated by their key (run_id; plus step; plus task_index); two rows with
 * the same key but different values are an error naming both files. Rows come back sorted by key so that
 * the same results give the same data however they were sharded.
 */
export function loadResults(dir: string, options: LoadOptions = {}): ResultsData {
  if (!existsSync(dir)) fail('IO', `results folder ${dir} does not exist`);
  if (!statSync(dir).isDirectory()) fail('IO', `results folder ${dir} is not a folder`);
  const names = readdirSync(dir).sort();
  const sources: string[] = [];

  const readKind = (kind: string): CsvTable[] =>
    names
      .filter((n) => new RegExp(`^${kind}(\\.shard-\\d+-of-\\d+)?\\.csv$`).test(n))
      .map((n) => {
        sources.push(n);
        return parseCsv(readFileSync(path.join(dir, n), 'utf8'), path.join(dir, n));
      });

  const runTables = readKind('runs');
  const stepTables = readKind('steps');
  const matrixTables = readKind('matrix').map(longMatrix);
  const benchFile = findBenchCsv(dir, options.benchCsv);

  if (runTables.length === 0 && benchFile === null) {
    fail('IO', `results folder ${dir} has no runs.csv (nor runs.shard-i-of-n.csv) and no bench merge.csv`);
  }

  const runs = combine(runTables, RUN_COLUMNS, (t, i) => t.rows[i].run_id, toRun).sort((a, b) =>
    byKey(a.run_id, b.run_id),
  );
  const steps = combine(stepTables, STEP_COLUMNS, (t, i) => `${t.rows[i].run_id}\u0000${t.rows[i].step}`, toStep).sort(
    (a, b) => byKey(a.run_id, b.run_id) || a.step - b.step,
  );
  const matrix = combine(
    matrixTables,
    MATRIX_COLUMNS,
    (t, i) => `${t.rows[i].run_id}\u0000${t.rows[i].step}\u0000${t.rows[i].task_index}`,
    toMatrix,
  ).sort((a, b) => byKey(a.run_id, b.run_id) || a.step - b.step || a.task_index - b.task_index);

  let bench: BenchRow[] = [];
  if (benchFile !== null) {
    sources.push(path.relative(dir, benchFile) || benchFile);
    const table = parseCsv(readFileSync(benchFile, 'utf8'), benchFile);
    bench = readBench(table);
  }

  const configName = names.find((n) => /^config(\.shard-\d+-of-\d+)?\.json$/.test(n));
  let config: unknown = null;
  if (configName !== undefined) {
    sources.push(configName);
    const file = path.join(dir, configName);
    try {
      config = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      fail('DATA', `${file}: not valid JSON (${(err as Error).message})`);
    }
  }
  const findingsName = names.find((n) => /^findings(\.shard-\d+-of-\d+)?\.md$/.test(n));
  let findings: string | null = null;
  if (findingsName !== undefined) {
    sources.push(findingsName);
    findings = readFileSync(path.join(dir, findingsName), 'utf8');
  }

  return { dir, runs, steps, matrix, bench, config, findings, sources };
}

const collator = new Intl.Collator('en', { numeric: true });
function byKey(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

function combine<T>(
  tables: CsvTable[],
  required: readonly string[],
  keyOf: (t: CsvTable, i: number) => string,
  convert: (t: CsvTable, i: number) => T,
): T[] {
  const seen = new Map<string, { table: CsvTable; index: number }>();
  const out: T[] = [];
  for (const table of tables) {
    requireColumns(table, required);
    for (let i = 0; i < table.rows.length; i++) {
      const key = keyOf(table, i);
      const row = convert(table, i);
      const prior = seen.get(key);
      if (prior !== undefined) {
        const diff = firstDifference(prior.table, prior.index, table, i);
        if (diff !== null) {
          fail(
            'DATA',
            `conflicting duplicate rows for ${describeKey(key)}: ${prior.table.file} has ${diff.column}=${JSON.stringify(diff.a)}, ` +
              `${table.file} has ${diff.column}=${JSON.stringify(diff.b)}`,
          );
        }
        continue;
      }
      seen.set(key, { table, index: i });
      out.push(row);
    }
  }
  return out;
}

function describeKey(key: string): string {
  const [runId, step, task] = key.split('\u0000');
  return (
    `run_id ${runId}` + (step !== undefined ? ` step ${step}` : '') + (task !== undefined ? ` task_index ${task}` : '')
  );
}

/**
 * Compares two rows over the union of their columns; numbers compare by value (1.0 equals 1). Timings
 * (`*_seconds`) are not compared: they differ between any two executions of one run (a sharded rerun
 * beside an unsharded one), and the first file's are kept.
 */
function firstDifference(
  ta: CsvTable,
  ia: number,
  tb: CsvTable,
  ib: number,
): { column: string; a: string; b: string } | null {
  const columns = new Set([...ta.columns, ...tb.columns]);
  for (const c of columns) {
    if (c.endsWith('_seconds')) continue;
    const a = (ta.rows[ia][c] ?? '').trim();
    const b = (tb.rows[ib][c] ?? '').trim();
    if (a === b) continue;
    const na = Number(a);
    const nb = Number(b);
    if (a !== '' && b !== '' && !Number.isNaN(na) && na === nb) continue;
    return { column: c, a, b };
  }
  return null;
}

function toRun(t: CsvTable, i: number): RunRow {
  const r = t.rows[i];
  const params: Record<string, string> = {};
  for (const c of t.columns) if (c.startsWith('param_')) params[c] = r[c].trim();
  const text = (c: string): string => {
    const v = r[c].trim();
    if (v === '') fail('DATA', `${t.file}: data row ${i + 1}, column "${c}" is empty`);
    return v;
  };
  const opt = (c: string): number | null => (t.columns.includes(c) ? optionalNumberCell(t, i, c) : null);
  return {
    run_id: text('run_id'),
    study: t.columns.includes('study') ? r.study.trim() : '',
    method: text('method'),
    init: text('init'),
    deploy: text('deploy'),
    technique: text('technique'),
    seed: numberCell(t, i, 'seed'),
    T: numberCell(t, i, 'T'),
    a_ka: optionalNumberCell(t, i, 'a_ka'),
    a_zs: optionalNumberCell(t, i, 'a_zs'),
    gm: optionalNumberCell(t, i, 'gm'),
    forgetting: opt('forgetting'),
    bwt: opt('bwt'),
    fwt: opt('fwt'),
    train_steps: opt('train_steps'),
    merge_seconds: opt('merge_seconds'),
    bytes_stored: opt('bytes_stored'),
    wall_seconds: opt('wall_seconds'),
    params,
  };
}

function toStep(t: CsvTable, i: number): StepRow {
  return {
    run_id: t.rows[i].run_id.trim(),
    step: numberCell(t, i, 'step'),
    a_ka: optionalNumberCell(t, i, 'a_ka'),
    a_zs: optionalNumberCell(t, i, 'a_zs'),
    gm: optionalNumberCell(t, i, 'gm'),
    merge_seconds: t.columns.includes('merge_seconds') ? optionalNumberCell(t, i, 'merge_seconds') : null,
  };
}

/**
 * A matrix table in the long format, converted from the wide one (one column per task) when needed; the
 * wide cells are checked here so errors name the file's own row and column.
 */
function longMatrix(t: CsvTable): CsvTable {
  if (t.columns.includes('task_index')) return t;
  requireColumns(t, ['run_id', 'step']);
  const tasks = t.columns.filter((c) => c !== 'run_id' && c !== 'step');
  t.rows.forEach((_, i) => {
    numberCell(t, i, 'step');
    for (const c of tasks) if (t.rows[i][c].trim() !== '') numberCell(t, i, c);
  });
  return { file: t.file, columns: [...MATRIX_COLUMNS], rows: longMatrixRecords(t.columns, t.rows, t.file) };
}

function toMatrix(t: CsvTable, i: number): MatrixRow {
  return {
    run_id: t.rows[i].run_id.trim(),
    step: numberCell(t, i, 'step'),
    task_index: numberCell(t, i, 'task_index'),
    task_id: t.rows[i].task_id.trim(),
    role: t.rows[i].role.trim(),
    score: numberCell(t, i, 'score'),
  };
}

function findBenchCsv(dir: string, explicit: string | undefined): string | null {
  if (explicit !== undefined) {
    if (!existsSync(explicit)) fail('IO', `benchmark file ${explicit} does not exist`);
    return explicit;
  }
  const candidates = [
    path.join(dir, 'merge.csv'),
    path.join(dir, 'bench', 'merge.csv'),
    path.join(path.dirname(path.resolve(dir)), 'bench', 'merge.csv'),
  ];
  return candidates.find((c) => existsSync(c)) ?? null;
}

function readBench(table: CsvTable): BenchRow[] {
  requireColumns(table, BENCH_COLUMNS);
  if (!table.columns.includes('technique') && !table.columns.includes('protocol')) {
    fail('DATA', `${table.file}: missing required column "technique" (or "protocol")`);
  }
  return table.rows.map((r, i) => {
    const technique = (r.technique ?? '').trim();
    const protocol = (r.protocol ?? '').trim();
    const usable = (s: string): boolean => s !== '' && s !== '-';
    const label = usable(protocol) ? (usable(technique) ? `${protocol} (${technique})` : protocol) : technique || '?';
    return {
      suite: (r.suite ?? '').trim(),
      technique,
      protocol,
      label,
      experts: numberCell(table, i, 'experts'),
      params: numberCell(table, i, 'params'),
      merge_seconds: numberCell(table, i, 'merge_seconds'),
      ratio_to_copy: table.columns.includes('ratio_to_copy') ? optionalNumberCell(table, i, 'ratio_to_copy') : null,
    };
  });
}
