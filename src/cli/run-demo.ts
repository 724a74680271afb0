import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import seedrandom from 'seedrandom';
import { ParamSet } from '../params/paramset.js';
import { writeSafetensors } from '../params/safetensors/index.js';

/** The demo's programs, in the language found here: Python with numpy, else Node. */
const PROGRAMS = {
  python: { files: ['train.py', 'eval.py', 'demo_safetensors.py'], run: 'python3' },
  node: { files: ['train.mjs', 'eval.mjs', 'demo-lib.mjs'], run: 'node' },
} as const;
export type DemoLanguage = keyof typeof PROGRAMS;

const FEATURES = 8;
const CLASSES = 4;
const TASKS = ['task-1', 'task-2', 'task-3'];

/** Python 3 with numpy on the PATH as `python3`, which the demo's config names. */
export function pythonWithNumpy(): boolean {
  const r = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore', timeout: 20_000 });
  return r.status === 0;
}

function normal(rng: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

/**
 * The demo's world: four classes of Gaussian clouds in 8 dimensions. Pretraining data are the clouds
 * themselves; each adaptation task sees them through its own linear distortion and shift, so an expert
 * of one task loses accuracy on the others and on the pretraining data (the zero-shot task).
 */
function demoData(rng: () => number) {
  const means = Array.from({ length: CLASSES }, () => Array.from({ length: FEATURES }, () => 1.2 * normal(rng)));
  const sample = (n: number, view: (x: number[]) => number[]) =>
    Array.from({ length: n }, (_, i) => {
      const c = i % CLASSES;
      return [c, ...view(means[c].map((m) => m + normal(rng)))];
    });
  const distortion = () => {
    const A = Array.from({ length: FEATURES }, (_, i) =>
      Array.from({ length: FEATURES }, (_, j) => (i === j ? 1 : 0) + (1.6 * normal(rng)) / Math.sqrt(FEATURES)),
    );
    const shift = Array.from({ length: FEATURES }, () => 2 * normal(rng));
    return (x: number[]) => A.map((row, i) => row.reduce((s, a, j) => s + a * x[j], shift[i]));
  };
  const sets: Record<string, { train: number[][]; test: number[][] }> = {};
  const identity = (x: number[]) => x;
  sets.pretrain = { train: sample(200, identity), test: sample(200, identity) };
  for (const t of TASKS) {
    const view = distortion();
    sets[t] = { train: sample(120, view), test: sample(200, view) };
  }
  // θ0: the nearest-mean classifier of the pretraining clouds (the Bayes rule for equal unit-variance clouds).
  const W = Float32Array.from(means.flat());
  const b = Float32Array.from(means.map((m) => -0.5 * m.reduce((s, v) => s + v * v, 0)));
  return { sets, W, b };
}

const csv = (rows: number[][]) =>
  `label,${Array.from({ length: FEATURES }, (_, j) => `x${j + 1}`).join(',')}\n${rows
    .map(([c, ...x]) => [c, ...x.map((v) => v.toFixed(4))].join(','))
    .join('\n')}\n`;

function demoConfig(language: DemoLanguage): string {
  const { run, files } = PROGRAMS[language];
  const [train, evaluate] = files;
  return `# A demo of \`time-merge run\`: the TIME pipeline with an external trainer and evaluator, here
# ${train} and ${evaluate} in this folder (${language === 'python' ? 'Python with numpy' : 'Node'}): a linear softmax classifier on 8-dimensional
# Gaussian clouds, each task a distorted view of them (data/<task>/{train,test}.csv).
# Run it with:  time-merge run run-demo.yaml
study: run-demo
base: base.safetensors                  # θ0: the nearest-mean classifier of the pretraining data
tasks:                                  # the adaptation stream, in order; {data} is the folder
${TASKS.map((t) => `  - { id: ${t}, data: data/${t} }`).join('\n')}
zeroshot: [{ id: pretrain, data: data/pretrain }]   # A_ZS: the pretraining data's test split
trainer: "${run} ${train} --init {init} --task {task} --data {data} --previous {previous} --replay {replay} --out {out} --seed {seed} --steps {steps}"
evaluator: "${run} ${evaluate} --weights {weights} --tasks {tasks} --data {data}"
methods: [finetune, offline_merge, ema_paint]
technique: weighted-average
baselines: [zeroshot]
steps: 100                              # SGD steps per task, handed over as {steps}
replay: { pretrain: 0, current: 1, buffer: 0 }
seeds: [0, 1]
out: results                            # relative to this file
`;
}

/**
 * Writes a runnable \`time-merge run\` study into `dir`: data/ (CSV per task), base.safetensors, the
 * trainer and evaluator programs (Python with numpy when found, else Node) and run-demo.yaml. Returns
 * the config's path and the language chosen.
 */
export async function writeRunDemo(
  dir: string,
  language: DemoLanguage = pythonWithNumpy() ? 'python' : 'node',
): Promise<{ config: string; language: DemoLanguage }> {
  const { sets, W, b } = demoData(seedrandom('time-merge run demo'));
  for (const [id, { train, test }] of Object.entries(sets)) {
    await mkdir(join(dir, 'data', id), { recursive: true });
    await writeFile(join(dir, 'data', id, 'train.csv'), csv(train));
    await writeFile(join(dir, 'data', id, 'test.csv'), csv(test));
  }
  const base = ParamSet.fromEntries(
    [
      ['W', { shape: [CLASSES, FEATURES], data: W }],
      ['b', { shape: [CLASSES], data: b }],
    ],
    'base',
  );
  await writeSafetensors(join(dir, 'base.safetensors'), base);
  for (const f of PROGRAMS[language].files)
    await copyFile(fileURLToPath(new URL(`./run-demo/${f}`, import.meta.url)), join(dir, f));
  const config = join(dir, 'run-demo.yaml');
  await writeFile(config, demoConfig(language));
  return { config, language };
}
