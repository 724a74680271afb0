import type { TopLevelSpec } from 'vega-lite';
import { type MethodPoint, methodPoints, pointLabel } from '../aggregate.js';
import { colorScale, describeSetting, type FigureResult, type ReportContext, SCHEMA } from './types.js';

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

const SIZE = 420;
const FONT_PX = 11;

/**
 * Where each baseline's name goes, in data units (text centred there): above its diamond, else below,
 * right, left, or further out, whichever first clears the names already placed (baselines often sit
 * close together, e.g. continual and multitask) and stays inside the plot.
 */
export function placeLabels<P extends { a_ka: number; a_zs: number; method: string }>(
  points: readonly P[],
  domain: readonly number[],
  size: number,
): (P & { label_x: number; label_y: number })[] {
  const perPx = (domain[1] - domain[0]) / size;
  const boxes: { x0: number; x1: number; y0: number; y1: number }[] = [];
  const out: (P & { label_x: number; label_y: number })[] = [];
  for (const p of [...points].sort((a, b) => b.a_zs - a.a_zs || a.method.localeCompare(b.method))) {
    const px = (p.a_ka - domain[0]) / perPx;
    const py = (domain[1] - p.a_zs) / perPx; // from the top, as drawn
    const half = (0.62 * FONT_PX * p.method.length) / 2;
    const offsets = [
      [0, -13],
      [0, 14],
      [10 + half, 0],
      [-10 - half, 0],
      [0, -27],
      [0, 28],
      [10 + half, -14],
      [-10 - half, 14],
    ];
    const boxAt = ([dx, dy]: number[]) => {
      // Keep the text inside the plot horizontally.
      const cx = Math.min(size - half, Math.max(half, px + dx));
      return { cx, cy: py + dy, x0: cx - half, x1: cx + half, y0: py + dy - FONT_PX / 2, y1: py + dy + FONT_PX / 2 };
    };
    const clear = (b: ReturnType<typeof boxAt>) =>
      !boxes.some((o) => o.x0 < b.x1 && b.x0 < o.x1 && o.y0 < b.y1 && b.y0 < o.y1);
    const chosen = offsets.map(boxAt).find(clear) ?? boxAt(offsets[0]);
    boxes.push(chosen);
    out.push({ ...p, label_x: domain[0] + chosen.cx * perPx, label_y: domain[1] - chosen.cy * perPx });
  }
  return out;
}

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
    return {
      kind: 'skipped',
      name: 'plane',
      title,
      reason: 'no run has both A_KA and A_ZS (A_ZS is blank when the stream has no zero-shot tasks)',
    };
  }
  const methods = points.filter((p) => !p.baseline);
  const baselines = points.filter((p) => p.baseline);
  const protocols = new Set(methods.map((p) => p.protocol)).size;
  const all = points.flatMap((p) => [p.a_ka, p.a_zs]);
  const lo = Math.max(0, Math.min(...all) - 0.05);
  const hi = Math.min(1, Math.max(...all) + 0.05);
  const domain = [Number(lo.toFixed(2)), Number(hi.toFixed(2))];
  const x = { field: 'a_ka', type: 'quantitative' as const, title: 'A_KA (knowledge accumulation)', scale: { domain } };
  const y = { field: 'a_zs', type: 'quantitative' as const, title: 'A_ZS (zero-shot retention)', scale: { domain } };
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    width: SIZE,
    height: SIZE,
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
          color: { field: 'protocol', type: 'nominal', title: 'protocol', scale: colorScale(protocols) },
          shape: { field: 'technique', type: 'nominal', title: 'technique', scale: { range: SHAPES } },
          tooltip: [{ field: 'label' }, { field: 'gm', format: '.3f' }, { field: 'seeds' }],
        },
      },
      {
        name: 'baselines',
        data: { values: baselines },
        // Hollow, so a protocol point under a baseline (finetune = continual) stays visible.
        mark: {
          type: 'point',
          shape: 'diamond',
          filled: false,
          size: 120,
          color: 'black',
          strokeWidth: 2,
          opacity: 1,
          clip: true,
        },
        encoding: { x, y, tooltip: [{ field: 'label' }, { field: 'gm', format: '.3f' }] },
      },
      {
        name: 'baseline_labels',
        data: { values: placeLabels(baselines, domain, SIZE) },
        mark: { type: 'text', align: 'center', baseline: 'middle', fontSize: FONT_PX },
        encoding: {
          x: { ...x, field: 'label_x' },
          y: { ...y, field: 'label_y' },
          text: { field: 'method' },
        },
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
    // When every point ties, naming one of them "highest" would single out an arbitrary run.
    (best
      ? methods.length > 1 && methods.every((m) => m.gm === best.gm)
        ? ` Every point has GM ${best.gm.toFixed(3)} (a tie).`
        : ` Highest GM: ${best.label} (${best.gm.toFixed(3)}).`
      : '') +
    (setting ? ` Setting: ${setting}.` : '');
  return { kind: 'figure', name: 'plane', title, caption, spec };
}
