import { describe, expect, it } from 'vitest';
import { fc, test as fcTest } from '@fast-check/vitest';
import { stringify } from 'csv-stringify/sync';
import { parseCsvRecords } from '../src/report/csv.js';
import { findCollapses } from '../src/study/decomposition.js';
import { evaluateFindings, findingsMarkdown } from '../src/study/findings.js';
import { groupRows, median, type RunRow } from '../src/study/rows.js';
import { summaryTable } from '../src/study/summary.js';
import { meanInterval, pairedDifference, slope, twoWayShares } from '../src/study/stats.js';

function row(
  method: string,
  technique: string,
  seed: number,
  aKa: number,
  aZs: number,
  setting = 'default',
  params: Record<string, number | string> = {},
): RunRow {
  return {
    runId: `${setting}/${method}/${technique}/s${seed}`,
    setting,
    method,
    technique,
    seed,
    aKa,
    aZs,
    gm: Math.sqrt(aKa * aZs),
    params: { setting, ...params },
  };
}

describe('findings on one seed', () => {
  it('best-in-time: no interval, so no pair is called level, ahead or behind', () => {
    const rows = [
      row('ema_paint', 'weighted-average', 0, 0.6, 0.6),
      row('finetune', '-', 0, 0.5, 0.5),
      row('offline_merge', 'weighted-average', 0, 0.7, 0.7),
      row('multitask', '-', 0, 0.8, 0.8),
    ];
    const [f] = evaluateFindings(['best-in-time'], rows);
    expect(f.verdict).toBe('inconclusive');
    expect(f.summary).toContain('one seed, so no interval: not judged ahead of or behind any of the 2 others');
    expect(f.detail).not.toMatch(/\| (level|ahead|behind|\*\*behind\*\*) \|/);
    expect(f.detail.match(/\| one seed: no interval \|/g)).toHaveLength(3);
    expect(f.effect).toBe(
      'ema_paint - offline_merge / weighted-average (the closest pair) GM -10.0 (one seed: no interval) points',
    );
  });
});

