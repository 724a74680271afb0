import type { TopLevelSpec } from 'vega-lite';
import { meanInterval, side, type Interval } from '../../study/stats.js';
import type { RunRow } from '../results.js';
import { type FigureResult, type ReportContext, SCHEMA } from './types.js';

/** One finding's effect in one setting, against the forgetting measured there. */
export interface RegimeDot {
  setting: string;
  finding: string;
  /** Forgetting of the study's finetune run (accuracy matrix), points, mean over seeds. */
  forgetting: number;
  /** finetune's A_ZS drop from θ0 (its step 0), points, mean over seeds. */
  zsDrop: number;
  effect: number;
  lo: number;
  hi: number;
  verdict: string;
}

const TITLE = 'Regime map: effects against the A_ZS drop of fine-tuning';

function bySeed(runs: readonly RunRow[], method: string, technique?: string): Map<number, RunRow> {
  return new Map(
    runs
      .filter((r) => r.method === method && (technique === undefined || r.technique === technique))
      .map((r) => [r.seed, r]),
  );
}

const verdictOf = (i: Interval) =>
  i.n < 2 ? 'one seed' : side(i) === 'above' ? 'reproduced' : side(i) === 'below' ? 'not reproduced' : 'inconclusive';

/**
 * The points of the regime map: per setting (param_setting), finetune - offline_merge and ema_paint's lead
 * over the better of the two, in GM points with 95% intervals over seeds, at the forgetting and A_ZS drop
 * of the setting's own finetune runs (A_ZS at step 0 from steps.csv).
 */
export function regimeDots(ctx: ReportContext): RegimeDot[] {
  const technique = ctx.technique ?? 'weighted-average';
  const settings = [...new Set(ctx.data.runs.map((r) => r.params.param_setting ?? ''))];
  const zs0 = new Map(ctx.data.steps.filter((s) => s.step === 0).map((s) => [s.run_id, s.a_zs]));
  const dots: RegimeDot[] = [];
  for (const setting of settings) {
    const runs = ctx.data.runs.filter((r) => (r.params.param_setting ?? '') === setting);
    const ft = bySeed(runs, 'finetune');
    const off = bySeed(runs, 'offline_merge', technique);
    const ema = bySeed(runs, 'ema_paint', technique);
    if (ft.size === 0 || off.size === 0) continue;
    const fts = [...ft.values()];
    const forgetting = (100 * fts.reduce((a, r) => a + (r.forgetting ?? NaN), 0)) / fts.length;
    const drops = fts.map((r) => (zs0.get(r.run_id) ?? NaN) - (r.a_zs ?? NaN));
    const zsDrop = (100 * drops.reduce((a, b) => a + b, 0)) / drops.length;
    const effects: [string, number[]][] = [
      ['finetune - offline_merge', []],
      ['ema_paint - better of the two', []],
    ];
    for (const [seed, f] of ft) {
      const o = off.get(seed);
      if (!o || f.gm === null || o.gm === null) continue;
      effects[0][1].push(f.gm - o.gm);
      const e = ema.get(seed);
      if (e && e.gm !== null) effects[1][1].push(e.gm - Math.max(f.gm, o.gm));
    }
    for (const [finding, diffs] of effects) {
      if (diffs.length === 0) continue;
      const i = meanInterval(diffs);
      dots.push({
        setting,
        finding,
        forgetting,
        zsDrop,
        effect: 100 * i.mean,
        lo: 100 * (Number.isFinite(i.lo) ? i.lo : i.mean),
        hi: 100 * (Number.isFinite(i.hi) ? i.hi : i.mean),
        verdict: verdictOf(i),
      });
    }
  }
  return dots;
}

/**
 * Each finding's effect (GM points, 95% CI) against the A_ZS drop of continual fine-tuning, one dot per
 * setting. Only for studies that vary the world (two or more settings with finetune and offline_merge):
 * elsewhere there is no map to draw, and the page lists nothing rather than a skipped figure.
 */
export function regimeFigures(ctx: ReportContext): FigureResult[] {
  const dots = regimeDots(ctx);
  if (new Set(dots.map((d) => d.setting)).size < 2) return [];
  if (dots.some((d) => !Number.isFinite(d.forgetting)))
    return [
      {
        kind: 'skipped',
        name: 'regime',
        title: TITLE,
        reason: 'the finetune runs have no forgetting (one task per run?)',
      },
    ];
  // With the study's replay finetune hardly forgets in any world, while its A_ZS drop still tracks the
  // world's conflict: the drop is the axis, forgetting stays in the tooltip and caption.
  const x = {
    field: 'zsDrop',
    type: 'quantitative',
    title: 'A_ZS drop of finetune from θ0 (points)',
    scale: { zero: false },
  } as const;
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    width: 420,
    height: 300,
    data: { values: dots.map((d) => ({ ...d })) },
    layer: [
      { mark: { type: 'rule', strokeDash: [4, 3], color: '#888' }, encoding: { y: { datum: 0 } } },
      {
        name: 'intervals',
        mark: { type: 'rule', strokeWidth: 1.5 },
        encoding: {
          x,
          y: { field: 'lo', type: 'quantitative' },
          y2: { field: 'hi' },
          color: { field: 'finding', type: 'nominal' },
        },
      },
      {
        name: 'lines',
        mark: { type: 'line', strokeWidth: 1, opacity: 0.6 },
        encoding: { x, y: { field: 'effect', type: 'quantitative' }, color: { field: 'finding', type: 'nominal' } },
      },
      {
        name: 'dots',
        mark: { type: 'point', filled: true, size: 60 },
        encoding: {
          x,
          y: { field: 'effect', type: 'quantitative', title: 'effect, GM points (95% CI)' },
          color: { field: 'finding', type: 'nominal', title: 'effect' },
          shape: { field: 'verdict', type: 'nominal', title: 'verdict' },
          tooltip: [
            { field: 'setting' },
            { field: 'finding' },
            { field: 'effect', format: '.1f' },
            { field: 'lo', format: '.1f' },
            { field: 'hi', format: '.1f' },
            { field: 'forgetting', format: '.1f' },
            { field: 'zsDrop', format: '.1f', title: 'A_ZS drop' },
            { field: 'verdict' },
          ],
        },
      },
    ],
  };
  const range = dots.map(
    (d) => `${d.setting}: forgetting ${d.forgetting.toFixed(1)}, A_ZS drop ${d.zsDrop.toFixed(1)}`,
  );
  return [
    {
      kind: 'figure',
      name: 'regime',
      title: TITLE,
      caption:
        `One dot per setting and effect: finetune - offline_merge and ema_paint's lead over the better of the two (GM points, 95% interval over seeds), ` +
        `at the A_ZS drop from θ0 of that setting's finetune runs (with the study's replay); shape gives the verdict on the paper's side. ` +
        `Settings: ${[...new Set(range)].join('; ')}.`,
      spec,
    },
  ];
}
