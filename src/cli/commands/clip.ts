import type { Command } from 'commander';
import type { ClipStudy } from '../../clip/study.js';
import { fail } from '../../params/errors.js';
import { withResultsLock } from '../results-lock.js';

function positiveInt(v: string, what: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) fail('CONFIG', `${what} must be a non-negative integer, got "${v}"`);
  return n;
}

export function registerClip(program: Command): void {
  program
    .command('clip')
    .description('Run the TIME pipeline with a CLIP model on a FoMo-in-Flux stream (TensorFlow.js; see docs/clip.md)')
    .argument('<config>', 'study definition (YAML or JSON): model, tokenizer, data.root, stream, T, steps, batch, methods, technique, seeds, out, backend')
    .option('--backend <name>', 'tensor backend: auto, tensorflow, webgpu, wasm or cpu (overrides the config)')
    .option('--out <dir>', 'results folder (overrides the config)')
    .option('--steps <n>', 'optimiser steps per task (overrides the config)')
    .option('--method <name...>', 'method preset(s) or <init>+<deploy> (overrides the config)')
    .option('--no-report', 'do not write the HTML report at the end')
    .action(async (file: string, opts: { backend?: string; out?: string; steps?: string; method?: string[]; report?: boolean }) => {
      // TensorFlow.js loads only when a CLIP study runs, so the other commands start without it.
      const [{ parseBackend }, { readClipStudy, runClipStudy }] = await Promise.all([import('../../clip/backend.js'), import('../../clip/study.js')]);
      let study: ClipStudy = readClipStudy(file);
      if (opts.backend) study = { ...study, backend: parseBackend(opts.backend) };
      if (opts.out) study = { ...study, out: opts.out };
      if (opts.steps !== undefined) study = { ...study, steps: positiveInt(opts.steps, '--steps') };
      if (opts.method) study = { ...study, methods: opts.method };
      await withResultsLock(study.out, async () => {
        await runClipStudy(study);
        if (opts.report !== false) {
          // The same report as every sim run; loaded lazily so runs with --no-report skip vega and resvg.
          const { generateReport } = await import('../../report/index.js');
          const rep = await generateReport(study.out);
          console.log(`report: ${rep.html} (${rep.figures.length} figure files${rep.skipped.length ? `, ${rep.skipped.length} figures skipped` : ''})`);
        }
      }, { onStale: (m) => console.error(`time-merge: ${m}`) });
    });
}
