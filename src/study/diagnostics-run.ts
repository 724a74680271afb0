import { syntheticDiagnostics } from '../synthetic/diagnostics.js';
import type { ContinualDiagnostics } from './continual-diagnostics.js';
import type { StreamDiagnostics } from './expert-diagnostics.js';
import { syntheticSetup } from '../synthetic/setup.js';
import { regimeChecks, TARGET_REGIME } from './world-diagnostics.js';
import { mean, std } from './rows.js';
import type { FromWorker, ToWorker } from './pool.js';
import type { RunSpec } from './types.js';

/**
 * The world diagnostics of one (setting, world seed) of a study; the continual ones where the world's
 * trainer ran them (synthetic studies always do).
 */
export interface DiagnosticsRow extends StreamDiagnostics, Partial<ContinualDiagnostics> {
  readonly setting: string;
  readonly seed: number;
}

export const DIAGNOSTICS_COLUMNS = [
  'setting',
  'seed',
  'experts',
  'tau_ratio',
  'cross_cosine',
  'same_cosine',
  'top20_energy',
  'ties_keep',
  'base_score',
  'expert_score',
  'base_a_ka',
  'base_a_zs',
  'expert_zs_drop',
  'half_tau_keep',
  'ft_forgetting',
  'ft_zs_drop',
  'ft_a_ka',
  'replay_forgetting',
  'replay_zs_drop',
  'replay_a_ka',
] as const;

/** Experts per world: evenly spread over the stream, so long horizons cost no more than T = 10. */
const MAX_EXPERTS = 10;

/**
 * Diagnostics for every (setting, seed) the runs cover, in run order. Yields to the event loop between
 * worlds, so it can run beside the worker pool.
 */
export async function studyDiagnostics(runs: readonly RunSpec[]): Promise<DiagnosticsRow[]> {
  const seen = new Map<string, RunSpec>();
  for (const r of runs) if (!seen.has(`${r.setting}/${r.seed}`)) seen.set(`${r.setting}/${r.seed}`, r);
  const out: DiagnosticsRow[] = [];
  for (const r of seen.values()) {
    await new Promise((resolve) => setImmediate(resolve));
    const d = await syntheticDiagnostics(syntheticSetup(r.stream), MAX_EXPERTS);
    out.push({ setting: r.setting, seed: r.seed, ...d });
  }
  return out;
}

/**
 * studyDiagnostics on a worker thread of its own (a world's setup is seconds of synchronous work, which
 * on the main thread would keep it from answering Ctrl-C). An error in the thread rejects.
 */
export async function studyDiagnosticsOffThread(runs: readonly RunSpec[]): Promise<DiagnosticsRow[]> {
  const { studyThread } = await import('./pool.js');
  const w = studyThread();
  try {
    return await new Promise<DiagnosticsRow[]>((resolve, reject) => {
      w.on('message', (msg: FromWorker) => {
        if (msg.type === 'diagnostics') resolve(msg.rows);
      });
      w.once('error', reject);
      w.once('exit', (code) => reject(new Error(`the diagnostics thread exited with code ${code}`)));
      w.postMessage({ type: 'diagnostics', runs } satisfies ToWorker);
    });
  } finally {
    await w.terminate();
  }
}

export function diagnosticsRows(rows: readonly DiagnosticsRow[]): string[][] {
  const f = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? String(x) : '');
  return [
    [...DIAGNOSTICS_COLUMNS],
    ...rows.map((r) => [
      r.setting,
      String(r.seed),
      String(r.experts),
      f(r.tauRatio),
      f(r.crossCosine),
      f(r.sameCosine),
      f(r.top20Energy),
      f(r.tiesKeep),
      f(r.baseScore),
      f(r.expertScore),
      f(r.baseAKa),
      f(r.baseAZs),
      f(r.expertZsDrop),
      f(r.halfTauKeep),
      f(r.ftForgetting),
      f(r.ftZsDrop),
      f(r.ftAKa),
      f(r.replayForgetting),
      f(r.replayZsDrop),
      f(r.replayAKa),
    ]),
  ];
}

