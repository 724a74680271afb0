import type { Command } from 'commander';

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
      const out = await generateReport(resultsDir, {
        outDir: opts.out,
        technique: opts.technique,
        benchCsv: opts.bench,
      });
      console.log(`report: ${out.html}`);
      console.log(`figures: ${out.figures.filter((f) => f.endsWith('.svg')).length} drawn (SVG + PNG)`);
      for (const s of out.skipped) console.log(`skipped ${s.name}: ${s.reason}`);
    });
}
