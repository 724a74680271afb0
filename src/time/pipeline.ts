import seedrandom from 'seedrandom';
import { resolveMerge, type MergeSpec } from '../merge/engine.js';
import { fail, TimeMergeError } from '../params/errors.js';
import { assertSameStructure, type ParamSet } from '../params/paramset.js';
import type { Evaluator, ReplayMix, Task, TaskStream, Trainer } from './types.js';
import { NO_REPLAY } from './types.js';
import { continualMetrics, stepMetrics } from './metrics.js';
import { checkMethod, initLabel, initStart, deployLabel, methodLabel, parseMethod, type Method } from './method.js';
import { mergeCountProblem, type DeployProtocol } from './protocols.js';
import type { RunRecord, StepRecord } from './record.js';
import { createStore, type StoreSpec } from './store-factory.js';
import type { CheckpointStore } from './store.js';
import { makeTracker, trackerKey, type Tracker, type TrackerContext } from './trackers.js';
import { ResumeLog, runFingerprint } from './resume.js';
import { BASELINES, isBaseline, type Baseline } from './baselines.js';

export type Stage = 'init' | 'train' | 'store' | 'deploy' | 'eval';
export const STAGES: readonly Stage[] = ['init', 'train', 'store', 'deploy', 'eval'];

/** Progress of a run, for progress bars and logs. `seconds` is set on 'end'. */
export type TimeEvent =
  | {
      readonly type: 'stage';
      readonly phase: 'start' | 'end';
      readonly stage: Stage;
      readonly step: number;
      readonly T: number;
      readonly seconds?: number;
    }
  | { readonly type: 'step'; readonly step: number; readonly T: number; readonly record: StepRecord }
  | { readonly type: 'resumed'; readonly step: number; readonly T: number };

export interface RunConfig<D = unknown> {
  readonly stream: TaskStream<D>;
  readonly trainer: Trainer<D>;
  readonly evaluator: Evaluator<D>;
  readonly base: ParamSet;
  readonly stepsPerTask: number;
  readonly seed: number;
  readonly replay?: ReplayMix;
  /** Where experts go; default memory. With resumeDir the store must be on disk (default: resumeDir/experts). */
  readonly store?: StoreSpec;
  /** Records each completed step here; a rerun with the same config skips finished steps. */
  readonly resumeDir?: string;
  /** What else decides the scores (the trainer's and evaluator's settings): a resumed run must match each. */
  readonly settings?: Readonly<Record<string, unknown>>;
  readonly onEvent?: (e: TimeEvent) => void;
}

export interface TimeConfig<D = unknown> extends RunConfig<D> {
  readonly method: Method;
}

/** The seed handed to the trainer at step t (t = 0 for the multitask baseline's single call). */
export function trainSeed(seed: number, step: number): number {
  return seedrandom(`${seed}/train/${step}`).int32() >>> 0;
}

function now(): number {
  return performance.now() / 1000;
}

function checkConfig(c: RunConfig): void {
  if (c.stream.adaptation.length < 1) fail('CONFIG', `stream "${c.stream.name}" has no adaptation tasks`);
  if (!Number.isInteger(c.stepsPerTask) || c.stepsPerTask < 0)
    fail('CONFIG', `stepsPerTask must be a non-negative integer, got ${c.stepsPerTask}`);
  if (!Number.isFinite(c.seed)) fail('CONFIG', `seed ${c.seed} is not a finite number`);
  const r = c.replay ?? NO_REPLAY;
  for (const [k, v] of Object.entries(r))
    if (!(Number.isFinite(v) && v >= 0)) fail('CONFIG', `replay.${k} must be a non-negative number, got ${v}`);
  if (r.pretrain + r.current + r.buffer <= 0) fail('CONFIG', 'replay proportions sum to zero');
  const ids = new Set<string>();
  for (const t of [...c.stream.adaptation, ...c.stream.zeroshot]) {
    if (ids.has(t.id)) fail('CONFIG', `stream "${c.stream.name}": task id "${t.id}" appears twice`);
    ids.add(t.id);
  }
  for (const t of c.stream.adaptation)
    if (t.role !== 'adaptation')
      fail('CONFIG', `stream "${c.stream.name}": task "${t.id}" is in the adaptation list with role ${t.role}`);
  for (const t of c.stream.zeroshot)
    if (t.role !== 'zeroshot')
      fail('CONFIG', `stream "${c.stream.name}": task "${t.id}" is in the zeroshot list with role ${t.role}`);
}

async function evaluate<D>(
  c: RunConfig<D>,
  weights: ParamSet,
  tasks: readonly Task<D>[],
  step: number,
): Promise<number[]> {
  const scores = await c.evaluator.evaluate(weights, tasks);
  if (!Array.isArray(scores) || scores.length !== tasks.length) {
    fail(
      'PIPELINE',
      `evaluator returned ${Array.isArray(scores) ? scores.length : typeof scores} scores for ${tasks.length} tasks at step ${step}`,
    );
  }
  scores.forEach((s, i) => {
    if (typeof s !== 'number' || !(s >= 0 && s <= 1))
      fail('PIPELINE', `evaluator score for task "${tasks[i].id}" at step ${step} is ${s}, not in [0, 1]`);
  });
  return scores;
}

