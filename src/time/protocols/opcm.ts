import { OpcmRunning } from '../../merge/opcm.js';
import { fail } from '../../params/errors.js';
import type { ParamSet } from '../../params/paramset.js';
import type { Tracker, TrackerContext } from '../trackers.js';
import { checkUnitOption, parseNumber } from './options.js';
import type { DeployProtocolDef } from './types.js';

/** FusionBench's opcm.yaml alpha. */
export const OPCM_ALPHA = 0.5;

export interface OpcmDeploy {
  readonly kind: 'opcm';
  /** Share of the running merge's singular-value mass the new task vector is kept out of. */
  readonly alpha: number;
}

/**
 * OPCM as a TIME protocol: the running continual merge of the experts in stream order (src/merge/opcm.ts,
 * FusionBench `opcm`). The stream fixes the order, so FusionBench's shuffle_order has no counterpart.
 * The merge technique of the method is not used: OPCM is its own merge.
 */
export const opcm: DeployProtocolDef<OpcmDeploy> = {
  kind: 'opcm',
  summary:
    'continual merge (OPCM): each expert’s task vector projected out of the running merge’s top singular directions, rescaled to the mean ‖τ‖',
  syntax: '[:<alpha>]',
  examples: ['opcm:0.8'],
  merges: 'pair',
  parse(options, what) {
    if (options.length > 1) fail('CONFIG', `${what} takes one option (alpha), got "${options.join(':')}"`);
    return {
      kind: 'opcm',
      alpha: options.length ? checkUnitOption(parseNumber(options[0], what), what, 'opcm alpha') : OPCM_ALPHA,
    };
  },
  check: (p) => void checkUnitOption(p.alpha, 'deploy opcm', 'opcm alpha'),
  label: (p) => (p.alpha === OPCM_ALPHA ? 'opcm' : `opcm:${p.alpha}`),
  key: (p) => `opcm:${p.alpha}`,
  tracker: (p, ctx) => new OpcmTracker(p.alpha, ctx),
  toInitOptions: (p) => ({ alpha: p.alpha }),
  fromInitOptions: (o) => ({ kind: 'opcm', alpha: checkUnitOption(o.alpha ?? OPCM_ALPHA, 'init opcm', 'opcm alpha') }),
};

/**
 * Keeps OPCM's state (the running sum of cleaned task vectors and the experts' norms): one SVD
 * projection of the new expert per linear weight per step, never a re-merge of earlier experts.
 */
class OpcmTracker implements Tracker {
  readonly key: string;
  readonly incremental = true;
  private readonly running: OpcmRunning;
  private cached: ParamSet | undefined;
  constructor(alpha: number, ctx: TrackerContext) {
    this.key = `opcm:${alpha}`;
    this.running = new OpcmRunning(ctx.base, alpha);
  }
  async add(expert: ParamSet, _step?: number): Promise<void> {
    this.running.add(expert);
    this.cached = undefined;
  }
  async current(): Promise<ParamSet> {
    this.cached ??= this.running.current();
    return this.cached;
  }
}
