import type { Command } from 'commander';
import type { StudyProgress } from '../../study/progress.js';

/**
 * Progress of a report's figures for generateReport's onFigure: a bar with elapsed time and time left
 * on a terminal, plain lines (at most one per 10 s, and one at the end) off one. `stop` when done.
 */
export async function figureProgress(): Promise<{ onFigure(done: number, total: number): void; stop(): void }> {
  const { StudyProgress } = await import('../../study/progress.js');
  let progress: StudyProgress | undefined;
  return {
    onFigure(_done, total) {
      progress ??= new StudyProgress({ todo: total, slots: 1, lines: true, unit: 'figures', estimate: false });
      progress.done();
    },
    stop: () => progress?.stop(),
  };
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description(
      'Draw the figures (SVG + PNG) and a self-contained report.html from a results folder (shards combined)',
    )
    .argument('<results-dir>', 'results folder written by `sim` or `clip` (or results/bench)')
    .option('--out <dir>', 'where report.html and figures/ go (default: the results folder)')
    .option('--technique <name>', 'technique for the per-protocol figures (default: the one most runs use)')
    .option('--bench <file>', 'benchmark merge.csv to plot (default: found beside the results)')
    .action(async (resultsDir: string, opts: { out?: string; technique?: string; bench?: string }) => {
      const { generateReport } = await import('../../report/index.js');
      const progress = await figureProgress();
      const out = await generateReport(resultsDir, {
        outDir: opts.out,
        technique: opts.technique,
        benchCsv: opts.bench,
        onFigure: progress.onFigure,
      }).finally(() => progress.stop());
      console.log(`report: ${out.html}`);
      console.log(`figures: ${out.figures.filter((f) => f.endsWith('.svg')).length} drawn (SVG + PNG)`);
      for (const s of out.skipped) console.log(`skipped ${s.name}: ${s.reason}`);
    });
}
