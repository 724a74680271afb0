/** Two-sided 95% Student t quantiles t_{0.975, df} for df = 1..30 (beyond: the normal 1.96 as a floor). */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

export function tQuantile975(df: number): number {
  if (!Number.isInteger(df) || df < 1) return NaN;
  return df <= 30 ? T975[df - 1] : 1.96 + 2.4 / df;
}

/** A mean with its 95% t interval over n paired observations (NaN bounds when n < 2). */
export interface Interval {
  readonly mean: number;
  readonly lo: number;
  readonly hi: number;
  readonly n: number;
}

export function meanInterval(xs: readonly number[]): Interval {
  const v = xs.filter(Number.isFinite);
  const n = v.length;
  if (n === 0) return { mean: NaN, lo: NaN, hi: NaN, n };
  const m = v.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean: m, lo: NaN, hi: NaN, n };
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1));
  const h = (tQuantile975(n - 1) * sd) / Math.sqrt(n);
  return { mean: m, lo: m - h, hi: m + h, n };
}

/** Differences a_s - b_s over the keys (seeds) both have, and their interval. */
export function pairedDifference(a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number>): Interval {
  const d: number[] = [];
  for (const [k, x] of a) if (b.has(k)) d.push(x - b.get(k)!);
  return meanInterval(d);
}

/** 'above' when the interval lies above 0, 'below' when below, 'overlaps' otherwise (or unknown). */
export function side(i: Interval): 'above' | 'below' | 'overlaps' {
  if (i.lo > 0) return 'above';
  if (i.hi < 0) return 'below';
  return 'overlaps';
}

/** Least-squares slope of y on x. */
export function slope(x: readonly number[], y: readonly number[]): number {
  const n = x.length;
  if (n < 2) return NaN;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  return sxx === 0 ? NaN : sxy / sxx;
}

/**
 * Two-way decomposition of a complete table y[r][c] (rows: methods, columns: techniques): the shares of
 * the total sum of squares around the grand mean due to the row means, the column means and the rest
 * (interaction). Shares sum to 1; NaN for a table with no spread.
 */
export function twoWayShares(y: readonly (readonly number[])[]): {
  rows: number;
  columns: number;
  interaction: number;
} {
  const R = y.length;
  const C = R > 0 ? y[0].length : 0;
  const all = y.flat();
  const g = all.reduce((a, b) => a + b, 0) / all.length;
  const rm = y.map((r) => r.reduce((a, b) => a + b, 0) / C);
  const cm = Array.from({ length: C }, (_, j) => y.reduce((a, r) => a + r[j], 0) / R);
  const total = all.reduce((a, v) => a + (v - g) ** 2, 0);
  const ssr = C * rm.reduce((a, m) => a + (m - g) ** 2, 0);
  const ssc = R * cm.reduce((a, m) => a + (m - g) ** 2, 0);
  if (total === 0) return { rows: NaN, columns: NaN, interaction: NaN };
  return { rows: ssr / total, columns: ssc / total, interaction: Math.max(0, total - ssr - ssc) / total };
}
