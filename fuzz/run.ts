/**
 * The fuzz suite: `npm run fuzz -- --cases N [--seed S] [--kinds a,b] [--fault-cases M] [--only I]`.
 * Runs N cases of each in-process kind (safetensors files, merge configs, study files, results folders)
 * and M spawned fault cases (signals, truncation, full disk; default min(N, 20)), every case drawn from
 * the seed, and prints per kind how many ended as a clean error, an exact accept or a defect. Exits 1
 * when any case is a defect, printing how to replay it (--kinds K --seed S --only I).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  checkMergeConfigCase,
  checkStudyCase,
  mergeConfigCaseArb,
  studyCaseArb,
  writeConfigModels,
} from './config-cases.js';
import { checkFaultCase, faultCaseArb, faultNotes } from './faults.js';
import { type CaseResult, Tally } from './outcome.js';
import { checkResultsCase, resultsCaseArb } from './results-cases.js';
import { checkSafetensorsCase, safetensorsCaseArb } from './safetensors-cases.js';

interface Kind {
  readonly arb: fc.Arbitrary<any>;
  readonly check: (c: any, dir: string) => Promise<CaseResult> | CaseResult;
  readonly setup?: (dir: string) => Promise<void>;
  readonly spawned?: boolean;
}

export const KINDS: Record<string, Kind> = {
  safetensors: { arb: safetensorsCaseArb, check: checkSafetensorsCase },
  'merge-config': { arb: mergeConfigCaseArb, check: checkMergeConfigCase, setup: writeConfigModels },
  'study-file': { arb: studyCaseArb, check: checkStudyCase },
  'results-folder': { arb: resultsCaseArb, check: checkResultsCase },
  faults: { arb: faultCaseArb, check: checkFaultCase, spawned: true },
};

/** Cases are drawn in chunks, each from its own seed, so case i can be replayed alone. */
const CHUNK = 500;

export interface FuzzReport {
  readonly tallies: Map<string, Tally>;
  readonly notes: string[];
}

export async function runFuzz(options: {
  cases: number;
  faultCases?: number;
  seed: number;
  kinds?: readonly string[];
  only?: number;
  onProgress?: (kind: string, done: number) => void;
}): Promise<FuzzReport> {
  const tallies = new Map<string, Tally>();
  const root = mkdtempSync(join(tmpdir(), 'time-merge-fuzz-'));
  try {
    for (const [name, kind] of Object.entries(KINDS)) {
      if (options.kinds && !options.kinds.includes(name)) continue;
      const dir = join(root, name);
      await import('node:fs').then((fs) => fs.mkdirSync(dir));
      await kind.setup?.(dir);
      const n = kind.spawned ? (options.faultCases ?? Math.min(options.cases, 20)) : options.cases;
      const tally = new Tally();
      tallies.set(name, tally);
      for (let start = 0; start < n; start += CHUNK) {
        const seed = options.seed + start / CHUNK;
        const chunk = fc.sample(kind.arb, { seed, numRuns: Math.min(CHUNK, n - start) });
        for (let j = 0; j < chunk.length; j++) {
          const i = start + j;
          if (options.only !== undefined && i !== options.only) continue;
          let r: CaseResult;
          try {
            r = await kind.check(chunk[j], dir);
          } catch (err) {
            r = {
              verdict: 'defect',
              detail: `the check itself threw: ${(err as Error).stack?.split('\n').slice(0, 3).join(' | ')}`,
            };
          }
          tally.add(
            r,
            `--kinds ${name} --seed ${options.seed} --only ${i}${options.cases !== n ? ` --fault-cases ${n}` : ` --cases ${n}`}`,
          );
          if ((i + 1) % 1000 === 0) options.onProgress?.(name, i + 1);
        }
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return { tallies, notes: faultNotes() };
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const cases = Number(arg('cases') ?? 1000);
  const seed = Number(arg('seed') ?? 1);
  const faultCases = arg('fault-cases') === undefined ? undefined : Number(arg('fault-cases'));
  const kinds = arg('kinds')?.split(',');
  const only = arg('only') === undefined ? undefined : Number(arg('only'));
  for (const [k, v] of Object.entries({ cases, seed, faultCases: faultCases ?? 0, only: only ?? 0 }))
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`--${k} must be a non-negative integer`);
  for (const k of kinds ?? [])
    if (!Object.hasOwn(KINDS, k)) throw new Error(`--kinds: unknown kind ${k} (${Object.keys(KINDS).join(', ')})`);
  const t0 = performance.now();
  const report = await runFuzz({
    cases,
    seed,
    faultCases,
    kinds,
    only,
    onProgress: (kind, done) => process.stderr.write(`fuzz: ${kind} ${done}\n`),
  });
  const rows = [...report.tallies].map(([k, t]) => [
    k,
    t.total,
    t.counts['clean-error'],
    t.counts['exact-accept'],
    t.counts.defect,
    [...t.codes].map(([c, m]) => `${c} ${m}`).join(', '),
  ]);
  console.log(['kind', 'cases', 'clean errors', 'exact accepts', 'defects', 'error kinds'].join('\t'));
  for (const r of rows) console.log(r.join('\t'));
  for (const n of report.notes) console.log(`note: ${n}`);
  console.log(`seed ${seed}, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  let defects = 0;
  for (const [k, t] of report.tallies) {
    defects += t.counts.defect;
    for (const d of t.defects) console.log(`defect (${k}): ${d}`);
  }
  process.exitCode = defects > 0 ? 1 : 0;
}

if (process.argv[1] && import.meta.url === new URL(process.argv[1], 'file:').href) await main();
