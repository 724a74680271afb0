/**
 * The report: reads a results folder (docs/results-format.md, shards combined), draws every figure its
 * data allows, and writes report.html (self-contained) plus figures/<name>.svg and .png.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { benchFigure } from './figures/bench.js';
import { gmOverTimeFigure } from './figures/curves.js';
import { matrixFigures } from './figures/heatmap.js';
import { planeFigure } from './figures/plane.js';
import { regimeFigures } from './figures/regime.js';
import { scalingFigures } from './figures/scaling.js';
import { spreadFigure } from './figures/spread.js';
import { type FigureResult, makeContext, type ReportContext } from './figures/types.js';
import { buildHtml, type RenderedFigure } from './html.js';
import { type LoadOptions, loadResults } from './load.js';
import { renderSvg, svgToPng } from './render.js';
import { parseXml } from './svg.js';
import { writeAtomic } from './write.js';

export { benchFigure } from './figures/bench.js';
export { gmOverTimeFigure } from './figures/curves.js';
export { matrixFigure, matrixFigures } from './figures/heatmap.js';
export { planeFigure } from './figures/plane.js';
export { scalingFigures } from './figures/scaling.js';
export { spreadFigure } from './figures/spread.js';
export { makeContext } from './figures/types.js';
export type { Figure, FigureResult, ReportContext, SkippedFigure } from './figures/types.js';
export { loadResults } from './load.js';
export type { LoadOptions } from './load.js';
export type { BenchRow, MatrixRow, ResultsData, RunRow, StepRow } from './results.js';
export { renderSvg, svgToPng } from './render.js';
export * as aggregate from './aggregate.js';

export interface ReportOptions extends LoadOptions {
  /** Where report.html and figures/ go; default: the results folder itself. */
  outDir?: string;
  /** Technique for per-protocol figures; default: the one most runs use. */
  technique?: string;
  /** PNG scale relative to the SVG size (default 2). */
  pngScale?: number;
  /** After each figure is drawn (or skipped): how many are done, of how many (progress). */
  onFigure?(done: number, total: number): void;
}

export interface ReportOutput {
  /** Path of report.html. */
  html: string;
  /** Paths of every figure file written (.svg and .png). */
  figures: string[];
  /** Figures left out because their data is absent, with the reason (also shown in the page). */
  skipped: { name: string; reason: string }[];
}

/** Names of the figure files this module writes; stale ones from an earlier report are removed. */
const OWN_FIGURE = /^(plane|gm-over-time|matrix-.+|spread|scaling-.+|regime|bench-cost)\.(svg|png)$/;

/** Every figure the data allows, in page order (skipped ones carry their reason). */
export function buildFigures(ctx: ReportContext): FigureResult[] {
  if (ctx.data.runs.length === 0) {
    // A bench folder, or a study that wrote no runs: one clear reason instead of five odd ones.
    const hasRunsFile = ctx.data.sources.some((s) => /^runs(\.shard-\d+-of-\d+)?\.csv$/.test(s));
    const reason = hasRunsFile ? 'runs.csv has no rows' : 'no runs.csv in the results folder';
    const study: [string, string][] = [
      ['plane', 'Knowledge accumulation vs zero-shot retention'],
      ['gm-over-time', 'GM over time per protocol'],
      ['matrix', 'Accuracy matrix'],
      ['spread', 'Technique spread vs protocol spread'],
      ['scaling', 'Scaling curves'],
    ];
    return [
      ...study.map(([name, title]): FigureResult => ({ kind: 'skipped', name, title, reason })),
      benchFigure(ctx),
    ];
  }
  return [
    planeFigure(ctx),
    gmOverTimeFigure(ctx),
    ...matrixFigures(ctx),
    spreadFigure(ctx),
    ...scalingFigures(ctx),
    ...regimeFigures(ctx),
    benchFigure(ctx),
  ];
}

export async function generateReport(resultsDir: string, options: ReportOptions = {}): Promise<ReportOutput> {
  const data = loadResults(resultsDir, options);
  const ctx = makeContext(data, { technique: options.technique });
  const outDir = options.outDir ?? resultsDir;
  const figuresDir = path.join(outDir, 'figures');

  const rendered: RenderedFigure[] = [];
  const written: string[] = [];
  const figures = buildFigures(ctx);
  for (const result of figures) {
    if (result.kind === 'skipped') {
      rendered.push({ result });
      options.onFigure?.(rendered.length, figures.length);
      continue;
    }
    const svg = await renderSvg(result.spec, result.name);
    parseXml(svg, `figure ${result.name}`); // a malformed SVG would break the whole page: fail here instead
    const svgFile = path.join(figuresDir, `${result.name}.svg`);
    const pngFile = path.join(figuresDir, `${result.name}.png`);
    writeAtomic(svgFile, svg);
    writeAtomic(pngFile, svgToPng(svg, options.pngScale ?? 2));
    written.push(svgFile, pngFile);
    rendered.push({ result, svg });
    options.onFigure?.(rendered.length, figures.length);
  }

  if (existsSync(figuresDir)) {
    const keep = new Set(written.map((f) => path.basename(f)));
    for (const name of readdirSync(figuresDir))
      if (OWN_FIGURE.test(name) && !keep.has(name)) rmSync(path.join(figuresDir, name));
  }

  const html = path.join(outDir, 'report.html');
  writeAtomic(html, buildHtml(ctx, rendered, 'figures', new Date().toISOString()));
  const skipped = rendered.flatMap((f) =>
    f.result.kind === 'skipped' ? [{ name: f.result.name, reason: f.result.reason }] : [],
  );
  return { html, figures: written, skipped };
}
