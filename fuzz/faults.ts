/**
 * Faults from outside, against the CLI as users run it (bin/time-merge.js, one process per case): a
 * signal at a random moment of a merge (SIGINT, SIGTERM, SIGKILL), an input truncated at a random
 * moment, and a full disk (a small tmpfs, where this machine lets us mount one). The output must be the
 * whole merge or the file that was there before, an error one line naming the file, never a crash.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { ParamSet } from '../src/params/paramset.js';
import { writeSafetensors } from '../src/params/safetensors/index.js';
import { accept, type CaseResult, defect } from './outcome.js';
import { referenceRead } from './reference-reader.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'time-merge.js');
const N = 1 << 21; // 8 MiB per tensor, two tensors per model: a merge of some hundred milliseconds

export const faultCaseArb = fc.oneof(
  fc.record({
    kind: fc.constant('signal' as const),
    signal: fc.constantFrom('SIGINT', 'SIGTERM', 'SIGKILL'),
    delayMs: fc.integer({ min: 0, max: 1500 }),
  }),
  fc.record({
    kind: fc.constant('truncate' as const),
    keep: fc.double({ min: 0, max: 1, noNaN: true }),
    delayMs: fc.integer({ min: 0, max: 1500 }),
  }),
  fc.record({ kind: fc.constant('full-disk' as const) }),
);
export type FaultCase = typeof faultCaseArb extends fc.Arbitrary<infer T> ? T : never;

interface Setup {
  dir: string;
  config: string;
  expected: Map<string, readonly (number | bigint)[]>;
  previous: Buffer;
}

let setup: Setup | undefined;
let fullDiskNote: string | undefined;

async function prepare(dir: string): Promise<Setup> {
  mkdirSync(dir, { recursive: true });
  const model = (s: number) =>
    ParamSet.fromEntries([
      ['w', { shape: [N], data: Float32Array.from({ length: N }, (_, i) => ((i * 7 + s) % 13) / 8) }],
      ['b', { shape: [N], data: Float32Array.from({ length: N }, (_, i) => ((i * 3 + s) % 11) / 4) }],
    ]);
  for (const [i, n] of ['base', 'x', 'y'].entries()) await writeSafetensors(join(dir, `${n}.safetensors`), model(i));
  for (const n of ['base', 'x', 'y']) copyFileSync(join(dir, `${n}.safetensors`), join(dir, `${n}.orig`));
  const config = join(dir, 'merge.yaml');
  writeFileSync(
    config,
    'merge_method: task-arithmetic\nbase_model: base.safetensors\nmodels: [x.safetensors, y.safetensors]\nparameters: {lambda: 0.5}\n',
  );
  const r = spawnSync(process.execPath, [BIN, 'merge', config, '-q', '-o', join(dir, 'expected.safetensors')], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`fault setup: the merge failed: ${r.stderr}`);
  const ref = referenceRead(readFileSync(join(dir, 'expected.safetensors')));
  if (typeof ref === 'string') throw new Error(`fault setup: ${ref}`);
  // What the output path holds before each case: a valid file the case must leave alone or replace whole.
  await writeSafetensors(join(dir, 'previous.safetensors'), model(9));
  return {
    dir,
    config,
    expected: new Map([...ref].map(([k, t]) => [k, t.values])),
    previous: readFileSync(join(dir, 'previous.safetensors')),
  };
}

function finished(child: ChildProcess): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  return new Promise((res) => child.on('close', (code, signal) => res({ code, signal, stderr })));
}

const temporaries = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

/** The output is the whole expected merge, or else exactly what was there before. */
function judgeOutput(s: Setup, out: string, completed: boolean): CaseResult | undefined {
  const bytes = readFileSync(out);
  if (!completed) return bytes.equals(s.previous) ? undefined : defect('an interrupted merge changed the output');
  const ref = referenceRead(bytes);
  if (typeof ref === 'string') return defect(`a completed merge wrote an invalid file: ${ref}`);
  for (const [k, v] of s.expected) {
    const got = ref.get(k)?.values;
    if (!got || got.length !== v.length || got.some((x, i) => !Object.is(x, v[i])))
      return defect(`tensor "${k}" differs from the merge's result`);
  }
  return undefined;
}

function stack(stderr: string): boolean {
  return /^\s+at /m.test(stderr);
}

