import { BASELINES } from '../time/baselines.js';
import { groupRows, pct, type RunRow } from './rows.js';

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/**
 * The table printed at the end of a study: per setting, the `top` best (method, technique) pairs by GM
 * (mean over seeds) and every baseline, with A_KA, A_ZS and GM in percent.
 */
export function summaryTable(rows: readonly RunRow[], top = 12): string {
  const groups = groupRows(rows);
  const settings = [...new Set(groups.map((g) => g.setting))];
  const parts: string[] = [];
  for (const s of settings) {
    const gs = groups.filter((g) => g.setting === s);
    const baselines = new Set<string>(BASELINES);
    const shown = [
      ...gs.filter((g) => !baselines.has(g.method)).slice(0, top),
      ...gs.filter((g) => baselines.has(g.method)),
    ];
    const body = shown.map((g) => [
      g.method,
      g.technique,
      String(g.n),
      pct(g.aKa),
      pct(g.aZs),
      pct(g.gm),
      `±${pct(g.gmStd)}`,
    ]);
    const hidden = gs.length - shown.length;
    parts.push(
      `setting ${s} (${gs.length} method x technique pairs${hidden > 0 ? `, best ${top} shown` : ''})\n` +
        table(['method', 'technique', 'seeds', 'A_KA%', 'A_ZS%', 'GM%', 'sd'], body),
    );
  }
  return parts.join('\n\n');
}
