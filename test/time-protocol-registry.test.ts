/**
 * Every registered protocol, read from the registry: a protocol added there is covered here without
 * editing this file. Laws: names and options round-trip through labels; a deploy protocol used as an
 * init protocol is the same computation (one shared tracker); trackers start at θ0; a protocol that
 * merges nothing gives the same models under every technique; the merge-all model count is checked.
 */
import { describe, expect, it } from 'vitest';
import { TimeMergeError } from '../src/params/errors.js';
import { getTechnique } from '../src/merge/registry.js';
import { methodMerges, initStart, sameRunKey } from '../src/time/method.js';
import {
  DEPLOY_KINDS,
  DEPLOY_PROTOCOLS,
  INIT_PROTOCOLS,
  INIT_PROTOCOL_DEFS,
  checkMethod,
  deployLabel,
  initLabel,
  makeTracker,
  MemoryStore,
  methodLabel,
  parseDeploy,
  parseMethod,
  runTime,
  trackerKey,
  type DeployProtocol,
} from '../src/time/index.js';
import { mergeCountProblem } from '../src/time/protocols.js';
import { RecordingEvaluator, ScriptedTrainer, stream, values, vec } from './time-helpers.js';

const spellings = DEPLOY_PROTOCOLS.flatMap((d) => [d.kind, ...d.examples].map((text) => ({ def: d, text })));
const V = [
  [1, 0],
  [0, 2],
  [4, -1],
];

function configError(fn: () => unknown): TimeMergeError {
  try {
    fn();
  } catch (e) {
    if (e instanceof TimeMergeError && e.code === 'CONFIG') return e;
    throw e;
  }
  throw new Error('expected a CONFIG error');
}

async function deployedModels(method: string, technique: string) {
  const evaluator = new RecordingEvaluator();
  const trainer = new ScriptedTrainer();
  await runTime({
    stream: stream(V),
    trainer,
    evaluator,
    base: vec([0, 0]),
    method: parseMethod(method, { technique }),
    stepsPerTask: 1,
    seed: 3,
  });
  return { deployed: evaluator.seen, inits: trainer.inits };
}

describe('protocol registry', () => {
  it('lists unique names, and the error for an unknown one names them all', () => {
    expect(new Set(DEPLOY_KINDS).size).toBe(DEPLOY_KINDS.length);
    expect(new Set(INIT_PROTOCOLS).size).toBe(INIT_PROTOCOLS.length);
    expect(configError(() => parseMethod('base+nope')).message).toContain(`(known: ${DEPLOY_KINDS.join(', ')})`);
    expect(configError(() => parseMethod('nope+last')).message).toContain(`(known: ${INIT_PROTOCOLS.join(', ')})`);
    // Every deploy protocol also serves as an init protocol.
    for (const k of DEPLOY_KINDS) expect(INIT_PROTOCOLS).toContain(k);
  });

  for (const { def, text } of spellings) {
    it(`deploy ${text}: parses, labels and checks round-trip`, () => {
      const p = parseDeploy(text);
      expect(p.kind).toBe(def.kind);
      expect(parseDeploy(deployLabel(p))).toEqual(p);
      expect(trackerKey(parseDeploy(deployLabel(p)))).toBe(trackerKey(p));
      expect(() => checkMethod({ init: 'base', deploy: p, merge: { technique: 'weighted-average' } })).not.toThrow();
      if (def.syntax === '') expect(configError(() => parseDeploy(`${text}:1`)).message).toMatch(/takes no options/);
    });

    it(`init ${text}: the same computation as deploy ${text}, so the two share a tracker`, () => {
      const deploy = parseDeploy(text);
      const m = parseMethod(`${text}+last`);
      expect(m.init).toBe(def.kind);
      expect(initLabel(m)).toBe(deployLabel(deploy));
      const start = initStart(m) as DeployProtocol;
      expect(trackerKey(start)).toBe(trackerKey(deploy));
      expect(sameRunKey(parseMethod(methodLabel(m)))).toBe(sameRunKey(m));
      expect(sameRunKey(parseMethod(`deployed+${text}`))).toBe(sameRunKey(parseMethod(`${text}+${text}`)));
    });

    it(`deploy ${text}: its tracker starts at θ0 and carries the protocol's key`, async () => {
      const base = vec([0, 0]);
      const p = parseDeploy(text);
      const tracker = makeTracker(p, { base, store: new MemoryStore(), merge: { technique: 'weighted-average' } });
      expect(tracker.key).toBe(trackerKey(p));
      expect(await tracker.current()).toBe(base);
    });
  }

  for (const init of INIT_PROTOCOL_DEFS) {
    for (const { def: deploy, text } of spellings) {
      const name = `${init.name}+${text}`;
      it(`${name}: runs, trains step 1 from θ0, and merges iff a protocol says so`, async () => {
        const wa = await deployedModels(name, 'weighted-average');
        expect(wa.inits[0]).toEqual([0, 0]);
        expect(wa.deployed).toHaveLength(V.length + 1);
        const merges = init.merges !== 'nothing' || deploy.merges !== 'nothing';
        expect(methodMerges(parseMethod(name))).toBe(merges);
        // A protocol that merges nothing cannot depend on the technique.
        if (!merges) expect(await deployedModels(name, 'magmax')).toEqual(wa);
        const slerp = getTechnique('slerp');
        const parsed = parseMethod(name);
        const problem = mergeCountProblem(parsed, slerp, V.length);
        // Without θ0, a deploy merge of every expert merges T models and an init merge T - 1.
        const most = Math.max(deploy.merges === 'all' ? V.length : 0, init.merges === 'all' ? V.length - 1 : 0);
        expect(problem !== undefined).toBe(most > 2);
        if (problem) await expect(deployedModels(name, 'slerp')).rejects.toThrow(problem);
      });
    }
  }

  it('the tracker of a merging protocol moves after an expert arrives', async () => {
    for (const { def, text } of spellings) {
      if (def.merges === 'nothing') continue;
      const base = vec([0, 0]);
      const store = new MemoryStore();
      const tracker = makeTracker(parseDeploy(text), { base, store, merge: { technique: 'weighted-average' } });
      const expert = vec([2, 4]);
      await store.put(1, expert);
      await tracker.add(expert, 1);
      const got = values(await tracker.current());
      expect(got, text).not.toEqual([0, 0]);
      // Weighted averaging of θ0 = 0 and one expert stays on the segment between them.
      got.forEach((x, i) => expect(x / values(expert)[i], text).toBeGreaterThan(0));
    }
  });
});