export async function checkFaultCase(c: FaultCase, dir: string): Promise<CaseResult> {
  setup ??= await prepare(dir);
  const s = setup;
  const out = join(s.dir, 'out.safetensors');
  writeFileSync(out, s.previous);
  for (const n of ['base', 'x', 'y']) copyFileSync(join(s.dir, `${n}.orig`), join(s.dir, `${n}.safetensors`));
  if (c.kind === 'full-disk') return fullDisk(s);
  const child = spawn(process.execPath, [BIN, 'merge', s.config, '-q', '-o', out], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const done = finished(child);
  const timer = setTimeout(() => {
    if (c.kind === 'signal') child.kill(c.signal);
    else {
      const path = join(s.dir, 'y.safetensors');
      truncateSync(path, Math.floor(c.keep * readFileSync(join(s.dir, 'y.orig')).length));
    }
  }, c.delayMs);
  const r = await done;
  clearTimeout(timer);
  if (stack(r.stderr)) return defect(`a stack trace: ${r.stderr.slice(0, 300)}`);
  if (r.code === 0) return judgeOutput(s, out, true) ?? accept();
  const wrong = judgeOutput(s, out, false);
  if (wrong) return wrong;
  if (c.kind === 'signal') {
    if (c.signal === 'SIGKILL') {
      // Nothing can clean up after SIGKILL; the next merge must, and succeed.
      const again = spawnSync(process.execPath, [BIN, 'merge', s.config, '-q', '-o', out], { encoding: 'utf8' });
      if (again.status !== 0) return defect(`the merge after a SIGKILL failed: ${again.stderr.slice(0, 300)}`);
      if (temporaries(s.dir).length > 0) return defect(`temporaries left after the next merge: ${temporaries(s.dir)}`);
      return judgeOutput(s, out, true) ?? { verdict: 'clean-error', detail: 'SIGKILL' };
    }
    if (r.signal !== c.signal && r.code !== 128 + (c.signal === 'SIGINT' ? 2 : 15))
      return defect(`after ${c.signal}: exit ${r.code}, signal ${r.signal}`);
    if (temporaries(s.dir).length > 0) return defect(`${c.signal} left ${temporaries(s.dir)}`);
    return { verdict: 'clean-error', detail: c.signal };
  }
  // truncated input
  if (r.signal) return defect(`killed by ${r.signal} after an input was truncated`);
  const lines = r.stderr.trim().split('\n');
  if (r.code !== 2 || lines.length !== 1 || !lines[0].includes('y.safetensors'))
    return defect(`after truncation: exit ${r.code}: ${r.stderr.slice(0, 300)}`);
  if (temporaries(s.dir).length > 0) return defect(`a truncated input left ${temporaries(s.dir)}`);
  return { verdict: 'clean-error', detail: 'IO' };
}

/** A merge into a 4 MiB tmpfs (the output needs 16 MiB): one line naming the output, nothing left. */
function fullDisk(s: Setup): CaseResult {
  const mnt = join(s.dir, 'full');
  mkdirSync(mnt, { recursive: true });
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt], { encoding: 'utf8' });
  if (m.status !== 0) {
    fullDiskNote = `full disk: skipped, a tmpfs cannot be mounted here (${(m.stderr || m.error?.message || '').trim().split('\n')[0]})`;
    return { verdict: 'clean-error', detail: 'skipped' };
  }
  try {
    const out = join(mnt, 'out.safetensors');
    const r = spawnSync(process.execPath, [BIN, 'merge', s.config, '-q', '-o', out], { encoding: 'utf8' });
    if (stack(r.stderr)) return defect(`a stack trace: ${r.stderr.slice(0, 300)}`);
    const lines = r.stderr.trim().split('\n');
    if (r.status !== 2 || lines.length !== 1 || !lines[0].includes(out))
      return defect(`full disk: exit ${r.status}: ${r.stderr.slice(0, 300)}`);
    if (readdirSync(mnt).length > 0 || existsSync(out)) return defect(`full disk left ${readdirSync(mnt)}`);
    return { verdict: 'clean-error', detail: 'ENOSPC' };
  } finally {
    spawnSync('umount', [mnt]);
  }
}

/** A note on kinds of fault this machine could not inject, if any. */
export function faultNotes(): string[] {
  return fullDiskNote ? [fullDiskNote] : [];
}
