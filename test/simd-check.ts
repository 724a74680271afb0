/**
 * Run as a child process by kernels-simd.test.ts with TIME_MERGE_SIMD set (the native kernels read it
 * once, at their first use): the native TIES selection and merge against the TypeScript reference on
 * inputs with many ties at the threshold, so the narrower instruction-set paths are checked on a CPU
 * that would otherwise always take the widest. Prints "ok N" or throws.
 */
import { deltaTopKMany, nativeKernelsAvailable, tiesMerge, useKernels, type TopKRule } from '../src/params/kernels.js';

function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

if (!nativeKernelsAvailable()) throw new Error('native kernels not built');
const rng = xorshift(Number(process.env.SEED ?? 1));
let cases = 0;
for (const n of [40, 1000, 2 ** 15 + 3, 2 ** 18 + 77]) {
  for (let c = 0; c < 4; c++) {
    const experts = 1 + (c % 4) + (c === 3 ? 2 : 0);
    const base = Float32Array.from({ length: n }, () => rng() - 0.5);
    const grid = c % 2 === 0; // coarse values: many magnitudes equal the threshold, so the rules have index cuts
    const xs = Array.from({ length: experts }, () =>
      base.map((b) => b + (grid ? Math.round((rng() - 0.5) * 8) / 64 : (rng() - 0.5) / 50)),
    );
    const k = Math.max(1, Math.floor(n * (0.1 + 0.2 * rng())));
    const weights = xs.map((_, i) => (c === 1 ? 0.5 + i : 1));
    const o = {
      weights,
      electionWeights: weights.map((w, i) => (i % 2 ? 1 : w)),
      election: c === 2 ? 'count' : 'sum',
      disjoint: c === 3 ? 'sum' : 'mean',
      tieFill: 1,
      lambda: 0.7,
      deltas: false,
    } as const;
    const run = (backend: 'ts' | 'native') => {
      useKernels(backend);
      const rules: TopKRule[] = deltaTopKMany(xs, base, k);
      const out = new Float32Array(n);
      tiesMerge(out, base, xs, rules, o);
      return { rules: rules.map((r) => [r.threshold, r.ties]), out: new Uint32Array(out.buffer) };
    };
    const ref = run('ts');
    const got = run('native');
    if (JSON.stringify(got.rules) !== JSON.stringify(ref.rules))
      throw new Error(`n ${n} case ${c}: rules ${JSON.stringify(got.rules)} vs ${JSON.stringify(ref.rules)}`);
    const d = got.out.findIndex((v, i) => v !== ref.out[i]);
    if (d >= 0) throw new Error(`n ${n} case ${c}: output differs at ${d}`);
    cases++;
  }
}
console.log(`ok ${cases}`);
