/**
 * A small, realistic results folder for the report tests, generated from a seed: init x deploy x technique
 * runs over three seeds, the three baselines, a model-size sweep (param_d) and a horizon sweep (T), with
 * steps.csv, matrix.csv, config.json, findings.md and a bench merge.csv. Shaped like a real study
 * (ema_paint best, offline_merge weak, techniques close together), but the numbers are made up here.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import seedrandom from 'seedrandom';

export const PROTOCOLS = [
  { method: 'offline_merge', init: 'base', deploy: 'merge-all', quality: 0.45 },
  { method: 'zs_paint', init: 'base', deploy: 'ema:0.5', quality: 0.52 },
  { method: 'ft_paint', init: 'paint', deploy: 'paint', quality: 0.58 },
  { method: 'ema_paint', init: 'ema:0.5', deploy: 'ema:0.5', quality: 0.66 },
] as const;
export const TECHNIQUES = ['weighted_average', 'ties', 'magmax'] as const;
export const BASELINES = [
  { method: 'zeroshot', ka: 0.3, zs: 0.7 },
  { method: 'continual', ka: 0.62, zs: 0.45 },
  { method: 'multitask', ka: 0.75, zs: 0.6 },
] as const;
export const SEEDS = [0, 1, 2] as const;
export const MAIN = { d: 16, T: 4 };
export const ADAPTATION_TASKS = 4;
export const ZEROSHOT_TASKS = 2;
/** Extra settings: ema_paint and finetune (technique weighted_average / -) at other d and T. */
export const SWEEP_D = [8, 32];
export const SWEEP_T = [8];

export interface FixtureRun {
  run_id: string;
  method: string;
  init: string;
  deploy: string;
  technique: string;
  seed: number;
  T: number;
  d: number;
  a_ka: number;
  a_zs: number;
  gm: number;
}

export interface Fixture {
  runs: FixtureRun[];
  runsCsv: string;
  stepsCsv: string;
  matrixCsv: string;
  benchCsv: string;
}

const RUN_HEADER =
  'run_id,study,method,init,deploy,technique,seed,T,a_ka,a_zs,gm,forgetting,bwt,fwt,train_steps,merge_seconds,bytes_read,bytes_stored,wall_seconds,param_d,param_steps';

export function makeFixture(seed = 'report-fixture'): Fixture {
  const rng = seedrandom(seed);
  const runs: FixtureRun[] = [];
  const add = (
    method: string,
    init: string,
    deploy: string,
    technique: string,
    ka: number,
    zs: number,
    s: number,
    T: number,
    d: number,
  ): void => {
    const a_ka = clamp(ka + (rng() - 0.5) * 0.04);
    const a_zs = clamp(zs + (rng() - 0.5) * 0.04);
    runs.push({
      run_id: `${method}-${technique}-d${d}-T${T}-s${s}`,
      method,
      init,
      deploy,
      technique,
      seed: s,
      T,
      d,
      a_ka,
      a_zs,
      gm: Math.sqrt(a_ka * a_zs),
    });
  };
  const sizeGain = (d: number): number => 0.05 * Math.log2(d / MAIN.d);
  for (const s of SEEDS) {
    for (const p of PROTOCOLS) {
      TECHNIQUES.forEach((t, ti) =>
        add(p.method, p.init, p.deploy, t, p.quality + 0.01 * ti, 0.66 - 0.02 * ti, s, MAIN.T, MAIN.d),
      );
    }
    add('finetune', 'last', 'last', '-', 0.6, 0.44, s, MAIN.T, MAIN.d);
    for (const b of BASELINES) add(b.method, '-', '-', '-', b.ka, b.zs, s, MAIN.T, MAIN.d);
    for (const d of SWEEP_D) {
      add('ema_paint', 'ema:0.5', 'ema:0.5', 'weighted_average', 0.66 + sizeGain(d), 0.66, s, MAIN.T, d);
      add('finetune', 'last', 'last', '-', 0.6 + sizeGain(d), 0.44, s, MAIN.T, d);
    }
    for (const T of SWEEP_T) {
      add('ema_paint', 'ema:0.5', 'ema:0.5', 'weighted_average', 0.63, 0.64, s, T, MAIN.d);
      add('finetune', 'last', 'last', '-', 0.55, 0.38, s, T, MAIN.d);
    }
  }

  const runLines = runs.map((r) =>
    [
      r.run_id,
      'fixture',
      r.method,
      r.init,
      r.deploy,
      r.technique,
      r.seed,
      r.T,
      r.a_ka,
      r.a_zs,
      r.gm,
      0.1,
      -0.1,
      0.02,
      400 * r.T,
      0.5,
      1000,
      2000,
      3.5,
      r.d,
      100,
    ].join(','),
  );
  const stepLines: string[] = [];
  const matrixLines: string[] = [];
  for (const r of runs) {
    for (let t = 0; t <= r.T; t++) {
      // Knowledge grows towards the final value; retention decays towards it from the base model's 0.7.
      const ka = 0.3 + ((r.a_ka - 0.3) * t) / r.T;
      const zs = 0.7 + ((r.a_zs - 0.7) * t) / r.T;
      stepLines.push(
        [r.run_id, t, ka, zs, Math.sqrt(ka * zs), t === 0 ? 0 : 400, 1.5, 0.01, 0.2, 1000, 2000].join(','),
      );
      for (let j = 0; j < ADAPTATION_TASKS + ZEROSHOT_TASKS; j++) {
        const adaptation = j < ADAPTATION_TASKS;
        const score = adaptation ? (j < t ? r.a_ka + 0.05 * (j - t + 1) : 0.25) : r.a_zs;
        matrixLines.push(
          [
            r.run_id,
            t,
            j,
            adaptation ? `task-${j}` : `zs-${j - ADAPTATION_TASKS}`,
            adaptation ? 'adaptation' : 'zeroshot',
            clamp(score),
          ].join(','),
        );
      }
    }
  }

  // The two-expert technique suite: one horizon only, so no curve.
  const benchLines: string[] = TECHNIQUES.map((t) =>
    ['technique', t, '-', 2, 1_000_000, '', 0.01, '', 8e6, 4e6, 2, 0.3, 200, 6].join(','),
  );
  for (const params of [1_000_000, 10_000_000]) {
    for (const experts of [2, 4, 8, 16]) {
      for (const technique of ['weighted_average', 'ties']) {
        const merge = (params / 1e8) * experts * (technique === 'ties' ? 3 : 1);
        benchLines.push(
          [
            'merge',
            technique,
            '-',
            experts,
            params,
            0.01,
            merge,
            0.01,
            params * 4 * (experts + 1),
            params * 4,
            2.5,
            0.4,
            300,
            6,
          ].join(','),
        );
      }
      benchLines.push(
        [
          'deploy',
          'weighted_average',
          'ema',
          experts,
          params,
          0.01,
          (params / 1e8) * 2,
          0.01,
          params * 8,
          params * 4,
          3,
          0.5,
          250,
          6,
        ].join(','),
      );
    }
  }

  return {
    runs,
    runsCsv: [RUN_HEADER, ...runLines].join('\n') + '\n',
    stepsCsv:
      [
        'run_id,step,a_ka,a_zs,gm,train_steps,train_seconds,merge_seconds,eval_seconds,bytes_read,bytes_stored',
        ...stepLines,
      ].join('\n') + '\n',
    matrixCsv: ['run_id,step,task_index,task_id,role,score', ...matrixLines].join('\n') + '\n',
    benchCsv:
      [
        'suite,technique,protocol,experts,params,load_seconds,merge_seconds,write_seconds,bytes_read,bytes_written,gbps,ratio_to_copy,peak_rss_mb,copy_gbps',
        ...benchLines,
      ].join('\n') + '\n',
  };
}

