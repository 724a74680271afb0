import { isBaseline } from '../time/baselines.js';
import { parseMethod } from '../time/method.js';
import type { Group, RunRow } from './rows.js';
import { pct } from './rows.js';
import { pairedDifference, side, type Interval } from './stats.js';
import { bySeed, formatInterval, mdTable, result, type FindingResult, type Verdict } from './findings.js';

const CONTINUAL = ['opcm', 'dop'];

/** A method's [init protocol, deploy kind] (presets too: zs_paint is base+ema); undefined for baselines. */
function protocols(method: string): [string, string] | undefined {
  if (isBaseline(method)) return undefined;
  try {
    const m = parseMethod(method);
    return [m.init, m.deploy.kind];
  } catch {
    return undefined;
  }
}

/**
 * Beyond the paper: do the continual merges built for streams of models (OPCM, DoP) beat TIME's EMA as
 * the deploy protocol, under each init protocol of the study? Paired by seed against `<init>+ema`
 * (opcm+opcm and dop+dop, the continual merge as its own init, against ema+ema).
 * Reproduced when, under every init, OPCM or DoP is significantly ahead of EMA; not reproduced when,
 * under every init, EMA is significantly ahead of both; inconclusive otherwise.
 */
export function continualMerging(
  rows: readonly RunRow[],
  groups: readonly Group[],
  settings: readonly string[],
): FindingResult {
  const id = 'continual-merging';
  const title = 'Continual merges (OPCM, DoP) beat the EMA deploy under every init protocol (GM)';
  const s = settings.find((x) =>
    groups.some((g) => g.setting === x && CONTINUAL.includes(protocols(g.method)?.[1] ?? '')),
  );
  if (!s) return result(id, title, 'not tested', 'n/a', 'not tested: needs an <init>+opcm or <init>+dop method');
  const inSetting = groups.filter((g) => g.setting === s && protocols(g.method));
  // A continual merge as its own init (opcm+opcm) is compared with EMA as its own init (ema+ema).
  const initOf = (g: Group) => {
    const init = protocols(g.method)![0];
    return CONTINUAL.includes(init) ? 'ema' : init;
  };
  const emaOf = (init: string) => inSetting.find((g) => initOf(g) === init && protocols(g.method)![1] === 'ema');
  const inits = [...new Set(inSetting.map(initOf))].filter((i) => emaOf(i));
  const vsEma = (g: Group): Interval => {
    const ema = emaOf(initOf(g))!;
    return pairedDifference(bySeed(rows, s, g.method, g.technique), bySeed(rows, s, ema.method, ema.technique));
  };
  const perInit = inits.map((init) => {
    const cont = inSetting.filter((g) => initOf(g) === init && CONTINUAL.includes(protocols(g.method)![1]));
    const diffs = cont.map((g) => ({ g, d: vsEma(g) })).sort((a, b) => b.d.mean - a.d.mean);
    return { init, diffs };
  });
  const tested = perInit.filter((p) => p.diffs.length > 0);
  if (tested.length === 0)
    return result(id, title, 'not tested', 'n/a', 'not tested: needs <init>+ema beside <init>+opcm or <init>+dop');
  const verdict: Verdict = tested.some((p) => p.diffs.some((x) => x.d.n < 2))
    ? 'inconclusive'
    : tested.every((p) => side(p.diffs[0].d) === 'above')
      ? 'reproduced'
      : tested.every((p) => p.diffs.every((x) => side(x.d) === 'below'))
        ? 'not reproduced'
        : 'inconclusive';
  const effect = tested
    .map((p) => `${p.diffs[0].g.method} − ${emaOf(p.init)!.method} GM ${formatInterval(p.diffs[0].d)}`)
    .join('; ');
  const ahead = tested.flatMap((p) => p.diffs).filter((x) => side(x.d) === 'above').length;
  const behind = tested.flatMap((p) => p.diffs).filter((x) => side(x.d) === 'below').length;
  const all = tested.flatMap((p) => p.diffs).length;
  return result(
    id,
    title,
    verdict,
    `best continual deploy − EMA deploy, per init: ${effect} points`,
    `of ${all} (init, continual deploy) pairs, ${ahead} significantly ahead of the EMA deploy with the same init, ${behind} behind, ${all - ahead - behind} level`,
    mdTable(
      [
        'method (init+deploy)',
        'technique',
        'A_KA %',
        'A_ZS %',
        'GM %',
        '− the EMA deploy with the same init (points, 95% CI)',
      ],
      [...inSetting]
        .sort((a, b) => (a.method < b.method ? -1 : a.method > b.method ? 1 : 0))
        .map((g) => {
          const hasEma = emaOf(initOf(g));
          const d = hasEma && hasEma !== g ? formatInterval(vsEma(g)) : '—';
          return [g.method, g.technique, pct(g.aKa), pct(g.aZs), pct(g.gm), d];
        }),
    ),
  );
}
