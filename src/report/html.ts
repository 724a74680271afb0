/**
 * The self-contained report page. It leads with the picture and the verdicts: the A_KA vs A_ZS plane
 * beside the findings' verdict table (stacked on narrow screens), then the other figures, then the long
 * tables: the findings in full, the final metrics, every run. Inline SVG figures and CSS, one inline
 * script (it sorts the per-run table by a clicked column), nothing fetched.
 */
import { methodPoints, pointLabel } from './aggregate.js';
import type { FigureResult, ReportContext } from './figures/types.js';
import { escapeHtml } from './escape.js';
import { markdownToHtml } from './markdown.js';
import { prefixSvgIds } from './svg.js';

export interface RenderedFigure {
  result: FigureResult;
  /** Inline SVG, for figures that were drawn. */
  svg?: string;
}

const CSS = `
body { font-family: 'DejaVu Sans', 'Liberation Sans', Arial, sans-serif; margin: 1.5rem auto; max-width: 1240px; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; margin: 0 0 .3rem; } h2 { font-size: 1.2rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
.meta { font-size: .85rem; color: #555; margin: .2rem 0; } nav { font-size: .85rem; margin: .4rem 0 1rem; line-height: 1.6; }
nav span { margin-right: .9rem; white-space: nowrap; }
.lead { display: grid; grid-template-columns: minmax(0, 690px) minmax(320px, 1fr); gap: 1.5rem; align-items: start; }
.lead h2 { margin-top: .4rem; } .lead figure { margin: 0; }
@media (max-width: 1150px) { .lead { grid-template-columns: minmax(0, 1fr); } }
.verdicts { font-size: .85rem; } .verdicts td, .verdicts th { text-align: left; vertical-align: top; } .verdicts td:first-child { width: 42%; }
.verdict { display: inline-block; padding: .05rem .4rem; border-radius: 3px; font-weight: bold; white-space: nowrap; }
.v-reproduced { background: #e3f4e1; color: #1d6b22; } .v-not-reproduced { background: #fbe4e4; color: #9b1c1c; }
.v-inconclusive { background: #fff3d6; color: #7a5200; } .v-not-tested { background: #eee; color: #666; }
figure { margin: 1rem 0; overflow-x: auto; } figcaption { font-size: .9rem; color: #444; max-width: 900px; }
.links { font-size: .85rem; } .skipped { color: #8a5a00; background: #fff7e6; padding: .4rem .7rem; border-left: 3px solid #e0a030; }
table { border-collapse: collapse; font-size: .85rem; } th, td { padding: .2rem .6rem; border-bottom: 1px solid #eee; text-align: right; }
th:first-child, td:first-child { text-align: left; } .baseline td { color: #666; font-style: italic; }
.runs th { cursor: pointer; user-select: none; } .runs th::after { content: ' \\2195'; color: #aaa; }
pre { background: #f6f6f6; padding: .8rem; overflow-x: auto; font-size: .8rem; } .findings table { margin: .5rem 0 1rem; }
`;

function studyName(ctx: ReportContext): string {
  const config = ctx.data.config as { study?: unknown; name?: unknown } | null;
  if (config && typeof config.study === 'string') return config.study;
  if (config && typeof config.name === 'string') return config.name;
  const studies = [...new Set(ctx.data.runs.map((r) => r.study).filter((s) => s !== ''))];
  return studies.length > 0 ? studies.join(', ') : ctx.data.dir;
}