describe('findings on hand-made results', () => {
  // Five seeds; GM = sqrt(aKa · aZs), so aKa = aZs = v gives GM v.
  const seeds = [0, 1, 2, 3, 4];
  const noise = [0.01, -0.02, 0.0, 0.015, -0.005];
  const at = (
    method: string,
    technique: string,
    v: number,
    setting = 'default',
    params: Record<string, number | string> = {},
    jitter = true,
  ) =>
    seeds.map((s) =>
      row(method, technique, s, v + (jitter ? noise[s] : 0), v + (jitter ? noise[s] : 0), setting, params),
    );

  it('offline-vs-continual: judged on GM, paired over seeds, with an interval', () => {
    // finetune leads by exactly 0.1 at every seed: the interval is [10, 10] points.
    const rows = [...at('offline_merge', 'weighted-average', 0.5), ...at('finetune', '-', 0.6)];
    const [f] = evaluateFindings(['offline-vs-continual'], rows);
    expect(f.verdict).toBe('reproduced');
    expect(f.effect).toBe('finetune - offline_merge GM +10.0 [+10.0, +10.0] points (setting default)');
    // Higher A_KA but lower GM for finetune: the GM verdict goes against the paper.
    const rev = [
      ...seeds.map((s) => row('offline_merge', 'weighted-average', s, 0.4, 0.9 + noise[s])),
      ...seeds.map((s) => row('finetune', '-', s, 0.7, 0.4)),
    ];
    expect(evaluateFindings(['offline-vs-continual'], rev)[0].verdict).toBe('not reproduced');
    // Differences of both signs: inconclusive.
    const mixed = [
      ...at('offline_merge', 'weighted-average', 0.5, 'default', {}, false),
      ...seeds.map((s) => row('finetune', '-', s, 0.5 + noise[s], 0.5 + noise[s])),
    ];
    expect(evaluateFindings(['offline-vs-continual'], mixed)[0].verdict).toBe('inconclusive');
    expect(evaluateFindings(['offline-vs-continual'], at('finetune', '-', 0.6))[0].verdict).toBe('not tested');
  });

  it('init-deploy-over-technique: a two-way decomposition of GM over the complete table', () => {
    // Method effect ±0.2, technique effect ±0.05, no interaction: shares 16/17 and 1/17 at every seed.
    const rows = [...at('a', 'x', 0.75), ...at('a', 'y', 0.65), ...at('b', 'x', 0.35), ...at('b', 'y', 0.25)];
    const [f] = evaluateFindings(['init-deploy-over-technique'], rows);
    expect(f.verdict).toBe('reproduced');
    expect(f.summary).toContain('method 94%, technique 6%, interaction 0%');
    const flipped = [...at('a', 'x', 0.75), ...at('a', 'y', 0.35), ...at('b', 'x', 0.65), ...at('b', 'y', 0.25)];
    expect(evaluateFindings(['init-deploy-over-technique'], flipped)[0].verdict).toBe('not reproduced');
    // A technique that not every method ran is left out of the table (slerp cannot merge all).
    const partial = [...rows, ...at('a', 'slerp', 0.1)];
    expect(evaluateFindings(['init-deploy-over-technique'], partial)[0].summary).toContain(
      'over 2 methods x 2 techniques',
    );
  });

  it('init-deploy-over-technique: cells that copy θ0 or the latest expert are flagged, and the split is given without them', () => {
    // Technique z copies θ0 for method a (exactly) and finetune for method b (0.2 points off): its column
    // reverses the method effect. Per seed: with z, method 1.8% and technique 6.4% of the variance
    // (hand-computed from the table a: .75 .65 .30, b: .35 .25 .90); without z, 94% and 6% as above.
    const rows = [
      ...at('zeroshot', '-', 0.3),
      ...at('finetune', '-', 0.9),
      ...at('a', 'x', 0.75),
      ...at('a', 'y', 0.65),
      ...at('b', 'x', 0.35),
      ...at('b', 'y', 0.25),
      ...at('a', 'z', 0.3),
      ...at('b', 'z', 0.902),
    ];
    expect(findCollapses(rows, ['a', 'b'], ['x', 'y', 'z']).map((c) => [c.method, c.technique, c.to, c.exact])).toEqual(
      [
        ['a', 'z', 'θ0', true],
        ['b', 'z', 'finetune (the latest expert)', false],
      ],
    );
    const [f] = evaluateFindings(['init-deploy-over-technique'], rows);
    expect(f.verdict).toBe('not reproduced');
    expect(f.summary).toContain('per seed: method 2% [2%, 2%], technique 6% [6%, 6%]');
    expect(f.effect).toBe(
      'method share - technique share of GM variance -5% [-5%, -5%] (per seed); without collapsing techniques 88% [88%, 88%]',
    );
    expect(f.summary).toContain(
      '2 of 6 cells collapse to θ0 or the latest expert (within 0.5 points on every seed; 1 exactly) in z',
    );
    expect(f.summary).toContain('difference 88% [88%, 88%] (reproduced)');
    expect(f.summary).toMatch(/leaving out one technique at a time keeps the verdict in \d of 3/);
    expect(f.detail).toContain('| b | z | finetune (the latest expert) | no | 0.20 |');
    expect(f.detail).toContain('| z | 94% [94%, 94%] | 6% [6%, 6%] | 88% [88%, 88%] | reproduced |');
  });

  it('best-in-time: ema_paint against every other pair, and multitask apart', () => {
    const rows = [
      ...at('ema_paint', 'weighted-average', 0.7),
      ...at('finetune', '-', 0.6),
      ...at('offline_merge', 'weighted-average', 0.5),
      ...at('ema_paint', 'magmax', 0.65),
      ...at('multitask', '-', 0.9),
    ];
    const [f] = evaluateFindings(['best-in-time'], rows);
    expect(f.verdict).toBe('reproduced');
    expect(f.summary).toContain('rank 1 of 4 pairs');
    expect(f.summary).toContain('significantly ahead of 3, level with 0, behind 0 of 3');
    expect(f.summary).toContain('against multitask -20.0 [-20.0, -20.0]');
    const [g] = evaluateFindings(['best-in-time'], [...rows, ...at('ema+merge-all', 'weighted-average', 0.75)]);
    expect(g.verdict).toBe('not reproduced');
    expect(g.effect).toBe(
      'ema_paint - ema+merge-all / weighted-average (the closest pair) GM -5.0 [-5.0, -5.0] points',
    );
  });

  it('time-aware-offline: replay lifts offline merging, and the gap to replay fine-tuning is under a point', () => {
    const noRep = { replay_buffer: 0, replay_pretrain: 0 };
    const rep = { replay_buffer: 0.33, replay_pretrain: 0.33 };
    const base = [
      ...at('offline_merge', 'weighted-average', 0.546, 'no-replay', noRep),
      ...at('offline_merge', 'weighted-average', 0.582, 'replay', rep),
      ...at('base+merge-all:linear', 'weighted-average', 0.589, 'replay', rep),
    ];
    const [f] = evaluateFindings(['time-aware-offline'], [...base, ...at('finetune', '-', 0.591, 'replay', rep)]);
    expect(f.verdict).toBe('reproduced');
    expect(f.effect).toBe(
      'replay fine-tuning - best time-aware offline (base+merge-all:linear) GM +0.2 [+0.2, +0.2] points',
    );
    expect(f.summary).toContain('replay lifts offline_merge by GM +3.6 [+3.6, +3.6]');
    const [g] = evaluateFindings(['time-aware-offline'], [...base, ...at('finetune', '-', 0.7, 'replay', rep)]);
    expect(g.verdict).toBe('not reproduced');
  });

  it('time-aware-offline reads the replay shares of CLIP and external runs, recorded as one "p/c/b" param', () => {
    const noRep = { replay: '0/1/0' };
    const rep = { replay: '0.33/0.34/0.33' };
    const rows = [
      ...at('offline_merge', 'weighted-average', 0.546, 'no-replay', noRep),
      ...at('offline_merge', 'weighted-average', 0.582, 'replay', rep),
      ...at('base+merge-all:linear', 'weighted-average', 0.589, 'replay', rep),
      ...at('finetune', '-', 0.591, 'replay', rep),
    ];
    const [f] = evaluateFindings(['time-aware-offline'], rows);
    expect(f.verdict).toBe('reproduced');
    expect(f.summary).toContain('replay lifts offline_merge by GM +3.6 [+3.6, +3.6]');
    // Offline vs continual takes the replay setting first, as with the synthetic columns.
    const [o] = evaluateFindings(['offline-vs-continual'], [...rows, ...at('finetune', '-', 0.6, 'no-replay', noRep)]);
    expect(o.effect).toContain('(setting replay)');
  });

  it('scaling: the lead at the largest scale and its slope per doubling', () => {
    const rows = [
      ...at('ema_paint', 'weighted-average', 0.6, 'steps10'),
      ...at('finetune', '-', 0.55, 'steps10'),
      ...at('ema_paint', 'weighted-average', 0.7, 'steps40'),
      ...at('finetune', '-', 0.6, 'steps40'),
    ];
    const [s] = evaluateFindings(['scaling'], rows);
    expect(s.verdict).toBe('reproduced');
    // Lead 5 points at 10 steps, 10 at 40: 2.5 points per doubling.
    expect(s.effect).toBe(
      'lead at steps40 +10.0 [+10.0, +10.0] points; lead slope +2.5 [+2.5, +2.5] points per doubling',
    );
    const shrinking = [
      ...rows.filter((r) => r.setting === 'steps10'),
      ...at('ema_paint', 'weighted-average', 0.5, 'steps40'),
      ...at('finetune', '-', 0.6, 'steps40'),
    ];
    expect(evaluateFindings(['scaling'], shrinking)[0].verdict).toBe('not reproduced');
  });

  it('findings.md leads with a verdict table, then a section per finding; the summary table lists means over seeds', () => {
    const rows = [
      row('offline_merge', 'weighted-average', 0, 0.4, 0.9),
      row('offline_merge', 'weighted-average', 1, 0.6, 0.9),
      row('finetune', '-', 0, 0.7, 0.4),
    ];
    const md = findingsMarkdown('s', 'desc', evaluateFindings(['offline-vs-continual', 'scaling'], rows), 3, [0, 1]);
    expect(md).toContain('| finding | verdict | effect (95% CI) |');
    expect(md).toContain('## Offline merging falls behind continual fine-tuning (GM): inconclusive');
    expect(md).toContain('(one seed: no interval)');
    expect(md).toContain(': not tested');
    const g = groupRows(rows).find((x) => x.method === 'offline_merge')!;
    expect(g.n).toBe(2);
    expect(g.aKa).toBeCloseTo(0.5, 12);
    expect(summaryTable(rows)).toMatch(/offline_merge\s+weighted-average\s+2\s+50\.0\s+90\.0/);
  });
});