const cell = (xs: number[], digits = 3) => {
  const v = xs.filter(Number.isFinite);
  return v.length === 0 ? 'n/a' : `${mean(v).toFixed(digits)} ± ${std(v).toFixed(digits)}`;
};
const mark = (ok: boolean) => (ok ? 'yes' : '**no**');

/** findings.md section: the diagnostics per setting (mean ± sd over seeds) against the target regime. */
export function diagnosticsMarkdown(rows: readonly DiagnosticsRow[]): string {
  if (rows.length === 0) return '';
  const settings = [...new Set(rows.map((r) => r.setting))];
  const lines = [
    '## World diagnostics',
    '',
    `Experts trained from θ0 on one task each (${rows[0].experts} per world, evenly spread over the stream), mean ± sd over seeds. ` +
      `Target regime (fine-tuned CLIP): ‖τ‖/‖θ0‖ <= ${TARGET_REGIME.tauRatio}, cross-dataset cosine <= ${TARGET_REGIME.crossCosine}, ` +
      `a TIES trim at density 0.2 keeping >= ${100 * TARGET_REGIME.tiesKeep}% of the gain, θ0 partly competent (docs/synthetic.md).`,
    '',
    '| setting | ‖τ‖/‖θ0‖ | cross-dataset cos | same-dataset cos | top-20% energy | TIES-0.2 gain kept | θ0 A_KA | θ0 A_ZS | in regime (τ, cos, trim) |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const s of settings) {
    const rs = rows.filter((r) => r.setting === s);
    const pick = (k: keyof DiagnosticsRow) => rs.map((r) => r[k] as number);
    const avg = {
      ...rs[0],
      tauRatio: mean(pick('tauRatio')),
      crossCosine: mean(pick('crossCosine').filter(Number.isFinite)),
      tiesKeep: mean(pick('tiesKeep').filter(Number.isFinite)),
    };
    const c = regimeChecks(avg);
    lines.push(
      `| ${s} | ${cell(pick('tauRatio'))} | ${cell(pick('crossCosine'))} | ${cell(pick('sameCosine'))} | ${cell(pick('top20Energy'))} | ${cell(pick('tiesKeep'))} | ` +
        `${cell(pick('baseAKa'))} | ${cell(pick('baseAZs'))} | ${mark(c.tauRatio)}, ${mark(c.crossCosine)}, ${mark(c.tiesKeep)} |`,
    );
  }
  if (rows.some((r) => r.ftForgetting !== undefined)) lines.push('', ...behaviourLines(rows, settings));
  return `${lines.join('\n')}\n`;
}

const points = (xs: number[]) => {
  const v = xs.filter(Number.isFinite);
  return v.length === 0 ? 'n/a' : `${(100 * mean(v)).toFixed(1)} ± ${(100 * std(v)).toFixed(1)}`;
};

/** The function-space table: what continual fine-tuning forgets, and what one expert costs and keeps. */
function behaviourLines(rows: readonly DiagnosticsRow[], settings: readonly string[]): string[] {
  const lines = [
    'Function space (points, mean ± sd over seeds): continual fine-tuning (init last, deploy last) over the whole stream without replay and with the 0.33 / 0.34 / 0.33 replay, its forgetting (accuracy matrix) and A_ZS drop from θ0; ' +
      "one expert's A_ZS drop (trained from θ0 on one task); the share of an expert's gain on its own task kept at θ0 + τ/2.",
    '',
    '| setting | forgetting, no replay | A_ZS drop, no replay | forgetting, replay | A_ZS drop, replay | expert A_ZS drop | gain kept at τ/2 (%) |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const s of settings) {
    const rs = rows.filter((r) => r.setting === s);
    const pick = (k: keyof DiagnosticsRow) => rs.map((r) => (r[k] as number | undefined) ?? NaN);
    lines.push(
      `| ${s} | ${points(pick('ftForgetting'))} | ${points(pick('ftZsDrop'))} | ${points(pick('replayForgetting'))} | ${points(pick('replayZsDrop'))} | ` +
        `${points(pick('expertZsDrop'))} | ${points(pick('halfTauKeep'))} |`,
    );
  }
  return lines;
}
