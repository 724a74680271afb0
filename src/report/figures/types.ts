import type { TopLevelSpec } from 'vega-lite';
import { focusTechnique, mainSettingRuns } from '../aggregate.js';
import type { ResultsData, RunRow } from '../results.js';

/** A figure ready to render: file stem, heading, caption (plain text), and its vega-lite spec. */
export interface Figure {
  kind: 'figure';
  name: string;
  title: string;
  caption: string;
  spec: TopLevelSpec;
}

/** A figure whose data the results folder does not have; the page says why instead of failing. */
export interface SkippedFigure {
  kind: 'skipped';
  name: string;
  title: string;
  reason: string;
}

export type FigureResult = Figure | SkippedFigure;

/** What every figure builder reads: the loaded rows, the study's main setting, the technique in focus. */
export interface ReportContext {
  data: ResultsData;
  /** Runs at the most common param_* / T setting (all runs when nothing varies). */
  mainRuns: RunRow[];
  /** Technique used for per-protocol figures: the option, else the one most runs use. */
  technique: string | undefined;
}

export function makeContext(data: ResultsData, options: { technique?: string } = {}): ReportContext {
  return { data, mainRuns: mainSettingRuns(data.runs), technique: options.technique ?? focusTechnique(data.runs) };
}

/** Ten colours repeat past ten series; twenty keep a full protocol grid (24 pairs) mostly apart. */
export function colorScale(series: number): { scheme: 'tableau10' | 'tableau20' } {
  return { scheme: series > 10 ? 'tableau20' : 'tableau10' };
}

export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Numbers for captions: up to 3 decimals, no trailing zeros. */
export function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Number(x.toFixed(3)));
}

/** The settings the main-setting runs share, e.g. "param_d=64, T=10", for captions. */
export function describeSetting(runs: readonly RunRow[]): string {
  if (runs.length === 0) return '';
  const first = { ...runs[0].params, T: String(runs[0].T) };
  return Object.entries(first)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}