/** Runs one stage, emitting start/end events, and returns its result and duration. */
async function stage<T>(c: RunConfig, s: Stage, step: number, T: number, fn: () => Promise<T>): Promise<[T, number]> {
  c.onEvent?.({ type: 'stage', phase: 'start', stage: s, step, T });
  const t0 = now();
  const out = await fn();
  const seconds = now() - t0;
  c.onEvent?.({ type: 'stage', phase: 'end', stage: s, step, T, seconds });
  return [out, seconds];
}

function stepRecord(
  step: number,
  scores: number[],
  nAdapt: number,
  cost: Omit<StepRecord, 'step' | 'scores' | 'aKa' | 'aZs' | 'gm'>,
): StepRecord {
  return { step, scores, ...stepMetrics(scores, nAdapt), ...cost };
}

const ZERO_COST = { trainSteps: 0, trainSeconds: 0, mergeSeconds: 0, evalSeconds: 0, bytesRead: 0, bytesStored: 0 };

function finish(
  head: Omit<RunRecord, 'steps' | 'final' | 'tasks' | 'T' | 'stream' | 'seed'>,
  c: RunConfig,
  steps: StepRecord[],
  wallSeconds: number,
  sequential: boolean,
): RunRecord {
  const nAdapt = c.stream.adaptation.length;
  const last = steps[steps.length - 1];
  const cm = sequential
    ? continualMetrics(steps.map((s) => s.scores.slice(0, nAdapt)))
    : { forgetting: null, bwt: null, fwt: null };
  const sum = (k: 'trainSteps' | 'mergeSeconds' | 'bytesRead' | 'bytesStored') => steps.reduce((a, s) => a + s[k], 0);
  return {
    ...head,
    seed: c.seed,
    T: nAdapt,
    stream: c.stream.name,
    tasks: [...c.stream.adaptation, ...c.stream.zeroshot].map((t) => ({ id: t.id, role: t.role })),
    steps,
    final: {
      aKa: last.aKa,
      aZs: last.aZs,
      gm: last.gm,
      ...cm,
      trainSteps: sum('trainSteps'),
      mergeSeconds: sum('mergeSeconds'),
      bytesRead: sum('bytesRead'),
      bytesStored: sum('bytesStored'),
      wallSeconds,
    },
  };
}

/**
 * The TIME loop (DESIGN.md section 1): for t = 1..T, init -> train -> store -> deploy -> eval, with θ0
 * evaluated first as step 0. Init and deploy protocols share a tracker when they are the same
 * computation (e.g. ema_paint trains from and deploys one EMA).
 */
export async function runTime<D>(config: TimeConfig<D>): Promise<RunRecord> {
  const c = config;
  checkConfig(c);
  const m = c.method;
  checkMethod(m);
  // A bad technique name or parameter is a CONFIG error now, not after the first training step.
  const technique = resolveMerge({ ...m.merge, weights: undefined }, 2).technique;
  const T = c.stream.adaptation.length;
  const nAdapt = T;
  const tooMany = mergeCountProblem(m, technique, T);
  if (tooMany) fail('CONFIG', tooMany);
  const allTasks = [...c.stream.adaptation, ...c.stream.zeroshot];
  const wall0 = now();

  const store: CheckpointStore = await createStore(c.store, c.resumeDir);
  const ctx: TrackerContext = { base: c.base, store, merge: m.merge };
  const trackers = new Map<string, Tracker>();
  const tracker = (d: DeployProtocol): Tracker => {
    const k = trackerKey(d);
    let tr = trackers.get(k);
    if (!tr) trackers.set(k, (tr = makeTracker(d, ctx)));
    return tr;
  };
  const deployTracker = tracker(m.deploy);
  const start = initStart(m);
  const initTracker = start === 'base' ? undefined : start === 'deployed' ? deployTracker : tracker(start);

  const head = { method: methodLabel(m), init: initLabel(m), deploy: deployLabel(m.deploy), technique: technique.name };
  const log = c.resumeDir ? await ResumeLog.open(c.resumeDir, await runFingerprint(c, head)) : undefined;
  const done = [...(log?.steps ?? [])];
  const steps: StepRecord[] = [];

  if (done.length > 0) {
    steps.push(done[0]);
    c.onEvent?.({ type: 'resumed', step: 0, T });
  } else {
    const [scores, evalSeconds] = await stage(c, 'eval', 0, T, () => evaluate(c, c.base, allTasks, 0));
    steps.push(stepRecord(0, scores, nAdapt, { ...ZERO_COST, evalSeconds }));
    await log?.append(steps[0]);
    c.onEvent?.({ type: 'step', step: 0, T, record: steps[0] });
  }

  for (let t = 1; t <= T; t++) {
    if (t < done.length) {
      // Finished earlier: rebuild the trackers' state from the stored expert, exactly as it was built.
      const expert = await store.load(t);
      for (const tr of trackers.values()) await tr.add(expert, t);
      steps.push(done[t]);
      c.onEvent?.({ type: 'resumed', step: t, T });
      continue;
    }
    const read0 = store.bytesRead;
    const stored0 = store.bytesStored;
    const [init, initSeconds] = await stage(c, 'init', t, T, async () =>
      initTracker ? initTracker.current() : c.base,
    );
    const [result, trainSeconds] = await stage(c, 'train', t, T, () =>
      c.trainer.train({
        init,
        tasks: [c.stream.adaptation[t - 1]],
        previous: c.stream.adaptation.slice(0, t - 1),
        replay: c.replay ?? NO_REPLAY,
        steps: c.stepsPerTask,
        seed: trainSeed(c.seed, t),
      }),
    );
    const expert = checkExpert(c, result.weights, t);
    await stage(c, 'store', t, T, () => store.put(t, expert));
    const [deployed, deploySeconds] = await stage(c, 'deploy', t, T, async () => {
      for (const tr of trackers.values()) await tr.add(expert, t);
      return deployTracker.current();
    });
    const [scores, evalSeconds] = await stage(c, 'eval', t, T, () => evaluate(c, deployed, allTasks, t));
    const rec = stepRecord(t, scores, nAdapt, {
      trainSteps: result.steps,
      trainSeconds,
      mergeSeconds: initSeconds + deploySeconds,
      evalSeconds,
      bytesRead: store.bytesRead - read0,
      bytesStored: store.bytesStored - stored0,
    });
    steps.push(rec);
    await log?.append(rec);
    c.onEvent?.({ type: 'step', step: t, T, record: rec });
  }
  return finish(head, c, steps, now() - wall0, true);
}

