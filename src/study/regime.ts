import type { DiagnosticsRow } from './diagnostics-run.js';
import { formatInterval } from './findings.js';
import { mean, type RunRow } from './rows.js';
import { meanInterval, side, type Interval } from './stats.js';

/**
 * The regime map: for every setting of a study, how much continual fine-tuning forgets in that world
 * (the diagnostics: accuracy-matrix forgetting and A_ZS drop, without and with replay) beside the
 * effects the findings rest on, each with its interval and verdict. A verdict is then read with the
 * regime it holds in, instead of for the synthetic world as a whole.
 */
export interface RegimePoint {
  readonly setting: string;
  readonly ftForgetting: number;
  readonly ftZsDrop: number;
  readonly replayForgetting: number;
  readonly replayZsDrop: number;
  /** finetune - offline_merge GM (paper: continual ahead). */
  readonly continualLead: Interval;
  /** ema_paint - max(finetune, offline_merge) GM (paper: Best-in-TIME ahead). */
  readonly bestInTimeLead: Interval;
}

const WA = 'weighted-average';

function perSeed(rows: readonly RunRow[], setting: string, method: string, technique?: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const r of rows)
    if (r.setting === setting && r.method === method && (technique === undefined || r.technique === technique))
      out.set(r.seed, r.gm);
  return out;
}

/** One point per setting that has finetune, offline_merge (weighted averaging) and diagnostics. */
export function regimePoints(rows: readonly RunRow[], diagnostics: readonly DiagnosticsRow[]): RegimePoint[] {
  const settings = [...new Set(rows.map((r) => r.setting))];
  const out: RegimePoint[] = [];
  for (const s of settings) {
    const ds = diagnostics.filter((d) => d.setting === s);
    const ft = perSeed(rows, s, 'finetune');
    const off = perSeed(rows, s, 'offline_merge', WA);
    const ema = perSeed(rows, s, 'ema_paint', WA);
    if (ds.length === 0 || ft.size === 0 || off.size === 0) continue;
    const avg = (k: keyof DiagnosticsRow) => mean(ds.map((d) => d[k] as number).filter(Number.isFinite));
    const lead: number[] = [];
    const cont: number[] = [];
    for (const [seed, f] of ft) {
      const o = off.get(seed);
      if (o === undefined) continue;
      cont.push(f - o);
      const e = ema.get(seed);
      if (e !== undefined) lead.push(e - Math.max(f, o));
    }
    out.push({
      setting: s,
      ftForgetting: avg('ftForgetting'),
      ftZsDrop: avg('ftZsDrop'),
      replayForgetting: avg('replayForgetting'),
      replayZsDrop: avg('replayZsDrop'),
      continualLead: meanInterval(cont),
      bestInTimeLead: meanInterval(lead),
    });
  }
  return out;
}

const verdict = (i: Interval) =>
  i.n < 2 ? 'n/a' : side(i) === 'above' ? 'reproduced' : side(i) === 'below' ? 'not reproduced' : 'inconclusive';
const pts = (x: number) => (Number.isFinite(x) ? (100 * x).toFixed(1) : 'n/a');

/** findings.md section; empty with fewer than two settings (one regime is no map). */
export function regimeMarkdown(points: readonly RegimePoint[]): string {
  if (points.length < 2) return '';
  return [
    '## Regime map',
    '',
    "Each setting is a world with its own forgetting (points; the diagnostics of that world, mean over seeds) and the effects two findings rest on there (GM points, 95% interval over seeds, verdict on the paper's side). " +
      'Best-in-TIME lead: ema_paint - the better of finetune and offline_merge per seed.',
    '',
    '| setting | forgetting, no replay | A_ZS drop, no replay | forgetting, replay | A_ZS drop, replay | finetune - offline_merge | verdict | Best-in-TIME lead | verdict |',
    '|---|---|---|---|---|---|---|---|---|',
    ...points.map(
      (p) =>
        `| ${p.setting} | ${pts(p.ftForgetting)} | ${pts(p.ftZsDrop)} | ${pts(p.replayForgetting)} | ${pts(p.replayZsDrop)} | ` +
        `${formatInterval(p.continualLead)} | ${verdict(p.continualLead)} | ${p.bestInTimeLead.n ? formatInterval(p.bestInTimeLead) : 'n/a'} | ${p.bestInTimeLead.n ? verdict(p.bestInTimeLead) : 'n/a'} |`,
    ),
    '',
  ].join('\n');
}
