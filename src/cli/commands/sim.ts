import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import type { Command } from 'commander';
import { fail } from '../../params/errors.js';
import type { StudyOutcome } from '../../study/runner.js';
import { checkSeedCount, seedRange } from '../../study/seeds.js';
import { withResultsLock } from '../results-lock.js';

export interface SimOptions {
  out?: string;
  workers?: string;
  shard?: string;
  seeds?: string;
  quick?: boolean;
  list?: boolean;
  report?: boolean;
}

/** `0,1,2` or ranges `0-4`, comma-separated. */
export function parseSeeds(text: string): number[] {
  const where = `--seeds "${text.length > 80 ? `${text.slice(0, 80)}...` : text}"`;
  let count = 0;
  return text.split(',').flatMap((s) => {
    const t = s.trim();
    const seeds = /^\d+-\d+$/.test(t) ? seedRange(t, where) : [Number(t)];
    if (!/^\d+-\d+$|^-?\d+$/.test(t) || !Number.isSafeInteger(seeds[0]))
      fail('CONFIG', `${where}: expected integers like 0,1,2 or a range 0-4`);
    count += seeds.length;
    checkSeedCount(count, where);
    return seeds;
  });
}

/**
 * Runs a study from the command line options, writes the report, and prints the summary; returns the
 * outcome. `place`, when given, moves the finished folder (results and report) to where it belongs and
 * returns that path, which the output then names.
 */
export async function simCommand(
  name: string,
  opts: SimOptions,
  place?: (written: string) => Promise<string>,
): Promise<StudyOutcome> {
  const [{ findingsSummary, runStudy }, { parseShard }, { getStudy }] = await Promise.all([
    import('../../study/runner.js'),
    import('../../study/expand.js'),
    import('../../../sims/index.js'),
  ]);
  const study = getStudy(name);
  const workers = opts.workers === undefined ? availableParallelism() : Number(opts.workers);
  if (!Number.isInteger(workers) || workers < 1)
    fail('CONFIG', `--workers "${opts.workers}" must be a positive integer`);
  const shard = opts.shard ? parseShard(opts.shard) : undefined;
  const written = opts.out ?? `results/${study.name}`;
  const outcome = await runStudy(study, {
    out: written,
    workers,
    shard,
    quick: opts.quick,
    seeds: opts.seeds ? parseSeeds(opts.seeds) : undefined,
  });
  let report: { html: string; figures: readonly unknown[]; skipped: readonly unknown[] } | undefined;
  if (opts.report !== false && !shard) {
    const { generateReport } = await import('../../report/index.js');
    report = await generateReport(written);
  }
  const out = place ? await place(written) : written;
  console.log(
    `study ${study.name}${opts.quick ? ' (quick)' : ''}${shard ? ` shard ${shard.index}/${shard.count}` : ''}: ${outcome.runs.length} runs ` +
      `(${outcome.executed} run now, ${outcome.skippedAsDone} already in ${out}) in ${outcome.wallSeconds.toFixed(1)} s on ${workers} worker(s)`,
  );
  console.log(`\n${outcome.summary}\n`);
  if (outcome.findings.length > 0)
    console.log(`findings (${out}/findings.md):\n${findingsSummary(outcome.findings)}\n`);
  if (report) {
    const html = join(out, relative(written, report.html));
    console.log(
      `report: ${html} (${report.figures.length} figure files${report.skipped.length ? `, ${report.skipped.length} figures skipped` : ''})`,
    );
  }
  return outcome;
}

export function registerSim(program: Command): void {
  program
    .command('sim')
    .description(
      'Run a study on synthetic linear-model task streams into results/<study>/: a built-in study by name (default: "default", --list shows them) or a study file STUDY.yaml (docs/studies.md).',
    )
    .argument('[study]', 'built-in study name (see --list) or a study file (.yaml, .yml, .json)', 'default')
    .option('--list', 'list the studies and exit')
    .option('--out <dir>', 'results folder (default results/<study>)')
    .option('--workers <n>', 'worker threads (default: the number of cores)')
    .option('--shard <i/n>', 'run only shard i of n (deterministic split for job arrays); files get a shard suffix')
    .option('--seeds <list>', "seeds to run instead of the study's, e.g. 0,1,2 or 0-4")
    .option('--quick', 'a smaller version of the study (for tests and CI)')
    .option('--no-report', 'do not write the HTML report at the end')
    .action(async (name: string, opts: SimOptions) => {
      if (opts.list) {
        const { STUDIES } = await import('../../../sims/index.js');
        for (const s of STUDIES) console.log(`${s.name.padEnd(22)} sims/${s.name}.yaml  ${s.description}`);
        return;
      }
      const shard = opts.shard ? (await import('../../study/expand.js')).parseShard(opts.shard) : undefined;
      const suffix = shard && shard.count > 1 ? `shard-${shard.index}-of-${shard.count}` : undefined;
      await withResultsLock(opts.out ?? `results/${name}`, () => simCommand(name, opts), {
        shard: suffix,
        onStale: (m) => console.error(`time-merge: ${m}`),
      });
    });
}
