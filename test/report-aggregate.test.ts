import { fc, test as fcTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  bestInTimeRun,
  bestRun,
  runsTie,
  focusTechnique,
  mainSettingRuns,
  methodPoints,
  mode,
  protocolCurves,
  scalingAxes,
  scalingCurve,
  spreads,
} from '../src/report/aggregate.js';
import type { RunRow, StepRow } from '../src/report/results.js';

function run(p: Partial<RunRow> & { run_id: string }): RunRow {
  return {
    study: 's',
    method: 'ema_paint',
    init: 'ema',
    deploy: 'ema',
    technique: 'weighted_average',
    seed: 0,
    T: 4,
    a_ka: 0.5,
    a_zs: 0.5,
    gm: 0.5,
    forgetting: null,
    bwt: null,
    fwt: null,
    train_steps: null,
    merge_seconds: null,
    bytes_stored: null,
    wall_seconds: null,
    params: {},
    ...p,
  };
}

describe('mode and settings', () => {
  it('picks the most frequent value, ties to the smallest (numeric-aware)', () => {
    expect(mode(['b', 'a', 'b'])).toBe('b');
    expect(mode(['10', '9', '10', '9'])).toBe('9');
    expect(mode([])).toBeUndefined();
    expect(mode(['b', 'a', 'c', 'c'], (v) => v === 'b')).toBe('c');
    expect(mode(['b', 'a', 'c'], (v) => v === 'b')).toBe('b');
  });

  it('focus technique: the most used one; on a tie weighted averaging (any spelling), not the first name', () => {
    const grid = (names: string[]) =>
      names.flatMap((technique, i) => [run({ run_id: `${i}a`, technique }), run({ run_id: `${i}b`, technique })]);
    expect(focusTechnique(grid(['breadcrumbs', 'ties', 'weighted-average']))).toBe('weighted-average');
    expect(focusTechnique(grid(['breadcrumbs', 'linear']))).toBe('linear');
    expect(focusTechnique(grid(['breadcrumbs', 'ties']))).toBe('breadcrumbs');
    expect(
      focusTechnique([
        ...grid(['weighted-average']),
        run({ run_id: 'x', technique: 'ties' }),
        run({ run_id: 'y', technique: 'ties' }),
        run({ run_id: 'z', technique: 'ties' }),
      ]),
    ).toBe('ties');
  });

  it('main setting = the param/T combination with the most runs; scaling axes = numeric settings that vary', () => {
    const runs = [
      run({ run_id: 'a', params: { param_d: '16', param_x: 'foo' } }),
      run({ run_id: 'b', params: { param_d: '16', param_x: 'foo' }, method: 'finetune' }),
      run({ run_id: 'c', params: { param_d: '32', param_x: 'bar' } }),
      run({ run_id: 'd', params: { param_d: '16', param_x: 'foo' }, T: 8 }),
    ];
    expect(mainSettingRuns(runs).map((r) => r.run_id)).toEqual(['a', 'b']);
    expect(scalingAxes(runs)).toEqual(['param_d', 'T']);
    const withParamT = runs.map((r) => ({ ...r, params: { ...r.params, param_T: String(r.T) } }));
    expect(scalingAxes(withParamT)).toEqual(['param_d', 'T']);
  });

  it("a baseline's own batch mix (the multitask oracle's) neither moves it out of the main setting nor makes a scaling axis", () => {
    const rep = {
      param_d: '16',
      param_replay_pretrain: '0.33',
      param_replay_current: '0.34',
      param_replay_buffer: '0.33',
    };
    const runs = [
      run({ run_id: 'a', params: rep }),
      run({ run_id: 'b', params: rep, method: 'finetune' }),
      run({
        run_id: 'm',
        params: { ...rep, param_replay_current: '0.67', param_replay_buffer: '0' },
        method: 'multitask',
        init: '-',
        deploy: '-',
        technique: '-',
      }),
      run({
        run_id: 'z',
        params: { ...rep, param_d: '32' },
        method: 'zeroshot',
        init: '-',
        deploy: '-',
        technique: '-',
      }),
    ];
    expect(mainSettingRuns(runs).map((r) => r.run_id)).toEqual(['a', 'b', 'm']);
    expect(scalingAxes(runs)).toEqual(['param_d']);
  });
});

