import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TimeMergeError } from '../src/params/errors.js';
import { ParamSet } from '../src/params/paramset.js';
import {
  DiskStore,
  MemoryStore,
  MergeAllTracker,
  parseMethod,
  runBaseline,
  runTime,
  type CheckpointStore,
  type TimeEvent,
  type Trainer,
} from '../src/time/index.js';
import { RecordingEvaluator, ScriptedTrainer, stream, vec, values } from './time-helpers.js';

const V = [
  [1, 0],
  [0, 2],
  [4, 0],
  [-1, 3],
];
const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'time-pipe-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const common = { stream: stream(V), base: vec([0.5, -0.25]), stepsPerTask: 3, seed: 11 };

/** A trainer that is not linear in its init (so every stored bit matters) and can crash at one step. */
class TrickyTrainer implements Trainer<number[]> {
  calls = 0;
  constructor(private readonly crashAt?: number) {}
  async train(req: Parameters<ScriptedTrainer['train']>[0]) {
    this.calls++;
    if (this.crashAt !== undefined && this.calls === this.crashAt) throw new Error('power cut');
    const v = req.tasks[0].data;
    const r = (req.seed % 1000) / 1000;
    return {
      weights: req.init.map((d) => d.map((x, i) => Math.tanh(x * 0.9 + (v[i] ?? 0) / 3 + r)), 'expert'),
      steps: req.steps,
    };
  }
}

