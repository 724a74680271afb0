import type { Command } from 'commander';
import type { ClipStudy } from '../../clip/study.js';
import { fail } from '../../params/errors.js';
import { slotPlan } from '../../study/slots.js';
import { withResultsLock } from '../results-lock.js';

function positiveInt(v: string, what: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) fail('CONFIG', `${what} must be a non-negative integer, got "${v}"`);
  return n;
}

export function registerClip(program: Command): void {
  const clip = program.command('clip');
  clip
    .command('prepare')
    .description(
      'Write the 224px variants of every image a clip study reads into the data.prepared cache folder, once (resumable, all cores); list unreadable images',
    )
    .argument('<config>', 'the clip study definition (its data.prepared names the cache folder)')
    .option('--workers <n>', 'processes resizing images (default: one per core)')
    .action(async (file: string, opts: { workers?: string }) => {
      const [{ readClipStudy }, { prepareClipStudy }] = await Promise.all([
        import('../../clip/study.js'),
        import('../../clip/prepare.js'),
      ]);
      const workers = opts.workers === undefined ? undefined : positiveInt(opts.workers, '--workers') || 1;
      await prepareClipStudy(readClipStudy(file), console.log, workers);
    });
  clip
    .description(
      'Run the TIME pipeline with a CLIP model on a FoMo-in-Flux stream (PyTorch worker or TensorFlow.js; see docs/clip.md)',
    )
    .argument(
      '[config]',
      'study definition (YAML or JSON): model, tokenizer, data.root, stream, T, steps, batch, methods, technique, seeds, out, backend',
    )
    .option('--engine <name>', 'auto, torch (the PyTorch worker in engines/torch) or tfjs (overrides the config)')
    .option('--device <name>', 'torch engine device: auto, cuda or cpu (overrides the config)')
    .option('--backend <name>', 'tfjs tensor backend: auto, tensorflow, webgpu, wasm or cpu (overrides the config)')
    .option('--out <dir>', 'results folder (overrides the config)')
    .option('--steps <n>', 'optimiser steps per task (overrides the config)')
    .option('--method <name...>', 'method preset(s) or <init>+<deploy> (overrides the config)')
    .option('--workers <n>', 'runs at once (torch engine: one worker process each; default 1)')
    .option(
      '--gpus <list>',
      'run one run per GPU at once, e.g. 0,1,2,3 (torch engine on cuda; each worker sees only its GPU)',
    )
    .option('--shard <i/n>', 'run only shard i of n of the runs (job arrays); files get a shard suffix')
    .option('--resume', 'keep finished runs and TIME steps in the results folder (overrides the config)')
    .option('--no-resume', 'run everything again (overrides the config)')
    .option(
      '--diagnostics',
      'also train one expert per task and seed from the checkpoint and write their world diagnostics to diagnostics.csv',
    )
    .option('--no-report', 'do not write the HTML report at the end')
    .option('--demo <dir>', 'write a demo study (a tiny CLIP and FoMo-in-Flux tree, clip-demo.yaml) into DIR')
    .addHelpText(
      'after',
      `
Try it (seconds on a CPU, with the torch engine when Python with torch is found, else TensorFlow.js):
  time-merge clip --demo clip-demo            # writes clip-demo/{fomo,model}/ and clip-demo/clip-demo.yaml
  time-merge clip clip-demo/clip-demo.yaml    # runs it into clip-demo/results/ (report.html, findings.md)`,
    )
    .action(
      async (
        file: string | undefined,
        opts: {
          engine?: string;
          device?: string;
          backend?: string;
          out?: string;
          steps?: string;
          method?: string[];
          workers?: string;
          gpus?: string;
          shard?: string;
          resume?: boolean;
          diagnostics?: boolean;
          report?: boolean;
          demo?: string;
        },
      ) => {
        if (opts.demo !== undefined) {
          if (file) fail('CONFIG', 'give either a config or --demo DIR, not both');
          const { writeClipDemo } = await import('../../clip/demo.js');
          const study = await writeClipDemo(opts.demo);
          console.log(`demo written to ${opts.demo} (fomo/, model/, clip-demo.yaml); run it with:`);
          console.log(`  time-merge clip ${study}`);
          return;
        }
        if (!file) fail('CONFIG', 'missing the study file: time-merge clip CONFIG (or --demo DIR to write one)');
        // TensorFlow.js and the engine probes load only when a CLIP study runs, so the other commands start without them.
        const [
          { parseBackend },
          { parseDevice, parseEngine },
          { readClipStudy, runClipStudy },
          { parseShard, shardSuffix },
        ] = await Promise.all([
          import('../../clip/backend.js'),
          import('../../clip/engine.js'),
          import('../../clip/study.js'),
          import('../../study/expand.js'),
        ]);
        const slots = slotPlan(opts.workers, opts.gpus);
        const shard = opts.shard ? parseShard(opts.shard) : undefined;
        let study: ClipStudy = readClipStudy(file);
        if (opts.backend) study = { ...study, backend: parseBackend(opts.backend) };
        if (opts.engine) study = { ...study, engine: parseEngine(opts.engine) };
        if (opts.device) study = { ...study, device: parseDevice(opts.device) };
        if (opts.out) study = { ...study, out: opts.out };
        if (opts.steps !== undefined) study = { ...study, steps: positiveInt(opts.steps, '--steps') };
        if (opts.method) study = { ...study, methods: opts.method };
        if (opts.resume !== undefined) study = { ...study, resume: opts.resume };
        await withResultsLock(
          study.out,
          async () => {
            await runClipStudy(study, console.log, { shard, slots, diagnostics: opts.diagnostics === true });
            // A shard's report would show only its runs: report once every shard is in the folder.
            if (opts.report !== false && !(shard && shard.count > 1)) {
              // The same report as every sim run; loaded lazily so runs with --no-report skip vega and resvg.
              const { generateReport } = await import('../../report/index.js');
              const rep = await generateReport(study.out);
              console.log(
                `report: ${rep.html} (${rep.figures.length} figure files${rep.skipped.length ? `, ${rep.skipped.length} figures skipped` : ''})`,
              );
            }
          },
          { shard: shardSuffix(shard), onStale: (m) => console.error(`time-merge: ${m}`) },
        );
      },
    );
}
