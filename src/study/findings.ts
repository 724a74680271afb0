import { isBaseline } from '../time/baselines.js';
import { groupRows, pct, type Group, type RunRow } from './rows.js';
import { COLLAPSE_TOLERANCE, findCollapses, splitShares } from './decomposition.js';
import { OFFICIAL_TECHNIQUES, VARIANT_TECHNIQUES } from './groups.js';
import { meanInterval, pairedDifference, side, slope, twoWayShares, type Interval } from './stats.js';
import type { FindingId } from './types.js';
import { continualMerging } from './finding-continual.js';

export type Verdict = 'reproduced' | 'not reproduced' | 'inconclusive' | 'not tested';

/** One of the paper's claims checked against a study's runs, with its effect and 95% interval over seeds. */
export interface FindingResult {
  readonly id: FindingId;
  readonly title: string;
  readonly verdict: Verdict;
  /** true / false / null (not tested); inconclusive counts as false. */
  readonly reproduced: boolean | null;
  /** The effect the verdict rests on, e.g. "finetune - offline_merge GM +3.1 points [1.2, 5.0]". */
  readonly effect: string;
  /** One line with the numbers. */
  readonly summary: string;
  /** Markdown detail (a table). */
  readonly detail: string;
}

const WA = 'weighted-average';

/** Every claim findings.md can judge, in the order it reports them. */
export const FINDING_IDS: readonly FindingId[] = [
  'offline-vs-continual',
  'time-aware-offline',
  'init-deploy-over-technique',
  'best-in-time',
  'scaling',
  'continual-merging',
];

/** Points: a difference of scores in [0, 1] as percentage points with its interval. */
export function formatInterval(i: Interval): string {
  const sign = (x: number) => (x >= 0 ? '+' : '') + (100 * x).toFixed(1);
  if (!Number.isFinite(i.mean)) return 'n/a';
  return Number.isFinite(i.lo)
    ? `${sign(i.mean)} [${sign(i.lo)}, ${sign(i.hi)}]`
    : `${sign(i.mean)} (one seed: no interval)`;
}