function summaryTable(ctx: ReportContext): string {
  const points = methodPoints(ctx.mainRuns);
  if (points.length === 0) return '';
  const rows = points
    .map(
      (p) =>
        `<tr${p.baseline ? ' class="baseline"' : ''}><td>${escapeHtml(pointLabel(p))}</td><td>${escapeHtml(p.init)}</td>` +
        `<td>${escapeHtml(p.deploy)}</td><td>${p.a_ka.toFixed(3)}</td><td>${p.a_zs.toFixed(3)}</td><td>${p.gm.toFixed(3)}</td><td>${p.seeds}</td></tr>`,
    )
    .join('\n');
  return (
    `<h2 id="summary">Final metrics (mean over seeds, sorted by GM)</h2>\n<table><thead><tr><th>method [technique]</th><th>init</th>` +
    `<th>deploy</th><th>A_KA</th><th>A_ZS</th><th>GM</th><th>seeds</th></tr></thead><tbody>\n${rows}\n</tbody></table>`
  );
}

const fmt = (x: number | null, digits = 3) => (x === null || !Number.isFinite(x) ? '' : x.toFixed(digits));

/** Every run, one row each, sortable by any column (click a header; click again to reverse). */
function runsTable(ctx: ReportContext): string {
  const runs = ctx.data.runs;
  if (runs.length === 0) return '';
  const setting = (r: (typeof runs)[number]) => r.params.param_setting ?? '';
  const cols = ['run', 'setting', 'method', 'technique', 'seed', 'A_KA', 'A_ZS', 'GM', 'forgetting', 'train steps'];
  const rows = [...runs]
    .sort((a, b) => (b.gm ?? -1) - (a.gm ?? -1))
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.run_id)}</td><td>${escapeHtml(setting(r))}</td><td>${escapeHtml(r.method)}</td><td>${escapeHtml(r.technique)}</td><td>${r.seed}</td>` +
        `<td>${fmt(r.a_ka)}</td><td>${fmt(r.a_zs)}</td><td>${fmt(r.gm)}</td><td>${fmt(r.forgetting)}</td><td>${r.train_steps ?? ''}</td></tr>`,
    )
    .join('\n');
  return (
    `<h2 id="runs">Every run (${runs.length}; click a column to sort)</h2>\n<table class="runs" id="runs-table"><thead><tr>${cols.map((c) => `<th>${c}</th>`).join('')}</tr></thead>` +
    `<tbody>\n${rows}\n</tbody></table>\n<script>${SORT_SCRIPT}</script>`
  );
}

/** Sorts #runs-table by the clicked column: numbers numerically, text alphabetically. */
const SORT_SCRIPT =
  "(function(){var t=document.getElementById('runs-table');if(!t)return;var b=t.tBodies[0];" +
  "Array.prototype.forEach.call(t.tHead.rows[0].cells,function(h,i){var asc=false;h.addEventListener('click',function(){asc=!asc;" +
  'var rs=Array.prototype.slice.call(b.rows);rs.sort(function(x,y){var p=x.cells[i].textContent,q=y.cells[i].textContent;' +
  'var a=parseFloat(p),c=parseFloat(q);var r=(isNaN(a)||isNaN(c))?p.localeCompare(q):a-c;return asc?r:-r;});' +
  'rs.forEach(function(r){b.appendChild(r);});});});})();';

/**
 * The verdict table of findings.md (its first table: finding, verdict, effect), each verdict as a
 * coloured badge; '' when the file has none.
 */
export function verdictTable(findings: string): string {
  const lines = findings.split('\n');
  const head = lines.findIndex((l) => /^\|\s*finding\s*\|\s*verdict\s*\|/.test(l));
  if (head < 0) return '';
  const rows: string[] = [];
  for (const line of lines.slice(head + 2)) {
    if (!line.startsWith('|')) break;
    const [finding, verdict, effect] = line
      .replace(/^\||\|$/g, '')
      .split('|')
      .map((c) => c.trim());
    const plain = (verdict ?? '').replace(/\*\*/g, '');
    rows.push(
      `<tr><td>${markdownToHtml(finding ?? '').replace(/^<p>|<\/p>$/g, '')}</td>` +
        `<td><span class="verdict v-${plain.replace(/\s+/g, '-')}">${escapeHtml(plain)}</span><br>${escapeHtml(effect ?? '')}</td></tr>`,
    );
  }
  return `<table class="verdicts"><thead><tr><th>claim of the paper</th><th>verdict, effect (95% CI)</th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

