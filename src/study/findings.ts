import { isBaseline } from '../time/baselines.js';
import { groupRows, mean, pct, type Group, type RunRow } from './rows.js';
import type { FindingId } from './types.js';

/** One of the paper's findings checked against a study's runs. */
export interface FindingResult {
  readonly id: FindingId;
  readonly title: string;
  /** null when the study lacks the runs the check needs. */
  readonly reproduced: boolean | null;
  /** One line with the numbers. */
  readonly summary: string;
  /** Markdown detail (a table). */
  readonly detail: string;
}

const WA = 'weighted-average';
const NAMED = ['finetune', 'offline_merge', 'zs_paint', 'ft_paint', 'ema_paint'];

function find(groups: readonly Group[], setting: string, method: string, technique?: string): Group | undefined {
  return groups.find((g) => g.setting === setting && g.method === method && (technique === undefined || g.technique === technique));
}

function line(g: Group): string {
  return `A_KA ${pct(g.aKa)}, A_ZS ${pct(g.aZs)}, GM ${pct(g.gm)}`;
}

function mdTable(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

const groupRow = (g: Group): string[] => [g.setting, g.method, g.technique, pct(g.aKa), pct(g.aZs), pct(g.gm)];
const GROUP_HEADER = ['setting', 'method', 'technique', 'A_KA %', 'A_ZS %', 'GM %'];

/** Offline merging (train from θ0, deploy the merge of all experts) falls behind continual training on A_KA. */
function offlineVsContinual(groups: readonly Group[], settings: readonly string[]): FindingResult {
  const title = 'Offline merging falls behind continual training (knowledge accumulation)';
  const pairs = settings
    .map((s) => ({ s, off: find(groups, s, 'offline_merge', WA), ft: find(groups, s, 'finetune') ?? find(groups, s, 'continual') }))
    .filter((p) => p.off && p.ft) as { s: string; off: Group; ft: Group }[];
  if (pairs.length === 0) return { id: 'offline-vs-continual', title, reproduced: null, summary: 'not tested: needs offline_merge (weighted-average) and finetune or the continual baseline', detail: '' };
  const wins = pairs.filter((p) => p.off.aKa < p.ft.aKa).length;
  const p0 = pairs[0];
  return {
    id: 'offline-vs-continual',
    title,
    reproduced: wins === pairs.length,
    summary: `offline_merge ${line(p0.off)} vs ${p0.ft.method} ${line(p0.ft)}${pairs.length > 1 ? ` (setting ${p0.s}; offline behind on A_KA in ${wins}/${pairs.length} settings)` : ''}`,
    detail: mdTable(GROUP_HEADER, pairs.flatMap((p) => [groupRow(p.off), groupRow(p.ft)])),
  };
}

/** Making offline merging time-aware (replay, recency-weighted merges) closes part of the gap. */
function timeAwareOffline(groups: readonly Group[], rows: readonly RunRow[]): FindingResult {
  const title = 'Replay and recency weighting make offline merging time-aware';
  const noReplay = new Set(rows.filter((r) => Number(r.params.replay_buffer ?? 0) === 0 && Number(r.params.replay_pretrain ?? 0) === 0).map((r) => r.setting));
  const plain = groups.find((g) => noReplay.has(g.setting) && g.method === 'offline_merge' && g.technique === WA);
  const isOffline = (g: Group) => g.technique === WA && (g.method === 'offline_merge' || g.method.startsWith('base+merge-all'));
  const variants = groups.filter((g) => isOffline(g) && g !== plain);
  if (!plain || variants.length === 0) return { id: 'time-aware-offline', title, reproduced: null, summary: 'not tested: needs offline_merge without replay and replay or temporally weighted variants', detail: '' };
  const best = variants.reduce((a, b) => (b.gm > a.gm ? b : a));
  const bestKa = variants.reduce((a, b) => (b.aKa > a.aKa ? b : a));
  const ft = groups.find((g) => noReplay.has(g.setting) && (g.method === 'finetune' || g.method === 'continual'));
  return {
    id: 'time-aware-offline',
    title,
    reproduced: best.gm > plain.gm && bestKa.aKa > plain.aKa,
    summary:
      `plain offline_merge ${line(plain)}; best time-aware variant by GM: ${best.method} in setting ${best.setting} (${line(best)}); ` +
      `by A_KA: ${bestKa.method} in ${bestKa.setting} (A_KA ${pct(bestKa.aKa)})${ft ? `; continual fine-tuning A_KA ${pct(ft.aKa)}` : ''}`,
    detail: mdTable(GROUP_HEADER, [plain, ...variants].sort((a, b) => b.gm - a.gm).map(groupRow)),
  };
}

/** The spread of GM across init/deploy methods is larger than across merging techniques. */
function initDeployOverTechnique(rows: readonly RunRow[]): FindingResult {
  const title = 'Init and deploy protocols matter more than the merging technique';
  const merged = rows.filter((r) => r.technique !== '-' && !isBaseline(r.method));
  const methods = [...new Set(merged.map((r) => r.method))];
  const techniques = [...new Set(merged.map((r) => r.technique))];
  if (methods.length < 2 || techniques.length < 2) return { id: 'init-deploy-over-technique', title, reproduced: null, summary: 'not tested: needs at least two merging methods and two techniques', detail: '' };
  const byMethod = methods.map((m) => ({ name: m, gm: mean(merged.filter((r) => r.method === m).map((r) => r.gm)) })).sort((a, b) => b.gm - a.gm);
  const byTech = techniques.map((t) => ({ name: t, gm: mean(merged.filter((r) => r.technique === t).map((r) => r.gm)) })).sort((a, b) => b.gm - a.gm);
  const spread = (xs: { gm: number }[]) => xs[0].gm - xs[xs.length - 1].gm;
  // Within one method, how far apart are techniques? (the paper's per-protocol view)
  const within = mean(methods.map((m) => {
    const gs = techniques.map((t) => mean(merged.filter((r) => r.method === m && r.technique === t).map((r) => r.gm))).filter(Number.isFinite);
    return gs.length > 1 ? Math.max(...gs) - Math.min(...gs) : NaN;
  }).filter(Number.isFinite));
  const sm = spread(byMethod);
  const st = spread(byTech);
  return {
    id: 'init-deploy-over-technique',
    title,
    reproduced: sm > st,
    summary:
      `GM spread across ${methods.length} init x deploy methods (mean over techniques): ${pct(sm)} points ` +
      `(best ${byMethod[0].name} ${pct(byMethod[0].gm)}, worst ${byMethod[byMethod.length - 1].name} ${pct(byMethod[byMethod.length - 1].gm)}); ` +
      `across ${techniques.length} techniques (mean over methods): ${pct(st)} points (best ${byTech[0].name} ${pct(byTech[0].gm)}, worst ${byTech[byTech.length - 1].name} ${pct(byTech[byTech.length - 1].gm)}); ` +
      `mean technique spread within one method: ${pct(within)} points`,
    detail:
      mdTable(['technique', 'mean GM %'], byTech.map((t) => [t.name, pct(t.gm)])) +
      '\n\n' +
      mdTable(['method (init+deploy)', 'mean GM %'], byMethod.map((t) => [t.name, pct(t.gm)])),
  };
}

/** Best-in-TIME (EMA init + EMA deploy, weighted averaging) has the best GM among the named methods. */
function bestInTime(groups: readonly Group[], settings: readonly string[]): FindingResult {
  const title = 'Best-in-TIME (ema_paint with weighted averaging) balances accumulation and retention best';
  const s = settings.find((x) => find(groups, x, 'ema_paint', WA));
  if (!s) return { id: 'best-in-time', title, reproduced: null, summary: 'not tested: needs ema_paint with weighted-average', detail: '' };
  const inSetting = groups.filter((g) => g.setting === s && g.method !== 'multitask');
  const named = inSetting.filter((g) => NAMED.includes(g.method) && (g.technique === WA || g.technique === '-'));
  const ema = find(groups, s, 'ema_paint', WA)!;
  const rankNamed = [...named].sort((a, b) => b.gm - a.gm).indexOf(ema) + 1;
  const all = [...inSetting].sort((a, b) => b.gm - a.gm);
  const rankAll = all.indexOf(ema) + 1;
  return {
    id: 'best-in-time',
    title,
    reproduced: rankNamed === 1,
    summary:
      `ema_paint ${line(ema)}: rank ${rankNamed} of ${named.length} named methods and ${rankAll} of ${all.length} (method, technique) pairs by GM` +
      ` (best pair: ${all[0].method} / ${all[0].technique}, GM ${pct(all[0].gm)})`,
    detail: mdTable(GROUP_HEADER, [...named].sort((a, b) => b.gm - a.gm).map(groupRow)),
  };
}

/** Best-in-TIME keeps its lead as model size, compute and horizon grow. */
function scaling(groups: readonly Group[], settings: readonly string[]): FindingResult {
  const title = 'Best-in-TIME keeps its lead as model size, compute and horizon grow';
  const rows = settings
    .map((s) => {
      const ema = find(groups, s, 'ema_paint', WA);
      const others = groups.filter((g) => g.setting === s && (g.method === 'finetune' || g.method === 'offline_merge' || g.method === 'continual') && (g.technique === WA || g.technique === '-'));
      if (!ema || others.length === 0) return undefined;
      const best = others.reduce((a, b) => (b.gm > a.gm ? b : a));
      return { s, ema, best };
    })
    .filter((x) => x !== undefined);
  if (rows.length < 2) return { id: 'scaling', title, reproduced: null, summary: 'not tested: needs ema_paint and finetune or offline_merge in two or more settings', detail: '' };
  const leads = rows.filter((r) => r.ema.gm >= r.best.gm).length;
  return {
    id: 'scaling',
    title,
    reproduced: leads === rows.length,
    summary: `ema_paint has the best GM against finetune/offline_merge in ${leads} of ${rows.length} settings (${rows.map((r) => `${r.s}: ${pct(r.ema.gm)} vs ${pct(r.best.gm)}`).join('; ')})`,
    detail: mdTable(['setting', 'ema_paint GM %', 'best of finetune / offline_merge', 'its GM %', 'lead (points)'], rows.map((r) => [r.s, pct(r.ema.gm), r.best.method, pct(r.best.gm), pct(r.ema.gm - r.best.gm)])),
  };
}

/** Checks each requested finding against the runs. */
export function evaluateFindings(ids: readonly FindingId[], rows: readonly RunRow[]): FindingResult[] {
  const groups = groupRows(rows);
  const settings = [...new Set(rows.map((r) => r.setting))];
  return ids.map((id) => {
    switch (id) {
      case 'offline-vs-continual':
        return offlineVsContinual(groups, settings);
      case 'time-aware-offline':
        return timeAwareOffline(groups, rows);
      case 'init-deploy-over-technique':
        return initDeployOverTechnique(rows);
      case 'best-in-time':
        return bestInTime(groups, settings);
      case 'scaling':
        return scaling(groups, settings);
    }
  });
}

const verdict = (r: FindingResult) => (r.reproduced === null ? 'not tested' : r.reproduced ? 'reproduced' : 'not reproduced');

/** findings.md: a verdict and the numbers for each finding. */
export function findingsMarkdown(study: string, description: string, results: readonly FindingResult[], runCount: number, seeds: readonly number[]): string {
  const head = `# Findings: ${study}\n\n${description}\n\n${runCount} runs, seeds ${seeds.join(', ')}. Scores are means over seeds, in percent; GM = sqrt(A_KA · A_ZS).\n`;
  const body = results.map((r) => `## ${r.title}: ${verdict(r)}\n\n${r.summary}.\n${r.detail ? `\n${r.detail}\n` : ''}`);
  return [head, ...body].join('\n');
}

/** One line per finding, for the console. */
export function findingsSummary(results: readonly FindingResult[]): string {
  return results.map((r) => `- ${r.title}: ${verdict(r)}. ${r.summary}`).join('\n');
}
