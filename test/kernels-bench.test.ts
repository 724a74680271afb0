import { describe, expect, it } from 'vitest';
import { TimeMergeError } from '../src/params/errors.js';
import {
  compareToBaseline,
  formatResult,
  lowestRatios,
  parseBaseline,
  rowKey,
  type RatioRow,
} from '../benchmarks/lib/regression.js';
import { shapeParams, sizedShape, vitB16Shape } from '../benchmarks/lib/models.js';

const row = (technique: string, ratio: number, kernels?: string): RatioRow => ({
  suite: 'technique',
  technique,
  protocol: '-',
  experts: 2,
  params: 100,
  ...(kernels ? { kernels } : {}),
  ratio_to_copy: ratio,
});

describe('benchmark regression check', () => {
  it('fails a row below half of its baseline ratio, passes at or above, and fails a missing row', () => {
    const baseline = [row('a', 0.4), row('b', 0.4), row('c', 0.4)];
    const run = [row('a', 0.2), row('b', 0.199), row('d', 1)];
    const r = compareToBaseline(run, baseline);
    expect(r.map((x) => x.ok)).toEqual([true, false, false]);
    expect(r[2].measured).toBeUndefined();
    expect(r[0].key).toBe(rowKey(baseline[0]));
  });

  it('compares only rows of the same kernel backend and says which rows it skipped', () => {
    const baseline = [
      row('a', 0.8, 'native'),
      row('b', 0.8, 'native'),
      row('native:k', 0.9, 'native'),
      row('c', 0.4, 'wasm'),
    ];
    const run = [row('a', 0.1, 'wasm'), row('b', 0.1, 'native'), row('c', 0.3, 'wasm')];
    const r = compareToBaseline(run, baseline, 0.5, ['wasm', 'ts']);
    expect(r.map((x) => x.ok)).toEqual([true, false, true, true]);
    expect(r[0].skipped).toMatch(/baseline ran on native kernels, this run on wasm/);
    expect(r[2].skipped).toMatch(/native kernels are not available/);
    expect(r[3].skipped).toBeUndefined();
    expect(formatResult(r[0])).toMatch(/^skip /);
    // a missing row of an available backend still fails
    expect(compareToBaseline([], [row('a', 0.8, 'native')], 0.5, ['native', 'ts'])[0].ok).toBe(false);
  });

  it('parses a baseline CSV and names what is wrong with a bad one', () => {
    const csv = 'suite,technique,protocol,experts,params,ratio_to_copy\ntechnique,ties,-,2,4000000,0.25\n';
    expect(parseBaseline(csv, 'b.csv')).toEqual([
      { suite: 'technique', technique: 'ties', protocol: '-', experts: 2, params: 4000000, ratio_to_copy: 0.25 },
    ]);
    expect(() => parseBaseline('suite,technique\nx,y\n', 'b.csv')).toThrowError(/b.csv: missing column "protocol"/);
    expect(() => parseBaseline(csv.replace('0.25', 'fast'), 'b.csv')).toThrowError(TimeMergeError);
    const withKernels =
      'suite,technique,protocol,experts,params,kernels,ratio_to_copy\ntechnique,ties,into,2,4000000,native,0.5\n';
    expect(parseBaseline(withKernels, 'b.csv')[0]).toEqual({
      suite: 'technique',
      technique: 'ties',
      protocol: 'into',
      experts: 2,
      params: 4000000,
      kernels: 'native',
      ratio_to_copy: 0.5,
    });
  });

  it('the committed baseline parses and covers every technique row of the quick grid', async () => {
    const { readFileSync } = await import('node:fs');
    const rows = parseBaseline(readFileSync('results/bench/baseline.csv', 'utf8'), 'results/bench/baseline.csv');
    expect(rows.filter((r) => r.suite === 'technique').length).toBeGreaterThanOrEqual(11);
    for (const r of rows) expect(r.ratio_to_copy).toBeGreaterThan(0);
  });
});

describe('baselines from several runs', () => {
  it("keep each row's lowest ratio, rows of different backends apart", () => {
    const row = (technique: string, kernels: string, ratio: number): RatioRow => ({
      suite: 'kernel',
      technique,
      protocol: '-',
      experts: 2,
      params: 4,
      kernels,
      ratio_to_copy: ratio,
    });
    const got = lowestRatios([
      [row('a', 'native', 1.0), row('b', 'native', 0.4), row('a', 'wasm', 0.3)],
      [row('a', 'native', 0.6), row('b', 'native', 0.5), row('a', 'wasm', 0.2)],
      [row('a', 'native', 0.8), row('b', 'native', 0.45)],
    ]);
    expect(got.map((r) => [r.technique, r.kernels, r.ratio_to_copy])).toEqual([
      ['a', 'native', 0.6],
      ['b', 'native', 0.4],
      ['a', 'wasm', 0.2],
    ]);
  });
});

describe('benchmark model shapes', () => {
  it('sized shapes hold exactly the asked parameter count', () => {
    for (const p of [1, 100, 1e5, 1e6 + 7, 1e7]) expect(shapeParams(sizedShape(p))).toBe(p);
  });
  it('the ViT-B/16 image tower has 86,192,640 parameters', () => {
    // 12 blocks x 7,087,872 + conv 589,824 + positions 151,296 + proj 393,216 + 5 vectors of 768
    expect(shapeParams(vitB16Shape())).toBe(86192640);
  });
});
