import type { TopLevelSpec } from 'vega-lite';
import type { BenchRow } from '../results.js';
import { colorScale, type FigureResult, type ReportContext, SCHEMA } from './types.js';

/**
 * Benchmark cost vs horizon from results/bench/merge.csv: median merge seconds against the number of
 * experts merged, one line per technique / deploy protocol, one panel per model size (params).
 * Mark name `cost`: one line per (label, params).
 */
export function benchFigure(ctx: ReportContext): FigureResult {
  const title = 'Benchmark: merge cost vs horizon';
  if (ctx.data.bench.length === 0)
    return { kind: 'skipped', name: 'bench-cost', title, reason: 'no bench merge.csv found (run npm run bench)' };
  // A series is one suite's technique / protocol at one size; only those measured at two or more
  // horizons make a curve (the two-expert technique suite and the kernel suite do not).
  const seriesKey = (r: BenchRow): string => `${r.suite}\u0000${r.label}\u0000${r.params}`;
  const horizons = new Map<string, Set<number>>();
  for (const r of ctx.data.bench) horizons.set(seriesKey(r), (horizons.get(seriesKey(r)) ?? new Set()).add(r.experts));
  const rows = ctx.data.bench
    .filter((r) => horizons.get(seriesKey(r))!.size >= 2)
    .sort((a, b) => a.experts - b.experts);
  if (rows.length === 0) {
    return {
      kind: 'skipped',
      name: 'bench-cost',
      title,
      reason: 'no benchmark series in merge.csv varies the number of experts',
    };
  }
  const secs = rows.map((r) => r.merge_seconds).filter((s) => s > 0);
  const logY = secs.length === rows.length && Math.max(...secs) / Math.min(...secs) >= 20;
  const sizes = [...new Set(rows.map((r) => r.params))].sort((a, b) => a - b);
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    data: { values: rows.map((r) => ({ ...r, size: `${r.params.toLocaleString('en-US')} params` })) },
    facet: {
      column: {
        field: 'size',
        type: 'nominal',
        title: null,
        sort: sizes.map((s) => `${s.toLocaleString('en-US')} params`),
      },
    },
    spec: {
      width: 300,
      height: 240,
      layer: [
        {
          name: 'cost',
          mark: { type: 'line', strokeWidth: 2 },
          encoding: {
            x: { field: 'experts', type: 'quantitative', title: 'experts merged (horizon)', scale: { zero: false } },
            y: {
              field: 'merge_seconds',
              type: 'quantitative',
              title: 'merge seconds (median)',
              scale: logY ? { type: 'log' } : {},
            },
            color: {
              field: 'label',
              type: 'nominal',
              title: 'technique / protocol',
              scale: colorScale(new Set(rows.map((r) => r.label)).size),
            },
            detail: { field: 'suite', type: 'nominal' },
          },
        },
        {
          name: 'cost_points',
          mark: { type: 'point', filled: true, size: 30 },
          encoding: {
            x: { field: 'experts', type: 'quantitative' },
            y: { field: 'merge_seconds', type: 'quantitative' },
            color: { field: 'label', type: 'nominal' },
            tooltip: [
              { field: 'label' },
              { field: 'experts' },
              { field: 'params' },
              { field: 'merge_seconds', format: '.4g' },
              { field: 'ratio_to_copy' },
            ],
          },
        },
      ],
    },
  };
  const labels = new Set(rows.map((r) => r.label)).size;
  const caption = `${labels} techniques / protocols, ${sizes.length} model size(s) (largest ${sizes[sizes.length - 1].toLocaleString('en-US')} params), ${rows.length} benchmark rows.`;
  return { kind: 'figure', name: 'bench-cost', title, caption, spec };
}
