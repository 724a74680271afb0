import type { TopLevelSpec } from 'vega-lite';
import { focusTechnique, mainSettingRuns, settingCount, settingLabel } from '../aggregate.js';
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
  /** How many settings (param_* / T combinations) the study's method runs span. */
  settings: number;
}

export function makeContext(data: ResultsData, options: { technique?: string } = {}): ReportContext {
  return {
    data,
    mainRuns: mainSettingRuns(data.runs),
    technique: options.technique ?? focusTechnique(data.runs),
    settings: settingCount(data.runs),
  };
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

/**
 * The paper's named methods, each with a colour of its own in every figure; any other protocol is drawn
 * grey, so a study of 17 protocols still shows the five the paper names. Colours are tableau10's.
 */
export const PAPER_METHOD_COLOURS: Readonly<Record<string, string>> = {
  finetune: '#e15759',
  offline_merge: '#4e79a7',
  zs_paint: '#59a14f',
  ft_paint: '#b07aa1',
  ema_paint: '#f28e2b',
};
export const OTHER_COLOUR = '#b8b8b8';

/** The legend entry of a protocol: its own name if the paper names it, else one shared grey entry. */
export function colourGroup(method: string, others: number): string {
  return method in PAPER_METHOD_COLOURS ? method : `other protocols (${others})`;
}

/** A vega-lite colour scale over the groups present: the paper's colours in their order, grey last. */
export function paperColourScale(groups: readonly string[]): { domain: string[]; range: string[] } {
  const named = Object.keys(PAPER_METHOD_COLOURS).filter((m) => groups.includes(m));
  const other = [...new Set(groups.filter((g) => !(g in PAPER_METHOD_COLOURS)))];
  return {
    domain: [...named, ...other],
    range: [...named.map((m) => PAPER_METHOD_COLOURS[m]), ...other.map(() => OTHER_COLOUR)],
  };
}

/** How each baseline's line is drawn: black or grey, each with its own dash. */
const BASELINE_STYLE: Record<string, { colour: string; dash: number[] }> = {
  continual: { colour: '#000000', dash: [7, 4] },
  multitask: { colour: '#555555', dash: [2, 3] },
  zeroshot: { colour: '#8c8c8c', dash: [10, 3, 2, 3] },
};

/**
 * Colour and dash scales over line series (the paper's methods, `other protocols (n)`, baselines), for
 * one legend with both: the paper's methods first in their colours, the grey others, then the baselines.
 */
export function seriesScales(names: readonly string[]): {
  colour: { domain: string[]; range: string[] };
  dash: { domain: string[]; range: number[][] };
} {
  const rank = (s: string) => {
    const named = Object.keys(PAPER_METHOD_COLOURS).indexOf(s);
    if (named >= 0) return named;
    return s in BASELINE_STYLE ? 100 + Object.keys(BASELINE_STYLE).indexOf(s) : 50;
  };
  const domain = [...new Set(names)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const style = (s: string) => BASELINE_STYLE[s] ?? { colour: PAPER_METHOD_COLOURS[s] ?? OTHER_COLOUR, dash: [1, 0] };
  return {
    colour: { domain, range: domain.map((s) => style(s).colour) },
    dash: { domain, range: domain.map((s) => style(s).dash) },
  };
}

/**
 * Which setting a figure of the main setting shows, when the study has several: the figure's own
 * title line, so a figure copied out of the report still says it (the findings may cover all settings).
 */
export function settingNote(ctx: ReportContext): string | undefined {
  if (ctx.settings < 2) return undefined;
  return `setting ${settingLabel(ctx.data.runs, ctx.mainRuns)} (1 of ${ctx.settings} settings)`;
}

/** The caption's last sentence: the setting shown, and when there are several, that it is one of them. */
export function settingCaption(ctx: ReportContext): string {
  const setting = describeSetting(ctx.mainRuns);
  if (!setting) return '';
  return ctx.settings > 1
    ? ` Setting shown: ${settingLabel(ctx.data.runs, ctx.mainRuns)}, the one with the most runs of the study's ${ctx.settings} (findings.md judges each claim on the settings it names); all its values: ${setting}.`
    : ` Setting: ${setting}.`;
}