describe('resumable runs', () => {
  for (const name of ['ema_paint', 'offline_merge', 'deployed+merge-all:reverse-sqrt:with-base', 'ft_paint']) {
    it(`${name}: an interrupted run, resumed, gives bit-identical scores and deployed weights`, async () => {
      const method = parseMethod(name);
      const resumeDir = join(await tempDir(), 'run');
      const full = new RecordingEvaluator();
      const ref = await runTime({ ...common, method, trainer: new TrickyTrainer(), evaluator: full });

      const e1 = new RecordingEvaluator();
      await expect(
        runTime({ ...common, method, trainer: new TrickyTrainer(3), evaluator: e1, resumeDir }),
      ).rejects.toThrow('power cut');
      const e2 = new RecordingEvaluator();
      const events: TimeEvent[] = [];
      const trainer = new TrickyTrainer();
      const resumed = await runTime({
        ...common,
        method,
        trainer,
        evaluator: e2,
        resumeDir,
        onEvent: (e) => events.push(e),
      });

      expect(trainer.calls).toBe(2); // steps 3 and 4 only
      expect(events.filter((e) => e.type === 'resumed').map((e) => e.step)).toEqual([0, 1, 2]);
      expect(resumed.steps.map((s) => s.scores)).toEqual(ref.steps.map((s) => s.scores));
      expect([resumed.final.aKa, resumed.final.aZs, resumed.final.forgetting, resumed.final.fwt]).toEqual([
        ref.final.aKa,
        ref.final.aZs,
        ref.final.forgetting,
        ref.final.fwt,
      ]);
      // the deployed models evaluated: steps 0..2 before the crash, then 3..4 after it
      expect([...e1.seen, ...e2.seen]).toEqual(full.seen);

      // running again finds everything done
      const again = new TrickyTrainer();
      const third = await runTime({
        ...common,
        method,
        trainer: again,
        evaluator: new RecordingEvaluator(),
        resumeDir,
      });
      expect(again.calls).toBe(0);
      expect(third.steps.map((s) => s.scores)).toEqual(ref.steps.map((s) => s.scores));
    });
  }

  it('refuses to resume a different configuration, naming what changed', async () => {
    const resumeDir = join(await tempDir(), 'run');
    await runTime({
      ...common,
      method: parseMethod('ema_paint'),
      trainer: new ScriptedTrainer(),
      evaluator: new RecordingEvaluator(),
      resumeDir,
    });
    const attempt = (over: object) =>
      runTime({
        ...common,
        method: parseMethod('ema_paint'),
        trainer: new ScriptedTrainer(),
        evaluator: new RecordingEvaluator(),
        resumeDir,
        ...over,
      });
    await expect(attempt({ seed: 12 })).rejects.toThrow(/seed: recorded 11, now 12/);
    await expect(attempt({ method: parseMethod('finetune') })).rejects.toThrow(/different run/);
    await expect(attempt({ base: vec([0.5, -0.2]) })).rejects.toThrow(/base: recorded/);
    await expect(attempt({ store: { kind: 'memory' } })).rejects.toThrow(/needs a disk store/);
    const log = JSON.parse(await readFile(join(resumeDir, 'run.json'), 'utf8'));
    expect(log.steps.map((s: { step: number }) => s.step)).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('checkpoint stores', () => {
  it('disk and memory stores give bit-identical runs; merge-all over disk reads experts back', async () => {
    for (const name of ['offline_merge', 'base+merge-all:reverse-linear', 'ema+merge-all:exp:with-base']) {
      const method = parseMethod(name, { technique: 'task-arithmetic', params: { lambda: 0.7 } });
      const em = new RecordingEvaluator();
      const ed = new RecordingEvaluator();
      const mem = await runTime({ ...common, method, trainer: new TrickyTrainer(), evaluator: em });
      const disk = await runTime({
        ...common,
        method,
        trainer: new TrickyTrainer(),
        evaluator: ed,
        store: { kind: 'disk', dir: join(await tempDir(), 's') },
      });
      expect(ed.seen).toEqual(em.seen);
      expect(disk.steps.map((s) => s.scores)).toEqual(mem.steps.map((s) => s.scores));
      expect(disk.final.bytesStored).toBeGreaterThan(4 * 2 * 4); // 4 experts of 2 float32 plus headers
    }
  });

  it('counts bytes: merge-all with reverse weights re-reads every stored expert, running forms read nothing', async () => {
    const rev = await runTime({
      ...common,
      method: parseMethod('base+merge-all:reverse-linear'),
      trainer: new ScriptedTrainer(),
      evaluator: new RecordingEvaluator(),
    });
    // step t reads t experts of 2 float32 values
    expect(rev.steps.slice(1).map((s) => s.bytesRead)).toEqual([8, 16, 24, 32]);
    expect(rev.steps.slice(1).map((s) => s.bytesStored)).toEqual([8, 8, 8, 8]);
    for (const name of ['offline_merge', 'ema_paint', 'base+merge-all:linear']) {
      const r = await runTime({
        ...common,
        method: parseMethod(name),
        trainer: new ScriptedTrainer(),
        evaluator: new RecordingEvaluator(),
      });
      expect(r.final.bytesRead, name).toBe(0);
    }
  });
});

describe('the five-stage loop', () => {
  it('emits start/end events for init, train, store, deploy, eval in order at every step', async () => {
    const events: TimeEvent[] = [];
    await runTime({
      ...common,
      method: parseMethod('ema_paint'),
      trainer: new ScriptedTrainer(),
      evaluator: new RecordingEvaluator(),
      onEvent: (e) => events.push(e),
    });
    const step2 = events
      .filter((e) => e.type === 'stage' && e.step === 2)
      .map((e) => (e.type === 'stage' ? `${e.phase}:${e.stage}` : ''));
    expect(step2).toEqual([
      'start:init',
      'end:init',
      'start:train',
      'end:train',
      'start:store',
      'end:store',
      'start:deploy',
      'end:deploy',
      'start:eval',
      'end:eval',
    ]);
    expect(events.filter((e) => e.type === 'step').map((e) => e.step)).toEqual([0, 1, 2, 3, 4]);
    for (const e of events) if (e.type === 'stage' && e.phase === 'end') expect(e.seconds).toBeGreaterThanOrEqual(0);
  });

  it('records metrics per step and the label, protocols and technique of the run', async () => {
    const r = await runTime({
      ...common,
      method: parseMethod('ema+merge-all:linear', { technique: 'task-arithmetic' }),
      trainer: new ScriptedTrainer(),
      evaluator: new RecordingEvaluator(),
    });
    expect([r.method, r.init, r.deploy, r.technique, r.T, r.seed]).toEqual([
      'ema:0.5+merge-all:linear',
      'ema:0.5',
      'merge-all:linear',
      'task-arithmetic',
      4,
      11,
    ]);
    expect(r.steps.map((s) => s.step)).toEqual([0, 1, 2, 3, 4]);
    for (const s of r.steps) {
      const ka = s.scores.slice(0, 4).reduce((a, b) => a + b, 0) / 4;
      expect(s.aKa).toBeCloseTo(ka, 12);
      expect(s.aZs).toBe(s.scores[4]);
      expect(s.gm).toBeCloseTo(Math.sqrt(ka * s.scores[4]), 12);
    }
    expect(r.final.trainSteps).toBe(12);
    expect(r.tasks.map((t) => t.role)).toEqual(['adaptation', 'adaptation', 'adaptation', 'adaptation', 'zeroshot']);
  });

  it('rejects bad configurations and bad trainer or evaluator output with named errors', async () => {
    const ok = {
      ...common,
      method: parseMethod('finetune'),
      trainer: new ScriptedTrainer(),
      evaluator: new RecordingEvaluator(),
    };
    await expect(runTime({ ...ok, stepsPerTask: -1 })).rejects.toThrow(/stepsPerTask/);
    await expect(runTime({ ...ok, method: parseMethod('finetune', { technique: 'nope' }) })).rejects.toThrow(
      /unknown merge technique "nope"/,
    );
    await expect(runTime({ ...ok, stream: { ...stream(V), adaptation: [] } })).rejects.toThrow(/no adaptation tasks/);
    await expect(runTime({ ...ok, replay: { pretrain: 0, current: 0, buffer: 0 } })).rejects.toThrow(/replay/);
    const badShape: Trainer<number[]> = { train: async () => ({ weights: vec([1, 2, 3]), steps: 1 }) };
    const e = await runTime({ ...ok, trainer: badShape }).catch((x: unknown) => x);
    expect((e as TimeMergeError).code).toBe('PIPELINE');
    expect((e as Error).message).toMatch(/trainer output at step 1 does not match/);
    const nan: Trainer<number[]> = { train: async () => ({ weights: vec([NaN, 0]), steps: 1 }) };
    await expect(runTime({ ...ok, trainer: nan })).rejects.toThrow(/non-finite value/);
    await expect(runTime({ ...ok, evaluator: { evaluate: async () => [2, 0, 0, 0, 0] } })).rejects.toThrow(
      /not in \[0, 1\]/,
    );
    await expect(runTime({ ...ok, evaluator: { evaluate: async () => [0.5] } })).rejects.toThrow(
      /1 scores for 5 tasks/,
    );
  });
});

describe('baselines', () => {
  it('zeroshot evaluates θ0 only; continual equals finetune; multitask trains once with the whole budget', async () => {
    const zs = await runBaseline('zeroshot', {
      ...common,
      trainer: new ScriptedTrainer(),
      evaluator: new RecordingEvaluator(),
    });
    expect(zs.steps.map((s) => s.step)).toEqual([0]);
    expect([zs.method, zs.init, zs.deploy, zs.technique, zs.final.forgetting]).toEqual([
      'zeroshot',
      '-',
      '-',
      '-',
      null,
    ]);

    const ft = await runTime({
      ...common,
      method: parseMethod('finetune'),
      trainer: new ScriptedTrainer(),
      evaluator: new RecordingEvaluator(),
    });
    const cont = await runBaseline('continual', {
      ...common,
      trainer: new ScriptedTrainer(),
      evaluator: new RecordingEvaluator(),
    });
    expect(cont.method).toBe('continual');
    expect(cont.steps.map((s) => s.scores)).toEqual(ft.steps.map((s) => s.scores));

    const trainer = new ScriptedTrainer();
    const ev = new RecordingEvaluator();
    const mt = await runBaseline('multitask', { ...common, trainer, evaluator: ev });
    expect(trainer.requests).toHaveLength(1);
    expect(trainer.requests[0].steps).toBe(12);
    expect(trainer.requests[0].tasks.map((t) => t.id)).toEqual(['task-1', 'task-2', 'task-3', 'task-4']);
    expect(values(vec(ev.seen[1]))).toEqual([0.5 + 4, -0.25 + 5]); // θ0 + Σ v
    expect(mt.steps.map((s) => s.step)).toEqual([0, 4]);
    expect(mt.final.trainSteps).toBe(12);
  });
});

/** A store that forwards to `inner` and records every tensor read from an opened expert as `name@step`. */
function recordingStore(inner: CheckpointStore): { store: CheckpointStore; reads: string[]; loads: number[] } {
  const reads: string[] = [];
  const loads: number[] = [];
  const store: CheckpointStore = {
    kind: inner.kind,
    steps: () => inner.steps(),
    put: (s, e) => inner.put(s, e),
    load: (s) => (loads.push(s), inner.load(s)),
    get bytesRead() {
      return inner.bytesRead;
    },
    get bytesStored() {
      return inner.bytesStored;
    },
    async open(s) {
      const o = await inner.open(s);
      const read = async (n: string) => (reads.push(`${n}@${s}`), o.source.read(n));
      return {
        close: () => o.close(),
        source: { label: o.source.label, tensorInfos: () => o.source.tensorInfos(), read },
      };
    },
  };
  return { store, reads, loads };
}

const mk = (x: number) =>
  ParamSet.fromEntries([
    ['a', { shape: [2], data: Float32Array.of(x, x) }],
    ['b', { shape: [1], data: Float32Array.of(-x) }],
    ['c', { shape: [3], data: Float32Array.of(x, 0, x) }],
  ]);

describe('merge-all recomputed from the store', () => {
  it('streams tensor by tensor: every expert gives tensor k before any expert gives tensor k+1', async () => {
    const { store, reads } = recordingStore(new MemoryStore());
    const tracker = new MergeAllTracker('reverse-linear', false, {
      base: mk(0),
      store,
      merge: { technique: 'weighted-average' },
    });
    for (let t = 1; t <= 3; t++) {
      await store.put(t, mk(t));
      await tracker.add(mk(t), t);
    }
    reads.length = 0;
    const merged = await tracker.current();
    expect(reads).toEqual(['a@1', 'a@2', 'a@3', 'b@1', 'b@2', 'b@3', 'c@1', 'c@2', 'c@3']);
    // reverse-linear weights 3, 2, 1 over experts 1, 2, 3: (3·1 + 2·2 + 1·3) / 6
    for (const x of merged.data('a')) expect(x).toBeCloseTo(10 / 6, 6);
  });

  it('over a disk store of 12 experts: file-backed reads, tensor by tensor, never a whole expert loaded', async () => {
    const T = 12;
    const { store, reads, loads } = recordingStore(await DiskStore.open(join(await tempDir(), 'experts')));
    const tracker = new MergeAllTracker('reverse-linear', false, {
      base: mk(0),
      store,
      merge: { technique: 'ties', params: { density: 1 } },
    });
    for (let t = 1; t <= T; t++) {
      await store.put(t, mk(t));
      await tracker.add(mk(t), t);
    }
    reads.length = 0;
    const read0 = store.bytesRead;
    const merged = await tracker.current();
    const steps = Array.from({ length: T }, (_, i) => i + 1);
    expect(reads).toEqual(['a', 'b', 'c'].flatMap((n) => steps.map((s) => `${n}@${s}`)));
    expect(loads).toEqual([]);
    // Each expert handed out exactly its 6 float32 values, once: nothing else was read.
    expect(store.bytesRead - read0).toBe(T * 6 * 4);
    // TIES with density 1 and all task vectors of one sign: the weighted mean of the experts, weights
    // 12, 11, ..., 1 (reverse-linear): Σ (13 - t)·t / Σ (13 - t) = 364 / 78.
    for (const x of merged.data('a')) expect(x).toBeCloseTo(364 / 78, 5);
    expect([...merged.data('b')][0]).toBeCloseTo(-364 / 78, 5);
  });
});
