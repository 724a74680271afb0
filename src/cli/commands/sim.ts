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
  dryRun?: boolean;
}

/**
 * `--dry-run`: the expanded grid (one line per setting, method and technique, with its seeds), the
 * points left out and why, and the run count; nothing is run or written.
 */
export async function dryRun(name: string, opts: SimOptions): Promise<void> {
  const [{ effectiveStudy, expandStudy, parseShard, shardRuns }, { getStudy }] = await Promise.all([
    import('../../study/expand.js'),
    import('../../../sims/index.js'),
  ]);
  const study = effectiveStudy(getStudy(name), {
    quick: opts.quick,
    seeds: opts.seeds ? parseSeeds(opts.seeds) : undefined,
  });
  const expanded = expandStudy(study);
  const runs = opts.shard ? shardRuns(expanded.runs, parseShard(opts.shard)) : expanded.runs;
  const groups = new Map<string, { setting: string; method: string; technique: string; seeds: number[] }>();
  for (const r of runs) {
    const key = `${r.setting}\t${r.method}\t${r.technique}`;
    const g = groups.get(key) ?? { setting: r.setting, method: r.method, technique: r.technique, seeds: [] };
    g.seeds.push(r.seed);
    groups.set(key, g);
  }
  const rows = [
    ['setting', 'method', 'technique', 'seeds'],
    ...[...groups.values()].map((g) => [g.setting, g.method, g.technique, g.seeds.join(',')]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows)
    console.log(
      r
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    );
  for (const k of expanded.skipped) console.log(`skipped: ${k.setting} ${k.method} ${k.technique}: ${k.reason}`);
  console.log(
    `study ${study.name}${opts.quick ? ' (quick)' : ''}${opts.shard ? ` shard ${opts.shard}` : ''}: ${runs.length} runs ` +
      `(${groups.size} setting x method x technique points; T = ${[...new Set(runs.map((r) => r.stream.T))].join(', ')}); dry run, nothing was run`,
  );
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
    progress: true,
  });
  let report: { html: string; figures: readonly unknown[]; skipped: readonly unknown[] } | undefined;
  if (opts.report !== false && !shard) {
    const [{ generateReport }, { figureProgress }] = await Promise.all([
      import('../../report/index.js'),
      import('./report.js'),
    ]);
    const progress = await figureProgress();
    report = await generateReport(written, { onFigure: progress.onFigure }).finally(() => progress.stop());
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
    .option(
      '--dry-run',
      'print the expanded grid (settings, methods, techniques, seeds) and the run count; run nothing',
    )
    .action(async (name: string, opts: SimOptions) => {
      if (opts.dryRun) return dryRun(name, opts);
      if (opts.list) {
        const { STUDIES } = await import('../../../sims/index.js');
        for (const s of STUDIES) console.log(`${s.name.padEnd(22)} sims/${s.name}.yaml  ${s.description}`);
        return;
      }
      const shard = opts.shard ? (await import('../../study/expand.js')).parseShard(opts.shard) : undefined;
      const suffix = shard && shard.count > 1 ? `shard-${shard.index}-of-${shard.count}` : undefined;
      // The folder the study writes: a study file's is named by the study inside, not by the file's path.
      const { getStudy } = await import('../../../sims/index.js');
      await withResultsLock(opts.out ?? `results/${getStudy(name).name}`, () => simCommand(name, opts), {
        shard: suffix,
        onStale: (m) => console.error(`time-merge: ${m}`),
      });
    });
}
