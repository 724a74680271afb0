import type { Command } from 'commander';
import { VERSION } from '../../version.js';
import { slotPlan } from '../../study/slots.js';
import { withResultsLock } from '../results-lock.js';

interface RunOptions {
  out?: string;
  quiet?: boolean;
  workers?: string;
  gpus?: string;
  shard?: string;
  resume?: boolean;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .argument('<config>', 'run config, YAML or JSON (see below)')
    .description(
      'Run the TIME pipeline with an external trainer and evaluator (any program exchanging safetensors files; see docs/pipeline.md)',
    )
    .option('--out <dir>', 'results folder (overrides the config)')
    .option('--workers <n>', 'runs at once (each its own trainer and evaluator programs; default 1)')
    .option(
      '--gpus <list>',
      'run one run per GPU at once, e.g. 0,1; the programs of each see only its GPU (CUDA_VISIBLE_DEVICES)',
    )
    .option('--shard <i/n>', 'run only shard i of n of the runs (job arrays); files get a shard suffix')
    .option('--resume', 'keep finished runs and steps in the results folder (the default; overrides the config)')
    .option('--no-resume', 'run everything again (overrides the config)')
    .option('-q, --quiet', 'no progress lines')
    .addHelpText(
      'after',
      `
Config (relative paths resolve against the config's directory, where the programs also run):
  base: base.safetensors
  tasks: [{ id: task-1, data: data/task-1 }, { id: task-2, data: data/task-2 }]
  zeroshot: [{ id: heldout, data: data/heldout }]            # optional
  trainer: "python train.py --init {init} --task {task} --data {data} --out {out} --seed {seed} --steps {steps}"
  evaluator: "python eval.py --weights {weights} --tasks {tasks} --data {data}"
  method: ema_paint                # or methods: [...]; presets or <init>+<deploy>
  technique: weighted-average      # parameters: { ... } for its parameters
  baselines: [zeroshot, continual] # optional
  steps: 100
  seed: 0                          # or seeds: [0, 1]
  out: results/my-run              # runs.csv, steps.csv, matrix.csv, config.json
  store: experts                   # default <out>/experts
  resume: true                     # a rerun keeps finished runs and steps (default)`,
    )
    .action(async (file: string, opts: RunOptions) => {
      const [{ runExternalStudy }, { loadRunConfig }, { parseShard, shardSuffix }] = await Promise.all([
        import('../../time/external-run.js'),
        import('../../time/run-config.js'),
        import('../../study/expand.js'),
      ]);
      const slots = slotPlan(opts.workers, opts.gpus);
      const shard = opts.shard ? parseShard(opts.shard) : undefined;
      const loaded = await loadRunConfig(file, { out: opts.out });
      const config = opts.resume === undefined ? loaded : { ...loaded, resume: opts.resume };
      await withResultsLock(
        config.out,
        () =>
          runExternalStudy(config, {
            version: VERSION,
            log: opts.quiet ? undefined : (m) => console.log(m),
            shard,
            slots,
          }),
        { shard: shardSuffix(shard), onStale: (m) => console.error(`time-merge: ${m}`) },
      );
    });
}
