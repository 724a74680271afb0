import type { TopLevelSpec } from 'vega-lite';
import { protocolCurves } from '../aggregate.js';
import { colorScale, describeSetting, type FigureResult, type ReportContext, SCHEMA } from './types.js';

/**
 * GM after every TIME step, one line per protocol (method) with the focus technique, averaged over
 * seeds; baselines dashed. Mark name `curves`: one line item per protocol.
 */
export function gmOverTimeFigure(ctx: ReportContext): FigureResult {
  const title = 'GM over time per protocol';
  const runIds = new Set(ctx.mainRuns.map((r) => r.run_id));
  if (!ctx.data.steps.some((s) => runIds.has(s.run_id))) {
    return { kind: 'skipped', name: 'gm-over-time', title, reason: 'no steps.csv rows for the runs in runs.csv' };
  }
  const curves = protocolCurves(ctx.mainRuns, ctx.data.steps, ctx.technique).map((c) => ({
    ...c,
    kind: c.baseline ? 'baseline' : 'protocol',
  }));
  if (curves.length === 0)
    return { kind: 'skipped', name: 'gm-over-time', title, reason: 'steps.csv has no step with a GM value' };
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    width: 520,
    height: 320,
    data: { values: curves },
    layer: [
      {
        name: 'curves',
        mark: { type: 'line', strokeWidth: 2 },
        encoding: {
          x: { field: 'step', type: 'quantitative', title: 'TIME step t', axis: { tickMinStep: 1, format: 'd' } },
          y: { field: 'gm', type: 'quantitative', title: 'GM = sqrt(A_KA * A_ZS)', scale: { zero: false } },
          color: {
            field: 'method',
            type: 'nominal',
            title: 'protocol',
            scale: colorScale(new Set(curves.map((c) => c.method)).size),
          },
          strokeDash: {
            field: 'kind',
            type: 'nominal',
            title: null,
            scale: {
              domain: ['protocol', 'baseline'],
              range: [
                [1, 0],
                [5, 3],
              ],
            },
          },
        },
      },
      {
        name: 'curve_points',
        mark: { type: 'point', filled: true, size: 20 },
        encoding: {
          x: { field: 'step', type: 'quantitative' },
          y: { field: 'gm', type: 'quantitative' },
          color: { field: 'method', type: 'nominal' },
          tooltip: [
            { field: 'method' },
            { field: 'step' },
            { field: 'gm', format: '.3f' },
            { field: 'a_ka', format: '.3f' },
            { field: 'a_zs', format: '.3f' },
          ],
        },
      },
    ],
  };
  const methods = new Set(curves.map((c) => c.method));
  const setting = describeSetting(ctx.mainRuns);
  const caption =
    `${methods.size} protocols` +
    (ctx.technique ? `, merging with ${ctx.technique} where the protocol merges` : '') +
    `; mean over seeds; step 0 is the model before training where recorded; baselines dashed.` +
    (setting ? ` Setting: ${setting}.` : '');
  return { kind: 'figure', name: 'gm-over-time', title, caption, spec };
}
