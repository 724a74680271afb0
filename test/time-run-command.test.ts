import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../src/params/safetensors/index.js';
import { csvObjects } from '../src/report/csv.js';
import { parseRunConfig } from '../src/time/run-config.js';
import { vec } from './time-helpers.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');
const SCRIPTS = join(import.meta.dirname, 'fixtures', 'external');
const cli = (args: string[]) =>
  run(process.execPath, ['bin/time-merge.js', ...args], { cwd: ROOT, maxBuffer: 1 << 24 });
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A run over the fixture scripts: expert = init + task vector; score = 1 / (1 + |w - target|_1). */
function runYaml(extra = '', trainerExtra = ''): string {
  return `study: ext
base: base.safetensors
tasks:
  - { id: t1, data: [1, 0] }
  - { id: t2, data: [0, 2] }
zeroshot:
  - { id: zs, data: [] }
trainer: "node ${join(SCRIPTS, 'train.mjs')} --init {init} --task {task} --data {data} --out {out} --seed {seed} --steps {steps}${trainerExtra}"
evaluator: "node ${join(SCRIPTS, 'evaluate.mjs')} --weights {weights} --tasks {tasks} --data {data}"
method: ema_paint
technique: weighted-average
baselines: [zeroshot]
steps: 3
seed: 5
out: out
${extra}`;
}

async function setup(yaml: string): Promise<{ dir: string; config: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'time-run-'));
  dirs.push(dir);
  await writeSafetensors(join(dir, 'base.safetensors'), vec([0, 0]));
  const config = join(dir, 'run.yaml');
  await writeFile(config, yaml);
  return { dir, config };
}

const score = (w: number[], target: number[]) => 1 / (1 + w.reduce((a, x, i) => a + Math.abs(x - (target[i] ?? 0)), 0));

