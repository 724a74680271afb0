/**
 * The numbers each figure shows, computed from the loaded rows. Pure functions of the data (no rendering),
 * so tests can check them by hand and shard combinations can be compared with unsharded results.
 */
import { weightedAverage } from '../merge/weighted-average.js';
import { isBaseline, type MatrixRow, type RunRow, type StepRow } from './results.js';

/** A run or step with all three metrics defined (A_ZS and GM are blank for streams without zero-shot tasks). */
export type Scored<T extends { a_ka: number | null; a_zs: number | null; gm: number | null }> = T & {
  a_ka: number;
  a_zs: number;
  gm: number;
};

export function isScored<T extends { a_ka: number | null; a_zs: number | null; gm: number | null }>(
  r: T,
): r is Scored<T> {
  return r.a_ka !== null && r.a_zs !== null && r.gm !== null;
}

/**
 * Settings that distinguish runs besides protocol, technique and seed: the param_* columns and T. A
 * baseline's batch mix is its own (the multitask oracle mixes pretraining and task data, not the study's
 * replay), so it does not set a baseline apart from the setting it was run in.
 */
export function settingOf(run: RunRow): Record<string, string> {
  const params = isBaseline(run)
    ? Object.fromEntries(Object.entries(run.params).filter(([k]) => !k.startsWith('param_replay_')))
    : run.params;
  return { ...params, T: String(run.T) };
}

function settingKey(run: RunRow): string {
  const s = settingOf(run);
  return Object.keys(s)
    .sort()
    .map((k) => `${k}=${s[k]}`)
    .join(',');
}

/**
 * A short name for the main setting among several: its `param_setting` label when the study names its
 * settings, else the values that tell the settings apart (e.g. "d=64, T=10").
 */
export function settingLabel(runs: readonly RunRow[], main: readonly RunRow[]): string {
  const first = main.find((r) => !isBaseline(r)) ?? main[0];
  if (!first) return '';
  const own = settingOf(first);
  if (own.param_setting) return own.param_setting;
  const methods = runs.filter((r) => !isBaseline(r)).map(settingOf);
  const varying = Object.keys(own).filter((k) => methods.some((s) => s[k] !== own[k]));
  return varying.map((k) => `${k.replace(/^param_/, '')}=${own[k]}`).join(', ');
}

/** The number of settings the method runs span (baselines run in one of them). */
export function settingCount(runs: readonly RunRow[]): number {
  return new Set(runs.filter((r) => !isBaseline(r)).map(settingKey)).size;
}

/**
 * Most frequent value; ties go to a `preferred` value, then to the smallest in numeric-aware order, so
 * the choice is reproducible.
 */
export function mode(values: readonly string[], preferred: (v: string) => boolean = () => false): string | undefined {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  const order = [...counts.keys()].sort((a, b) => Number(preferred(b)) - Number(preferred(a)) || compareValues(a, b));
  let best: string | undefined;
  let bestCount = 0;
  for (const v of order) {
    const c = counts.get(v)!;
    if (c > bestCount) {
      best = v;
      bestCount = c;
    }
  }
  return best;
}

