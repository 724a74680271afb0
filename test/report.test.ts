import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { placeLabels } from '../src/report/figures/plane.js';
import { verdictTable } from '../src/report/html.js';
import { markdownToHtml } from '../src/report/markdown.js';
import { bulkDomain } from '../src/report/aggregate.js';
import { generateReport, type ReportOutput } from '../src/report/index.js';
import { markItems, normalizeSvgIds, parseXml, prefixSvgIds, type XmlElement } from '../src/report/svg.js';
import {
  ADAPTATION_TASKS,
  BASELINES,
  MAIN,
  makeFixture,
  PROTOCOLS,
  TECHNIQUES,
  writeFixture,
  writeShards,
  ZEROSHOT_TASKS,
} from './report-fixture.js';

const root = mkdtempSync(path.join(tmpdir(), 'report-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fixture = makeFixture();

const svgOf = (dir: string, name: string): XmlElement =>
  parseXml(readFileSync(path.join(dir, 'figures', `${name}.svg`), 'utf8'), name);

describe('report from a full results folder', () => {
  const dir = path.join(root, 'full');
  let out: ReportOutput;
  beforeAll(async () => {
    writeFixture(dir, fixture);
    out = await generateReport(dir);
  });

  it('draws every figure as SVG and PNG and skips none', () => {
    expect(out.skipped).toEqual([]);
    const names = [
      'plane',
      'gm-over-time',
      'matrix-best',
      'matrix-ema_paint',
      'spread',
      'scaling-d',
      'scaling-T',
      'bench-cost',
    ];
    for (const n of names) {
      expect(out.figures).toContain(path.join(dir, 'figures', `${n}.svg`));
      expect(out.figures).toContain(path.join(dir, 'figures', `${n}.png`));
    }
    expect(out.figures).toHaveLength(names.length * 2);
    // Nothing half-written is left behind.
    expect(readdirSync(path.join(dir, 'figures')).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
  });

  it('plane: one point per init x deploy x technique, one diamond and label per baseline', () => {
    const svg = svgOf(dir, 'plane');
    // 4 merging protocols x 3 techniques, plus finetune (no technique).
    expect(markItems(svg, 'methods')).toHaveLength(PROTOCOLS.length * TECHNIQUES.length + 1);
    expect(markItems(svg, 'baselines')).toHaveLength(BASELINES.length);
    const labels = markItems(svg, 'baseline_labels').map((t) => t.text);
    expect(labels.sort()).toEqual(BASELINES.map((b) => b.method).sort());
  });

  it('GM over time: one line per protocol (and baseline) with the focus technique', () => {
    const lines = markItems(svgOf(dir, 'gm-over-time'), 'curves');
    expect(lines).toHaveLength(PROTOCOLS.length + 1 + BASELINES.length);
    // Each line passes through steps 0..T: T + 1 vertices (one M, then T L commands).
    for (const l of lines) expect((l.attrs.d.match(/L/g) ?? []).length).toBe(MAIN.T);
  });

  it('accuracy matrix: T x tasks cells for the best run and for Best-in-TIME', () => {
    for (const name of ['matrix-best', 'matrix-ema_paint']) {
      expect(markItems(svgOf(dir, name), 'cells')).toHaveLength(MAIN.T * (ADAPTATION_TASKS + ZEROSHOT_TASKS));
    }
    const best = fixture.runs
      .filter((r) => r.d === MAIN.d && r.T === MAIN.T && !BASELINES.some((b) => b.method === r.method))
      .sort((a, b) => b.gm - a.gm)[0];
    expect(readFileSync(out.html, 'utf8')).toContain(`run ${best.run_id}`);
  });

  it('spread: one bar per protocol (across techniques) and per technique (across protocols)', () => {
    expect(markItems(svgOf(dir, 'spread'), 'spreads')).toHaveLength(PROTOCOLS.length + TECHNIQUES.length);
  });

  it('scaling: model size and horizon curves for the protocols that were swept', () => {
    expect(markItems(svgOf(dir, 'scaling-d'), 'curves')).toHaveLength(2);
    expect(markItems(svgOf(dir, 'scaling-d'), 'curve_points')).toHaveLength(2 * 3);
    expect(markItems(svgOf(dir, 'scaling-T'), 'curves')).toHaveLength(2);
  });

  it('bench: one cost line per technique/protocol per model size', () => {
    expect(markItems(svgOf(dir, 'bench-cost'), 'cost')).toHaveLength(3 * 2);
    expect(markItems(svgOf(dir, 'bench-cost'), 'cost_points')).toHaveLength(24);
  });

  it('PNGs decode at twice the SVG size', async () => {
    for (const f of out.figures.filter((x) => x.endsWith('.png'))) {
      const meta = await sharp(f).metadata();
      const svg = parseXml(readFileSync(f.replace(/\.png$/, '.svg'), 'utf8'));
      expect(meta.format).toBe('png');
      expect(meta.width).toBe(Math.round(2 * Number(svg.attrs.width)));
      expect(meta.height).toBe(Math.round(2 * Number(svg.attrs.height)));
      expect(meta.width!).toBeGreaterThan(200);
      expect(meta.width!).toBeLessThan(6000);
    }
  });

  it('report.html is self-contained: inline SVGs with unique ids, one inline script (the table sorter), nothing fetched', () => {
    const html = readFileSync(out.html, 'utf8');
    expect((html.match(/<svg /g) ?? []).length).toBe(8);
    expect((html.match(/<script/gi) ?? []).length).toBe(1);
    expect(html).not.toMatch(/<script[^>]*src=/i);
    expect(html).not.toMatch(/fetch\(|XMLHttpRequest|import\(/);
    expect(html).not.toMatch(/(src|href)="https?:/);
    expect(html).not.toMatch(/@import|url\(https?:/);
    const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
    for (const ref of html.matchAll(/url\(#([^)]+)\)/g)) expect(ids).toContain(ref[1]);
    expect(html).toContain('fixture-study');
    expect(html).toContain('<h3>Findings</h3>\n<p>ema_paint has the highest GM (made-up numbers).</p>');
  });

  it('leads with the plane and the verdicts, then the other figures; the long tables come last', () => {
    const html = readFileSync(out.html, 'utf8');
    const at = (s: string) => html.indexOf(s);
    const body = at('<body>');
    // The first thing after the header: the plane figure (beside the verdicts when findings.md has them).
    expect(at('<div class="lead">')).toBeGreaterThan(body);
    expect(at('<h2 id="fig-plane">')).toBeGreaterThan(at('<div class="lead">'));
    expect(at('<h2 id="fig-plane">')).toBeLessThan(at('<h2 id="fig-gm-over-time">'));
    // The long tables after every figure: findings in full, final metrics, every run.
    expect(at('<h2 id="fig-gm-over-time">')).toBeLessThan(at('<h2 id="findings">'));
    expect(at('<h2 id="findings">')).toBeLessThan(at('<h2 id="summary">'));
    expect(at('<h2 id="summary">')).toBeLessThan(at('<h2 id="runs">'));
    const table = html.slice(at('<table class="runs"'), html.indexOf('</table>', at('<table class="runs"')));
    expect((table.match(/<tr><td>/g) ?? []).length).toBe(fixture.runs.length);
  });
});

describe('plane axes fit the bulk of the points', () => {
  it('bulkDomain: a value beyond 3 IQR of the quartiles is left out; padding keeps one value visible', () => {
    // Sorted: 0.72, 0.93, 0.932, 0.935, 0.938, 0.94; quartiles 0.9305 and 0.93725, IQR below 0.01 so
    // 0.01: the bulk is [0.9005, 0.96725], and 0.72 lies outside; range 0.93..0.94 padded by 0.01.
    expect(bulkDomain([0.93, 0.935, 0.94, 0.932, 0.938, 0.72])).toEqual([0.92, 0.95]);
    // A baseline kept outside the bulk still widens the axis.
    expect(bulkDomain([0.93, 0.935, 0.94, 0.932, 0.938, 0.72], [0.5])).toEqual([0.456, 0.984]);
    // Fewer than 5 values: no outliers; one value: a 0.02-wide axis instead of an empty one.
    expect(bulkDomain([0.2, 0.9])).toEqual([0.13, 0.97]);
    expect(bulkDomain([0.4])).toEqual([0.39, 0.41]);
    expect(bulkDomain([1, 1, 1])).toEqual([0.99, 1]);
  });

  it('a study of one run draws every figure (one point made an empty axis that crashed the renderer)', async () => {
    const dir = path.join(root, 'one-run');
    writeFixture(dir, fixture, { bench: false });
    const [header, ...rows] = fixture.runsCsv.trim().split('\n');
    const one = rows.find((r) => r.includes(',ema_paint,'))!;
    writeFileSync(path.join(dir, 'runs.csv'), `${header}\n${one}\n`);
    const report = await generateReport(dir);
    expect(report.figures.map((f) => path.basename(f))).toContain('plane.png');
    expect(markItems(svgOf(dir, 'plane'), 'methods')).toHaveLength(1);
  });

  it('each figure of the main setting says which of the settings it shows, by what sets it apart', () => {
    for (const name of ['plane', 'gm-over-time'])
      expect(readFileSync(path.join(root, 'full', 'figures', `${name}.svg`), 'utf8')).toMatch(
        /setting d=\d+, T=\d+ \(1 of \d+ settings\)/,
      );
  });
});

describe('the verdict table', () => {
  it("shows findings.md's summary rows, each verdict as a badge, markup escaped", () => {
    const md = [
      '# Findings: x',
      '',
      '| finding | verdict | effect (95% CI) |',
      '|---|---|---|',
      '| Offline <merging> lags (GM) | **not reproduced** | a - b GM -2.0 [-2.3, -1.8] points |',
      '| Best-in-TIME wins | inconclusive | a - c GM +0.1 (one seed: no interval) points |',
      '',
      '## details',
      '| not | this |',
    ].join('\n');
    expect(verdictTable(md).split('\n').slice(1, 3)).toEqual([
      '<tr><td>Offline &lt;merging&gt; lags (GM)</td><td><span class="verdict v-not-reproduced">not reproduced</span><br>a - b GM -2.0 [-2.3, -1.8] points</td></tr>',
      '<tr><td>Best-in-TIME wins</td><td><span class="verdict v-inconclusive">inconclusive</span><br>a - c GM +0.1 (one seed: no interval) points</td></tr>',
    ]);
    expect(verdictTable('# Findings\n\nno table\n')).toBe('');
  });
});

describe('report edge cases', () => {
  it('skips figures whose data is absent, with the reason in the page, and removes stale figures', async () => {
    const dir = path.join(root, 'runs-only');
    writeFixture(dir, fixture, { bench: false });
    await generateReport(dir);
    expect(existsSync(path.join(dir, 'figures', 'matrix-best.svg'))).toBe(true);
    rmSync(path.join(dir, 'steps.csv'));
    rmSync(path.join(dir, 'matrix.csv'));
    const out = await generateReport(dir);
    expect(out.skipped.map((s) => s.name).sort()).toEqual(['bench-cost', 'gm-over-time', 'matrix']);
    const html = readFileSync(out.html, 'utf8');
    expect(html).toContain('Skipped: no matrix.csv in the results folder.');
    expect(html).toContain('Skipped: no bench merge.csv found');
    expect(existsSync(path.join(dir, 'figures', 'matrix-best.svg'))).toBe(false);
    expect(existsSync(path.join(dir, 'figures', 'plane.png'))).toBe(true);
  });

  it('a runs.csv with a header and no rows gives a page of skipped figures, not an error', async () => {
    const dir = path.join(root, 'no-rows');
    writeFixture(dir, fixture, { bench: false });
    for (const f of ['runs.csv', 'steps.csv', 'matrix.csv']) {
      const file = path.join(dir, f);
      writeFileSync(file, readFileSync(file, 'utf8').split('\n')[0] + '\n');
    }
    const out = await generateReport(dir);
    expect(out.figures).toEqual([]);
    expect(out.skipped.map((s) => s.name)).toEqual([
      'plane',
      'gm-over-time',
      'matrix',
      'spread',
      'scaling',
      'bench-cost',
    ]);
    expect(readFileSync(out.html, 'utf8')).toContain('0 runs');
  });

  it('a stream without zero-shot tasks (blank A_ZS and GM) skips the plane and keeps the heat maps', async () => {
    const dir = path.join(root, 'no-zeroshot');
    writeFixture(dir, fixture, { bench: false });
    const blank = (file: string, columns: string[]): void => {
      const [header, ...lines] = readFileSync(file, 'utf8').trimEnd().split('\n');
      const idx = columns.map((c) => header.split(',').indexOf(c));
      const rows = lines.map((l) =>
        l
          .split(',')
          .map((v, i) => (idx.includes(i) ? '' : v))
          .join(','),
      );
      writeFileSync(file, [header, ...rows].join('\n') + '\n');
    };
    blank(path.join(dir, 'runs.csv'), ['a_zs', 'gm']);
    blank(path.join(dir, 'steps.csv'), ['a_zs', 'gm']);
    const matrix = path.join(dir, 'matrix.csv');
    writeFileSync(
      matrix,
      readFileSync(matrix, 'utf8')
        .split('\n')
        .filter((l) => !l.includes(',zeroshot,'))
        .join('\n'),
    );
    const out = await generateReport(dir);
    expect(out.skipped.map((s) => s.name)).toEqual([
      'plane',
      'gm-over-time',
      'spread',
      'scaling-d',
      'scaling-T',
      'bench-cost',
    ]);
    // Best by A_KA when there is no GM: ema_paint [magmax] at the main setting has the highest A_KA.
    const svg = svgOf(dir, 'matrix-best');
    expect(markItems(svg, 'cells')).toHaveLength(MAIN.T * ADAPTATION_TASKS);
    const best = fixture.runs
      .filter((r) => r.d === MAIN.d && r.T === MAIN.T && !BASELINES.some((b) => b.method === r.method))
      .sort((a, b) => b.a_ka - a.a_ka)[0];
    expect(readFileSync(out.html, 'utf8')).toContain(`run ${best.run_id}, final GM blank`);
    expect(out.skipped[0].reason).toContain('no run has both A_KA and A_ZS');
  });

  it('a report pointed at a bench folder draws only the cost figure', async () => {
    const dir = path.join(root, 'bench');
    writeFixture(path.join(root, 'bench-src'), fixture);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'merge.csv'), fixture.benchCsv);
    const out = await generateReport(dir, { outDir: path.join(root, 'bench-out') });
    expect(out.figures.map((f) => path.basename(f))).toEqual(['bench-cost.svg', 'bench-cost.png']);
    expect(out.skipped.map((s) => s.name)).toContain('plane');
    expect(out.skipped.find((s) => s.name === 'spread')!.reason).toBe('no runs.csv in the results folder');
  });

  it('shards give the same figures as the unsharded folder', async () => {
    const whole = path.join(root, 'whole');
    const sharded = path.join(root, 'sharded');
    writeFixture(whole, fixture, { bench: false });
    writeShards(sharded, fixture, 3, { overlap: true });
    const a = await generateReport(whole, { outDir: path.join(root, 'whole-out') });
    const b = await generateReport(sharded, { outDir: path.join(root, 'sharded-out') });
    expect(b.figures.map((f) => path.basename(f))).toEqual(a.figures.map((f) => path.basename(f)));
    for (const f of a.figures.filter((x) => x.endsWith('.svg'))) {
      const same =
        readFileSync(path.join(root, 'sharded-out', 'figures', path.basename(f)), 'utf8') === readFileSync(f, 'utf8');
      expect(same, `${path.basename(f)} differs between sharded and unsharded results`).toBe(true);
    }
  });

  it('baseline names go above, then below, and stay inside the plot', () => {
    const placed = placeLabels(
      [
        { method: 'continual', a_ka: 0.82, a_zs: 0.832 },
        { method: 'multitask', a_ka: 0.83, a_zs: 0.835 },
        { method: 'zeroshot', a_ka: 0.0, a_zs: 0.5 },
      ],
      [0, 1],
      400,
    );
    const at = (m: string) => placed.find((p) => p.method === m)!;
    expect(at('multitask').label_y).toBeCloseTo(0.835 + 13 / 400, 12); // first (highest): above
    expect(at('continual').label_y).toBeCloseTo(0.832 - 14 / 400, 12); // above is taken: below
    expect(at('zeroshot').label_x).toBeCloseTo((0.62 * 11 * 8) / 2 / 400, 12); // pushed right to fit
  });

  it('renders the markdown of findings.md (headings, lists, tables, inline code) with everything escaped', () => {
    const md =
      '# Findings: x\n\nGM is **high** for `ema_paint`\nacross seeds.\n\n- one <b>\n- two\n\n| a | b |\n|---|---|\n| 1 | <script> |\n';
    expect(markdownToHtml(md)).toBe(
      [
        '<h3>Findings: x</h3>',
        '<p>GM is <strong>high</strong> for <code>ema_paint</code> across seeds.</p>',
        '<ul><li>one &lt;b&gt;</li><li>two</li></ul>',
        '<table><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>1</td><td>&lt;script&gt;</td></tr></tbody></table>',
      ].join('\n'),
    );
  });

  it('prefixSvgIds and normalizeSvgIds rewrite ids and their references together', () => {
    const svg =
      '<svg><g clip-path="url(#clip9)"/><g clip-path="url(#clip7)"><use href="#clip9"/></g><defs><clipPath id="clip7"/><clipPath id="clip9"/></defs></svg>';
    expect(prefixSvgIds(svg, 'f')).toBe(
      '<svg><g clip-path="url(#f-clip9)"/><g clip-path="url(#f-clip7)"><use href="#f-clip9"/></g><defs><clipPath id="f-clip7"/><clipPath id="f-clip9"/></defs></svg>',
    );
    expect(normalizeSvgIds(svg)).toBe(
      '<svg><g clip-path="url(#c2)"/><g clip-path="url(#c1)"><use href="#c2"/></g><defs><clipPath id="c1"/><clipPath id="c2"/></defs></svg>',
    );
  });

  it('parseXml rejects malformed SVG', () => {
    expect(() => parseXml('<svg><g></svg>', 'x')).toThrow(/does not match|never closed/);
    expect(() => parseXml('<svg><g>', 'x')).toThrow(/never closed/);
    expect(parseXml('<svg a="1 &amp; 2"><text>a &lt; b</text></svg>').children[0].text).toBe('a < b');
  });
});

describe('time-merge report (CLI)', () => {
  const exec = promisify(execFile);
  const cli = ['--import', 'tsx', path.resolve('src/cli/main.ts'), 'report'];

  it('writes the report and lists skipped figures', async () => {
    const dir = path.join(root, 'cli');
    writeFixture(dir, fixture, { bench: false });
    rmSync(path.join(dir, 'matrix.csv'));
    const { stdout } = await exec(process.execPath, [...cli, dir, '--out', path.join(root, 'cli-out')]);
    expect(stdout).toContain(`report: ${path.join(root, 'cli-out', 'report.html')}`);
    expect(stdout).toContain('skipped matrix: no matrix.csv');
    expect(existsSync(path.join(root, 'cli-out', 'figures', 'plane.svg'))).toBe(true);
  });

  it('exits with status 2 and names the folder when it does not exist', async () => {
    const missing = path.join(root, 'missing');
    const err = await exec(process.execPath, [...cli, missing]).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err).not.toBeNull();
    expect(err!.code).toBe(2);
    expect(err!.stderr).toContain(`results folder ${missing} does not exist`);
  });
});