describe('methodPoints', () => {
  it('averages final metrics over seeds per init x deploy x technique and marks baselines', () => {
    const runs = [
      run({ run_id: '1', seed: 0, a_ka: 0.6, a_zs: 0.4, gm: 0.2 }),
      run({ run_id: '2', seed: 1, a_ka: 0.8, a_zs: 0.6, gm: 0.4 }),
      run({ run_id: '3', technique: 'ties', a_ka: 0.1, a_zs: 0.1, gm: 0.1 }),
      run({ run_id: '4', method: 'zeroshot', init: '-', deploy: '-', technique: '-', gm: 0.9 }),
    ];
    const pts = methodPoints(runs);
    expect(pts).toHaveLength(3);
    const wa = pts.find((p) => p.technique === 'weighted_average')!;
    expect(wa.a_ka).toBeCloseTo(0.7, 12);
    expect(wa.a_zs).toBeCloseTo(0.5, 12);
    expect(wa.gm).toBeCloseTo(0.3, 12);
    expect(wa.seeds).toBe(2);
    // Non-baselines first, by GM; the baseline last despite its high GM.
    expect(pts.map((p) => [p.technique, p.baseline])).toEqual([
      ['weighted_average', false],
      ['ties', false],
      ['-', true],
    ]);
  });

  fcTest.prop([
    fc.array(
      fc.tuple(
        fc.constantFrom('m1', 'm2', 'm3'),
        fc.constantFrom('wa', 'ties'),
        fc.double({ min: 0, max: 1, noNaN: true }),
      ),
      { minLength: 1, maxLength: 30 },
    ),
  ])('points are group means: the run-weighted mean of point GMs equals the mean GM of all runs', (rows) => {
    const runs = rows.map(([method, technique, gm], i) => run({ run_id: String(i), method, technique, gm, seed: i }));
    const pts = methodPoints(runs);
    const counts = pts.map((p) => runs.filter((r) => r.method === p.method && r.technique === p.technique).length);
    expect(counts.reduce((s, c) => s + c, 0)).toBe(runs.length);
    const weighted = pts.reduce((s, p, i) => s + p.gm * counts[i], 0) / runs.length;
    expect(weighted).toBeCloseTo(runs.reduce((s, r) => s + r.gm!, 0) / runs.length, 9);
    for (const p of pts) {
      expect(p.gm).toBeGreaterThanOrEqual(0);
      expect(p.gm).toBeLessThanOrEqual(1 + 1e-12);
    }
  });

  it('leaves out runs whose A_ZS / GM are blank (streams without zero-shot tasks)', () => {
    const pts = methodPoints([
      run({ run_id: 'a', a_zs: null, gm: null }),
      run({ run_id: 'b', technique: 'ties', gm: 0.4 }),
    ]);
    expect(pts.map((p) => p.technique)).toEqual(['ties']);
    expect(bestRun([run({ run_id: 'a', gm: null, a_ka: 0.9 }), run({ run_id: 'b', gm: 0.1, a_ka: 0.2 })])!.run_id).toBe(
      'b',
    );
    // No GM anywhere: the best run is the one with the highest A_KA.
    expect(
      bestRun([run({ run_id: 'a', gm: null, a_ka: 0.9 }), run({ run_id: 'b', gm: null, a_ka: 0.2 })])!.run_id,
    ).toBe('a');
  });

  it('says when every run ties, so no run is called the best', () => {
    expect(runsTie([run({ run_id: 'a', gm: 0.5 }), run({ run_id: 'b', gm: 0.5 })])).toBe('gm');
    expect(runsTie([run({ run_id: 'a', gm: 0.5 }), run({ run_id: 'b', gm: 0.6 })])).toBeUndefined();
    expect(runsTie([run({ run_id: 'a', gm: null, a_ka: 0.7 }), run({ run_id: 'b', gm: null, a_ka: 0.7 })])).toBe(
      'a_ka',
    );
    expect(runsTie([run({ run_id: 'a', gm: 0.5 })])).toBeUndefined();
  });
});

