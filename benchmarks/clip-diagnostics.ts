/**
 * npm run diagnostics:clip [-- --engine tfjs|torch|both] [--out DIR]
 *
 * The world diagnostics from CLIP experts, beside the synthetic world's in docs/synthetic.md: the tiny
 * CLIP (randomly initialised) on a generated tiny FoMo-in-Flux tree, each engine's Trainer and Evaluator
 * (src/clip/tiny-diagnostics.ts). Writes DIR/diagnostics.csv (default results/clip-diagnostics) in the
 * studies' diagnostics.csv format, one row per engine (setting tiny-clip-tfjs / tiny-clip-torch).
 */
import { join } from 'node:path';
import { Command } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { tinyClipDiagnostics } from '../src/clip/tiny-diagnostics.js';
import { writeAtomic } from '../src/report/write.js';
import { type DiagnosticsRow, diagnosticsRows } from '../src/study/diagnostics-run.js';
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
const rows: DiagnosticsRow[] = [];
for (const engine of engines) {
  const t0 = performance.now();
  const d = await tinyClipDiagnostics({ engine, bpeVocab: BPE_VOCAB, seed: SEED });
  console.error(`${engine}: ${JSON.stringify(d)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  rows.push({ setting: `tiny-clip-${engine}`, seed: SEED, ...d });
}
const file = join(o.out, 'diagnostics.csv');
writeAtomic(file, stringify(diagnosticsRows(rows)));
console.log(`wrote ${file}`);