export function mdTable(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

export function result(
  id: FindingId,
  title: string,
  verdict: Verdict,
  effect: string,
  summary: string,
  detail = '',
): FindingResult {
  return {
    id,
    title,
    verdict,
    reproduced: verdict === 'not tested' ? null : verdict === 'reproduced',
    effect,
    summary,
    detail,
  };
}

/** The verdict of "a > b" from the paired interval of a - b. */
export const verdictOf = (i: Interval): Verdict =>
  i.n < 2
    ? 'inconclusive'
    : side(i) === 'above'
      ? 'reproduced'
      : side(i) === 'below'
        ? 'not reproduced'
        : 'inconclusive';

/** Per-seed values of one metric for (setting, method, technique). */
export function bySeed(
  rows: readonly RunRow[],
  setting: string,
  method: string,
  technique: string | undefined,
  metric: 'gm' | 'aKa' | 'aZs' = 'gm',
): Map<number, number> {
  const out = new Map<number, number>();
  for (const r of rows)
    if (r.setting === setting && r.method === method && (technique === undefined || r.technique === technique))
      out.set(r.seed, r[metric]);
  return out;
}

export function has(rows: readonly RunRow[], setting: string, method: string, technique?: string): boolean {
  return rows.some(
    (r) => r.setting === setting && r.method === method && (technique === undefined || r.technique === technique),
  );
}

/**
 * Whether a run replays pretraining data or past tasks. Synthetic runs record the shares as three params
 * (replay_pretrain, replay_current, replay_buffer); CLIP and external runs as one, "pretrain/current/buffer".
 */
function isReplay(r: RunRow): boolean {
  const joined = r.params.replay;
  const [pretrain, , buffer] =
    joined === undefined
      ? [r.params.replay_pretrain, undefined, r.params.replay_buffer].map((v) => Number(v ?? 0))
      : String(joined).split('/').map(Number);
  return pretrain > 0 || buffer > 0;
}

/** Continual fine-tuning: the finetune method, else the continual baseline. */
function continualName(rows: readonly RunRow[], setting: string): string | undefined {
  return has(rows, setting, 'finetune') ? 'finetune' : has(rows, setting, 'continual') ? 'continual' : undefined;
}

export const line = (g: Group | undefined) => (g ? `A_KA ${pct(g.aKa)}, A_ZS ${pct(g.aZs)}, GM ${pct(g.gm)}` : 'n/a');

export function group(
  groups: readonly Group[],
  setting: string,
  method: string,
  technique?: string,
): Group | undefined {
  return groups.find(
    (g) => g.setting === setting && g.method === method && (technique === undefined || g.technique === technique),
  );
}

/** Paper: offline merging falls behind continual fine-tuning; judged on GM, paired over seeds. */
function offlineVsContinual(
  rows: readonly RunRow[],
  groups: readonly Group[],
  settings: readonly string[],
): FindingResult {
  const id = 'offline-vs-continual';
  const title = 'Offline merging falls behind continual fine-tuning (GM)';
  const pairs = settings
    .map((s) => ({ s, ft: continualName(rows, s) }))
    .filter((p) => p.ft && has(rows, p.s, 'offline_merge', WA)) as { s: string; ft: string }[];
  if (pairs.length === 0)
    return result(
      id,
      title,
      'not tested',
      'n/a',
      'not tested: needs offline_merge (weighted-average) and finetune or the continual baseline',
    );
  const replayFirst = [...pairs].sort(
    (a, b) =>
      Number(rows.some((r) => r.setting === b.s && isReplay(r))) -
      Number(rows.some((r) => r.setting === a.s && isReplay(r))),
  );
  const main = replayFirst[0];
  const diffs = pairs.map((p) => ({
    ...p,
    gm: pairedDifference(bySeed(rows, p.s, p.ft, undefined), bySeed(rows, p.s, 'offline_merge', WA)),
    ka: pairedDifference(bySeed(rows, p.s, p.ft, undefined, 'aKa'), bySeed(rows, p.s, 'offline_merge', WA, 'aKa')),
  }));
  const m = diffs.find((d) => d.s === main.s)!;
  const effect = `${main.ft} - offline_merge GM ${formatInterval(m.gm)} points (setting ${main.s})`;
  return result(
    id,
    title,
    verdictOf(m.gm),
    effect,
    `${effect}; offline_merge ${line(group(groups, main.s, 'offline_merge', WA))} vs ${main.ft} ${line(group(groups, main.s, main.ft))}` +
      (diffs.length > 1
        ? `; other settings: ${diffs
            .filter((d) => d !== m)
            .map((d) => `${d.s} GM ${formatInterval(d.gm)}`)
            .join('; ')}`
        : ''),
    mdTable(
      [
        'setting',
        'offline_merge A_KA / A_ZS / GM %',
        'continual A_KA / A_ZS / GM %',
        'GM difference (points, 95% CI)',
        'A_KA difference',
      ],
      diffs.map((d) => {
        const off = group(groups, d.s, 'offline_merge', WA)!;
        const ft = group(groups, d.s, d.ft)!;
        return [
          d.s,
          `${pct(off.aKa)} / ${pct(off.aZs)} / ${pct(off.gm)}`,
          `${pct(ft.aKa)} / ${pct(ft.aZs)} / ${pct(ft.gm)}`,
          formatInterval(d.gm),
          formatInterval(d.ka),
        ];
      }),
    ),
  );
}

/**
 * Paper (offline 54.6 -> replay 58.2 -> recency 58.9 vs replay fine-tuning 59.1): replay lifts offline
 * merging, recency weighting lifts it further, and the best time-aware variant comes within about a
 * point of replay fine-tuning. Reproduced when replay helps and the gap to replay fine-tuning is < 1 point.
 */
function timeAwareOffline(rows: readonly RunRow[], groups: readonly Group[]): FindingResult {
  const id = 'time-aware-offline';
  const title = 'Time-aware offline merging (replay, recency weighting) approaches replay fine-tuning';
  const settings = [...new Set(rows.map((r) => r.setting))];
  const noRep = settings.find(
    (s) => rows.some((r) => r.setting === s && !isReplay(r)) && has(rows, s, 'offline_merge', WA),
  );
  const rep = settings.find(
    (s) => rows.some((r) => r.setting === s && isReplay(r)) && has(rows, s, 'offline_merge', WA),
  );
  const ft = rep ? continualName(rows, rep) : undefined;
  if (!noRep || !rep || !ft)
    return result(
      id,
      title,
      'not tested',
      'n/a',
      'not tested: needs offline_merge with and without replay, and replay fine-tuning',
    );
  const recency = groups.filter(
    (g) =>
      g.setting === rep &&
      g.technique === WA &&
      g.method.startsWith('base+merge-all:') &&
      !g.method.includes('reverse'),
  );
  const bestRecency = recency.reduce<Group | undefined>((a, b) => (!a || b.gm > a.gm ? b : a), undefined);
  const plain = bySeed(rows, noRep, 'offline_merge', WA);
  const replayed = bySeed(rows, rep, 'offline_merge', WA);
  const best =
    bestRecency && bestRecency.gm > group(groups, rep, 'offline_merge', WA)!.gm ? bestRecency.method : 'offline_merge';
  const a = pairedDifference(replayed, plain);
  const b = bestRecency ? pairedDifference(bySeed(rows, rep, bestRecency.method, WA), replayed) : undefined;
  const gap = pairedDifference(bySeed(rows, rep, ft, undefined), bySeed(rows, rep, best, WA));
  const verdict: Verdict =
    a.n < 2
      ? 'inconclusive'
      : side(a) === 'below' || gap.lo > 0.01
        ? 'not reproduced'
        : side(a) === 'above' && gap.hi < 0.01
          ? 'reproduced'
          : 'inconclusive';
  const effect = `replay fine-tuning - best time-aware offline (${best}) GM ${formatInterval(gap)} points`;
  const order = [
    group(groups, noRep, 'offline_merge', WA),
    group(groups, rep, 'offline_merge', WA),
    ...recency.sort((x, y) => y.gm - x.gm),
    group(groups, rep, ft),
    group(groups, noRep, continualName(rows, noRep) ?? ''),
  ].filter((g): g is Group => g !== undefined);
  return result(
    id,
    title,
    verdict,
    effect,
    `replay lifts offline_merge by GM ${formatInterval(a)}; ${bestRecency ? `the best recency weighting (${bestRecency.method}) adds ${formatInterval(b!)}` : 'no recency-weighted variant'}; ${effect}`,
    mdTable(
      ['setting', 'method', 'A_KA %', 'A_ZS %', 'GM %'],
      order.map((g) => [g.setting, g.method, pct(g.aKa), pct(g.aZs), pct(g.gm)]),
    ),
  );
}

/** Paper: Best-in-TIME (ema_paint, weighted averaging) is the best (method, technique) pair; multitask is the upper bound. */
function bestInTime(rows: readonly RunRow[], groups: readonly Group[], settings: readonly string[]): FindingResult {
  const id = 'best-in-time';
  const title = 'Best-in-TIME (ema_paint with weighted averaging) beats every other (method, technique) pair (GM)';
  const s = settings.find((x) => has(rows, x, 'ema_paint', WA));
  if (!s) return result(id, title, 'not tested', 'n/a', 'not tested: needs ema_paint with weighted-average');
  const ema = bySeed(rows, s, 'ema_paint', WA);
  const others = groups.filter(
    (g) => g.setting === s && !(g.method === 'ema_paint' && g.technique === WA) && !isBaseline(g.method),
  );
  const diffs = others
    .map((g) => ({ g, d: pairedDifference(ema, bySeed(rows, s, g.method, g.technique)) }))
    .sort((x, y) => x.d.mean - y.d.mean);
  if (diffs.length === 0)
    return result(id, title, 'not tested', 'n/a', 'not tested: no other (method, technique) pair to compare with');
  const behind = diffs.filter((x) => side(x.d) === 'below');
  const level = diffs.filter((x) => side(x.d) === 'overlaps');
  // With one seed there is no interval: nothing is ahead, level or behind, and the table says so.
  const oneSeed = diffs.every((x) => x.d.n < 2);
  const standing = (d: Interval, behindText: string) =>
    d.n < 2 ? 'one seed: no interval' : side(d) === 'above' ? 'ahead' : side(d) === 'below' ? behindText : 'level';
  const closest = diffs[0];
  const multitask = has(rows, s, 'multitask')
    ? pairedDifference(ema, bySeed(rows, s, 'multitask', undefined))
    : undefined;
  const rank =
    [...groups.filter((g) => g.setting === s && !isBaseline(g.method))]
      .sort((a, b) => b.gm - a.gm)
      .findIndex((g) => g.method === 'ema_paint' && g.technique === WA) + 1;
  const verdict: Verdict = diffs.some((x) => x.d.n < 2)
    ? 'inconclusive'
    : behind.length > 0
      ? 'not reproduced'
      : level.length > 0
        ? 'inconclusive'
        : 'reproduced';
  const effect = `ema_paint - ${closest.g.method} / ${closest.g.technique} (the closest pair) GM ${formatInterval(closest.d)} points`;
  return result(
    id,
    title,
    verdict,
    effect,
    `ema_paint ${line(group(groups, s, 'ema_paint', WA))}: rank ${rank} of ${groups.filter((g) => g.setting === s && !isBaseline(g.method)).length} pairs by mean GM; ` +
      (oneSeed
        ? `one seed, so no interval: not judged ahead of or behind any of the ${diffs.length} others; ${effect}`
        : `significantly ahead of ${diffs.length - behind.length - level.length}, level with ${level.length}, behind ${behind.length} of ${diffs.length}; ${effect}`) +
      (multitask ? `; against multitask ${formatInterval(multitask)}` : ''),
    mdTable(
      ['method', 'technique', 'GM %', 'ema_paint - it (points, 95% CI)', 'ema_paint is'],
      [
        ...(multitask
          ? [
              [
                'multitask',
                '-',
                pct(group(groups, s, 'multitask')!.gm),
                formatInterval(multitask),
                standing(multitask, 'behind'),
              ],
            ]
          : []),
        ...diffs.map((x) => [x.g.method, x.g.technique, pct(x.g.gm), formatInterval(x.d), standing(x.d, '**behind**')]),
      ],
    ),
  );
}

/**
 * Paper: init and deploy protocols matter more than the merging technique. A two-way decomposition of GM
 * over the complete method x technique table: the share of variance due to the method against the share
 * due to the technique, per seed, and the paired difference of the shares.
 */
function initDeployOverTechnique(rows: readonly RunRow[]): FindingResult {
  const id = 'init-deploy-over-technique';
  const title =
    'Init and deploy protocols matter more than the merging technique (two-way variance decomposition of GM)';
  const setting = rows[0]?.setting;
  const merged = rows.filter((r) => r.setting === setting && r.technique !== '-' && !isBaseline(r.method));
  const methods = [...new Set(merged.map((r) => r.method))];
  // The largest complete table: techniques every method ran with.
  const techniques = [...new Set(merged.map((r) => r.technique))].filter((t) =>
    methods.every((m) => merged.some((r) => r.method === m && r.technique === t)),
  );
  if (methods.length < 2 || techniques.length < 2)
    return result(
      id,
      title,
      'not tested',
      'n/a',
      'not tested: needs at least two merging methods and two techniques that all of them ran',
    );
  const seeds = [...new Set(merged.map((r) => r.seed))].sort((a, b) => a - b);
  const cell = new Map(merged.map((r) => [`${r.method}\u0000${r.technique}\u0000${r.seed}`, r.gm]));
  const gm = (m: string, t: string, seed: number) => cell.get(`${m}\u0000${t}\u0000${seed}`) ?? NaN;
  const meanTable = methods.map((m) =>
    techniques.map((t) => seeds.reduce((a, s) => a + (cell.get(`${m}\u0000${t}\u0000${s}`) ?? 0), 0) / seeds.length),
  );
  const shares = twoWayShares(meanTable);
  const full = splitShares(gm, methods, techniques, seeds);
  const d = full.difference;
  const share = (x: number) => `${(100 * x).toFixed(0)}%`;
  const iv = (i: Interval) =>
    Number.isFinite(i.lo) ? `${share(i.mean)} [${share(i.lo)}, ${share(i.hi)}]` : share(i.mean);

  // Cells that copy θ0 or the latest expert, and the split without the techniques that have them.
  const collapses = findCollapses(
    rows.filter((r) => r.setting === setting),
    methods,
    techniques,
  );
  const collapsing = techniques.filter((t) => collapses.some((c) => c.technique === t));
  const kept = techniques.filter((t) => !collapsing.includes(t));
  const without = kept.length >= 2 && collapsing.length > 0 ? splitShares(gm, methods, kept, seeds) : undefined;
  const loo =
    techniques.length >= 3
      ? techniques.map((t) => ({
          t,
          s: splitShares(
            gm,
            methods,
            techniques.filter((x) => x !== t),
            seeds,
          ),
        }))
      : [];
  const looSame = loo.filter((x) => verdictOf(x.s.difference) === verdictOf(d)).length;
  const robustness =
    (collapses.length === 0
      ? 'no cell collapses to θ0 or the latest expert'
      : `${collapses.length} of ${methods.length * techniques.length} cells collapse to θ0 or the latest expert (within ${(100 * COLLAPSE_TOLERANCE).toFixed(1)} points on every seed; ${collapses.filter((c) => c.exact).length} exactly) in ${collapsing.join(', ')}` +
        (without
          ? `; without those techniques: method ${iv(without.method)}, technique ${iv(without.technique)}, difference ${iv(without.difference)} (${verdictOf(without.difference)})`
          : '; fewer than two techniques are left without them')) +
    (loo.length ? `; leaving out one technique at a time keeps the verdict in ${looSame} of ${loo.length}` : '');
  const effect = `method share - technique share of GM variance ${iv(d)} (per seed)${without ? `; without collapsing techniques ${iv(without.difference)}` : ''}`;
  const methodMeans = methods
    .map((m, i) => ({ m, v: meanTable[i].reduce((a, b) => a + b, 0) / techniques.length }))
    .sort((a, b) => b.v - a.v);
  const techMeans = techniques
    .map((t, j) => ({ t, v: meanTable.reduce((a, r) => a + r[j], 0) / methods.length }))
    .sort((a, b) => b.v - a.v);
  const collapseTable = collapses.length
    ? '\n\nCells that collapse (A_KA and A_ZS within the tolerance of a reference run on every seed):\n\n' +
      mdTable(
        ['method', 'technique', 'equals', 'exactly', 'largest gap (points)'],
        collapses.map((c) => [c.method, c.technique, c.to, c.exact ? 'yes' : 'no', (100 * c.gap).toFixed(2)]),
      )
    : '';
  const looTable = loo.length
    ? '\n\nLeave one technique out (per seed, 95% intervals):\n\n' +
      mdTable(
        ['left out', 'method share', 'technique share', 'method - technique', 'verdict'],
        loo.map((x) => [x.t, iv(x.s.method), iv(x.s.technique), iv(x.s.difference), verdictOf(x.s.difference)]),
      )
    : '';
  return result(
    id,
    title,
    verdictOf(d),
    effect,
    `over ${methods.length} methods x ${techniques.length} techniques (mean table): method ${share(shares.rows)}, technique ${share(shares.columns)}, interaction ${share(shares.interaction)} of the variance; ` +
      `per seed: method ${iv(full.method)}, technique ${iv(full.technique)}; ${effect}. ${robustness}. ${settingsNote(techniques)}`,
    mdTable(
      ['method (mean over techniques)', 'GM %'],
      methodMeans.map((x) => [x.m, pct(x.v)]),
    ) +
      '\n\n' +
      mdTable(
        ['technique (mean over methods)', 'GM %'],
        techMeans.map((x) => [x.t, pct(x.v)]),
      ) +
      collapseTable +
      looTable,
  );
}

/**
 * What each technique of the table runs with, inside the EMA and PAINT merges as in merge-all: the study
 * gives one setting per technique label, and the two-model merges use it unchanged.
 */
function settingsNote(techniques: readonly string[]): string {
  const known = new Map([...OFFICIAL_TECHNIQUES, ...VARIANT_TECHNIQUES].map((t) => [t.label ?? t.name, t.params]));
  const parts = techniques.map((t) => {
    const p = known.get(t);
    return p && Object.keys(p).length
      ? `${t} ${Object.entries(p)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`
      : `${t} (registry defaults or its label's settings)`;
  });
  return `Settings inside every merge, the EMA and PAINT two-model merges included (the merge-settings study varies them): ${parts.join('; ')}`;
}

/** The scale a setting stands for: the last number in its label (k64-d256 -> 256, steps40 -> 40, T100 -> 100). */
function scaleOf(label: string, index: number): number {
  const nums = label.match(/\d+(\.\d+)?/g);
  return nums ? Number(nums[nums.length - 1]) : 2 ** index;
}

/**
 * Paper: Best-in-TIME scales with model size, compute and horizon. The lead of ema_paint over the better
 * of finetune / offline_merge, per seed, at each setting, and its least-squares slope against log2 of the
 * scale, with intervals over seeds. Reproduced when it leads at the largest scale and the lead does not shrink.
 */
function scaling(rows: readonly RunRow[], settings: readonly string[]): FindingResult {
  const id = 'scaling';
  const title = 'Best-in-TIME keeps its lead as model size, compute and horizon grow';
  const points = settings
    .map((s, i) => ({
      s,
      x: Math.log2(scaleOf(s, i)),
      ema: bySeed(rows, s, 'ema_paint', WA),
      ft: bySeed(rows, s, continualName(rows, s) ?? 'finetune', undefined),
      off: bySeed(rows, s, 'offline_merge', WA),
    }))
    .filter((p) => p.ema.size > 0 && (p.ft.size > 0 || p.off.size > 0));
  if (points.length < 2)
    return result(
      id,
      title,
      'not tested',
      'n/a',
      'not tested: needs ema_paint and finetune or offline_merge in two or more settings',
    );
  const lead = (p: (typeof points)[number]) => {
    const out = new Map<number, number>();
    for (const [seed, e] of p.ema)
      out.set(seed, e - Math.max(p.ft.get(seed) ?? -Infinity, p.off.get(seed) ?? -Infinity));
    return out;
  };
  const leads = points.map((p) => ({ p, lead: lead(p), i: meanInterval([...lead(p).values()]) }));
  const seeds = [...points[0].ema.keys()].filter((seed) => points.every((p) => p.ema.has(seed)));
  const leadSlope = meanInterval(
    seeds.map((seed) =>
      slope(
        points.map((p) => p.x),
        leads.map((l) => l.lead.get(seed)!),
      ),
    ),
  );
  const emaSlope = meanInterval(
    seeds.map((seed) =>
      slope(
        points.map((p) => p.x),
        points.map((p) => p.ema.get(seed)!),
      ),
    ),
  );
  const last = leads[leads.length - 1];
  const verdict: Verdict =
    last.i.n < 2
      ? 'inconclusive'
      : side(last.i) === 'below' || side(leadSlope) === 'below'
        ? 'not reproduced'
        : side(last.i) === 'above' && side(leadSlope) !== 'below'
          ? 'reproduced'
          : 'inconclusive';
  const effect = `lead at ${last.p.s} ${formatInterval(last.i)} points; lead slope ${formatInterval(leadSlope)} points per doubling`;
  return result(
    id,
    title,
    verdict,
    effect,
    `ema_paint's lead over the better of finetune / offline_merge: ${leads.map((l) => `${l.p.s} ${formatInterval(l.i)}`).join('; ')}; slope of the lead ${formatInterval(leadSlope)} and of ema_paint's GM ${formatInterval(emaSlope)} points per doubling of the scale`,
    mdTable(
      ['setting', 'ema_paint GM %', 'finetune GM %', 'offline_merge GM %', 'lead (points, 95% CI)'],
      leads.map((l) => {
        const m = (xs: Map<number, number>) =>
          xs.size ? pct([...xs.values()].reduce((a, b) => a + b, 0) / xs.size) : 'n/a';
        return [l.p.s, m(l.p.ema), m(l.p.ft), m(l.p.off), formatInterval(l.i)];
      }),
    ),
  );
}

/** Checks each requested finding against the runs. */
export function evaluateFindings(ids: readonly FindingId[], rows: readonly RunRow[]): FindingResult[] {
  const groups = groupRows(rows);
  const settings = [...new Set(rows.map((r) => r.setting))];
  return ids.map((id) => {
    switch (id) {
      case 'offline-vs-continual':
        return offlineVsContinual(rows, groups, settings);
      case 'time-aware-offline':
        return timeAwareOffline(rows, groups);
      case 'init-deploy-over-technique':
        return initDeployOverTechnique(rows);
      case 'best-in-time':
        return bestInTime(rows, groups, settings);
      case 'scaling':
        return scaling(rows, settings);
      case 'continual-merging':
        return continualMerging(rows, groups, settings);
    }
  });
}

/** findings.md: a verdict table first, then the numbers and detail of each finding. */
export function findingsMarkdown(
  study: string,
  description: string,
  results: readonly FindingResult[],
  runCount: number,
  seeds: readonly number[],
): string {
  const head =
    `# Findings: ${study}\n\n${description}\n\n${runCount} runs, seeds ${seeds.join(', ')}. Scores are means over seeds, in percent; GM = sqrt(A_KA · A_ZS). ` +
    'Differences are paired by seed (same world, same loop seed), with 95% t intervals over seeds; a verdict is "reproduced" when the interval lies on the side the paper claims, ' +
    '"not reproduced" when it lies on the other side, "inconclusive" when it includes no difference.\n';
  const table = results.length
    ? `\n| finding | verdict | effect (95% CI) |\n|---|---|---|\n${results.map((r) => `| ${r.title} | ${r.verdict === 'reproduced' || r.verdict === 'not tested' ? r.verdict : `**${r.verdict}**`} | ${r.effect} |`).join('\n')}\n`
    : '';
  const body = results.map((r) => `## ${r.title}: ${r.verdict}\n\n${r.summary}.\n${r.detail ? `\n${r.detail}\n` : ''}`);
  return [head + table, ...body].join('\n');
}

/** One line per finding, for the console. */
export function findingsSummary(results: readonly FindingResult[]): string {
  return results.map((r) => `- ${r.title}: ${r.verdict}. ${r.effect}`).join('\n');
}