function figureSection(f: RenderedFigure, figuresDir: string): string {
  const r = f.result;
  const heading = `<h2 id="fig-${escapeHtml(r.name)}">${escapeHtml(r.title)}</h2>`;
  if (r.kind === 'skipped' || f.svg === undefined) {
    const reason = r.kind === 'skipped' ? r.reason : 'not rendered';
    return `${heading}\n<p class="skipped">Skipped: ${escapeHtml(reason)}.</p>`;
  }
  const base = `${figuresDir}/${r.name}`;
  return (
    `${heading}\n<figure>\n${prefixSvgIds(f.svg, `fig-${r.name}`)}\n<figcaption>${escapeHtml(r.caption)} ` +
    `<span class="links">(<a href="${escapeHtml(base)}.svg">SVG</a>, <a href="${escapeHtml(base)}.png">PNG</a>)</span></figcaption>\n</figure>`
  );
}

export function buildHtml(
  ctx: ReportContext,
  figures: RenderedFigure[],
  figuresDir: string,
  generatedAt: string,
): string {
  const name = studyName(ctx);
  const drawn = figures.filter((f) => f.svg !== undefined).length;
  // The plane leads, beside the verdicts; every other figure follows.
  const lead = figures.find((f) => f.result.name === 'plane');
  const rest = figures.filter((f) => f !== lead);
  const verdicts = ctx.data.findings ? verdictTable(ctx.data.findings) : '';
  const toc = [
    ...(verdicts ? ['<a href="#verdicts">Verdicts</a>'] : []),
    ...figures.map(
      (f) =>
        `<a href="#fig-${escapeHtml(f.result.name)}">${escapeHtml(f.result.title)}</a>${f.svg === undefined ? ' (skipped)' : ''}`,
    ),
    ...(ctx.data.findings ? ['<a href="#findings">Findings in full</a>'] : []),
    '<a href="#summary">Final metrics</a>',
    ...(ctx.data.runs.length ? ['<a href="#runs">Every run</a>'] : []),
  ]
    .map((entry) => `<span>${entry}</span>`)
    .join('\n');
  const seeds = new Set(ctx.data.runs.map((r) => r.seed)).size;
  const findings = ctx.data.findings
    ? `<h2 id="findings">Findings in full</h2>\n<div class="findings">${markdownToHtml(ctx.data.findings)}</div>`
    : '';
  const leadHtml =
    lead || verdicts
      ? `<div class="lead">\n<div>${lead ? figureSection(lead, figuresDir) : ''}</div>\n` +
        `<div>${verdicts ? `<h2 id="verdicts">Verdicts on the paper's claims</h2>\n${verdicts}\n<p class="meta">Details, intervals and tables: <a href="#findings">findings in full</a>.</p>` : ''}</div>\n</div>`
      : '';
  const config =
    ctx.data.config !== null
      ? `<h2 id="config">Study configuration</h2>\n<details><summary>config.json</summary><pre>${escapeHtml(JSON.stringify(ctx.data.config, null, 2))}</pre></details>`
      : '';
  return (
    `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>time-merge report: ${escapeHtml(name)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>time-merge report: ${escapeHtml(name)}</h1>
<p class="meta">${ctx.data.runs.length} runs (${seeds} seed${seeds === 1 ? '' : 's'}), ${drawn} of ${figures.length} figures drawn` +
    `${ctx.technique ? `; per-protocol figures use technique <code>${escapeHtml(ctx.technique)}</code>` : ''}. ` +
    `Read from ${escapeHtml(ctx.data.sources.join(', '))}. Generated ${escapeHtml(generatedAt)}.</p>
<nav>${toc}</nav>
${leadHtml}
${rest.map((f) => figureSection(f, figuresDir)).join('\n')}
${findings}
${summaryTable(ctx)}
${runsTable(ctx)}
${config}
</body>
</html>
`
  );
}
