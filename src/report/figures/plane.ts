import type { TopLevelSpec } from 'vega-lite';
import { type MethodPoint, methodPoints, pointLabel } from '../aggregate.js';
import { describeSetting, type FigureResult, type ReportContext, SCHEMA } from './types.js';

/** Twelve distinguishable shapes (vega's default range has eight; studies compare up to ten techniques). */
const SHAPES = [
  'circle',
  'square',
  'triangle-up',
  'cross',
  'diamond',
  'triangle-down',
  'triangle-right',
  'triangle-left',
  'M-1,-0.33L-0.33,-0.33L0,-1L0.33,-0.33L1,-0.33L0.45,0.15L0.65,1L0,0.5L-0.65,1L-0.45,0.15Z', // star
  'M-1,0L-0.5,-0.87L0.5,-0.87L1,0L0.5,0.87L-0.5,0.87Z', // hexagon
  'M-1,-1L1,-1L-1,1L1,1Z', // hourglass
  'M0,-1L0.95,-0.31L0.59,0.81L-0.59,0.81L-0.95,-0.31Z', // pentagon
];

const GM_LEVELS = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/** Curves of constant GM = sqrt(A_KA * A_ZS), i.e. A_ZS = g^2 / A_KA, so the plane reads as a trade-off. */
function isoGmLines(): { gm: number; a_ka: number; a_zs: number }[] {
  const rows: { gm: number; a_ka: number; a_zs: number }[] = [];
  for (const g of GM_LEVELS) {
    for (let i = 0; i <= 40; i++) {
      const x = g * g + ((1 - g * g) * i) / 40;
      rows.push({ gm: g, a_ka: x, a_zs: (g * g) / x });
    }
  }
  return rows;
}

/**
 * The A_KA vs A_ZS plane (the paper's main view): one point per init x deploy x technique, final metrics
 * averaged over seeds; baselines drawn as black diamonds with their names; dotted iso-GM curves.
 * Mark names: `methods` (one item per merged/protocol point), `baselines`, `baseline_labels`.
 */
export function planeFigure(ctx: ReportContext): FigureResult {
  const title = 'Knowledge accumulation vs zero-shot retention';
  if (ctx.mainRuns.length === 0) return { kind: 'skipped', name: 'plane', title, reason: 'runs.csv has no runs' };
  const points = methodPoints(ctx.mainRuns).map((p) => ({ ...p, label: pointLabel(p), protocol: p.method }));
  if (points.length === 0) {
    return { kind: 'skipped', name: 'plane', title, reason: 'no run has both A_KA and A_ZS (A_ZS is blank when the stream has no zero-shot tasks)' };
  }
  const methods = points.filter((p) => !p.baseline);
  const baselines = points.filter((p) => p.baseline);
  const protocols = new Set(methods.map((p) => p.protocol)).size;
  const all = points.map((p) => [p.a_ka, p.a_zs]).flat();
  const lo = Math.max(0, Math.min(...all) - 0.05);
  const hi = Math.min(1, Math.max(...all) + 0.05);
  const domain = [Number(lo.toFixed(2)), Number(hi.toFixed(2))];
  const x = { field: 'a_ka', type: 'quantitative' as const, title: 'A_KA (knowledge accumulation)', scale: { domain } };
  const y = { field: 'a_zs', type: 'quantitative' as const, title: 'A_ZS (zero-shot retention)', scale: { domain } };
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    width: 420,
    height: 420,
    layer: [
      {
        name: 'iso_gm',
        data: { values: isoGmLines() },
        mark: { type: 'line', clip: true, strokeDash: [2, 3], color: '#bbb', strokeWidth: 1 },
        encoding: { x, y, detail: { field: 'gm', type: 'nominal' } },
      },
      {
        name: 'methods',
        data: { values: methods },
        mark: { type: 'point', filled: true, size: 70, opacity: 0.9, clip: true },
        encoding: {
          x,
          y,
          color: { field: 'protocol', type: 'nominal', title: 'protocol', scale: { scheme: protocols > 10 ? 'tableau20' : 'tableau10' } },
          shape: { field: 'technique', type: 'nominal', title: 'technique', scale: { range: SHAPES } },
          tooltip: [{ field: 'label' }, { field: 'gm', format: '.3f' }, { field: 'seeds' }],
        },
      },
      {
        name: 'baselines',
        data: { values: baselines },
        mark: { type: 'point', shape: 'diamond', filled: true, size: 110, color: 'black', clip: true },
        encoding: { x, y, tooltip: [{ field: 'label' }, { field: 'gm', format: '.3f' }] },
      },
      {
        name: 'baseline_labels',
        data: { values: baselines },
        mark: { type: 'text', align: 'left', dx: 8, dy: -6, fontSize: 11 },
        encoding: { x, y, text: { field: 'method' } },
      },
    ],
    resolve: { scale: { color: 'independent', shape: 'independent' } },
  };
  const best = methods[0] as (MethodPoint & { label: string }) | undefined;
  const setting = describeSetting(ctx.mainRuns);
  const caption =
    `One point per init x deploy x technique (${methods.length} points, final values averaged over seeds)` +
    (baselines.length > 0 ? `; black diamonds are the baselines (${baselines.map((b) => b.method).join(', ')})` : '') +
    '; dotted curves have constant GM = sqrt(A_KA * A_ZS).' +
    (best ? ` Highest GM: ${best.label} (${best.gm.toFixed(3)}).` : '') +
    (setting ? ` Setting: ${setting}.` : '');
  return { kind: 'figure', name: 'plane', title, caption, spec };
}
