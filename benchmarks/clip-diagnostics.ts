/**
 * npm run diagnostics:clip [-- --engine tfjs|torch|both] [--out DIR]
 *
 * The world diagnostics from CLIP experts, beside the synthetic world's in docs/synthetic.md: the tiny
 * CLIP (randomly initialised) on a generated tiny FoMo-in-Flux tree, each engine's Trainer and Evaluator
 * (src/clip/tiny-diagnostics.ts). Writes DIR/diagnostics.csv (default results/clip-diagnostics).
 */
import { join } from 'node:path';
import { Command } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { TINY_DIAGNOSTICS_TRAINING, tinyClipDiagnostics } from '../src/clip/tiny-diagnostics.js';
import { writeAtomic } from '../src/report/write.js';
import { BPE_VOCAB } from '../test/shared-fixtures.js';

const SEED = 0;

const o = new Command()
  .option('--engine <e>', 'tfjs, torch or both', 'both')
  .option('--out <dir>', 'where diagnostics.csv goes', 'results/clip-diagnostics')
  .parse()
  .opts<{ engine: string; out: string }>();
if (!['tfjs', 'torch', 'both'].includes(o.engine)) {
  console.error(`--engine must be tfjs, torch or both, got "${o.engine}"`);
  process.exit(2);
}
const engines = (o.engine === 'both' ? ['tfjs', 'torch'] : [o.engine]) as ('tfjs' | 'torch')[];
const rows: Record<string, string | number>[] = [];
for (const engine of engines) {
  const t0 = performance.now();
  const d = await tinyClipDiagnostics({ engine, bpeVocab: BPE_VOCAB, seed: SEED });
  console.error(`${engine}: ${JSON.stringify(d)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  rows.push({
    engine,
    model: 'tiny CLIP (random init)',
    experts: d.experts,
    tau_ratio: d.tauRatio,
    cross_cosine: d.crossCosine,
    top20_energy: d.top20Energy,
    ties_keep: d.tiesKeep,
    base_a_ka: d.baseAKa,
    base_a_zs: d.baseAZs,
    expert_score: d.expertScore,
    seed: SEED,
    ...TINY_DIAGNOSTICS_TRAINING,
  });
}
const file = join(o.out, 'diagnostics.csv');
writeAtomic(file, stringify(rows, { header: true }));
console.log(`wrote ${file}`);
