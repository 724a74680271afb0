/**
 * The GPU check's node part (benchmarks/gpu-check.sh runs it where node and node_modules are present):
 *
 *   node --import tsx benchmarks/gpu-time-step.ts --pipeline   # store + merge + deploy per TIME step at
 *                                                              # ViT-B/16 size: one JSON line
 *   node --import tsx benchmarks/gpu-time-step.ts              # one full TIME run of a tiny CLIP through
 *                                                              # `time-merge clip` (device auto)
 */
import { rmSync } from 'node:fs';
import { parseClipStudy, runClipStudy } from '../src/clip/study.js';
import { makeTinyClipTree, TINY_STUDY_COMMON } from '../test/tiny-clip-tree.js';
import { pipelineStepSeconds } from './clip-torch.js';

if (process.argv.includes('--pipeline')) {
  console.log(JSON.stringify({ pipeline_step_s: await pipelineStepSeconds(3) }));
} else {
  const root = await makeTinyClipTree('gpu-time-step-', {
    folder: 'STRIPES',
    classes: ['blue', 'white'],
    style: 'stripes',
  });
  try {
    const text = `study: gpu-time-step\nT: 2\nsteps: 5\nbatch: 4\nmethods: [ema_paint]\nout: results\n${TINY_STUDY_COMMON.replace('backend: wasm', 'engine: torch')}`;
    const started = performance.now();
    const r = await runClipStudy(parseClipStudy(text, root));
    console.log(
      `gpu-time-step: ${r.backend}, ${r.runs[0].record.steps.length - 1} TIME steps in ${((performance.now() - started) / 1000).toFixed(1)} s, final A_KA ${r.runs[0].record.final.aKa}`,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
