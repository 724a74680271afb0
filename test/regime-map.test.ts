import { describe, expect, it } from 'vitest';
import { regimeDots, regimeFigures } from '../src/report/figures/regime.js';
import { makeContext } from '../src/report/figures/types.js';
import type { ResultsData, RunRow as ReportRow, StepRow } from '../src/report/results.js';
import type { DiagnosticsRow } from '../src/study/diagnostics-run.js';
import { regimeMarkdown, regimePoints } from '../src/study/regime.js';
import type { RunRow } from '../src/study/rows.js';

// Two worlds, two seeds. In "calm" finetune leads offline_merge by 0.10 and 0.12 GM and ema_paint trails
// finetune by 0.02 and 0.04; in "forgetful" finetune leads by 0.02 and 0.04 and ema_paint beats it by
// 0.05 and 0.07. Means and t intervals (t_0.975, 1 df = 12.706) worked by hand.
const gm: Record<string, Record<string, [number, number]>> = {
  calm: { finetune: [0.8, 0.82], offline_merge: [0.7, 0.7], ema_paint: [0.78, 0.78] },
  forgetful: { finetune: [0.6, 0.62], offline_merge: [0.58, 0.58], ema_paint: [0.65, 0.69] },
};
const rows: RunRow[] = Object.entries(gm).flatMap(([setting, m]) =>
  Object.entries(m).flatMap(([method, v]) =>
    v.map((g, seed) => ({
      runId: `${setting}/${method}/s${seed}`,
      setting,
      method,
      technique: method === 'finetune' ? '-' : 'weighted-average',
      seed,
      aKa: g,
      aZs: g,
      gm: g,
      params: { setting },
    })),
  ),
);
const diag = (setting: string, seed: number, ft: number): DiagnosticsRow => ({
  setting,
  seed,
  experts: 1,
  tauRatio: 0.1,
  crossCosine: 0,
  sameCosine: NaN,
  top20Energy: 0.9,
  tiesKeep: 0.9,
  baseScore: 0.3,
  expertScore: 0.9,
  baseAKa: 0.3,
  baseAZs: 0.9,
  expertZsDrop: 0,
  halfTauKeep: 0.8,
  ftForgetting: ft,
  ftZsDrop: ft / 2,
  ftAKa: 0.6,
  replayForgetting: ft / 4,
  replayZsDrop: ft / 8,
  replayAKa: 0.7,
});

describe('regime map in findings.md', () => {
  it('sets each effect and verdict beside the forgetting the diagnostics measured in that world', () => {
    const points = regimePoints(rows, [
      diag('calm', 0, 0.01),
      diag('calm', 1, 0.03),
      diag('forgetful', 0, 0.2),
      diag('forgetful', 1, 0.2),
    ]);
    expect(points.map((p) => [p.setting, p.ftForgetting, p.continualLead.mean, p.bestInTimeLead.mean])).toEqual([
      ['calm', 0.02, expect.closeTo(0.11, 12), expect.closeTo(-0.03, 12)],
      ['forgetful', 0.2, expect.closeTo(0.03, 12), expect.closeTo(0.06, 12)],
    ]);
    // calm: lead 0.11 ± 12.706 · 0.01 → [-1.7, +23.7] points; forgetful: 0.06 ± 12.706 · 0.01 likewise.
    const md = regimeMarkdown(points);
    expect(md).toContain(
      '| calm | 2.0 | 1.0 | 0.5 | 0.3 | +11.0 [-1.7, +23.7] | inconclusive | -3.0 [-15.7, +9.7] | inconclusive |',
    );
    expect(md).toContain(
      '| forgetful | 20.0 | 10.0 | 5.0 | 2.5 | +3.0 [-9.7, +15.7] | inconclusive | +6.0 [-6.7, +18.7] | inconclusive |',
    );
    expect(regimeMarkdown(points.slice(0, 1))).toBe('');
  });
});

describe('regime figure', () => {
  const report: ReportRow[] = rows.map((r) => ({
    run_id: r.runId,
    study: 'regime',
    method: r.method,
    init: '-',
    deploy: '-',
    technique: r.technique,
    seed: r.seed,
    T: 2,
    a_ka: r.aKa,
    a_zs: r.aZs,
    gm: r.gm,
    forgetting: r.method === 'finetune' ? (r.setting === 'calm' ? 0.01 : 0.3) : null,
    bwt: null,
    fwt: null,
    train_steps: null,
    merge_seconds: null,
    bytes_stored: null,
    wall_seconds: null,
    params: { param_setting: r.setting },
  }));
  const steps: StepRow[] = report.map((r) => ({
    run_id: r.run_id,
    step: 0,
    a_ka: 0.3,
    a_zs: 0.9,
    gm: null,
    merge_seconds: null,
  }));
  const data = (runs: ReportRow[]): ResultsData => ({
    dir: '.',
    runs,
    steps,
    matrix: [],
    bench: [],
    config: null,
    findings: null,
    sources: [],
  });

  it('one dot per setting and effect at the finetune runs’ own forgetting and A_ZS drop', () => {
    const dots = regimeDots(makeContext(data(report), { technique: 'weighted-average' }));
    expect(dots.map((d) => [d.setting, d.finding, d.forgetting, d.effect])).toEqual([
      ['calm', 'finetune - offline_merge', 1, expect.closeTo(11, 9)],
      ['calm', 'ema_paint - better of the two', 1, expect.closeTo(-3, 9)],
      ['forgetful', 'finetune - offline_merge', 30, expect.closeTo(3, 9)],
      ['forgetful', 'ema_paint - better of the two', 30, expect.closeTo(6, 9)],
    ]);
    // A_ZS drop: θ0's 0.9 at step 0 minus finetune's final A_ZS (0.8, 0.82 in calm).
    expect(dots[0].zsDrop).toBeCloseTo(9, 9);
    expect(regimeFigures(makeContext(data(report))).map((f) => f.kind)).toEqual(['figure']);
  });

  it('is not drawn with one setting (no map)', () => {
    expect(regimeFigures(makeContext(data(report.filter((r) => r.params.param_setting === 'calm'))))).toEqual([]);
  });
});
