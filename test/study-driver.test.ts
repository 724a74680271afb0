import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fc, test as fcTest } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driveRuns, type GridRun } from '../src/study/driver.js';
import { expandSeedGrid } from '../src/study/expand.js';
import { writeStudyFolder } from '../src/study/output.js';
import { parseGpus, runSlots, slotPlan } from '../src/study/slots.js';
import type { RunRecord } from '../src/time/record.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'study-driver-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A finished one-task run whose score is a function of its id, so kept and redone runs can be told apart. */
function record(runId: string, score: number): RunRecord {
  const step = (s: number) => ({
    step: s,
    aKa: score,
    aZs: null,
    gm: null,
    scores: [score],
    trainSteps: s,
    trainSeconds: 0,
    mergeSeconds: 0,
    evalSeconds: 0,
    bytesRead: 0,
    bytesStored: 0,
  });
  return {
    method: runId.split('-')[0],
    init: '-',
    deploy: '-',
    technique: '-',
    seed: 0,
    T: 1,
    stream: 's',
    tasks: [{ id: 't1', role: 'adaptation' }],
    steps: [step(0), step(1)],
    final: {
      aKa: score,
      aZs: null,
      gm: null,
      forgetting: null,
      bwt: null,
      fwt: null,
      trainSteps: 1,
      mergeSeconds: 0,
      bytesRead: 0,
      bytesStored: 0,
      wallSeconds: 0,
    },
  } as RunRecord;
}

