import { rm } from 'node:fs/promises';
import type { Command } from 'commander';
import { partialFolder, replaceFolder } from '../../study/replace-folder.js';
import { withResultsLock } from '../results-lock.js';
import { simCommand } from './sim.js';

/**
 * `npm start`: the default study afresh, with its report, then the summary and findings. It is written
 * to a sibling folder and renamed over results/default/ only when complete, so an interrupted start
 * leaves the previous results whole. Results are bit-identical to any earlier run of the same code
 * (only timings differ). `time-merge sim default` is the resumable form.
 */
export function registerStart(program: Command): void {
  program
    .command('start')
    .description(
      'Run the default study afresh (the named methods x the official techniques, replay, T = 20, 5 seeds) and its report, replacing results/default/ when complete.',
    )
    .option('--workers <n>', 'worker threads (default: the number of cores)')
    .option('--quick', 'a smaller version (seconds instead of minutes)')
    .option('--out <dir>', 'results folder', 'results/default')
    .action(async (opts: { workers?: string; quick?: boolean; out: string }) => {
      const out = opts.out.replace(/\/+$/, '') || '.';
      const partial = partialFolder(out);
      await withResultsLock(
        out,
        async () => {
          try {
            await simCommand('default', { workers: opts.workers, quick: opts.quick, out: partial }, async (written) => {
              await replaceFolder(written, out);
              return out;
            });
          } finally {
            await rm(partial, { recursive: true, force: true });
          }
        },
        { onStale: (m) => console.error(`time-merge: ${m}`) },
      );
    });
}
