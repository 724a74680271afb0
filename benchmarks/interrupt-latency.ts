// Time from a SIGINT to the exit of `time-merge sim` (the bundle, piped), at seeded moments of a study:
// the figure docs/studies.md quotes for Ctrl-C. Run: npx tsx benchmarks/interrupt-latency.ts [--tries N]
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import seedrandom from 'seedrandom';

const ROOT = join(import.meta.dirname, '..');
const tries = Number(process.argv[process.argv.indexOf('--tries') + 1]) || 8;
const dir = mkdtempSync(join(tmpdir(), 'tm-interrupt-latency-'));
writeFileSync(
  join(dir, 'study.yaml'),
  `name: latency
methods: [finetune, offline_merge, ema_paint]
techniques: [weighted-average]
seeds: [0, 1, 2, 3]
stream: { T: 10, datasets: 3, stepsPerTask: 40, pretrainSteps: 400, zeroshotTasks: 2, d: 32, k: 16 }
`,
);

const rng = seedrandom('interrupt latency');
const rows: { workers: number; delay: number; ms: number; status: number | null }[] = [];
for (let i = 0; i < tries; i++) {
  const workers = i % 2 === 0 ? 2 : 1;
  const delay = Math.round(500 + rng() * 5000);
  const out = join(dir, `r${i}`);
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin', 'time-merge.js'), 'sim', join(dir, 'study.yaml'), '--out', out, '--workers', String(workers)],
    { stdio: 'ignore' },
  );
  // From the moment the study holds its lock.
  while (!existsSync(join(dir, `.r${i}.lock`)) && child.exitCode === null) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, delay));
  const sent = performance.now();
  child.kill('SIGINT');
  const status = await new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  rows.push({ workers, delay, ms: performance.now() - sent, status });
  console.log(
    `workers ${workers}, SIGINT ${delay} ms into the study: exit ${status} after ${(performance.now() - sent).toFixed(0)} ms`,
  );
}
const ms = rows.map((r) => r.ms).sort((a, b) => a - b);
console.log(
  `${rows.length} interrupts: median ${ms[Math.floor(ms.length / 2)].toFixed(0)} ms, max ${ms.at(-1)!.toFixed(0)} ms to exit; statuses ${[...new Set(rows.map((r) => r.status))].join(', ')}`,
);
rmSync(dir, { recursive: true, force: true });
