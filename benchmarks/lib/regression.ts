/**
 * The CI regression check: a benchmark row fails when its ratio to copy bandwidth falls below
 * `factor` (default 1/2) of the committed baseline. Ratios, not seconds, so that a slower or busier
 * machine does not fail by itself: both the merge and the copy it is divided by slow down together.
 *
 * Rows are compared only when they were measured with the same kernel backend (`kernels` column): on a
 * machine where the native addon did not build, the merges fall back to WebAssembly, and comparing those
 * against native figures would fail for a reason the check is not about. Such rows are reported as skipped.
 */
import { fail } from '../../src/params/errors.js';
import { parseCsv } from '../../src/report/csv.js';

export interface RatioRow {
  readonly suite: string;
  readonly technique: string;
  readonly protocol: string;
  readonly experts: number;
  readonly params: number;
  /** The kernel backend the row ran on (ts, wasm, native); absent in baselines from before it was recorded. */
  readonly kernels?: string;
  readonly ratio_to_copy: number;
}

export const BASELINE_COLUMNS = [
  'suite',
  'technique',
  'protocol',
  'experts',
  'params',
  'kernels',
  'ratio_to_copy',
] as const;
const REQUIRED_COLUMNS = BASELINE_COLUMNS.filter((c) => c !== 'kernels');

export function rowKey(r: Pick<RatioRow, 'suite' | 'technique' | 'protocol' | 'experts' | 'params'>): string {
  return `${r.suite}/${r.technique}/${r.protocol}/T=${r.experts}/P=${r.params}`;
}

/** Reads a baseline CSV; a missing column or a non-numeric ratio is a DATA error naming the file and row. */
export function parseBaseline(text: string, file: string): RatioRow[] {
  const table = parseCsv(text, file);
  for (const c of REQUIRED_COLUMNS) if (!table.columns.includes(c)) fail('DATA', `${file}: missing column "${c}"`);
  const records = table.rows;
  if (records.length === 0) fail('DATA', `${file}: no baseline rows`);
  return records.map((r, i) => {
    const num = (c: string) => {
      const v = Number(r[c]);
      if (r[c] === '' || !Number.isFinite(v)) fail('DATA', `${file}: row ${i + 2}: ${c} "${r[c]}" is not a number`);
      return v;
    };
    const kernels = r.kernels ? { kernels: r.kernels } : {};
    return {
      suite: r.suite,
      technique: r.technique,
      protocol: r.protocol,
      experts: num('experts'),
      params: num('params'),
      ...kernels,
      ratio_to_copy: num('ratio_to_copy'),
    };
  });
}

export interface RegressionResult {
  readonly key: string;
  readonly baseline: number;
  /** The measured ratio, or undefined when the run has no such row. */
  readonly measured: number | undefined;
  readonly ok: boolean;
  /** Why the row was not compared (a different kernel backend); ok is true then. */
  readonly skipped?: string;
}

/**
 * Compares every baseline row with the run's row of the same key; rows only in the run are ignored.
 * `available`: the kernel backends this run could use; a baseline row of another backend that the run
 * lacks, or whose row ran on a different backend, is skipped rather than failed.
 */
export function compareToBaseline(
  run: readonly RatioRow[],
  baseline: readonly RatioRow[],
  factor = 0.5,
  available?: readonly string[],
): RegressionResult[] {
  const byKey = new Map(run.map((r) => [rowKey(r), r]));
  return baseline.map((b) => {
    const key = rowKey(b);
    const m = byKey.get(key);
    const measured = m?.ratio_to_copy;
    if (b.kernels !== undefined) {
      if (m?.kernels !== undefined && m.kernels !== b.kernels) {
        return {
          key,
          baseline: b.ratio_to_copy,
          measured,
          ok: true,
          skipped: `baseline ran on ${b.kernels} kernels, this run on ${m.kernels}`,
        };
      }
      if (!m && available && !available.includes(b.kernels)) {
        return {
          key,
          baseline: b.ratio_to_copy,
          measured,
          ok: true,
          skipped: `${b.kernels} kernels are not available in this run`,
        };
      }
    }
    return {
      key,
      baseline: b.ratio_to_copy,
      measured,
      ok: measured !== undefined && measured >= factor * b.ratio_to_copy,
    };
  });
}

export function formatResult(r: RegressionResult, factor = 0.5): string {
  if (r.skipped) return `skip ${r.key}: not compared (${r.skipped})`;
  const m = r.measured === undefined ? 'missing from this run' : r.measured.toFixed(3);
  return `${r.ok ? 'ok  ' : 'FAIL'} ${r.key}: ratio ${m} vs baseline ${r.baseline.toFixed(3)} (floor ${(factor * r.baseline).toFixed(3)})`;
}

/**
 * A baseline from several runs of the same grid: each row's lowest ratio. One lucky run (a kernel's inputs
 * still in cache, a quiet moment) would otherwise set a floor that CI on the same code misses.
 */
export function lowestRatios(runs: readonly (readonly RatioRow[])[]): RatioRow[] {
  const lowest = new Map<string, RatioRow>();
  for (const run of runs)
    for (const r of run) {
      const key = `${rowKey(r)}/${r.kernels ?? ''}`;
      const seen = lowest.get(key);
      if (!seen || r.ratio_to_copy < seen.ratio_to_copy) lowest.set(key, r);
    }
  return [...lowest.values()];
}