describe('paired statistics', () => {
  it('t intervals by hand, and the two-way shares', () => {
    // Differences 1, 2, 3: mean 2, sd 1, half-width t(2) / sqrt(3) = 4.303 / 1.732.
    const i = meanInterval([1, 2, 3]);
    expect(i.mean).toBe(2);
    expect(i.hi - i.mean).toBeCloseTo(4.303 / Math.sqrt(3), 10);
    expect(
      pairedDifference(
        new Map([
          [0, 3],
          [1, 5],
          [2, 9],
        ]),
        new Map([
          [0, 2],
          [1, 3],
          [2, 6],
          [3, 100],
        ]),
      ).mean,
    ).toBe(2);
    expect(slope([0, 1, 2], [1, 3, 5])).toBe(2);
    // y = r + c with r = ±1, c = ±0.5: shares 0.8 / 0.2 / 0.
    const sh = twoWayShares([
      [1.5, 0.5],
      [-0.5, -1.5],
    ]);
    expect(sh.rows).toBeCloseTo(0.8, 12);
    expect(sh.columns).toBeCloseTo(0.2, 12);
    expect(sh.interaction).toBeCloseTo(0, 12);
  });

  fcTest.prop([
    fc.array(fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 3, maxLength: 3 }), {
      minLength: 2,
      maxLength: 5,
    }),
  ])('two-way shares lie in [0, 1] and sum to 1', (y) => {
    const sh = twoWayShares(y);
    if (Number.isNaN(sh.rows)) return;
    for (const v of [sh.rows, sh.columns, sh.interaction]) expect(v).toBeGreaterThanOrEqual(-1e-12);
    expect(sh.rows + sh.columns + sh.interaction).toBeCloseTo(1, 9);
  });
});

describe('CSV reading', () => {
  fcTest.prop([
    fc.array(
      fc.array(fc.string({ unit: fc.constantFrom('a', 'b', ',', '"', '\n', ' ', '1', '.') }), {
        minLength: 2,
        maxLength: 4,
      }),
      { minLength: 1, maxLength: 8 },
    ),
  ])('reads back what csv-stringify writes', (rows) => {
    const width = rows[0].length;
    const rect = rows.map((r) => Array.from({ length: width }, (_, i) => r[i] ?? ''));
    expect(parseCsvRecords(stringify(rect))).toEqual(rect);
  });
});

describe('median', () => {
  it('is the middle value, or the mean of the two middle values, whatever the input order', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    const xs = [5, 9, 1];
    median(xs);
    expect(xs).toEqual([5, 9, 1]); // the input is not reordered
  });
});
