/**
 * npm run bench:backends
 *
 * The kernel backends side by side in one run, as ratios to the TypeScript reference (the figures
 * docs/benchmarks.md, "Kernel backends", quotes): the elementwise kernels alone at 4e6 floats, whole
 * merges through mergeModels at 4e6 params, and one synthetic study run (the default study's quick
 * stream, ema_paint with TIES), which is what a study costs when its model is small.
 */
import { mergeModels } from '../src/merge/engine.js';
import {
  availableKernels,
  kernelBackend,
  lerp,
  taskArithmetic,
  useKernels,
  weightedSum,
  absMaxSelect,
  type KernelBackend,
} from '../src/params/kernels.js';
import { expandStudy, effectiveStudy } from '../src/study/expand.js';
import { executeRun } from '../src/study/execute.js';
import { getStudy } from '../sims/index.js';
import { timeInterleaved } from './lib/measure.js';
import { makeBase, makeExpert, sizedShape } from './lib/models.js';

const P = 4e6;
const REPEATS = 7;
const base = makeBase(sizedShape(P));
const [x, y] = [makeExpert(base, 1), makeExpert(base, 2)];
const out = base.map((d) => new Float32Array(d.length), 'out');
const names = base.names();
const quick = effectiveStudy(getStudy('default'), { quick: true });
const studyRun = expandStudy({
  ...quick,
  methods: ['ema_paint'],
  techniques: [{ name: 'ties', params: { density: 0.5 } }],
  baselines: [],
}).runs[0];

const cases: { name: string; run: () => unknown }[] = [
  {
    name: 'weightedSum (2 experts)',
    run: () => names.forEach((n) => weightedSum(out.data(n), [x.data(n), y.data(n)], [0.5, 0.5])),
  },
  { name: 'lerp in place (EMA step)', run: () => names.forEach((n) => lerp(out.data(n), out.data(n), x.data(n), 0.5)) },
  {
    name: 'taskArithmetic',
    run: () => names.forEach((n) => taskArithmetic(out.data(n), base.data(n), [x.data(n), y.data(n)], [1, 1], 0.3)),
  },
  { name: 'absMaxSelect', run: () => names.forEach((n) => absMaxSelect(out.data(n), [x.data(n), y.data(n)])) },
  { name: 'merge: weighted-average', run: () => mergeModels({ technique: 'weighted-average' }, base, [x, y]) },
  { name: 'merge: task-arithmetic', run: () => mergeModels({ technique: 'task-arithmetic' }, base, [x, y]) },
  { name: 'merge: ties', run: () => mergeModels({ technique: 'ties' }, base, [x, y]) },
  { name: 'merge: magmax', run: () => mergeModels({ technique: 'magmax' }, base, [x, y]) },
  {
    name: `study run (${studyRun.method}, ${studyRun.technique}, T = ${studyRun.stream.T})`,
    run: () => executeRun(studyRun),
  },
];

const backends = availableKernels().reverse();
const before = kernelBackend();
// Backends take turns within each round, so every backend sees the same machine state.
const rows: Record<string, Record<KernelBackend, number>> = {};
for (const c of cases) {
  const timings = await timeInterleaved(
    backends.map((b) => async () => {
      useKernels(b);
      await c.run();
    }),
    REPEATS,
  );
  rows[c.name] = Object.fromEntries(backends.map((b, i) => [b, timings[i].seconds])) as Record<KernelBackend, number>;
}
useKernels(before);

console.log(
  `| case | ${backends.map((b) => `${b} ms`).join(' | ')} | ${backends
    .filter((b) => b !== 'ts')
    .map((b) => `ts / ${b}`)
    .join(' | ')} |`,
);
console.log(
  `|---|${backends.map(() => '---').join('|')}|${backends
    .filter((b) => b !== 'ts')
    .map(() => '---')
    .join('|')}|`,
);
for (const [name, t] of Object.entries(rows)) {
  const ms = backends.map((b) => (t[b] * 1e3).toFixed(2));
  const speedup = backends.filter((b) => b !== 'ts').map((b) => `x${(t.ts / t[b]).toFixed(2)}`);
  console.log(`| ${name} | ${ms.join(' | ')} | ${speedup.join(' | ')} |`);
}