const collator = new Intl.Collator('en', { numeric: true });
function compareValues(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (a !== '' && b !== '' && !Number.isNaN(na) && !Number.isNaN(nb) && na !== nb) return na - nb;
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * The runs of the study's main setting: the param_* / T combination with the most runs. Studies that
 * sweep model size or horizon show the main figures at one setting and the sweep in the scaling curves.
 */
export function mainSettingRuns(runs: readonly RunRow[]): RunRow[] {
  const key = mode(runs.map(settingKey));
  const main = runs.find((r) => settingKey(r) === key && !isBaseline(r));
  // A baseline belongs to the main setting when every setting it has is the main one's.
  const inMain = (r: RunRow) =>
    settingKey(r) === key ||
    (main !== undefined && isBaseline(r) && Object.entries(settingOf(r)).every(([k, v]) => settingOf(main)[k] === v));
  return runs.filter(inMain);
}

/** Weighted averaging under any of its spellings: the technique of the paper's Best-in-TIME. */
const WEIGHTED_AVERAGE = new Set([weightedAverage.name, ...(weightedAverage.aliases ?? [])]);

/**
 * The merging technique most runs use, for figures that show one technique. A full grid uses every
 * technique equally often; the tie then goes to weighted averaging, which Best-in-TIME uses.
 */
export function focusTechnique(runs: readonly RunRow[]): string | undefined {
  return mode(
    runs.filter((r) => !isBaseline(r) && r.technique !== '-').map((r) => r.technique),
    (t) => WEIGHTED_AVERAGE.has(t),
  );
}

export interface MethodPoint {
  method: string;
  init: string;
  deploy: string;
  technique: string;
  baseline: boolean;
  seeds: number;
  a_ka: number;
  a_zs: number;
  gm: number;
}

const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

/**
 * One point per init x deploy x technique (baselines included): final metrics averaged over seeds. Runs
 * without A_ZS / GM cannot be placed and are left out.
 */
export function methodPoints(runs: readonly RunRow[]): MethodPoint[] {
  const groups = new Map<string, Scored<RunRow>[]>();
  for (const r of runs) {
    if (!isScored(r)) continue;
    const key = [r.method, r.init, r.deploy, r.technique].join('\u0000');
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  const points = [...groups.values()].map((g) => ({
    method: g[0].method,
    init: g[0].init,
    deploy: g[0].deploy,
    technique: g[0].technique,
    baseline: isBaseline(g[0]),
    seeds: new Set(g.map((r) => r.seed)).size,
    a_ka: mean(g.map((r) => r.a_ka)),
    a_zs: mean(g.map((r) => r.a_zs)),
    gm: mean(g.map((r) => r.gm)),
  }));
  return points.sort(
    (a, b) => Number(a.baseline) - Number(b.baseline) || b.gm - a.gm || pointLabel(a).localeCompare(pointLabel(b)),
  );
}

export function pointLabel(p: Pick<MethodPoint, 'method' | 'technique'>): string {
  return p.technique === '-' ? p.method : `${p.method} [${p.technique}]`;
}

/** Lower and upper quartile (linear interpolation between order statistics). */
function quartiles(values: readonly number[]): [number, number] {
  const v = [...values].sort((a, b) => a - b);
  const at = (q: number) => {
    const i = q * (v.length - 1);
    const lo = Math.floor(i);
    return v[lo] + (v[Math.min(lo + 1, v.length - 1)] - v[lo]) * (i - lo);
  };
  return [at(0.25), at(0.75)];
}

/**
 * Which values belong to the bulk: values beyond 3 interquartile ranges (at least 0.01) from the
 * quartiles are outliers (judged from 5 values on; with fewer, every value is in the bulk).
 */
export function inBulk(values: readonly number[]): boolean[] {
  if (values.length < 5) return values.map(() => true);
  const [q1, q3] = quartiles(values);
  const iqr = Math.max(q3 - q1, 0.01);
  return values.map((x) => x >= q1 - 3 * iqr && x <= q3 + 3 * iqr);
}

/**
 * An axis range around the values, padded by a tenth of their range (at least 0.01) and kept within
 * [0, 1], so one value or equal values still give an axis of some width.
 */
export function paddedDomain(values: readonly number[]): [number, number] {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const pad = Math.max(0.1 * (hi - lo), 0.01);
  return [Math.max(0, Number((lo - pad).toFixed(3))), Math.min(1, Number((hi + pad).toFixed(3)))];
}

/**
 * An axis range that fits the bulk of the values (inBulk), drawing outliers at the edge instead of
 * stretching the axis; `keep` values (the baselines) are always inside.
 */
export function bulkDomain(values: readonly number[], keep: readonly number[] = []): [number, number] {
  const bulk = inBulk(values);
  return paddedDomain([...values.filter((_, i) => bulk[i]), ...keep]);
}

export interface CurvePoint {
  method: string;
  baseline: boolean;
  step: number;
  a_ka: number;
  a_zs: number;
  gm: number;
}

/**
 * GM (and A_KA, A_ZS) after every step, one curve per protocol (method): runs with the given technique
 * or none, averaged over seeds.
 */
export function protocolCurves(
  runs: readonly RunRow[],
  steps: readonly StepRow[],
  technique: string | undefined,
): CurvePoint[] {
  const chosen = new Map<string, RunRow>();
  for (const r of runs) if (r.technique === '-' || r.technique === technique) chosen.set(r.run_id, r);
  const groups = new Map<string, { method: string; baseline: boolean; rows: Scored<StepRow>[] }>();
  for (const s of steps) {
    const run = chosen.get(s.run_id);
    if (!run || !isScored(s)) continue;
    const key = `${run.method}\u0000${s.step}`;
    const g = groups.get(key);
    if (g) g.rows.push(s);
    else groups.set(key, { method: run.method, baseline: isBaseline(run), rows: [s] });
  }
  return [...groups.values()]
    .map((g) => ({
      method: g.method,
      baseline: g.baseline,
      step: g.rows[0].step,
      a_ka: mean(g.rows.map((s) => s.a_ka)),
      a_zs: mean(g.rows.map((s) => s.a_zs)),
      gm: mean(g.rows.map((s) => s.gm)),
    }))
    .sort((a, b) => a.method.localeCompare(b.method) || a.step - b.step);
}

/**
 * The non-baseline run with the highest final GM (ties: the first run_id); by A_KA when no run has a GM
 * (streams without zero-shot tasks).
 */
export function bestRun(runs: readonly RunRow[]): RunRow | undefined {
  const candidates = runs.filter((r) => !isBaseline(r));
  const metric = candidates.some((r) => r.gm !== null) ? 'gm' : 'a_ka';
  let best: RunRow | undefined;
  for (const r of candidates) {
    const v = r[metric];
    if (v !== null && (best === undefined || v > best[metric]!)) best = r;
  }
  return best;
}

/** The metric bestRun ranks by when two or more non-baseline runs all share its value (nothing is "best"); else undefined. */
export function runsTie(runs: readonly RunRow[]): 'gm' | 'a_ka' | undefined {
  const candidates = runs.filter((r) => !isBaseline(r));
  const metric = candidates.some((r) => r.gm !== null) ? 'gm' : 'a_ka';
  const values = candidates.map((r) => r[metric]).filter((v) => v !== null);
  return values.length > 1 && values.every((v) => v === values[0]) ? metric : undefined;
}

/** Best-in-TIME (ema_paint) with the given technique, lowest seed; undefined when the study has none. */
export function bestInTimeRun(runs: readonly RunRow[], technique: string | undefined): RunRow | undefined {
  const cands = runs.filter((r) => r.method === 'ema_paint' && (technique === undefined || r.technique === technique));
  const pool = cands.length > 0 ? cands : runs.filter((r) => r.method === 'ema_paint');
  return [...pool].sort((a, b) => a.seed - b.seed)[0];
}

/** The accuracy matrix R[t][j] of one run, steps 1..T (step 0, before training, is left out). */
export function matrixCells(matrix: readonly MatrixRow[], runId: string): MatrixRow[] {
  return matrix.filter((m) => m.run_id === runId && m.step >= 1);
}

export interface SpreadBar {
  kind: 'across techniques' | 'across protocols';
  /** The protocol held fixed (for 'across techniques') or the technique held fixed. */
  fixed: string;
  min: number;
  max: number;
  range: number;
  count: number;
}

/**
 * How much final GM moves when only the technique changes (one bar per protocol: range over techniques)
 * versus when only the protocol changes (one bar per technique: range over protocols). The paper's
 * finding is that the second is much larger.
 */
export function spreads(points: readonly MethodPoint[]): SpreadBar[] {
  const merged = points.filter((p) => !p.baseline && p.technique !== '-');
  const bars: SpreadBar[] = [];
  const spread = (kind: SpreadBar['kind'], keyOf: (p: MethodPoint) => string): void => {
    const groups = new Map<string, number[]>();
    for (const p of merged) {
      const k = keyOf(p);
      const g = groups.get(k);
      if (g) g.push(p.gm);
      else groups.set(k, [p.gm]);
    }
    for (const [fixed, gms] of [...groups.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
      if (gms.length < 2) continue;
      const min = Math.min(...gms);
      const max = Math.max(...gms);
      bars.push({ kind, fixed, min, max, range: max - min, count: gms.length });
    }
  };
  spread('across techniques', (p) => p.method);
  spread('across protocols', (p) => p.technique);
  return bars;
}

export interface ScalingPoint {
  axis: string;
  value: number;
  method: string;
  baseline: boolean;
  gm: number;
  a_ka: number;
  a_zs: number;
  runs: number;
}

/** Settings with at least two distinct numeric values: param_* columns and T. */
export function scalingAxes(runs: readonly RunRow[]): string[] {
  const axes = new Set<string>();
  for (const r of runs) for (const k of Object.keys(settingOf(r))) axes.add(k);
  return [...axes]
    .filter((axis) => {
      // Studies may record the horizon as param_T too; one horizon figure is enough.
      if (axis === 'param_T' && runs.every((r) => r.params.param_T === String(r.T))) return false;
      const values = new Set(runs.map((r) => settingOf(r)[axis]).filter((v) => v !== undefined && v !== ''));
      return values.size >= 2 && [...values].every((v) => !Number.isNaN(Number(v)));
    })
    .sort((a, b) => (a === 'T' ? 1 : b === 'T' ? -1 : a.localeCompare(b)));
}

/**
 * GM against one setting, with every other varying setting held at its most common value (the study's
 * default), one curve per protocol with the focus technique (or none), averaged over seeds.
 */
export function scalingCurve(runs: readonly RunRow[], axis: string, technique: string | undefined): ScalingPoint[] {
  const others = scalingAxes(runs).filter((a) => a !== axis);
  const held = new Map(others.map((a) => [a, mode(runs.map((r) => settingOf(r)[a] ?? ''))]));
  const chosen = runs
    .filter(isScored)
    .filter(
      (r) =>
        (r.technique === '-' || r.technique === technique) &&
        others.every((a) => (settingOf(r)[a] ?? '') === held.get(a)),
    );
  const groups = new Map<string, Scored<RunRow>[]>();
  for (const r of chosen) {
    const v = settingOf(r)[axis];
    if (v === undefined || v === '') continue;
    const key = `${r.method}\u0000${Number(v)}`;
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  return [...groups.values()]
    .map((g) => ({
      axis,
      value: Number(settingOf(g[0])[axis]),
      method: g[0].method,
      baseline: isBaseline(g[0]),
      gm: mean(g.map((r) => r.gm)),
      a_ka: mean(g.map((r) => r.a_ka)),
      a_zs: mean(g.map((r) => r.a_zs)),
      runs: g.length,
    }))
    .sort((a, b) => a.method.localeCompare(b.method) || a.value - b.value);
}

/** The other settings scalingCurve holds fixed, for the figure's caption. */
export function heldSettings(runs: readonly RunRow[], axis: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of scalingAxes(runs)) if (a !== axis) out[a] = mode(runs.map((r) => settingOf(r)[a] ?? '')) ?? '';
  return out;
}
