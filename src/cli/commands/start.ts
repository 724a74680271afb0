import type { Command } from 'commander';
import { simCommand } from './sim.js';

/** `npm start`: the default study into results/default/, the report, then the summary and findings. */
export function registerStart(program: Command): void {
  program
    .command('start')
    .description('Run the default study (full init x deploy x technique grid, T = 20, 3 seeds) into results/default/ and write its report.')
    .option('--workers <n>', 'worker threads (default: the number of cores)')
    .option('--quick', 'a smaller version (seconds instead of minutes)')
    .option('--out <dir>', 'results folder', 'results/default')
    .action(async (opts: { workers?: string; quick?: boolean; out: string }) => {
      await simCommand('default', { workers: opts.workers, quick: opts.quick, out: opts.out });
    });
}
