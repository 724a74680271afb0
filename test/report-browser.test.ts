/**
 * Loads report.html in a real headless browser (Debian's chromium, installed by .ci/install-chromium.sh):
 * no console errors, no failed requests, every figure laid out, and a screenshot in test-artifacts/.
 * Without a chromium executable the test is skipped with a warning, so `npm test` passes on a fresh machine;
 * .ci/run sets TIME_MERGE_REQUIRE_BROWSER=1, which turns a missing browser into a failure.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer from 'puppeteer-core';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { generateReport } from '../src/report/index.js';
import { makeFixture, writeFixture } from './report-fixture.js';

const CANDIDATES = [
  process.env.CHROMIUM_PATH,
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/lib/chromium/chromium',
];
const executable = CANDIDATES.find((p): p is string => p !== undefined && p !== '' && existsSync(p));
const required = process.env.TIME_MERGE_REQUIRE_BROWSER === '1';
const skip = process.env.TIME_MERGE_SKIP_BROWSER === '1' || (executable === undefined && !required);
if (skip) {
  console.warn(
    'report-browser: SKIPPED (' +
      (executable === undefined
        ? 'no chromium found: install Debian chromium or set CHROMIUM_PATH'
        : 'TIME_MERGE_SKIP_BROWSER=1') +
      ')',
  );
}

const artifacts = path.resolve('test-artifacts', 'report');

describe.skipIf(skip)('report.html in headless chromium', () => {
  it('loads with no console errors and every figure drawn; screenshot saved', async () => {
    if (executable === undefined) {
      throw new Error(
        'no chromium executable found (looked at $CHROMIUM_PATH, /usr/bin/chromium, /usr/bin/chromium-browser): ' +
          'TIME_MERGE_REQUIRE_BROWSER=1 is set; run .ci/install-chromium.sh as root, or set CHROMIUM_PATH',
      );
    }
    rmSync(artifacts, { recursive: true, force: true });
    const results = path.join(artifacts, 'results');
    writeFixture(results, makeFixture());
    const out = await generateReport(results, { outDir: artifacts });
    const drawn = out.figures.filter((f) => f.endsWith('.svg')).length;

    const browser = await puppeteer.launch({
      executablePath: executable,
      headless: true,
      // Running as root in a container: chromium's sandbox needs user namespaces we may not have.
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (msg) => {
        if (msg.type() === 'error' || msg.type() === 'warn') problems.push(`console ${msg.type()}: ${msg.text()}`);
      });
      page.on('pageerror', (err) => problems.push(`page error: ${String(err)}`));
      page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()}`));
      const requested: string[] = [];
      page.on('request', (req) => requested.push(req.url()));
      await page.setViewport({ width: 1200, height: 900 });
      await page.goto(pathToFileURL(out.html).href, { waitUntil: 'load' });

      // Every inline figure has a real size on the page (laid out, not collapsed or broken).
      const sizes = await page.$$eval('figure svg', (svgs) =>
        svgs.map((s) => s.getBoundingClientRect()).map((r) => [r.width, r.height]),
      );
      expect(sizes).toHaveLength(drawn);
      for (const [w, h] of sizes) {
        expect(w).toBeGreaterThan(100);
        expect(h).toBeGreaterThan(50);
      }
      // The plane's method points are in the DOM as drawn.
      const points = await page.$$eval('#fig-plane ~ figure .methods_marks > path', (els) => els.length);
      expect(points).toBeGreaterThan(0);

      mkdirSync(artifacts, { recursive: true });
      const shot = path.join(artifacts, 'report-screenshot.png');
      await page.screenshot({ path: shot, fullPage: true });
      const meta = await sharp(shot).metadata();
      expect(meta.width).toBe(1200);
      expect(meta.height!).toBeGreaterThan(2000);

      // The listener is live: a deliberate error is caught, and it is the only one.
      await page.evaluate(() => console.error('probe'));
      expect(problems).toEqual(['console error: probe']);
      // Self-contained: the page itself is the only thing loaded.
      expect(requested.filter((u) => u !== pathToFileURL(out.html).href)).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