describe('spreads', () => {
  it('ranges GM across techniques per protocol and across protocols per technique', () => {
    const runs = [
      run({ run_id: '1', method: 'ema_paint', technique: 'wa', gm: 0.7 }),
      run({ run_id: '2', method: 'ema_paint', technique: 'ties', gm: 0.65 }),
      run({ run_id: '3', method: 'offline_merge', technique: 'wa', gm: 0.4 }),
      run({ run_id: '4', method: 'offline_merge', technique: 'ties', gm: 0.42 }),
      run({ run_id: '5', method: 'zs_paint', technique: 'wa', gm: 0.5 }),
      run({ run_id: '6', method: 'finetune', technique: '-', gm: 0.9 }),
    ];
    const bars = spreads(methodPoints(runs));
    const get = (kind: string, fixed: string) => bars.find((b) => b.kind === kind && b.fixed === fixed);
    expect(get('across techniques', 'ema_paint')!.range).toBeCloseTo(0.05, 12);
    expect(get('across techniques', 'offline_merge')!.range).toBeCloseTo(0.02, 12);
    expect(get('across techniques', 'zs_paint')).toBeUndefined(); // one technique only
    expect(get('across protocols', 'wa')!.range).toBeCloseTo(0.3, 12);
    expect(get('across protocols', 'wa')!.count).toBe(3);
    expect(get('across protocols', 'ties')!.range).toBeCloseTo(0.23, 12);
    expect(bars.some((b) => b.fixed === 'finetune' || b.fixed === '-')).toBe(false);
  });
});

describe('curves, runs chosen for heat maps, scaling', () => {
  const runs = [
    run({ run_id: 'e0', method: 'ema_paint', seed: 0, gm: 0.6 }),
    run({ run_id: 'e1', method: 'ema_paint', seed: 1, gm: 0.62 }),
    run({ run_id: 'et', method: 'ema_paint', technique: 'ties', gm: 0.7 }),
    run({ run_id: 'f0', method: 'finetune', init: 'last', deploy: 'last', technique: '-', gm: 0.5 }),
    run({ run_id: 'z0', method: 'zeroshot', init: '-', deploy: '-', technique: '-', gm: 0.95 }),
  ];
  const steps: StepRow[] = [
    { run_id: 'e0', step: 1, a_ka: 0.5, a_zs: 0.7, gm: 0.4, merge_seconds: null },
    { run_id: 'e1', step: 1, a_ka: 0.7, a_zs: 0.5, gm: 0.6, merge_seconds: null },
    { run_id: 'et', step: 1, a_ka: 0.9, a_zs: 0.9, gm: 0.9, merge_seconds: null },
    { run_id: 'f0', step: 1, a_ka: 0.8, a_zs: 0.2, gm: 0.4, merge_seconds: null },
  ];

  it('averages steps over seeds for the focus technique and protocols without merging', () => {
    expect(focusTechnique(runs)).toBe('weighted_average');
    const curves = protocolCurves(runs, steps, 'weighted_average');
    expect(curves.map((c) => [c.method, c.step])).toEqual([
      ['ema_paint', 1],
      ['finetune', 1],
    ]);
    expect(curves[0].gm).toBeCloseTo(0.5, 12);
    expect(curves[0].a_ka).toBeCloseTo(0.6, 12);
  });

  it('best run ignores baselines; Best-in-TIME is ema_paint with the focus technique, lowest seed', () => {
    expect(bestRun(runs)!.run_id).toBe('et');
    expect(bestInTimeRun(runs, 'weighted_average')!.run_id).toBe('e0');
    expect(
      bestInTimeRun(
        runs.filter((r) => r.method !== 'ema_paint'),
        'weighted_average',
      ),
    ).toBeUndefined();
  });

  it('scaling holds the other varying settings at their most common value', () => {
    const sweep = [
      run({ run_id: 'a', params: { param_d: '8' }, gm: 0.5 }),
      run({ run_id: 'b', params: { param_d: '16' }, gm: 0.6 }),
      run({ run_id: 'b2', params: { param_d: '16' }, gm: 0.62, seed: 1 }),
      run({ run_id: 'c', params: { param_d: '16' }, T: 8, gm: 0.55 }),
      run({ run_id: 'd', params: { param_d: '32' }, T: 8, gm: 0.99 }), // not at the common T = 4: left out
    ];
    const curve = scalingCurve(sweep, 'param_d', 'weighted_average');
    expect(curve.map((p) => [p.value, p.runs])).toEqual([
      [8, 1],
      [16, 2],
    ]);
    expect(curve[1].gm).toBeCloseTo(0.61, 12);
    const horizon = scalingCurve(sweep, 'T', 'weighted_average');
    expect(horizon.map((p) => p.value)).toEqual([4, 8]);
    expect(horizon[1].gm).toBeCloseTo(0.55, 12);
  });
});
