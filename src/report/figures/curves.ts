import type { TopLevelSpec } from 'vega-lite';
import { protocolCurves } from '../aggregate.js';
import {
  colourGroup,
  type FigureResult,
  PAPER_METHOD_COLOURS,
  type ReportContext,
  SCHEMA,
  seriesScales,
  settingCaption,
  settingNote,
} from './types.js';

/**
 * GM after every TIME step, one line per protocol (method) with the focus technique, averaged over
 * seeds: the paper's named methods in colour, other protocols thin and grey, baselines dashed and drawn
 * last, so continual stays visible on top of finetune (the same runs) and zeroshot, recorded at step 0
 * only, is a level line across the plot. Mark name `curves`: one line item per protocol or baseline.
 */
export function gmOverTimeFigure(ctx: ReportContext): FigureResult {
  const title = 'GM over time per protocol';
  const runIds = new Set(ctx.mainRuns.map((r) => r.run_id));
  if (!ctx.data.steps.some((s) => runIds.has(s.run_id))) {
    return { kind: 'skipped', name: 'gm-over-time', title, reason: 'no steps.csv rows for the runs in runs.csv' };
  }
  const raw = protocolCurves(ctx.mainRuns, ctx.data.steps, ctx.technique);
  if (raw.length === 0)
    return { kind: 'skipped', name: 'gm-over-time', title, reason: 'steps.csv has no step with a GM value' };
  const lastStep = Math.max(...raw.map((c) => c.step));
  const methods = [...new Set(raw.map((c) => c.method))];
  const others = methods.filter((m) => !(m in PAPER_METHOD_COLOURS) && !raw.find((c) => c.method === m)?.baseline);
  // A baseline recorded at one step only (zeroshot: θ0) holds that level across the plot.
  const extended = methods.flatMap((m) => {
    const rows = raw.filter((c) => c.method === m);
    return rows.length === 1 && rows[0].baseline && lastStep > rows[0].step
      ? [{ ...rows[0], step: lastStep, held: true }]
      : [];
  });
  const curves = [...raw.map((c) => ({ ...c, held: false })), ...extended].map((c) => ({
    ...c,
    series: c.baseline ? c.method : colourGroup(c.method, others.length),
    layer: c.baseline ? 2 : c.method in PAPER_METHOD_COLOURS ? 1 : 0,
  }));
  const scales = seriesScales(curves.map((c) => c.series));
  const legend = { title: 'protocol / baseline', symbolStrokeWidth: 2.5, symbolSize: 300 };
  const colour = { field: 'series', type: 'nominal' as const, scale: scales.colour, legend };
  const dash = { field: 'series', type: 'nominal' as const, scale: scales.dash, legend };
  const x = {
    field: 'step',
    type: 'quantitative' as const,
    title: 'TIME step t',
    axis: { tickMinStep: 1, format: 'd' },
  };
  const y = {
    field: 'gm',
    type: 'quantitative' as const,
    title: 'GM = sqrt(A_KA * A_ZS)',
    scale: { zero: false, padding: 12 },
  };
  const note = settingNote(ctx);
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    ...(note ? { title: { text: note, fontSize: 12, fontWeight: 'normal' as const } } : {}),
    width: 560,
    height: 340,
    data: { values: curves },
    layer: [
      {
        name: 'curves',
        mark: { type: 'line' },
        encoding: {
          x,
          y,
          color: colour,
          strokeDash: dash,
          detail: { field: 'method', type: 'nominal' },
          // Grey protocols thin and underneath, the paper's methods above them, the baselines on top.
          order: { field: 'layer', type: 'quantitative' },
          strokeWidth: {
            field: 'layer',
            type: 'ordinal',
            scale: { domain: [0, 1, 2], range: [1, 2.2, 2.2] },
            legend: null,
          },
        },
      },
      {
        name: 'curve_points',
        transform: [{ filter: '!datum.held && datum.layer > 0' }],
        mark: { type: 'point', filled: true, size: 18 },
        encoding: {
          x,
          y,
          color: { ...colour, legend: null },
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
  const held = extended.map((e) => e.method);
  const caption =
    `${methods.length - new Set(raw.filter((c) => c.baseline).map((c) => c.method)).size} protocols` +
    (ctx.technique ? `, merging with ${ctx.technique} where the protocol merges` : '') +
    `; mean over seeds; step 0 is the model before training where recorded. The paper's named methods in colour` +
    (others.length > 0 ? `, the ${others.length} other protocols thin and grey` : '') +
    '; baselines dashed and drawn on top (continual runs the same steps as finetune, so it covers it)' +
    (held.length > 0 ? `; ${held.join(', ')} is recorded at step 0 only and drawn level across the steps` : '') +
    '.' +
    settingCaption(ctx);
  return { kind: 'figure', name: 'gm-over-time', title, caption, spec };
}
