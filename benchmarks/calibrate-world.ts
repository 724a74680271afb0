/**
 * npm run calibrate-world [-- --seeds 0,1] [--out DIR]
 *
 * Chooses the default synthetic world on behaviour alone: every candidate world's diagnostics (the
 * structural ones and what continual fine-tuning forgets with and without replay, src/synthetic/
 * diagnostics.ts) over the given seeds, the targets of src/study/calibration.ts, and the valid candidate
 * with the smallest ‖τ‖/‖θ0‖. No study runs and no finding is read. Writes DIR/candidates.csv (default
 * results/calibration) and prints the choice. Candidates run in two child processes (2 cores).
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { Command } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { writeAtomic } from '../src/report/write.js';
import { BEHAVIOUR_TARGETS, chooseWorld, summarise, type CandidateSummary } from '../src/study/calibration.js';
import type { DiagnosticsRow } from '../src/study/diagnostics-run.js';
import type { SyntheticConfig } from '../src/synthetic/config.js';
import { syntheticDiagnostics } from '../src/synthetic/diagnostics.js';
import { syntheticSetup } from '../src/synthetic/setup.js';

/** The worlds compared: the two earlier ones, then the conflict world over rotation, dataset count and lr. */
function candidates(): { name: string; stream: Partial<SyntheticConfig> }[] {
  const out: { name: string; stream: Partial<SyntheticConfig> }[] = [
    { name: 'orthogonal', stream: { world: 'orthogonal' } },
    { name: 'underparameterised', stream: { world: 'underparameterised' } },
  ];
  for (const datasets of [10, 20])
    for (const rotation of [0.75, 1, 1.25])
      for (const lr of [0.005, 0.008])
        out.push({
          name: `conflict rotation ${rotation} datasets ${datasets} lr ${lr}`,
          stream: { world: 'conflict', rotation, datasets, lr },
        });
  return out;
}

/** Child: diagnostics of the jobs it is sent, one message per (candidate, seed). */
if (process.argv[2] === '--child') {
  process.on('message', async (jobs: { i: number; seed: number }[]) => {
    const list = candidates();
    for (const { i, seed } of jobs) {
      const d = await syntheticDiagnostics(syntheticSetup({ ...list[i].stream, seed }), 10);
      process.send?.({ i, seed, d });
    }
    process.exit(0);
  });
} else {
  const o = new Command()
    .option('--seeds <list>', 'world seeds, comma-separated', '0,1')
    .option('--out <dir>', 'where candidates.csv goes', 'results/calibration')
    .parse()
    .opts<{ seeds: string; out: string }>();
  const seeds = o.seeds.split(',').map(Number);
  if (seeds.some((s) => !Number.isInteger(s))) {
    console.error(`--seeds must be integers separated by commas, got "${o.seeds}"`);
    process.exit(2);
  }
  const list = candidates();
  const jobs = list.flatMap((_, i) => seeds.map((seed) => ({ i, seed })));
  const rows = new Map<number, DiagnosticsRow[]>();
  const halves = [jobs.filter((_, j) => j % 2 === 0), jobs.filter((_, j) => j % 2 === 1)];
  await Promise.all(
    halves.map(
      (part) =>
        new Promise<void>((resolve, reject) => {
          const child = fork(process.argv[1], ['--child'], { execArgv: process.execArgv });
          child.on('message', (m: { i: number; seed: number; d: DiagnosticsRow }) => {
            const r = rows.get(m.i) ?? [];
            r.push({ ...m.d, setting: list[m.i].name, seed: m.seed });
            rows.set(m.i, r);
            console.error(`${list[m.i].name}, seed ${m.seed}: done`);
          });
          child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`child exited with ${code}`))));
          child.send(part);
        }),
    ),
  );
  // Seed order within a candidate does not depend on which child finished first.
  const summaries: CandidateSummary[] = list.map((c, i) =>
    summarise(
      c.name,
      (rows.get(i) ?? []).sort((a, b) => a.seed - b.seed),
    ),
  );
  const chosen = chooseWorld(summaries);
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : '');
  const table = [
    [
      'candidate',
      'stream',
      'seeds',
      'tau_ratio',
      'cross_cosine',
      'ties_keep',
      'half_tau_keep',
      'base_a_ka',
      'base_a_zs',
      'expert_zs_drop',
      'ft_forgetting',
      'ft_zs_drop',
      'replay_forgetting',
      'replay_zs_drop',
      'misses',
      'chosen',
    ],
    ...summaries.map((s, i) => [
      s.name,
      JSON.stringify(list[i].stream),
      String(s.seeds),
      f(s.tauRatio),
      f(s.crossCosine),
      f(s.tiesKeep),
      f(s.halfTauKeep),
      f(s.baseAKa),
      f(s.baseAZs),
      f(s.expertZsDrop),
      f(s.ftForgetting),
      f(s.ftZsDrop),
      f(s.replayForgetting),
      f(s.replayZsDrop),
      s.misses.join('; '),
      s === chosen ? 'yes' : '',
    ]),
  ];
  const file = join(o.out, 'candidates.csv');
  writeAtomic(file, stringify(table));
  console.log(`targets: ${JSON.stringify(BEHAVIOUR_TARGETS)}`);
  for (const s of summaries)
    console.log(
      `${s === chosen ? '*' : ' '} ${s.name}: τ ${f(s.tauRatio)}, forgetting ${f(s.ftForgetting)} / replay ${f(s.replayForgetting)}, ` +
        `A_ZS drop ${f(s.ftZsDrop)} / replay ${f(s.replayZsDrop)}, θ0 A_KA ${f(s.baseAKa)}${s.misses.length ? ` (misses: ${s.misses.join('; ')})` : ''}`,
    );
  console.log(chosen ? `chosen: ${chosen.name}` : 'no candidate meets every target');
  console.log(`wrote ${file}`);
}
