import type { Command } from 'commander';
import { fail } from '../../params/errors.js';
import { VERSION } from '../../version.js';
import { slotPlan } from '../../study/slots.js';
import { withResultsLock } from '../results-lock.js';

interface RunOptions {
  demo?: string;
  report?: boolean;
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
    .argument('[config]', 'run config, YAML or JSON (see below)')
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
    .option('--no-report', 'do not write findings.md and the HTML report at the end')
    .option(
      '--demo <dir>',
      'write a demo (a trainer and evaluator in Python with numpy, else Node; data; run-demo.yaml) into DIR',
    )
    .addHelpText(
      'after',
      `
Config (relative paths resolve against the config's directory, where the programs also run):
  base: base.safetensors
  tasks: [{ id: task-1, data: data/task-1 }, { id: task-2, data: data/task-2 }]
  zeroshot: [{ id: heldout, data: data/heldout }]            # optional
  trainer: "python3 train.py --init {init} --task {task} --data {data} --out {out} --seed {seed} --steps {steps}"
  evaluator: "python3 eval.py --weights {weights} --tasks {tasks} --data {data}"   # the demo's programs
  method: ema_paint                # or methods: [...]; presets or <init>+<deploy>
  technique: weighted-average      # parameters: { ... } for its parameters
  baselines: [zeroshot, continual] # optional
  steps: 100
  seed: 0                          # or seeds: [0, 1]
  out: results/my-run              # runs.csv, steps.csv, matrix.csv, config.json
  store: experts                   # default <out>/experts
  resume: true                     # a rerun keeps finished runs and steps (default)

Try it (a linear classifier trained by a Python or Node program; seconds):
  time-merge run --demo run-demo              # writes run-demo/{train,eval}.{py|mjs}, data/, run-demo.yaml
  time-merge run run-demo/run-demo.yaml       # runs it into run-demo/results/ (report.html, findings.md)`,
    )
    .action(async (file: string | undefined, opts: RunOptions) => {
      if (opts.demo !== undefined) {
        if (file) fail('CONFIG', 'give either a config or --demo DIR, not both');
        const { writeRunDemo } = await import('../run-demo.js');
        const { config, language } = await writeRunDemo(opts.demo);
        console.log(
          `demo written to ${opts.demo} (${language === 'python' ? 'train.py, eval.py: Python with numpy' : 'train.mjs, eval.mjs: Node, as no python3 with numpy was found'}; data/, run-demo.yaml); run it with:`,
        );
        console.log(`  time-merge run ${config}`);
        return;
      }
      if (!file) fail('CONFIG', 'missing the run config: time-merge run CONFIG (or --demo DIR to write one)');
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
        async () => {
          await runExternalStudy(config, {
            version: VERSION,
            log: opts.quiet ? undefined : (m) => console.log(m),
            shard,
            slots,
          });
          // A shard's report would show only its runs: report once every shard is in the folder.
          if (opts.report !== false && !(shard && shard.count > 1)) {
            const { generateReport } = await import('../../report/index.js');
            const rep = await generateReport(config.out);
            if (!opts.quiet)
              console.log(
                `report: ${rep.html} (${rep.figures.length} figure files${rep.skipped.length ? `, ${rep.skipped.length} figures skipped` : ''})`,
              );
          }
        },
        { shard: shardSuffix(shard), onStale: (m) => console.error(`time-merge: ${m}`) },
      );
    });
}
