import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TimeMergeError } from '../src/params/errors.js';
import { ExternalEvaluator, ExternalTrainer, fillTemplate, parseScores, splitCommand } from '../src/time/external.js';
import { parseMethod, runTime } from '../src/time/index.js';
import { RecordingEvaluator, ScriptedTrainer, stream, vec } from './time-helpers.js';

const SCRIPTS = join(import.meta.dirname, 'fixtures', 'external');
const TRAIN = `node ${join(SCRIPTS, 'train.mjs')} --init {init} --task {task} --data {data} --out {out} --seed {seed} --steps {steps}`;
const EVAL = `node ${join(SCRIPTS, 'evaluate.mjs')} --weights {weights} --tasks {tasks} --data {data}`;
const V = [
  [1, 0],
  [0, 2],
  [4, 0],
];
const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'time-ext-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('command templates', () => {
  it('splits like a shell and keeps substituted values as one argument', () => {
    const words = splitCommand(`python "my train.py" --task {task} --tag 'a b'`);
    expect(words).toEqual(['python', 'my train.py', '--task', '{task}', '--tag', 'a b']);
    expect(fillTemplate(words, { task: 'x y; rm -rf /' }, 't')).toEqual([
      'python',
      'my train.py',
      '--task',
      'x y; rm -rf /',
      '--tag',
      'a b',
    ]);
  });

  it('rejects unknown placeholders and unclosed quotes with CONFIG errors', () => {
    expect(() => fillTemplate(['--x', '{nope}'], { task: 't' }, 'external trainer')).toThrow(
      /unknown placeholder \{nope\}/,
    );
    expect(() => splitCommand(`python "train.py`)).toThrow(TimeMergeError);
  });

  it('reads scores as an array or keyed by task id, and rejects missing ones', () => {
    const tasks = [
      { id: 'a', role: 'adaptation' as const, data: null },
      { id: 'b', role: 'zeroshot' as const, data: null },
    ];
    expect(parseScores('[0.5, 0.25]', tasks)).toEqual([0.5, 0.25]);
    expect(parseScores('log line\n{"b": 0.1, "a": 0.9}\n', tasks)).toEqual([0.9, 0.1]);
    expect(() => parseScores('{"a": 0.9}', tasks)).toThrow(/no score for task "b"/);
    expect(() => parseScores('not json', tasks)).toThrow(/not JSON/);
  });
});

describe('external trainer and evaluator end to end (node scripts exchanging safetensors)', () => {
  it('gives the same run as the in-process scripted trainer and evaluator', async () => {
    const work = await tempDir();
    const method = parseMethod('ema_paint');
    const ext = await runTime({
      stream: stream(V),
      trainer: new ExternalTrainer({ command: TRAIN, workDir: join(work, 'train') }),
      evaluator: new ExternalEvaluator({ command: EVAL, workDir: join(work, 'eval') }),
      base: vec([0, 0]),
      method,
      stepsPerTask: 4,
      seed: 9,
    });
    const local = await runTime({
      stream: stream(V),
      trainer: new ScriptedTrainer(),
      evaluator: new RecordingEvaluator(),
      base: vec([0, 0]),
      method,
      stepsPerTask: 4,
      seed: 9,
    });
    expect(ext.steps.map((s) => s.scores)).toEqual(local.steps.map((s) => s.scores));
    expect(ext.final.trainSteps).toBe(12);
    // exchanged files are cleaned up
    expect(await readdir(join(work, 'train'))).toEqual([]);
  });

  it('stops on a failing command with its exit code and stderr, and the run resumes after the fix', async () => {
    const work = await tempDir();
    const resumeDir = join(work, 'run');
    const base = {
      stream: stream(V),
      base: vec([0, 0]),
      method: parseMethod('offline_merge'),
      stepsPerTask: 2,
      seed: 4,
      resumeDir,
    };
    const failing = new ExternalTrainer({ command: `${TRAIN} --fail-on task-2`, workDir: join(work, 'train') });
    const err = await runTime({ ...base, trainer: failing, evaluator: new RecordingEvaluator() }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TimeMergeError);
    expect((err as TimeMergeError).code).toBe('PIPELINE');
    expect((err as Error).message).toMatch(/exited with code 3/);
    expect((err as Error).message).toMatch(/simulated crash on task task-2/);

    const fixed = new ScriptedTrainer();
    const resumed = await runTime({ ...base, trainer: fixed, evaluator: new RecordingEvaluator() });
    expect(fixed.requests.map((r) => r.tasks[0].id)).toEqual(['task-2', 'task-3']);
    const fresh = await runTime({
      ...base,
      resumeDir: undefined,
      trainer: new ScriptedTrainer(),
      evaluator: new RecordingEvaluator(),
    });
    expect(resumed.steps.map((s) => s.scores)).toEqual(fresh.steps.map((s) => s.scores));
  });

  it('stops on a failing evaluator with its exit code and stderr; the rerun with a working one resumes', async () => {
    const work = await tempDir();
    // Scores every task 0.5 on calls 1 and 2 (steps 0 and 1), then fails as a crashing evaluator would.
    const script = `const [call, tasks] = process.argv.slice(1); if (Number(call) >= 3) { process.stderr.write('eval.py: CUDA out of memory on call ' + call + '\\n'); process.exit(7); } console.log(JSON.stringify(tasks.split(',').map(() => 0.5)));`;
    const evaluator = new ExternalEvaluator({
      command: `node -e "${script}" {call} {tasks}`,
      workDir: join(work, 'eval'),
    });
    const base = {
      stream: stream(V),
      base: vec([0, 0]),
      method: parseMethod('offline_merge'),
      stepsPerTask: 2,
      seed: 4,
      resumeDir: join(work, 'run'),
    };
    const trainer = new ScriptedTrainer();
    const err = await runTime({ ...base, trainer, evaluator }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeMergeError);
    expect((err as TimeMergeError).code).toBe('PIPELINE');
    expect((err as Error).message).toMatch(
      /^external evaluator: `node -e .* 3 task-1,task-2,task-3,zs-1` exited with code 7; stderr:\neval\.py: CUDA out of memory on call 3$/,
    );
    // Step 2 trained, then its evaluation failed: nothing of step 2 is recorded, so the rerun trains it again.
    expect(trainer.requests.map((r) => r.tasks[0].id)).toEqual(['task-1', 'task-2']);
    const again = new ScriptedTrainer();
    const resumed = await runTime({ ...base, trainer: again, evaluator: new RecordingEvaluator() });
    expect(again.requests.map((r) => r.tasks[0].id)).toEqual(['task-2', 'task-3']);
    expect(resumed.steps[1].scores).toEqual([0.5, 0.5, 0.5, 0.5]);
    expect(resumed.steps).toHaveLength(4);
  });

  it('reports a command that cannot be started', async () => {
    const work = await tempDir();
    const t = new ExternalTrainer({ command: 'definitely-not-a-program-xyz {init} {out}', workDir: work });
    await expect(
      runTime({
        stream: stream(V),
        trainer: t,
        evaluator: new RecordingEvaluator(),
        base: vec([0, 0]),
        method: parseMethod('finetune'),
        stepsPerTask: 1,
        seed: 0,
      }),
    ).rejects.toThrow(/cannot start "definitely-not-a-program-xyz"/);
  });
});
