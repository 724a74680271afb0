import type { ResultRun } from '../time/results.js';

/** The final numbers of one run, flattened for summaries and findings. */
export interface RunRow {
  readonly runId: string;
  readonly setting: string;
  readonly method: string;
  readonly technique: string;
  readonly seed: number;
  readonly aKa: number;
  readonly aZs: number;
  readonly gm: number;
  readonly params: Readonly<Record<string, string | number | boolean>>;
}

export function toRows(runs: readonly ResultRun[]): RunRow[] {
  return runs.map((r) => ({
    runId: r.runId,
    setting: String(r.params?.setting ?? 'default'),
    method: r.record.method,
    technique: r.record.technique,
    seed: r.record.seed,
    aKa: r.record.final.aKa ?? NaN,
    aZs: r.record.final.aZs ?? NaN,
    gm: r.record.final.gm ?? NaN,
    params: r.params ?? {},
  }));
}

export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function std(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}

/** Mean metrics over seeds for each (setting, method, technique), best GM first. */
export interface Group {
  readonly setting: string;
  readonly method: string;
  readonly technique: string;
  readonly n: number;
  readonly aKa: number;
  readonly aZs: number;
  readonly gm: number;
  readonly gmStd: number;
}

export function groupRows(rows: readonly RunRow[]): Group[] {
  const by = new Map<string, RunRow[]>();
  for (const r of rows) {
    const key = `${r.setting}\u0000${r.method}\u0000${r.technique}`;
    const list = by.get(key) ?? [];
    list.push(r);
    by.set(key, list);
  }
  return [...by.values()]
    .map((list) => ({
      setting: list[0].setting,
      method: list[0].method,
      technique: list[0].technique,
      n: list.length,
      aKa: mean(list.map((r) => r.aKa)),
      aZs: mean(list.map((r) => r.aZs)),
      gm: mean(list.map((r) => r.gm)),
      gmStd: std(list.map((r) => r.gm)),
    }))
    .sort((a, b) =>
      a.setting < b.setting
        ? -1
        : a.setting > b.setting
          ? 1
          : b.gm - a.gm || (a.method + a.technique < b.method + b.technique ? -1 : 1),
    );
}

export const pct = (x: number): string => (Number.isFinite(x) ? (100 * x).toFixed(1) : 'n/a');
