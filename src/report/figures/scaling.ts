import type { TopLevelSpec } from 'vega-lite';
import { heldSettings, scalingAxes, scalingCurve } from '../aggregate.js';
import {
  colourGroup,
  type FigureResult,
  PAPER_METHOD_COLOURS,
  type ReportContext,
  SCHEMA,
  seriesScales,
} from './types.js';
import { own } from '../../params/own.js';

/** What each known setting means, for axis titles; others show their column name. */
const AXIS_TITLES: Record<string, string> = {
  T: 'horizon T (tasks)',
  param_d: 'model size: input dim d',
  param_k: 'model size: embedding dim k',
  param_width: 'model size: width',
  param_params: 'model size: parameters',
  param_steps: 'compute: train steps per task',
  param_compute: 'compute',
};

/**
 * GM against every setting that varies (param_* columns, T): model size, compute, horizon. Other varying
 * settings are held at their most common value. Mark name `curves`: one line per protocol.
 */
export function scalingFigures(ctx: ReportContext): FigureResult[] {
  const axes = scalingAxes(ctx.data.runs);
  if (axes.length === 0) {
    return [
      {
        kind: 'skipped',
        name: 'scaling',
        title: 'Scaling curves',
        reason: 'no param_* column and no T varies across the runs',
      },
    ];
  }
  return axes.map((axis): FigureResult => {
    const name = `scaling-${axis.replace(/^param_/, '')}`;
    const title = `Scaling: GM vs ${own(AXIS_TITLES, axis) ?? axis}`;
    // A protocol run at one value only is a dot, not a curve: leave it out.
    const all = scalingCurve(ctx.data.runs, axis, ctx.technique);
    const counts = new Map<string, number>();
    for (const p of all) counts.set(p.method, (counts.get(p.method) ?? 0) + 1);
    const points = all.filter((p) => (counts.get(p.method) ?? 0) >= 2);
    if (points.length === 0) {
      return {
        kind: 'skipped',
        name,
        title,
        reason: `no protocol was run at two or more values of ${axis} with the other settings fixed`,
      };
    }
    const values = points.map((p) => p.value);
    const logX = Math.min(...values) > 0 && Math.max(...values) / Math.min(...values) >= 8;
    const integers = values.every((v) => Number.isInteger(v));
    // The paper's named methods in colour, other protocols grey, baselines dashed, as in GM over time.
    const protocols = new Set(points.filter((p) => !p.baseline).map((p) => p.method));
    const others = [...protocols].filter((m) => !(m in PAPER_METHOD_COLOURS)).length;
    const series = (p: (typeof points)[number]) => (p.baseline ? p.method : colourGroup(p.method, others));
    const scales = seriesScales(points.map(series));
    const legend = { title: 'protocol / baseline', symbolStrokeWidth: 2.5 };
    const spec: TopLevelSpec = {
      $schema: SCHEMA,
      width: 420,
      height: 300,
      data: { values: points.map((p) => ({ ...p, series: series(p) })) },
      layer: [
        {
          name: 'curves',
          mark: { type: 'line', strokeWidth: 2, point: false },
          encoding: {
            x: {
              field: 'value',
              type: 'quantitative',
              title: own(AXIS_TITLES, axis) ?? axis,
              scale: logX ? { type: 'log' } : { zero: false },
              axis: integers ? { tickMinStep: 1, format: 'd' } : {},
            },
            y: { field: 'gm', type: 'quantitative', title: 'final GM', scale: { zero: false } },
            color: { field: 'series', type: 'nominal', scale: scales.colour, legend },
            strokeDash: { field: 'series', type: 'nominal', scale: scales.dash, legend },
            detail: { field: 'method', type: 'nominal' },
          },
        },
        {
          name: 'curve_points',
          mark: { type: 'point', filled: true, size: 30 },
          encoding: {
            x: { field: 'value', type: 'quantitative', scale: logX ? { type: 'log' } : { zero: false } },
            y: { field: 'gm', type: 'quantitative' },
            color: { field: 'series', type: 'nominal', scale: scales.colour, legend: null },
            tooltip: [{ field: 'method' }, { field: 'value' }, { field: 'gm', format: '.3f' }, { field: 'runs' }],
          },
        },
      ],
    };
    const held = Object.entries(heldSettings(ctx.data.runs, axis)).map(([k, v]) => `${k}=${v}`);
    const caption =
      `Final GM, mean over seeds` +
      (ctx.technique ? `, merging with ${ctx.technique}` : '') +
      (held.length > 0 ? `; other settings held at ${held.join(', ')}` : '') +
      '.';
    return { kind: 'figure', name, title, caption, spec };
  });
}
