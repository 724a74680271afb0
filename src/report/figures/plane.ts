import type { TopLevelSpec } from 'vega-lite';
import { bulkDomain, type MethodPoint, methodPoints, pointLabel } from '../aggregate.js';
import {
  colourGroup,
  type FigureResult,
  PAPER_METHOD_COLOURS,
  paperColourScale,
  type ReportContext,
  SCHEMA,
  settingCaption,
  settingNote,
} from './types.js';

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
 * Where each name goes, in data units (text centred there): above its point, else below, right, left,
 * or further out, whichever first clears the names already placed (baselines often sit close together,
 * e.g. continual and multitask) and stays inside the plot. `yDomain` defaults to the x domain.
 */
export function placeLabels<P extends { a_ka: number; a_zs: number; method: string }>(
  points: readonly P[],
  domain: readonly number[],
  size: number,
  yDomain: readonly number[] = domain,
  text: (p: P) => string = (p) => p.method,
): (P & { label_x: number; label_y: number })[] {
  const perPx = (domain[1] - domain[0]) / size;
  const perPxY = (yDomain[1] - yDomain[0]) / size;
  const boxes: { x0: number; x1: number; y0: number; y1: number }[] = [];
  const out: (P & { label_x: number; label_y: number })[] = [];
  for (const p of [...points].sort((a, b) => b.a_zs - a.a_zs || a.method.localeCompare(b.method))) {
    const px = (Math.min(domain[1], Math.max(domain[0], p.a_ka)) - domain[0]) / perPx;
    const py = (yDomain[1] - Math.min(yDomain[1], Math.max(yDomain[0], p.a_zs))) / perPxY; // from the top, as drawn
    const half = (0.62 * FONT_PX * text(p).length) / 2;
    const offsets = [
      [0, -13],
      [0, 14],
      [10 + half, 0],
      [-10 - half, 0],
      [0, -27],
      [0, 28],
      [10 + half, -14],
      [-10 - half, 14],
      [0, -41],
      [0, 42],
    ];
    const boxAt = ([dx, dy]: number[]) => {
      // Keep the text inside the plot.
      const cx = Math.min(size - half, Math.max(half, px + dx));
      const cy = Math.min(size - FONT_PX / 2, Math.max(FONT_PX / 2, py + dy));
      return { cx, cy, x0: cx - half, x1: cx + half, y0: cy - FONT_PX / 2, y1: cy + FONT_PX / 2 };
    };
    const clear = (b: ReturnType<typeof boxAt>) =>
      !boxes.some((o) => o.x0 < b.x1 && b.x0 < o.x1 && o.y0 < b.y1 && b.y0 < o.y1);
    const chosen = offsets.map(boxAt).find(clear) ?? boxAt(offsets[0]);
    boxes.push(chosen);
    out.push({ ...p, label_x: domain[0] + chosen.cx * perPx, label_y: yDomain[1] - chosen.cy * perPxY });
  }
  return out;
}

/** A round step giving about six iso-GM curves across the plot. */
function gmStep(span: number): number {
  return [0.005, 0.01, 0.02, 0.025, 0.05, 0.1].find((s) => span / s <= 8) ?? 0.1;
}

/**
 * Curves of constant GM = sqrt(A_KA * A_ZS), i.e. A_ZS = g^2 / A_KA, so the plane reads as a trade-off;
 * levels at a round step across the plot, each labelled just inside where it enters the plot (its upper
 * left end: the top or the left edge). Levels that miss the plot are left out.
 */
function isoGm(xd: readonly number[], yd: readonly number[]) {
  const lo = Math.sqrt(xd[0] * yd[0]);
  const hi = Math.sqrt(xd[1] * yd[1]);
  const step = gmStep(hi - lo);
  const lines: { gm: number; a_ka: number; a_zs: number }[] = [];
  const labels: { gm: number; a_ka: number; a_zs: number; text: string }[] = [];
  for (let k = Math.floor(lo / step) + 1; k * step < hi - 1e-9; k++) {
    const g = Number((k * step).toFixed(4));
    const enter = Math.max(xd[0], (g * g) / yd[1]);
    const leave = Math.min(xd[1], (g * g) / yd[0]);
    if (!(enter < leave)) continue;
    for (let i = 0; i <= 60; i++) {
      const x = enter + ((leave - enter) * i) / 60;
      lines.push({ gm: g, a_ka: x, a_zs: (g * g) / x });
    }
    // A label entering within its own width of the right edge would run into the legend.
    if (enter < xd[1] - ((xd[1] - xd[0]) * 45) / SIZE)
      labels.push({ gm: g, a_ka: enter, a_zs: (g * g) / enter, text: `GM ${g}` });
  }
  return { lines, labels };
}