function clamp(x: number): number {
  return Math.min(1, Math.max(0, x));
}

/** Writes the fixture as one unsharded results folder (with bench/merge.csv inside it). */
export function writeFixture(dir: string, fixture: Fixture, options: { bench?: boolean } = {}): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'runs.csv'), fixture.runsCsv);
  writeFileSync(path.join(dir, 'steps.csv'), fixture.stepsCsv);
  writeFileSync(path.join(dir, 'matrix.csv'), fixture.matrixCsv);
  writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({ study: 'fixture-study', seeds: [...SEEDS], version: '0.1.0' }),
  );
  writeFileSync(path.join(dir, 'findings.md'), '# Findings\n\nema_paint has the highest GM (made-up numbers).\n');
  if (options.bench !== false) {
    mkdirSync(path.join(dir, 'bench'), { recursive: true });
    writeFileSync(path.join(dir, 'bench', 'merge.csv'), fixture.benchCsv);
  }
}

/**
 * Writes the same results as `n` shards the way `--shard i/n` runs do: every run goes to one shard (by
 * position), each shard's steps and matrix rows follow its runs; `overlap` also repeats the first run in
 * every shard, as a re-run shard would.
 */
export function writeShards(dir: string, fixture: Fixture, n: number, options: { overlap?: boolean } = {}): void {
  mkdirSync(dir, { recursive: true });
  const split = (csv: string): { header: string; lines: string[] } => {
    const [header, ...lines] = csv.trimEnd().split('\n');
    return { header, lines };
  };
  const runs = split(fixture.runsCsv);
  const steps = split(fixture.stepsCsv);
  const matrix = split(fixture.matrixCsv);
  const shardOf = new Map(fixture.runs.map((r, i) => [r.run_id, i % n]));
  const first = fixture.runs[0].run_id;
  for (let i = 0; i < n; i++) {
    const mine = (line: string): boolean => {
      const id = line.slice(0, line.indexOf(','));
      return shardOf.get(id) === i || (options.overlap === true && id === first);
    };
    const suffix = `.shard-${i + 1}-of-${n}`;
    writeFileSync(path.join(dir, `runs${suffix}.csv`), [runs.header, ...runs.lines.filter(mine)].join('\n') + '\n');
    writeFileSync(path.join(dir, `steps${suffix}.csv`), [steps.header, ...steps.lines.filter(mine)].join('\n') + '\n');
    writeFileSync(
      path.join(dir, `matrix${suffix}.csv`),
      [matrix.header, ...matrix.lines.filter(mine)].join('\n') + '\n',
    );
  }
  writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({ study: 'fixture-study', seeds: [...SEEDS], version: '0.1.0' }),
  );
}