describe('time-merge run (external trainer and evaluator through the CLI)', () => {
  it('runs ema_paint and the zero-shot baseline and writes the results folder with hand-computed scores', async () => {
    const { dir, config } = await setup(runYaml());
    const { stdout } = await cli(['run', config]);
    expect(stdout).toMatch(/method ema_paint \(weighted-average\), seed 5/);
    const out = join(dir, 'out');
    for (const f of ['runs.csv', 'steps.csv', 'matrix.csv', 'config.json'])
      expect(existsSync(join(out, f)), f).toBe(true);

    // ema_paint with β = 0.5 seeded with θ0 = [0, 0]: step 1 trains from θ0 -> [1, 0], e1 = [0.5, 0];
    // step 2 trains from e1 -> [0.5, 2], e2 = 0.5 [0.5, 2] + 0.5 [0.5, 0] = [0.5, 1].
    const deployed = [
      [0, 0],
      [0.5, 0],
      [0.5, 1],
    ];
    const targets = [
      [1, 0],
      [0, 2],
      [0, 0],
    ];
    const matrix = csvObjects(await readFile(join(out, 'matrix.csv'), 'utf8')).filter(
      (r) => r.run_id === 'ema_paint-s5',
    );
    expect(matrix.map((r) => r.step)).toEqual(['0', '1', '2']);
    const columns = ['adaptation:t1', 'adaptation:t2', 'zeroshot:zs'];
    for (const r of matrix)
      columns.forEach((c, j) => expect(Number(r[c])).toBeCloseTo(score(deployed[Number(r.step)], targets[j]), 6));

    const runs = csvObjects(await readFile(join(out, 'runs.csv'), 'utf8'));
    expect(runs.map((r) => r.run_id)).toEqual(['zeroshot-s5', 'ema_paint-s5']);
    const ema = runs[1];
    expect(ema).toMatchObject({
      study: 'ext',
      method: 'ema_paint',
      technique: 'weighted-average',
      seed: '5',
      T: '2',
      train_steps: '6',
      param_steps: '3',
    });
    const aKa = (score([0.5, 1], [1, 0]) + score([0.5, 1], [0, 2])) / 2;
    expect(Number(ema.a_ka)).toBeCloseTo(aKa, 6);
    expect(Number(ema.a_zs)).toBeCloseTo(score([0.5, 1], [0, 0]), 6);
    expect(runs[0]).toMatchObject({ method: 'zeroshot', T: '2' });
    expect(Number(runs[0].a_ka)).toBeCloseTo((score([0, 0], [1, 0]) + score([0, 0], [0, 2])) / 2, 6);
    const saved = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
    expect(saved.settings.methods).toEqual(['ema_paint']);
    // Experts went to the default store, one folder per run.
    expect(existsSync(join(out, 'experts', 'ema_paint-s5', 'manifest.json'))).toBe(true);
  });

  it('stops on a failing trainer with its exit code and stderr (status 2), and the rerun resumes to the same results', async () => {
    const { dir, config } = await setup(runYaml('', ' --fail-on t2').replace('baselines: [zeroshot]\n', ''));
    const err = await cli(['run', config]).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(2);
    expect(err?.stderr).toMatch(
      /external trainer \(task t2\): `node .*train\.mjs .*` exited with code 3; stderr:\ntrain\.mjs: simulated crash on task t2/,
    );
    expect(existsSync(join(dir, 'out', 'resume', 'ema_paint-s5', 'run.json'))).toBe(true);

    // The fixed command has the same fingerprint (commands are not part of it): step 1 is skipped.
    await writeFile(config, runYaml().replace('baselines: [zeroshot]\n', ''));
    const { stdout } = await cli(['run', config]);
    expect(stdout).toMatch(/step 1\/2: already finished/);
    const fresh = await setup(runYaml().replace('baselines: [zeroshot]\n', ''));
    await cli(['run', fresh.config, '--quiet']);
    const strip = (t: string) => csvObjects(t).map(({ wall_seconds, merge_seconds, ...r }) => r);
    const [resumed, straight] = await Promise.all(
      [join(dir, 'out'), join(fresh.dir, 'out')].map((o) => readFile(join(o, 'matrix.csv'), 'utf8')),
    );
    expect(resumed).toBe(straight);
    const [r1, r2] = await Promise.all(
      [join(dir, 'out'), join(fresh.dir, 'out')].map((o) => readFile(join(o, 'runs.csv'), 'utf8')),
    );
    expect(strip(r1)).toEqual(strip(r2));
  });

  it('rejects bad configs before any program runs, naming the problem', async () => {
    const { config } = await setup(runYaml().replace('{steps}', '{step}'));
    const err = await cli(['run', config]).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(2);
    expect(err?.stderr).toMatch(/run\.yaml: trainer\.command: unknown placeholder \{step\} \(known: \{init\}, \{out\}/);
    expect(existsSync(join(config, '..', 'out'))).toBe(false);
  });
});

describe('run config validation', () => {
  const parse = (yaml: string) => () => parseRunConfig(yaml, { source: 'r.yaml', baseDir: '/x' });
  it('names each problem', () => {
    expect(parse(runYaml().replace('method: ema_paint', 'method: ema_pant'))).toThrow(
      /r\.yaml: method "ema_pant" \(did you mean "ema_paint"\?\): expected a preset/,
    );
    expect(parse(runYaml().replace('technique: weighted-average', 'technique: tiez'))).toThrow(
      /r\.yaml: technique: unknown merge technique "tiez"/,
    );
    expect(parse(`${runYaml()}parameters: { density: 2 }\n`.replace('weighted-average', 'ties'))).toThrow(
      /r\.yaml: parameters: ties: density must be in \(0, 1\], got 2/,
    );
    expect(parse(runYaml().replace('- { id: t2, data: [0, 2] }', '- { id: t1, data: [0, 2] }'))).toThrow(
      /task id "t1" appears twice/,
    );
    expect(parse(runYaml().replace('id: t2', 'id: "t 2"'))).toThrow(
      /tasks\[1\]: id must be a non-empty string without commas or spaces/,
    );
    expect(parse(runYaml().replace(/^evaluator:.*$/m, ''))).toThrow(/r\.yaml: evaluator is required/);
    expect(parse(`${runYaml()}replay: { pretrain: 0, current: 0 }\n`)).toThrow(/replay: proportions sum to zero/);
    expect(parse(`${runYaml()}colour: red\n`)).toThrow(/unknown key "colour"/);
    expect(parse(runYaml().replace('[zeroshot]', '[multi]'))).toThrow(/unknown baseline "multi"/);
    expect(parse(runYaml().replace('steps: 3', 'steps: 1.5'))).toThrow(/steps must be a non-negative integer, got 1.5/);
    expect(parse(runYaml().replace('seed: 5', 'seeds: [1, 1]'))).toThrow(/seeds lists a seed twice/);
  });

  it('resolves paths against the config directory and fills defaults', () => {
    const c = parseRunConfig(runYaml().replace('out: out\n', ''), { source: 'r.yaml', baseDir: '/x' });
    expect(c).toMatchObject({
      base: '/x/base.safetensors',
      out: '/x/results/ext',
      store: '/x/results/ext/experts',
      resume: true,
      cwd: '/x',
      replay: { pretrain: 0, current: 1, buffer: 0 },
    });
    expect(c.stream.adaptation.map((t) => [t.id, t.role, t.data])).toEqual([
      ['t1', 'adaptation', [1, 0]],
      ['t2', 'adaptation', [0, 2]],
    ]);
  });
});