/**
 * Names of the outliers at an edge: a row each, stacked inward from the edge in order of distance along
 * it, starting at the marker (ending there in the plot's right half) so each reads as its marker's.
 */
function outlierLabels<O extends { x_at: number; y_at: number; edge: string }>(
  outliers: readonly O[],
  xd: readonly number[],
  yd: readonly number[],
): (O & { label_x: number; label_y: number; right: boolean })[] {
  const perPx = (yd[1] - yd[0]) / SIZE;
  const perPxX = (xd[1] - xd[0]) / SIZE;
  const out: (O & { label_x: number; label_y: number; right: boolean })[] = [];
  for (const edge of ['triangle-down', 'triangle-up', 'triangle-left', 'triangle-right']) {
    const atEdge = outliers.filter((o) => o.edge === edge);
    const vertical = edge === 'triangle-down' || edge === 'triangle-up';
    atEdge.sort((a, b) => (vertical ? a.x_at - b.x_at : a.y_at - b.y_at));
    atEdge.forEach((o, i) => {
      const inward = (FONT_PX + 4) * (i + 1);
      const right = vertical ? o.x_at > (xd[0] + xd[1]) / 2 : edge === 'triangle-right';
      out.push({
        ...o,
        right,
        label_x: vertical ? o.x_at : o.x_at + (right ? -10 : 10) * perPxX,
        label_y: vertical ? o.y_at + (edge === 'triangle-down' ? inward : -inward) * perPx : o.y_at + inward * perPx,
      });
    });
  }
  return out;
}

/** The outward-pointing marker of an outlier drawn at the plot's edge. */
function edgeShape(p: { a_ka: number; a_zs: number }, xd: readonly number[], yd: readonly number[]): string {
  if (p.a_zs < yd[0]) return 'triangle-down';
  if (p.a_zs > yd[1]) return 'triangle-up';
  return p.a_ka < xd[0] ? 'triangle-left' : 'triangle-right';
}

