import { resolveMerge } from '../merge/engine.js';
import { getTechnique } from '../merge/registry.js';
import { fail, TimeMergeError } from '../params/errors.js';
import { parseMethod } from './method.js';
import { mergeCountProblem } from './protocols.js';

/** The config keys a study file spells its methods, technique and the technique's parameters with. */
export interface MergeSettingKeys {
  readonly methods: string;
  readonly technique: string;
  readonly params: string;
}

/** Runs `check`, putting `where` (the config file and key) in front of a CONFIG error's message. */
function naming(where: string, check: () => void): void {
  try {
    check();
  } catch (err) {
    if (err instanceof TimeMergeError) throw new TimeMergeError(err.code, `${where}: ${err.message}`, { cause: err });
    throw err;
  }
}

/**
 * Checks every method with the technique and its parameters as the runs will use them, before the first
 * run starts: a typo is one error naming the file and the key (with a did-you-mean from the registries),
 * not a failure after the baselines have run. `T` (when known) also checks merge-all against a technique
 * that takes fewer models.
 */
export function checkMergeSettings(
  source: string,
  s: { methods: readonly string[]; technique: string; params: Record<string, unknown>; T?: number },
  keys: MergeSettingKeys,
): void {
  naming(`${source}: ${keys.technique}`, () => getTechnique(s.technique));
  naming(`${source}: ${keys.params}`, () => resolveMerge({ technique: s.technique, params: s.params }, 2));
  const technique = getTechnique(s.technique);
  for (const name of s.methods) {
    // parseMethod's message starts with `method "<name>"`, which names the key already.
    let method: ReturnType<typeof parseMethod> | undefined;
    naming(source, () => (method = parseMethod(name, { technique: s.technique, params: s.params })));
    const tooMany = s.T === undefined || !method ? undefined : mergeCountProblem(method, technique, s.T);
    if (tooMany) naming(`${source}: ${keys.methods}`, () => fail('CONFIG', `${name}: ${tooMany}`));
  }
}
