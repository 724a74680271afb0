import { describe, expect, it } from 'vitest';
import { fc, test as fcTest } from '@fast-check/vitest';
import { stringify } from 'csv-stringify/sync';
import { parseCsv } from '../src/study/csv-read.js';
import { evaluateFindings, findingsMarkdown } from '../src/study/findings.js';
import { groupRows, median, type RunRow } from '../src/study/rows.js';
import { summaryTable } from '../src/study/summary.js';

function row(method: string, technique: string, seed: number, aKa: number, aZs: number, setting = 'default', params: Record<string, number | string> = {}): RunRow {
  return { runId: `${setting}/${method}/${technique}/s${seed}`, setting, method, technique, seed, aKa, aZs, gm: Math.sqrt(aKa * aZs), params: { setting, ...params } };
}

describe('findings on hand-made results', () => {
  it('offline-vs-continual: reproduced when offline merging has the lower A_KA, with the numbers', () => {
    const rows = [row('offline_merge', 'weighted-average', 0, 0.4, 0.9), row('finetune', '-', 0, 0.7, 0.4)];
    const [f] = evaluateFindings(['offline-vs-continual'], rows);
    expect(f.reproduced).toBe(true);
    expect(f.summary).toBe('offline_merge A_KA 40.0, A_ZS 90.0, GM 60.0 vs finetune A_KA 70.0, A_ZS 40.0, GM 52.9');
    const [g] = evaluateFindings(['offline-vs-continual'], [row('offline_merge', 'weighted-average', 0, 0.8, 0.9), row('finetune', '-', 0, 0.7, 0.4)]);
    expect(g.reproduced).toBe(false);
    const [h] = evaluateFindings(['offline-vs-continual'], [row('finetune', '-', 0, 0.7, 0.4)]);
    expect(h.reproduced).toBeNull();
  });

  it('init-deploy-over-technique: compares the spread of method means with the spread of technique means', () => {
    // methods a, b; techniques x, y. GM = aKa when aZs = aKa.
    const g = (m: string, t: string, v: number) => row(m, t, 0, v, v);
    const rows = [g('a', 'x', 0.9), g('a', 'y', 0.8), g('b', 'x', 0.5), g('b', 'y', 0.4)];
    const [f] = evaluateFindings(['init-deploy-over-technique'], rows);
    // method means 0.85 / 0.45 (spread 40 points); technique means 0.7 / 0.6 (spread 10)
    expect(f.reproduced).toBe(true);
    expect(f.summary).toContain('across 2 init x deploy methods (mean over techniques): 40.0 points');
    expect(f.summary).toContain('across 2 techniques (mean over methods): 10.0 points');
    const [r] = evaluateFindings(['init-deploy-over-technique'], [g('a', 'x', 0.9), g('a', 'y', 0.3), g('b', 'x', 0.8), g('b', 'y', 0.2)]);
    expect(r.reproduced).toBe(false);
  });

  it('best-in-time ranks ema_paint among the named methods (multitask excluded)', () => {
    const rows = [
      row('ema_paint', 'weighted-average', 0, 0.7, 0.7),
      row('finetune', '-', 0, 0.8, 0.4),
      row('offline_merge', 'weighted-average', 0, 0.4, 0.9),
      row('ema+merge-all', 'weighted-average', 0, 0.75, 0.75),
      row('multitask', '-', 0, 0.95, 0.95),
    ];
    const [f] = evaluateFindings(['best-in-time'], rows);
    expect(f.reproduced).toBe(true);
    expect(f.summary).toContain('rank 1 of 3 named methods and 2 of 4 (method, technique) pairs');
  });

  it('time-aware-offline and scaling read replay columns and settings', () => {
    const noRep = { replay_buffer: 0, replay_pretrain: 0 };
    const rep = { replay_buffer: 0.33, replay_pretrain: 0.33 };
    const rows = [
      row('offline_merge', 'weighted-average', 0, 0.4, 0.9, 'no-replay', noRep),
      row('offline_merge', 'weighted-average', 0, 0.6, 0.9, 'replay', rep),
    ];
    const [f] = evaluateFindings(['time-aware-offline'], rows);
    expect(f.reproduced).toBe(true);
    expect(f.summary).toContain('best time-aware variant by GM: offline_merge in setting replay');
    const sc = [
      row('ema_paint', 'weighted-average', 0, 0.7, 0.7, 'small'),
      row('finetune', '-', 0, 0.8, 0.4, 'small'),
      row('ema_paint', 'weighted-average', 0, 0.5, 0.5, 'big'),
      row('finetune', '-', 0, 0.8, 0.4, 'big'),
    ];
    const [s] = evaluateFindings(['scaling'], sc);
    expect(s.reproduced).toBe(false);
    expect(s.summary).toMatch(/in 1 of 2 settings/);
  });

  it('findings.md carries a verdict per finding, and the summary table lists means over seeds', () => {
    const rows = [row('offline_merge', 'weighted-average', 0, 0.4, 0.9), row('offline_merge', 'weighted-average', 1, 0.6, 0.9), row('finetune', '-', 0, 0.7, 0.4)];
    const md = findingsMarkdown('s', 'desc', evaluateFindings(['offline-vs-continual', 'scaling'], rows), 3, [0, 1]);
    expect(md).toContain('## Offline merging falls behind continual training (knowledge accumulation): reproduced');
    expect(md).toContain(': not tested');
    const g = groupRows(rows).find((x) => x.method === 'offline_merge')!;
    expect(g.n).toBe(2);
    expect(g.aKa).toBeCloseTo(0.5, 12);
    expect(summaryTable(rows)).toMatch(/offline_merge\s+weighted-average\s+2\s+50\.0\s+90\.0/);
  });
});

describe('CSV reading', () => {
  fcTest.prop([fc.array(fc.array(fc.string({ unit: fc.constantFrom('a', 'b', ',', '"', '\n', ' ', '1', '.') }), { minLength: 2, maxLength: 4 }), { minLength: 1, maxLength: 8 })])(
    'reads back what csv-stringify writes',
    (rows) => {
      const width = rows[0].length;
      const rect = rows.map((r) => Array.from({ length: width }, (_, i) => r[i] ?? ''));
      expect(parseCsv(stringify(rect))).toEqual(rect);
    },
  );
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