/**
 * The A_KA vs A_ZS plane (the paper's main view): one point per init x deploy x technique, final metrics
 * averaged over seeds; the paper's named methods in colour, other protocols grey; baselines drawn as
 * black diamonds with their names; dotted iso-GM curves. The axes fit the bulk of the points: an outlier
 * is drawn at the edge it lies beyond, pointing outward, with its name and values.
 * Mark names: `methods` (one item per point inside), `outliers`, `baselines`, `baseline_labels`.
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
  const others = new Set(methods.map((p) => p.method).filter((m) => !(m in PAPER_METHOD_COLOURS))).size;
  // Each axis fits its own bulk: a point far out on one axis sits at that edge at its true value on the
  // other, so two outliers never share a corner.
  const xd = bulkDomain(
    methods.map((p) => p.a_ka),
    baselines.map((p) => p.a_ka),
  );
  const yd = bulkDomain(
    methods.map((p) => p.a_zs),
    baselines.map((p) => p.a_zs),
  );
  const inside = (p: { a_ka: number; a_zs: number }) =>
    p.a_ka >= xd[0] && p.a_ka <= xd[1] && p.a_zs >= yd[0] && p.a_zs <= yd[1];
  const grouped = methods.map((p) => ({
    ...p,
    group: colourGroup(p.method, others),
    named: p.method in PAPER_METHOD_COLOURS,
  }));
  const shown = grouped.filter(inside);
  const outliers = grouped
    .filter((p) => !inside(p))
    .map((p) => ({
      ...p,
      edge: edgeShape(p, xd, yd),
      x_at: Math.min(xd[1], Math.max(xd[0], p.a_ka)),
      y_at: Math.min(yd[1], Math.max(yd[0], p.a_zs)),
      text: `${p.label}: ${p.a_ka.toFixed(2)}, ${p.a_zs.toFixed(2)}`,
    }));
  const colour = {
    field: 'group',
    type: 'nominal' as const,
    title: 'protocol',
    scale: paperColourScale(grouped.map((p) => p.group)),
  };
  const x = {
    field: 'a_ka',
    type: 'quantitative' as const,
    title: 'A_KA (knowledge accumulation)',
    scale: { domain: xd, nice: false, zero: false },
  };
  const y = {
    field: 'a_zs',
    type: 'quantitative' as const,
    title: 'A_ZS (zero-shot retention)',
    scale: { domain: yd, nice: false, zero: false },
  };
  const iso = isoGm(xd, yd);
  const note = settingNote(ctx);
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    ...(note ? { title: { text: note, fontSize: 12, fontWeight: 'normal' as const } } : {}),
    width: SIZE,
    height: SIZE,
    layer: [
      {
        name: 'iso_gm',
        data: { values: iso.lines },
        mark: { type: 'line', clip: true, strokeDash: [2, 3], color: '#bbb', strokeWidth: 1 },
        encoding: { x, y, detail: { field: 'gm', type: 'nominal' } },
      },
      {
        name: 'iso_gm_labels',
        data: { values: iso.labels },
        mark: { type: 'text', fontSize: 9, color: '#999', align: 'left', baseline: 'top', dx: 3, dy: 2 },
        encoding: { x, y, text: { field: 'text' } },
      },
      {
        name: 'methods',
        data: { values: shown },
        mark: { type: 'point', filled: true, clip: true },
        encoding: {
          x,
          y,
          color: colour,
          shape: { field: 'technique', type: 'nominal', title: 'technique', scale: { range: SHAPES } },
          size: { condition: { test: 'datum.named', value: 80 }, value: 45 },
          opacity: { condition: { test: 'datum.named', value: 0.95 }, value: 0.6 },
          tooltip: [
            { field: 'label' },
            { field: 'a_ka', format: '.3f' },
            { field: 'a_zs', format: '.3f' },
            { field: 'gm', format: '.3f' },
            { field: 'seeds' },
          ],
        },
      },
      {
        name: 'outliers',
        data: { values: outliers },
        mark: { type: 'point', filled: true, size: 110, opacity: 1, stroke: 'black', strokeWidth: 1 },
        encoding: {
          x: { ...x, field: 'x_at' },
          y: { ...y, field: 'y_at' },
          color: colour,
          shape: { field: 'edge', type: 'nominal', scale: null, legend: null },
          tooltip: [
            { field: 'label' },
            { field: 'a_ka', format: '.3f' },
            { field: 'a_zs', format: '.3f' },
            { field: 'gm', format: '.3f' },
          ],
        },
      },
      {
        name: 'outlier_labels',
        data: { values: outlierLabels(outliers, xd, yd) },
        // Each name starts at its marker (ends there in the right half), so it reads as that marker's.
        mark: {
          type: 'text',
          baseline: 'middle',
          fontSize: FONT_PX,
          color: '#333',
          align: { expr: "datum.right ? 'right' : 'left'" },
        },
        encoding: { x: { ...x, field: 'label_x' }, y: { ...y, field: 'label_y' }, text: { field: 'text' } },
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
        data: { values: placeLabels(baselines, xd, SIZE, yd) },
        mark: { type: 'text', align: 'center', baseline: 'middle', fontSize: FONT_PX, fontWeight: 'bold' },
        encoding: {
          x: { ...x, field: 'label_x' },
          y: { ...y, field: 'label_y' },
          text: { field: 'method' },
        },
      },
    ],
    resolve: { scale: { shape: 'independent' } },
  };
  const best = methods[0] as (MethodPoint & { label: string }) | undefined;
  const caption =
    `One point per init x deploy x technique (${methods.length} points, final values averaged over seeds); ` +
    `the paper's named methods in colour${others > 0 ? `, the ${others} other protocols grey` : ''}; shapes are techniques` +
    (baselines.length > 0 ? `; black diamonds are the baselines (${baselines.map((b) => b.method).join(', ')})` : '') +
    '; dotted curves have constant GM = sqrt(A_KA * A_ZS).' +
    (outliers.length > 0
      ? ` The axes fit the bulk of the points: ${outliers.length} outlier${outliers.length === 1 ? ' is' : 's are'} drawn at the edge, pointing outward, with ${outliers.length === 1 ? 'its' : 'their'} A_KA, A_ZS.`
      : '') +
    // When every point ties, naming one of them "highest" would single out an arbitrary run.
    (best
      ? methods.length > 1 && methods.every((m) => m.gm === best.gm)
        ? ` Every point has GM ${best.gm.toFixed(3)} (a tie).`
        : ` Highest GM: ${best.label} (${best.gm.toFixed(3)}).`
      : '') +
    settingCaption(ctx);
  return { kind: 'figure', name: 'plane', title, caption, spec };
}