function checkExpert(c: RunConfig, weights: ParamSet, step: number): ParamSet {
  try {
    assertSameStructure(c.base, [weights]);
  } catch (e) {
    if (e instanceof TimeMergeError)
      fail('PIPELINE', `trainer output at step ${step} does not match the base model: ${e.message}`);
    throw e;
  }
  for (const [name, t] of weights.entries()) {
    for (let i = 0; i < t.data.length; i++) {
      if (!Number.isFinite(t.data[i]))
        fail('PIPELINE', `trainer output at step ${step}: tensor "${name}" has a non-finite value at index ${i}`);
    }
  }
  return weights;
}

export { BASELINES, isBaseline, type Baseline } from './baselines.js';

/**
 * One run of a study grid, whatever the trainer: a baseline by its name, or a TIME method (a preset or
 * <init>+<deploy>) that merges with `merge`.
 */
export function runNamed<D>(
  kind: 'method' | 'baseline',
  name: string,
  config: RunConfig<D>,
  merge: MergeSpec,
): Promise<RunRecord> {
  return kind === 'baseline'
    ? runBaseline(name as Baseline, config)
    : runTime({ ...config, method: parseMethod(name, merge) });
}

/**
 * zeroshot: θ0 evaluated once (step 0 only). continual: sequential fine-tuning (init last, deploy last).
 * multitask: one training call on every adaptation task with the whole budget T·stepsPerTask from θ0,
 * recorded as step 0 (θ0) and step T; forgetting/bwt/fwt are null for it and for zeroshot.
 */
export async function runBaseline<D>(kind: Baseline, config: RunConfig<D>): Promise<RunRecord> {
  const c = config;
  checkConfig(c);
  const T = c.stream.adaptation.length;
  const allTasks = [...c.stream.adaptation, ...c.stream.zeroshot];
  if (!isBaseline(kind)) fail('CONFIG', `unknown baseline "${String(kind)}" (known: ${BASELINES.join(', ')})`);
  const head = { method: kind, init: '-', deploy: '-', technique: '-' };
  if (kind === 'continual') {
    const r = await runTime({
      ...c,
      method: { init: 'last', deploy: { kind: 'last' }, merge: { technique: 'weighted-average' } },
    });
    return { ...r, ...head };
  }
  if (c.resumeDir) fail('CONFIG', `baseline ${kind}: resumeDir is only supported for sequential runs`);
  const wall0 = now();
  const [scores0, eval0] = await stage(c, 'eval', 0, T, () => evaluate(c, c.base, allTasks, 0));
  const steps = [stepRecord(0, scores0, T, { ...ZERO_COST, evalSeconds: eval0 })];
  c.onEvent?.({ type: 'step', step: 0, T, record: steps[0] });
  if (kind === 'multitask') {
    const [result, trainSeconds] = await stage(c, 'train', T, T, () =>
      c.trainer.train({
        init: c.base,
        tasks: c.stream.adaptation,
        previous: [],
        replay: c.replay ?? NO_REPLAY,
        steps: T * c.stepsPerTask,
        seed: trainSeed(c.seed, 0),
      }),
    );
    const expert = checkExpert(c, result.weights, T);
    const [scores, evalSeconds] = await stage(c, 'eval', T, T, () => evaluate(c, expert, allTasks, T));
    steps.push(stepRecord(T, scores, T, { ...ZERO_COST, trainSteps: result.steps, trainSeconds, evalSeconds }));
    c.onEvent?.({ type: 'step', step: T, T, record: steps[1] });
  }
  return finish(head, c, steps, now() - wall0, false);
}