describe('run slots', () => {
  fcTest.prop([
    fc.integer({ min: 1, max: 12 }),
    fc.integer({ min: 1, max: 5 }),
    fc.array(fc.nat(3), { maxLength: 12 }),
  ])('runs every item once, never two at once on a slot, and up to `count` at once', async (n, count, delays) => {
    const busy = new Set<number>();
    let most = 0;
    const ran: number[] = [];
    await runSlots(
      Array.from({ length: n }, (_, i) => i),
      count,
      async (item, slot) => {
        expect(busy.has(slot), `slot ${slot} already busy`).toBe(false);
        busy.add(slot);
        most = Math.max(most, busy.size);
        await sleep(delays[item] ?? 1);
        busy.delete(slot);
        return item * 10;
      },
      (item, out) => {
        expect(out).toBe(item * 10);
        ran.push(item);
      },
    );
    expect([...ran].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(most).toBeLessThanOrEqual(count);
    expect(most).toBe(Math.min(count, n));
  });

  it('after a failure takes no more items, lets the ones in flight finish, then throws the first error', async () => {
    const done: number[] = [];
    const started: number[] = [];
    await expect(
      runSlots(
        [0, 1, 2, 3, 4],
        2,
        async (item) => {
          started.push(item);
          if (item === 0) throw new Error('run 0 broke');
          await sleep(20);
          return item;
        },
        (item) => {
          done.push(item);
        },
      ),
    ).rejects.toThrow('run 0 broke');
    // Slot 0 failed at once; slot 1's run 1 was in flight and is kept; nothing else started.
    expect(started).toEqual([0, 1]);
    expect(done).toEqual([1]);
  });
});

describe('--gpus and --workers', () => {
  it('parses GPU lists and rejects empty, non-integer and repeated entries', () => {
    expect(parseGpus('0,1,3')).toEqual([0, 1, 3]);
    expect(parseGpus(' 2 ')).toEqual([2]);
    expect(() => parseGpus('')).toThrow('--gpus "": expected GPU numbers separated by commas, e.g. 0,1,2,3');
    expect(() => parseGpus('0,,1')).toThrow(/expected GPU numbers separated by commas/);
    expect(() => parseGpus('0,1.5')).toThrow('--gpus "0,1.5": "1.5" is not a GPU number (a non-negative integer)');
    expect(() => parseGpus('a')).toThrow(/"a" is not a GPU number/);
    expect(() => parseGpus('-1')).toThrow(/"-1" is not a GPU number/);
    expect(() => parseGpus('0,1,0')).toThrow('--gpus "0,1,0": GPU 0 is listed twice (each GPU runs one run at a time)');
  });

  it('gives one slot per GPU, n slots for --workers n, one by default, and refuses both', () => {
    expect(slotPlan()).toEqual({ count: 1 });
    expect(slotPlan('3')).toEqual({ count: 3 });
    expect(slotPlan(undefined, '4,5')).toEqual({ count: 2, gpus: [4, 5] });
    expect(() => slotPlan('0')).toThrow('--workers "0" must be a positive integer');
    expect(() => slotPlan('2', '0,1')).toThrow(/--workers and --gpus both set the runs at once/);
  });
});

describe('the study driver', () => {
  const grid = expandSeedGrid(
    { seeds: [0, 1], baselines: ['zeroshot'], methods: ['finetune', 'ema_paint'] },
    (_k, m, s) => `${m}-s${s}`,
  );
  const specs = (fingerprint?: string): (GridRun & { score: number })[] =>
    grid.map((r) => ({ ...r, params: { steps: 3 }, score: r.index / 10, ...(fingerprint ? { fingerprint } : {}) }));

  /** An executor whose runs score index/10; `failOn` makes one run throw, as a killed study would lose it. */
  function executor(log: string[], failOn?: string) {
    return async () => ({
      slots: 2,
      run: async (spec: GridRun & { score: number }) => {
        log.push(spec.runId);
        await sleep(2);
        if (spec.runId === failOn) throw new Error(`${spec.runId} was killed`);
        return { record: record(spec.runId, spec.score) };
      },
      close: async () => {},
    });
  }

  async function finish(out: string, d: Awaited<ReturnType<typeof driveRuns>>, fingerprints = false) {
    await writeStudyFolder(out, 'drv', d.results, {
      config: fingerprints ? { run_fingerprints: d.fingerprints } : {},
      suffix: d.suffix,
      journal: d.journal,
    });
  }

  it('orders the grid per seed: baselines, then methods', () => {
    expect(grid.map((r) => r.runId)).toEqual([
      'zeroshot-s0',
      'finetune-s0',
      'ema_paint-s0',
      'zeroshot-s1',
      'finetune-s1',
      'ema_paint-s1',
    ]);
    expect(() => expandSeedGrid({ seeds: [0, 0], baselines: [], methods: ['a'] }, (_k, m, s) => `${m}-s${s}`)).toThrow(
      'study: run id "a-s0" appears twice (a method or seed listed twice?)',
    );
  });

  it('after a killed run, a rerun redoes only the runs that did not finish', async () => {
    const out = join(root, 'killed');
    const first: string[] = [];
    await expect(driveRuns(specs(), executor(first, 'finetune-s1'), { out })).rejects.toThrow('finetune-s1 was killed');
    // The journal holds what finished; the rerun executes only the rest.
    const journal = await readFile(join(out, '.journal.ndjson'), 'utf8');
    const finished = journal
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { runId: string }).runId);
    expect(finished).not.toContain('finetune-s1');
    const second: string[] = [];
    const d = await driveRuns(specs(), executor(second), { out });
    expect(new Set(second)).toEqual(new Set(grid.map((r) => r.runId).filter((id) => !finished.includes(id))));
    expect(d.executed + d.kept).toBe(6);
    expect(d.results.map((r) => r.runId)).toEqual(grid.map((r) => r.runId));
    expect(d.results.map((r) => r.record.final.aKa)).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5]);
    await finish(out, d);
    // Finished in the CSVs now: a third pass runs nothing.
    const third: string[] = [];
    expect((await driveRuns(specs(), executor(third), { out })).kept).toBe(6);
    expect(third).toEqual([]);
    // resume: false runs everything again.
    const fourth: string[] = [];
    expect((await driveRuns(specs(), executor(fourth), { out, resume: false })).executed).toBe(6);
    expect(fourth).toHaveLength(6);
  });

  it('keeps a finished run only when its params and fingerprint match', async () => {
    const out = join(root, 'fingerprints');
    await finish(out, await driveRuns(specs('a'), executor([]), { out }), true);
    const same: string[] = [];
    expect((await driveRuns(specs('a'), executor(same), { out })).kept).toBe(6);
    const edited: string[] = [];
    const d = await driveRuns(specs('b'), executor(edited), { out });
    expect([d.kept, edited.length]).toEqual([0, 6]);
    const steps: string[] = [];
    const moreSteps = specs('a').map((s) => ({ ...s, params: { steps: 4 } }));
    expect((await driveRuns(moreSteps, executor(steps), { out })).executed).toBe(6);
  });

  it('shard 1/2 and 2/2 together are the whole study', async () => {
    const whole = await driveRuns(specs(), executor([]), { out: join(root, 'whole') });
    const parts = [];
    for (const index of [1, 2]) {
      const out = join(root, 'sharded');
      const d = await driveRuns(specs(), executor([]), { out, shard: { index, count: 2 } });
      expect(d.suffix).toBe(`shard-${index}-of-2`);
      await finish(out, d);
      parts.push(...d.results);
    }
    expect(parts.map((r) => r.runId).sort()).toEqual(whole.results.map((r) => r.runId).sort());
    const byId = new Map(parts.map((r) => [r.runId, r.record.final.aKa]));
    for (const r of whole.results) expect(byId.get(r.runId)).toBe(r.record.final.aKa);
    const shard1 = await readFile(join(root, 'sharded', 'runs.shard-1-of-2.csv'), 'utf8');
    expect(shard1).toMatch(/^run_id,/);
  });
});
