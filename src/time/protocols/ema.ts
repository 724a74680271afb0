import { mergeModels } from '../../merge/engine.js';
import { fail } from '../../params/errors.js';
import type { ParamSet } from '../../params/paramset.js';
import type { Tracker, TrackerContext } from '../trackers.js';
import { DEFAULT_BETA, checkBeta, parseNumber } from './options.js';
import type { DeployProtocolDef, EmaSeed } from './types.js';

export interface EmaDeploy {
  readonly kind: 'ema';
  readonly beta: number;
  readonly seed: EmaSeed;
}

/** e_t = merge([θs_t, e_{t-1}]) with weights [β, 1-β]: the unrolled recursive merge. */
export const ema: DeployProtocolDef<EmaDeploy> = {
  kind: 'ema',
  summary: 'exponential moving average of the experts (weight β on the newest), from θ0 or from the first expert',
  syntax: '[:<beta>][:base|first]',
  examples: ['ema:0.3', 'ema:0.25:first'],
  merges: 'pair',
  parse(options, what) {
    let beta = DEFAULT_BETA;
    let seed: EmaSeed = 'base';
    for (const o of options) {
      if (o === 'base' || o === 'first') seed = o;
      else beta = checkBeta(parseNumber(o, what), what);
    }
    return { kind: 'ema', beta, seed };
  },
  check(p) {
    checkBeta(p.beta, 'deploy ema');
    if (p.seed !== 'base' && p.seed !== 'first')
      fail('CONFIG', `deploy ema: seed must be "base" or "first", got ${JSON.stringify(p.seed)}`);
  },
  label: (p) => `ema:${p.beta}${p.seed === 'first' ? ':first' : ''}`,
  key: (p) => `ema:${p.beta}:${p.seed}`,
  tracker: (p, ctx) => new EmaTracker(p.beta, p.seed, ctx),
  toInitOptions: (p) => ({ beta: p.beta, seed: p.seed }),
  fromInitOptions: (o) => ({
    kind: 'ema',
    beta: checkBeta(o.beta ?? DEFAULT_BETA, 'init ema'),
    seed: o.seed ?? 'base',
  }),
};

/**
 * e_t = merge([θs_t, e_{t-1}]) with weights [β, 1-β]; e_0 = θ0 (seed 'base') or e_1 = θs_1 (seed 'first').
 * Holds one model: the previous experts are never read again. With weighted averaging the weight of
 * expert i after step t is β(1-β)^(t-i) (and (1-β)^(t-1) for θs_1 when seeded with it).
 */
class EmaTracker implements Tracker {
  readonly key: string;
  readonly incremental = true;
  private state: ParamSet | undefined;
  /** Whether `state` is a model this tracker made (not θ0, not a stored expert). */
  private owned = false;
  /** e_{t-2}: memory the next step may write into. */
  private spare: ParamSet | undefined;
  constructor(
    private readonly beta: number,
    private readonly seed: EmaSeed,
    private readonly ctx: TrackerContext,
  ) {
    this.key = `ema:${beta}:${seed}`;
  }
  async add(expert: ParamSet, _step?: number): Promise<void> {
    if (!this.state && this.seed === 'first') {
      this.state = expert;
      return;
    }
    const prev = this.state ?? this.ctx.base;
    // e_{t-2}, made by this tracker, is written over in place (no fresh model-sized allocation per step),
    // unless the new expert shares memory with it (a trainer that returned its init unchanged).
    const into = this.spare && !this.spare.sharesMemoryWith(expert) ? this.spare : undefined;
    const next = await mergeModels(
      { ...this.ctx.merge, weights: [this.beta, 1 - this.beta] },
      this.ctx.base,
      [expert, prev],
      { into },
    );
    this.spare = this.owned ? this.state : undefined;
    this.state = next;
    this.owned = true;
  }
  async current(): Promise<ParamSet> {
    return this.state ?? this.ctx.base;
  }
}
