import type { Command } from 'commander';
import { VERSION } from '../../version.js';
import { withResultsLock } from '../results-lock.js';

export function registerRun(program: Command): void {
  program
    .command('run')
    .argument('<config>', 'run config, YAML or JSON (see below)')
    .description(
      'Run the TIME pipeline with an external trainer and evaluator (any program exchanging safetensors files; see docs/pipeline.md)',
    )
    .option('--out <dir>', 'results folder (overrides the config)')
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
  resume: true                     # a rerun skips finished steps (default)`,
    )
    .action(async (file: string, opts: { out?: string; quiet?: boolean }) => {
      const [{ runExternalStudy }, { loadRunConfig }] = await Promise.all([
        import('../../time/external-run.js'),
        import('../../time/run-config.js'),
      ]);
      const config = await loadRunConfig(file, { out: opts.out });
      await withResultsLock(
        config.out,
        () => runExternalStudy(config, { version: VERSION, log: opts.quiet ? undefined : (m) => console.log(m) }),
        { onStale: (m) => console.error(`time-merge: ${m}`) },
      );
    });
}
